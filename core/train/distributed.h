#pragma once
// Data-parallel training over libtorch's c10d: the Gloo backend on CPUs,
// rendezvous through a TCPStore, configured as torchrun does (RANK,
// WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Builds without c10d still run
// single-process and refuse WORLD_SIZE > 1 with a clear error.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <vector>

namespace core::train {

class DataParallel {
 public:
  // Null when WORLD_SIZE is unset or 1. Throws core::Error (BadArgument) on bad
  // variables, (Io) when the rendezvous fails within `timeout`.
  static std::unique_ptr<DataParallel> from_env(std::chrono::milliseconds timeout);
  static bool available();  // whether this build has c10d/Gloo
  virtual ~DataParallel() = default;

  virtual int rank() const = 0;
  virtual int world() const = 0;
  // In place, summed over ranks. Any failure (a rank died, the timeout passed)
  // throws core::Error naming the operation.
  virtual void sum(std::vector<torch::Tensor>& tensors) = 0;
  virtual void broadcast(std::vector<torch::Tensor>& tensors) = 0;   // from rank 0
  virtual torch::Tensor all_gather(const torch::Tensor& local) = 0;  // cat along dim 0, rank order
};

// All-gather along dim 0 whose backward sums the gradient over the ranks and
// hands each rank that of its own rows. A loss every rank computes whole from
// the gathered tensors, divided by the world size, then gives (summed over
// ranks) exactly the gradients of one process computing it once.
torch::Tensor gather_with_grad(DataParallel& dp, const torch::Tensor& local);

}  // namespace core::train
