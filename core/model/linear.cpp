#include "core/model/linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>

namespace core {

namespace {
std::atomic<bool> g_row_products{true};
}  // namespace

void set_row_products(bool on) { g_row_products.store(on); }
bool row_products() { return g_row_products.load(); }

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t out = weight.size(0), in = weight.size(1);
  const bool one_row = x.numel() == in && x.dim() >= 1;
  if (!one_row || !g_row_products.load(std::memory_order_relaxed) || !x.device().is_cpu() ||
      x.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32 || !weight.is_contiguous() ||
      torch::GradMode::is_enabled() || x.requires_grad() || weight.requires_grad())
    return torch::nn::functional::linear(x, weight, bias);
  const auto v = x.reshape({in}).contiguous();
  auto y = torch::empty({out}, x.options());
  const bool has_bias = bias.defined();
  // Slices of whole cache lines, one per thread (more only for huge outputs).
  const int64_t grain = std::max<int64_t>(64, (out + at::get_num_threads() - 1) / at::get_num_threads());
  const bool inference = c10::InferenceMode::is_enabled();  // thread-local: the pool's threads take it on
  at::parallel_for(0, out, grain, [&](int64_t a, int64_t b) {
    c10::InferenceMode mode(inference);
    auto o = y.slice(0, a, b);
    if (has_bias)
      at::addmv_out(o, bias.slice(0, a, b), weight.slice(0, a, b), v);
    else
      at::mv_out(o, weight.slice(0, a, b), v);
  });
  auto shape = x.sizes().vec();
  shape.back() = out;
  return y.view(shape);
}

}  // namespace core
