#pragma once
// y = x W^T + b for the models' linear layers, with a faster path for one row.
//
// A decoding step multiplies one row by every weight matrix of the decoder: it reads
// each weight once for a handful of outputs, so its time is the memory's. libtorch's
// linear sends a row to a matrix product (sgemm with M = 1), which read at half the rate
// the memory gives here; matrix-vector products over slices of the weight's rows, one
// slice per intra-op thread, read at the memory's rate (measured on 2 cores: 12.4 GB/s
// through linear, 24.8 GB/s split in two, 23 GB/s for a plain sum over 1 GiB).
#include <torch/torch.h>

namespace core {

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
inline torch::Tensor linear(const torch::Tensor& x, const torch::nn::Linear& l) {
  return linear(x, l->weight, l->bias);
}

// Whether one-row products take the split matrix-vector path: CPU, float32, one row,
// no gradient. On by default; the engine turns it off where it measures slower at load.
void set_row_products(bool on);
bool row_products();

}  // namespace core
