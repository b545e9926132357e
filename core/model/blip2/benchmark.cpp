#include "core/model/blip2/benchmark.h"

#include <chrono>

#include "core/bench/flops.h"
#include "core/error.h"
#include "core/model/blip2/blip2.h"
#include "core/model/blip2/generate.h"
#include "core/torch_compat.h"

namespace core::blip2 {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

template <typename F>
double timed(F&& f) {
  auto t0 = Clock::now();
  f();
  return ms_since(t0);
}

double matmul_gflops(torch::ScalarType t, int64_t m, int64_t k, int64_t n) {
  auto a = torch::randn({m, k}).to(t), b = torch::randn({k, n}).to(t);
  torch::matmul(a, b);
  double best = 1e30;
  for (int i = 0; i < 3; ++i) best = std::min(best, timed([&] { torch::matmul(a, b); }));
  return 2.0 * double(m) * double(k) * double(n) / (best / 1000.0) / 1e9;
}

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

BenchResult run_benchmark(const std::string& dtype, int runs, int steps) {
  BenchResult r;
  r.dtype = dtype;
  const auto t = dtype == "float32" ? torch::kFloat32 : dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat16;
  if (t == torch::kFloat16) throw Error(ErrorCode::Device, "float16 runs only on a GPU");
  compat::InferenceGuard guard;
  const Blip2Config c = opt_2_7b_config();
  r.read_gbs = measure_read_bandwidth(0) / 1e9;
  r.matmul_gflops = matmul_gflops(t, c.vision.tokens(), c.vision.hidden, c.vision.intermediate);
  Blip2Model m{nullptr};
  r.build_ms = timed([&] { m = random_model(c, 7, t); });
  r.parameters = m->num_parameters();
  r.lm_parameters = count(*m->opt);
  r.queries = c.queries;
  // A prompt as the model card asks: "Question: what is in the picture? Answer:" is 12 OPT tokens.
  const std::vector<int64_t> prompt{2, 45641, 35, 99, 16, 11, 5, 2170, 116, 31652, 35, 1437};
  r.prompt_tokens = int(prompt.size());
  auto pixels = torch::randn({1, 3, c.vision.image_size, c.vision.image_size}).to(t);
  torch::Tensor image, queries;
  for (int i = 0; i < runs; ++i) {
    r.vision_ms.push_back(timed([&] { image = m->vision_model(pixels); }));
    r.qformer_ms.push_back(timed([&] {
      auto q = m->query_tokens.expand({1, c.queries, c.qformer.hidden});
      queries = m->language_projection(m->qformer(q, image, nullptr));
    }));
  }
  auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0);
  for (int i = 0; i < std::max(1, runs / 2); ++i) {
    auto [embeds, mask] = m->lm_inputs(queries, ids, torch::ones_like(ids));
    auto session = start_session(*m, embeds, mask, 1);
    torch::Tensor logits;
    r.first_ms.push_back(timed([&] { logits = session->first(); }));
    if (i == 0)
      for (int s = 0; s < steps; ++s) {
        auto next = logits.argmax(-1);
        r.step_ms.push_back(timed([&] { logits = session->next(next); }));
      }
  }
  // Multiply-adds of the large matrices (2 FLOP each), attention included.
  const double Tv = c.vision.tokens(), Dv = c.vision.hidden, Iv = c.vision.intermediate;
  r.vision_gflop = c.vision.layers * (2 * Tv * (4 * Dv * Dv + 2 * Dv * Iv) + 4 * Tv * Tv * Dv) / 1e9;
  const double Q = c.queries, Dq = c.qformer.hidden, Iq = c.qformer.intermediate;
  double qf = 0;
  for (int l = 0; l < c.qformer.layers; ++l) {
    qf += 2 * Q * (4 * Dq * Dq + 2 * Dq * Iq) + 4 * Q * Q * Dq;
    if (c.qformer.has_cross(l)) qf += 2 * Q * 2 * Dq * Dq + 2 * Tv * 2 * Dv * Dq + 4 * Q * Tv * Dq;
  }
  r.qformer_gflop = (qf + 2 * Q * Dq * c.lm_hidden()) / 1e9;
  const double P = Q + double(prompt.size()), D = c.opt.hidden, F = c.opt.ffn;
  r.first_gflop = (c.opt.layers * (2 * P * (4 * D * D + 2 * D * F) + 4 * P * P * D) + 2 * D * c.opt.vocab) / 1e9;
  r.step_bytes =
      double(r.lm_parameters - int64_t(c.opt.max_positions + 2) * c.opt.hidden) * double(torch::elementSize(t));
  return r;
}

}  // namespace core::blip2
