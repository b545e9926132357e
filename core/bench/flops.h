#pragma once
// Floating-point operations of each inference stage, counted from the model
// configuration (a multiply-add is 2 operations; matrix products only: norms,
// softmax and activations are a few percent and not counted). With a measured
// matrix-product rate they give each stage's floor: its time if every
// operation ran at that rate.
#include <cstdint>

#include "core/io/config.h"

namespace core {

struct StageFlops {
  double vision = 0;        // patch embedding and the vision encoder
  double fusion = 0;        // question encoder with its cross-attention (VQA)
  double decode_setup = 0;  // the decoder's cross-attention keys/values of the memory (once)
  double decode_step = 0;   // one greedy decoding step at position `step` (KV cache)
};

// question_tokens: the encoded question with [CLS]/[SEP]; step: 0-based position of the token fed.
StageFlops stage_flops(const ModelConfig& c, int question_tokens, int step);
// The whole greedy answer of `answer_tokens` steps (fusion + setup + every step).
double answer_flops(const ModelConfig& c, int question_tokens, int answer_tokens);

// libtorch's float32 matrix-product rate on this machine, in operations per
// second, on products shaped like the model's own (rows x hidden x intermediate),
// with `threads` intra-op threads (rates.cpp, with libtorch).
double measure_matmul_rate(int rows, int inner, int cols, int threads);
// Bytes per second a sum over 1 GiB reads with `threads` intra-op threads: the floor of
// memory-bound stages such as a decoding step.
double measure_read_bandwidth(int threads);

// Bytes one greedy decoding step at position `step` reads: the decoder's weights and
// LM head, and its self- and cross-attention caches, at `value_bytes` a value.
double decode_step_bytes(const ModelConfig& c, int question_tokens, int step, int value_bytes);

}  // namespace core
