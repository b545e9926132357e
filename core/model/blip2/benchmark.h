#pragma once
// A random-weight BLIP-2 of blip2-opt-2.7b's size, stage by stage, for
// `autoglm bench --random-blip2-opt` (no libtorch in this header).
#include <cstdint>
#include <string>
#include <vector>

namespace core::blip2 {

struct BenchResult {
  std::string dtype;
  int64_t parameters = 0, lm_parameters = 0;
  int prompt_tokens = 0, queries = 0;
  double build_ms = 0;             // building the modules and drawing the random weights
  std::vector<double> vision_ms;   // the EVA ViT on one 224 x 224 image
  std::vector<double> qformer_ms;  // Q-Former and projection
  std::vector<double> first_ms;    // the language model over queries and prompt, to the first token
  std::vector<double> step_ms;     // each further token (key/value cache)
  // Floors measured in the same run:
  double read_gbs = 0;       // memory read bandwidth (a streaming sum over 1 GiB)
  double matmul_gflops = 0;  // matrix products of the vision encoder's shape in this dtype
  double vision_gflop = 0, qformer_gflop = 0, first_gflop = 0;
  double step_bytes = 0;  // the weights one decoding step reads (the language model's)
};

// steps: further tokens after the first; runs: repetitions of the image stages.
BenchResult run_benchmark(const std::string& dtype, int runs, int steps);

}  // namespace core::blip2
