// The rates the benchmark's floors are measured with (libtorch; flops.cpp has no libtorch).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "core/bench/flops.h"
#include "core/torch_compat.h"

namespace core {

double measure_matmul_rate(int rows, int inner, int cols, int threads) {
  compat::InferenceGuard guard;
  const int before = at::get_num_threads();
  if (threads > 0) at::set_num_threads(threads);
  auto a = torch::randn({rows, inner}), b = torch::randn({inner, cols});
  auto c = torch::matmul(a, b);  // warm-up
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    c = torch::matmul(a, b);
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  at::set_num_threads(before);
  return 2.0 * rows * inner * cols / (best / 1000.0);
}

double measure_read_bandwidth(int threads) {
  compat::InferenceGuard guard;
  const int before = at::get_num_threads();
  if (threads > 0) at::set_num_threads(threads);
  auto x = torch::ones({int64_t(1) << 28}, torch::kFloat32);  // 1 GiB, far beyond the caches
  x.sum();
  double best = 1e30;
  for (int i = 0; i < 4; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    x.sum().item<float>();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  at::set_num_threads(before);
  return double(x.numel()) * 4 / (best / 1000.0);
}

}  // namespace core
