#pragma once
// Bridge from core::SafeTensors to torch tensors (zero-copy views).
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"

namespace core {

torch::ScalarType to_torch(DType t);
DType from_torch(torch::ScalarType t);  // throws for unsupported types

// A view over the mapped bytes (no copy; keeps the mapping alive). Read-only:
// never write through it. With `as`, converts (a copy) to that dtype.
torch::Tensor tensor_view(const SafeTensors& st, const std::string& name);
torch::Tensor tensor_as(const SafeTensors& st, const std::string& name, torch::ScalarType as);
// The same over any checkpoint: a strided view with its storage offset (storages
// of PyTorch files may be shared, offset or transposed). Read-only.
torch::Tensor tensor_view(const Checkpoint& ck, const std::string& name);

// Saves contiguous CPU copies of the tensors.
void save_tensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace core
