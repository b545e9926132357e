#pragma once
// Decoding for BLIP-2 at module level, with transformers 4.31's semantics:
// greedy and beam search from the language model's inputs (projected queries
// before the prompt's embeddings), min/max length, repetition penalty, EOS =
// text_config.eos_token_id. Output rows start with the placeholder the
// reference puts there (OPT: bos_token_id; T5: decoder_start_token_id).
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "core/model/blip2/blip2.h"

namespace core::blip2 {

// One decoding state over `rows` copies of the language model's input; the
// engine may drive it with its own loop.
class LmSession {
 public:
  virtual ~LmSession() = default;
  virtual Tensor first() = 0;                    // logits [rows,V] of the first new token
  virtual Tensor next(const Tensor& ids) = 0;    // feed one token per row [rows] -> logits [rows,V]
  virtual void reorder(const Tensor& rows) = 0;  // keep these rows (beam search)
  // Attentions of each call when recording: OPT self_attn per layer [rows,H,T,Tk]
  // (keys: Q queries, prompt, answer); T5 decoder self_attn and cross_attn (keys:
  // the encoder's Q queries and prompt).
  std::vector<Record> steps;
  Record encoder;  // T5: the encoder pass (hidden states and attentions when recording)
};

// embeds/mask from Blip2ModelImpl::lm_inputs (batch 1), repeated to `rows`.
std::unique_ptr<LmSession> start_session(Blip2ModelImpl& model, const Tensor& embeds, const Tensor& mask, int64_t rows,
                                         bool record_attentions = false, bool record_hidden = false);

struct GenerateOptions {
  int num_beams = -1;       // -1: from the config (text_config.num_beams)
  int max_length = -1;      // counts the initial placeholder token; -1: config (20)
  int max_new_tokens = -1;  // wins over max_length when set
  int min_length = -1;      // same counting as max_length; -1: config
  int min_new_tokens = 0;
  double length_penalty = NAN;  // NAN: config
  int early_stopping = -1;      // -1: config, 0/1
  double repetition_penalty = NAN;
  int num_return_sequences = 1;
  bool record_attentions = false;
  std::function<bool()> should_stop;      // polled before each step; true: throws Error(Cancelled)
  std::function<void(int64_t)> on_token;  // greedy: each new token as it is chosen
};

struct GenerateResult {
  Tensor sequences;              // [R, T] int64
  Tensor sequences_scores;       // [R] (beam search)
  Tensor beam_indices;           // [R, T-1] (beam search; -1 padded)
  std::vector<Tensor> scores;    // per step [rows, V]: greedy processed logits, beam processed log-probs
  std::vector<Tensor> logits;    // greedy: per step the unprocessed logits [1, V]
  std::vector<Record> lm_steps;  // per step, when record_attentions
  Record encoder;                // T5 encoder pass, when record_attentions
};

// queries [1,Q,D] from encode_image; prompt ids [1,P] (undefined: no prompt) and its mask.
GenerateResult generate(Blip2ModelImpl& model, const Tensor& queries, const Tensor& prompt_ids = {},
                        const Tensor& prompt_mask = {}, const GenerateOptions& opts = {});

// For each recorded step and LM layer, the share of attention (mean over heads,
// batch row `row`) on the first `queries` key positions: [steps, layers].
// OPT reads the self-attention of the step's last query row; T5 the decoder's
// cross-attention over the encoder (queries, then the prompt).
Tensor image_attention_share(const std::vector<Record>& steps, LmKind lm, int64_t queries, int64_t row = 0);

}  // namespace core::blip2
