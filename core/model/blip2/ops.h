#pragma once
// Small helpers shared by the BLIP-2 module files.
#include <torch/torch.h>

#include <limits>
#include <memory>
#include <string>

namespace core::blip2::ops {

// An empty module that only groups children, so registered names reproduce
// the checkpoint's nesting ("attention.output.dense").
inline std::shared_ptr<torch::nn::Module> group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

inline torch::nn::LayerNorm layer_norm(int dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

inline torch::nn::Linear linear(int in, int out, bool bias = true) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

inline torch::Tensor split_heads(const torch::Tensor& x, int heads) {  // [B,T,H*dh] -> [B,H,T,dh]
  const auto b = x.size(0), t = x.size(1);
  return x.view({b, t, heads, x.size(2) / heads}).transpose(1, 2);
}

inline torch::Tensor merge_heads(const torch::Tensor& x) {  // [B,H,T,dh] -> [B,T,H*dh]
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// torch.finfo(dtype).min, the value HF's masks use.
inline double lowest(torch::ScalarType t) {
  switch (t) {
    case torch::kHalf:
      return -65504.0;
    case torch::kBFloat16:
      return -3.3895313892515355e38;
    case torch::kDouble:
      return std::numeric_limits<double>::lowest();
    default:
      return std::numeric_limits<float>::lowest();
  }
}

}  // namespace core::blip2::ops
