#pragma once
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/error.h"

namespace core::train {

using torch::Tensor;

// AdamW (as torch::optim::AdamW, one weight decay for all) over every trained tensor
// made a view of one buffer, its gradient a view of another. The gradient sum over
// ranks, the clipping and the update are then a few operations on the whole model,
// not a few for each of its 190 tensors (clipping and AdamW took 6 ms of a 100 ms step).
class FlatAdamW {
 public:
  FlatAdamW(const std::vector<Tensor>& params, double weight_decay) : decay_(weight_decay) {
    if (params.empty()) throw Error(ErrorCode::Internal, "FlatAdamW: no parameters");
    const auto options = params.front().options();
    int64_t total = 0;
    for (const auto& p : params) total += p.numel();
    data_ = torch::empty({total}, options);
    grad_ = torch::zeros({total}, options);
    avg_ = torch::zeros({total}, options);
    avg_sq_ = torch::zeros({total}, options);
    torch::NoGradGuard ng;
    int64_t off = 0;
    for (auto p : params) {
      if (p.scalar_type() != torch::kFloat32 || p.device() != options.device() || !p.is_contiguous())
        throw Error(ErrorCode::Internal, "FlatAdamW: parameters must be contiguous float32 on one device");
      const int64_t n = p.numel();
      auto part = data_.slice(0, off, off + n);
      part.copy_(p.reshape({-1}));
      p.set_data(part.view(p.sizes()));
      p.mutable_grad() = grad_.slice(0, off, off + n).view(p.sizes());
      off += n;
    }
  }
  Tensor& grad() { return grad_; }
  void zero_grad() { grad_.zero_(); }
  void clip_grad_norm(double max_norm) {
    const double norm = grad_.norm().item<double>();
    if (norm > max_norm) grad_.mul_(max_norm / (norm + 1e-6));
  }
  void step(double lr) {
    torch::NoGradGuard ng;
    ++steps_;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double c1 = 1 - std::pow(b1, static_cast<double>(steps_)), c2 = 1 - std::pow(b2, static_cast<double>(steps_));
    data_.mul_(1 - lr * decay_);
    avg_.mul_(b1).add_(grad_, 1 - b1);
    avg_sq_.mul_(b2).addcmul_(grad_, grad_, 1 - b2);
    data_.addcdiv_(avg_, (avg_sq_.sqrt() / std::sqrt(c2)).add_(eps), -lr / c1);
  }
  // The moments of one parameter (a view of the buffer): for checkpoints.
  std::pair<Tensor, Tensor> moments(const Tensor& p) {
    const int64_t off = p.data_ptr<float>() - data_.data_ptr<float>();
    if (off < 0 || off + p.numel() > data_.numel())
      throw Error(ErrorCode::Internal, "FlatAdamW: not one of its parameters");
    return {avg_.slice(0, off, off + p.numel()).view(p.sizes()),
            avg_sq_.slice(0, off, off + p.numel()).view(p.sizes())};
  }
  void set_steps(int64_t n) { steps_ = n; }

 private:
  Tensor data_, grad_, avg_, avg_sq_;
  double decay_;
  int64_t steps_ = 0;
};

}  // namespace core::train
