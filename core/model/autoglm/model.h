#pragma once
// The Open-AutoGLM model family as torch::nn modules. Registered names follow
// HuggingFace BLIP's state-dict keys, so a BLIP checkpoint maps onto the same
// tree; our own additions (gates, routing, alignment heads) are extra modules.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/io/config.h"
#include "core/model/record.h"

namespace core {

class Checkpoint;

// ---- vision ----
struct VisionEmbeddingsImpl : torch::nn::Module {
  explicit VisionEmbeddingsImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& pixels);  // [B,3,H,W] -> [B,1+gh*gw,D], in patches
  VisionConfig cfg;
  torch::Tensor class_embedding, position_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::ModuleList stem{nullptr};
};
TORCH_MODULE(VisionEmbeddings);

struct VisionLayerImpl : torch::nn::Module {
  explicit VisionLayerImpl(const VisionConfig& c);
  torch::Tensor forward(torch::Tensor x, torch::Tensor* probs);
  int heads;
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, projection{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VisionLayer);

struct VisionModelImpl : torch::nn::Module {
  explicit VisionModelImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& pixels, Record* rec = nullptr);  // post-LN embeds
  VisionEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
};
TORCH_MODULE(VisionModel);

// ---- text (BERT-style) ----
struct AttentionImpl : torch::nn::Module {  // BERT {self: q,k,v; output: dense, LayerNorm}
  AttentionImpl(int hidden, int kv_hidden, int heads, double eps);
  // Projects keys/values of `kv` ([B,Tk,Dkv]) to [B,H,Tk,dh].
  std::pair<torch::Tensor, torch::Tensor> kv(const torch::Tensor& src);
  // Attention of x's queries over (k, v); returns dense(context) (before residual/LN).
  torch::Tensor attend(const torch::Tensor& x, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& add_mask, torch::Tensor* probs);
  int heads;
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(Attention);

struct GateImpl : torch::nn::Module {  // g = sigmoid(W_t h + W_v c)
  explicit GateImpl(int hidden);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& c);
  torch::nn::Linear text{nullptr}, visual{nullptr};
};
TORCH_MODULE(Gate);

struct TextLayerImpl : torch::nn::Module {
  TextLayerImpl(const TextConfig& c, int kv_hidden, bool cross, bool gated);
  // x [B,T,D]; self_mask additive [B,1,T|1,Tk]; memory [B,M,Dkv] (if cross; undefined: text mode).
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& self_mask, const torch::Tensor& memory,
                        const torch::Tensor& memory_mask, LayerCache* cache, Record* rec, bool record_self);
  bool pre_norm, has_cross, gated;
  Attention attention{nullptr}, crossattention{nullptr};
  Gate gate{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
};
TORCH_MODULE(TextLayer);

struct TextEmbeddingsImpl : torch::nn::Module {
  explicit TextEmbeddingsImpl(const TextConfig& c);
  torch::Tensor forward(const torch::Tensor& ids, int64_t past);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(TextEmbeddings);

// Question encoder with fusion layers and routing: returns F.
struct TextEncoderImpl : torch::nn::Module {
  TextEncoderImpl(const ModelConfig& c);
  // image_kv: per layer, the cross-attention keys and values of `image` (a
  // batch of one); filled on first use and reused for further questions.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& image,
                        Record* rec = nullptr, torch::Tensor* last_hidden = nullptr,
                        std::vector<LayerCache>* image_kv = nullptr);
  // The cross-attention keys and values of a batch of images [B,N,D], each row
  // repeated `repeats` times (consecutive): for `forward`'s image_kv when several
  // questions read each image, so each image is projected once.
  std::vector<LayerCache> image_kv(const torch::Tensor& image, int64_t repeats);
  // With learned queries (cfg.queries > 0) and an image, forward's output and its
  // record have T + queries rows, the queries after the question's T tokens; this
  // is the decoder's 0/1 memory mask for a question mask [B,T].
  torch::Tensor memory_mask(const torch::Tensor& mask01) const;
  ModelConfig cfg;
  TextEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};  // pre-norm only
  torch::Tensor routing_u;                   // [D] (routing only)
  torch::Tensor query_tokens;                // [queries, D] (queries only)
};
TORCH_MODULE(TextEncoder);

// Causal decoder with KV cache, cross-attending to a memory, and LM head.
struct TextDecoderImpl : torch::nn::Module {
  TextDecoderImpl(const ModelConfig& c, int memory_hidden);
  // ids [B,T] for positions past..past+T-1; returns logits [B,T,V].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& memory, const torch::Tensor& memory_mask,
                        std::vector<LayerCache>* cache, int64_t past, Record* rec = nullptr,
                        torch::Tensor* hidden_out = nullptr, const torch::Tensor& self_key_mask = {});
  torch::Tensor lm_head(const torch::Tensor& h);
  ModelConfig cfg;
  TextEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};
  torch::nn::Linear transform{nullptr};
  torch::nn::LayerNorm transform_norm{nullptr};
  torch::Tensor lm_weight, lm_bias;  // lm_weight undefined when tied
};
TORCH_MODULE(TextDecoder);

struct AlignHeadsImpl : torch::nn::Module {
  AlignHeadsImpl(int vision_hidden, int text_hidden, int dim);
  torch::Tensor image(const torch::Tensor& cls);  // L2-normalised [B, dim]
  torch::Tensor text(const torch::Tensor& cls);
  torch::nn::Linear vision_proj{nullptr}, text_proj{nullptr};
  torch::nn::LayerNorm vision_norm{nullptr}, text_norm{nullptr};
  torch::Tensor temp;  // learned temperature, initialised at 0.07
};
TORCH_MODULE(AlignHeads);

struct ModelImpl : torch::nn::Module {
  explicit ModelImpl(const ModelConfig& c);
  ModelConfig cfg;
  VisionModel vision_model{nullptr};
  TextEncoder text_encoder{nullptr};  // VQA only
  TextDecoder text_decoder{nullptr};
  AlignHeads align{nullptr};  // when align_dim > 0

  // Names as saved in a checkpoint (tied weights and aliases resolved).
  void load_weights(const Checkpoint& st);  // throws BadWeights naming the tensor
  void save_weights(const std::filesystem::path& path) const;
  void init_weights(uint64_t seed);  // random init for new models
  int64_t num_parameters() const;

  // Alignment space (align_dim > 0). The text side runs the question encoder in
  // text mode: `image` undefined, so its fusion layers skip cross-attention.
  torch::Tensor image_embedding(const torch::Tensor& vision_out);  // [B,1+N,Dv] -> [B,align]
  torch::Tensor text_embedding(const torch::Tensor& ids, const torch::Tensor& mask);
  torch::Tensor align_temperature() const;  // learned, clamped to [0.001, 0.5] as in BLIP
};
TORCH_MODULE(Model);

// Copies every parameter of `m` from `ck` by its registered name, `aliases`
// mapping checkpoint names to the canonical ones they duplicate. Throws
// BadWeights naming the tensor for a missing, mis-shaped, non-float or
// non-finite one, and for one the model lacks unless `ignore` accepts it.
void load_named_weights(torch::nn::Module& m, const Checkpoint& ck,
                        const std::map<std::string, std::string>& aliases = {},
                        const std::function<bool(const std::string&)>& ignore = {});

// HuggingFace's `*.position_ids` buffers, which its .bin state dicts carry beside the weights.
bool is_position_ids_buffer(const std::string& name);

// BERT's additive mask (1 - m) * -10000, shaped [B,1,1,T].
torch::Tensor additive_mask(const torch::Tensor& mask01);

}  // namespace core
