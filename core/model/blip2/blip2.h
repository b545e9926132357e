#pragma once
// Blip2ForConditionalGeneration (transformers 4.31): EVA ViT -> Q-Former ->
// language_projection -> OPT or T5. Weight names as in Salesforce's checkpoints.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>

#include "core/model/blip2/config.h"
#include "core/model/blip2/modules.h"

namespace core {
class Checkpoint;
}

namespace core::blip2 {

struct ImageRecord {  // what encode_image keeps, when asked
  Record vision;      // hidden states (before post_layernorm) and self-attentions
  Record qformer;     // hidden states, self-attentions, cross-attentions per cross layer
};

struct Blip2ModelImpl : torch::nn::Module {
  explicit Blip2ModelImpl(const Blip2Config& c);
  Blip2Config cfg;
  VisionModel vision_model{nullptr};
  Tensor query_tokens;  // [1,Q,Dq]
  QFormer qformer{nullptr};
  torch::nn::Linear language_projection{nullptr};
  Opt opt{nullptr};  // registered as "language_model" (one of the two)
  T5 t5{nullptr};

  // pixels [B,3,S,S] -> the projected queries [B,Q,D_lm] that the language model reads.
  Tensor encode_image(const Tensor& pixels, ImageRecord* rec = nullptr);
  Tensor embed_tokens(const Tensor& ids);  // the language model's input embeddings
  // cat(queries, embed(ids)) [B,Q+P,D] and cat(ones(Q), mask) [B,Q+P]; ids undefined:
  // [[text_config.bos_token_id]] as the reference's generate uses.
  std::pair<Tensor, Tensor> lm_inputs(const Tensor& queries, Tensor ids, Tensor mask);

  // Copies every tensor by name; a missing, extra, mis-shaped or non-float tensor
  // throws core::Error(BadWeights) naming it. Tied embeddings as the reference ties them.
  void load_weights(const Checkpoint& ck);
  void init_random(uint64_t seed);  // for benchmarks: N(0, 0.02) weights, unit norms
  int64_t num_parameters() const;
};
TORCH_MODULE(Blip2Model);

// config.json (+ preprocessor_config.json) and the weights of a model folder, in eval mode.
Blip2Model load_model(const std::filesystem::path& dir);
// A model with random weights in `dtype` (e.g. opt_2_7b_config() in bfloat16 for benchmarks).
Blip2Model random_model(const Blip2Config& c, uint64_t seed, torch::ScalarType dtype = torch::kFloat32);

// [layers, heads, queries, patches] of batch row 0 from a Q-Former record.
Tensor stack_cross_attentions(const Record& qformer);

}  // namespace core::blip2
