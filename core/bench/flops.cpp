#include "core/bench/flops.h"

namespace core {

namespace {
double mm(double m, double k, double n) { return 2 * m * k * n; }

// One transformer layer's self-attention + MLP over T tokens attending to K keys.
double block(double T, double K, double D, double I) {
  return mm(T, D, D) + mm(K, D, 2 * D)  // q, and k/v of the K keys
         + mm(T, D, K) + mm(T, K, D)    // scores and context
         + mm(T, D, D)                  // output projection
         + mm(T, D, I) + mm(T, I, D);   // MLP
}
}  // namespace

StageFlops stage_flops(const ModelConfig& c, int question_tokens, int step) {
  StageFlops f;
  const auto& v = c.vision;
  const double N = v.tokens(), Dv = v.hidden, Iv = v.intermediate, P = v.patch_size;
  if (v.stem == "conv") {
    const auto strides = v.stem_strides();
    const auto channels = v.stem_channels();
    const auto kernels = v.stem_kernels();
    double side = v.image_size, in = 3;
    for (size_t i = 0; i < strides.size(); ++i) {
      side /= strides[i];
      const double k = kernels[i];
      f.vision += mm(side * side, in * k * k, channels[i]);
      in = channels[i];
    }
  } else {
    f.vision = mm(N - 1, 3 * P * P, Dv);
  }
  for (int l = 0; l < v.layers; ++l) f.vision += block(N, N, Dv, Iv);
  const double D = c.text.hidden, I = c.text.intermediate, V = c.text.vocab_size;
  double memory = N, memory_dim = Dv;
  if (c.task == ModelTask::Vqa) {
    const double T = question_tokens;
    for (int l = 0; l < c.text.layers; ++l) {
      f.fusion += block(T, T, D, I);
      if (c.fusion_index(l) >= 0) {
        f.fusion += mm(T, D, D) + mm(N, Dv, 2 * D) + mm(T, D, N) + mm(T, N, D) + mm(T, D, D);
        if (c.gates) f.fusion += 2 * mm(T, D, D);
      }
    }
    memory = T;
    memory_dim = D;
  }
  f.decode_setup = c.text.decoder_layers * mm(memory, memory_dim, 2 * D);
  const double t = step + 1;  // keys so far, the fed token included
  for (int l = 0; l < c.text.decoder_layers; ++l) {
    f.decode_step += mm(1, D, 3 * D) + mm(1, D, t) + mm(1, t, D) + mm(1, D, D);        // self-attention
    f.decode_step += mm(1, D, D) + mm(1, D, memory) + mm(1, memory, D) + mm(1, D, D);  // cross-attention
    f.decode_step += mm(1, D, I) + mm(1, I, D);
  }
  f.decode_step += mm(1, D, D) + mm(1, D, V);  // LM head
  return f;
}

double decode_step_bytes(const ModelConfig& c, int question_tokens, int step, int value_bytes) {
  const double D = c.text.hidden, I = c.text.intermediate, V = c.text.vocab_size;
  const double memory = c.task == ModelTask::Vqa ? question_tokens : c.vision.tokens();
  const double t = step + 1;
  double values = 0;
  for (int l = 0; l < c.text.decoder_layers; ++l) {
    values += 4 * D * D + 2 * D * D + 2 * D * I;  // self-attention, cross-attention q and out, MLP
    values += 2 * t * D + 2 * memory * D;         // cached keys and values
  }
  values += D * D + V * D;  // LM head
  return values * value_bytes;
}

double answer_flops(const ModelConfig& c, int question_tokens, int answer_tokens) {
  const auto f0 = stage_flops(c, question_tokens, 0);
  double total = f0.fusion + f0.decode_setup;
  for (int s = 0; s < answer_tokens; ++s) total += stage_flops(c, question_tokens, s).decode_step;
  return total;
}

}  // namespace core
