#pragma once
// BLIP-2's modules as torch::nn modules, registered under the checkpoint's
// names (transformers 4.31 Blip2ForConditionalGeneration).
#include <torch/torch.h>

#include <vector>

#include "core/model/blip2/config.h"

namespace core::blip2 {

using torch::Tensor;

// What a forward pass keeps, when asked (batch dimension kept).
struct Record {
  bool attentions = false;         // attention probabilities
  bool hidden_states = false;      // layer outputs, in HF's convention
  std::vector<Tensor> hidden;      // [B,T,D] each
  std::vector<Tensor> self_attn;   // per layer [B,H,T,Tk]
  std::vector<Tensor> cross_attn;  // per cross-attention layer [B,H,T,N]
  void clear() {
    hidden.clear();
    self_attn.clear();
    cross_attn.clear();
  }
};

struct KV {
  Tensor k, v;  // [B,H,T,dh]
};
struct LayerCache {
  KV self, cross;  // self grows each step; cross (T5 decoder) is computed once
};
using Cache = std::vector<LayerCache>;
void reorder_cache(Cache& cache, const Tensor& rows);  // beam search: keep these batch rows

Tensor activate(Act a, const Tensor& x);

// ---- vision (vision.cpp) ----
struct VisionLayerImpl : torch::nn::Module {
  explicit VisionLayerImpl(const VisionCfg& c);
  Tensor forward(Tensor x, Record* rec);
  VisionCfg cfg;
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, projection{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VisionLayer);

struct VisionModelImpl : torch::nn::Module {
  explicit VisionModelImpl(const VisionCfg& c);
  Tensor forward(const Tensor& pixels, Record* rec = nullptr);  // [B,3,S,S] -> post-LN [B,1+N,Dv]
  VisionCfg cfg;
  Tensor class_embedding, position_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
};
TORCH_MODULE(VisionModel);

// ---- Q-Former (qformer.cpp) ----
struct QAttentionImpl : torch::nn::Module {  // {attention: query,key,value; output: dense,LayerNorm}
  QAttentionImpl(const QFormerCfg& c, int kv_hidden);
  Tensor forward(const Tensor& h, const Tensor& kv_src, Tensor* probs);  // LN(dense(attn) + h)
  int heads;
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(QAttention);

struct QFormerLayerImpl : torch::nn::Module {
  QFormerLayerImpl(const QFormerCfg& c, bool cross);
  Tensor forward(Tensor h, const Tensor& image, Record* rec);
  Act act;
  QAttention attention{nullptr}, crossattention{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
};
TORCH_MODULE(QFormerLayer);

struct QFormerImpl : torch::nn::Module {
  explicit QFormerImpl(const QFormerCfg& c);
  // queries [B,Q,Dq], image [B,N,Dv] -> last layer's output [B,Q,Dq]
  Tensor forward(const Tensor& queries, const Tensor& image, Record* rec = nullptr);
  torch::nn::LayerNorm layernorm{nullptr};
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(QFormer);

// ---- OPT (opt.cpp) ----
struct OptLayerImpl : torch::nn::Module {
  explicit OptLayerImpl(const OptCfg& c);
  // allowed [B,1,T,Tk] bool
  Tensor forward(Tensor h, const Tensor& allowed, LayerCache* cache, Record* rec);
  OptCfg cfg;
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr}, fc1{nullptr}, fc2{nullptr};
  torch::nn::LayerNorm self_attn_layer_norm{nullptr}, final_layer_norm{nullptr};
};
TORCH_MODULE(OptLayer);

struct OptImpl : torch::nn::Module {  // OPTForCausalLM
  explicit OptImpl(const OptCfg& c);
  Tensor embed(const Tensor& ids) { return embed_tokens(ids); }
  // embeds [B,T,D] after the cache's positions; mask01 [B,past+T] covers the
  // cache and these tokens. Returns the final-norm hidden states [B,T,D].
  Tensor forward(const Tensor& embeds, const Tensor& mask01, Cache* cache, Record* rec = nullptr);
  Tensor logits(const Tensor& h);  // [..,D] -> [..,V]
  OptCfg cfg;
  torch::nn::Embedding embed_tokens{nullptr}, embed_positions{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};
  torch::nn::Linear lm_head{nullptr};  // only when not tied
};
TORCH_MODULE(Opt);

// ---- T5 (t5.cpp) ----
struct RmsNormImpl : torch::nn::Module {
  RmsNormImpl(int dim, double eps);
  Tensor forward(const Tensor& x);
  double eps;
  Tensor weight;
};
TORCH_MODULE(RmsNorm);

struct T5AttentionImpl : torch::nn::Module {
  T5AttentionImpl(const T5Cfg& c, bool relative_bias);
  // bias: [1|B,H,T,Tk] additive (position bias + mask). kv_src undefined: self-attention.
  Tensor forward(const Tensor& x, const Tensor& kv_src, const Tensor& bias, KV* cache, bool cross, Tensor* probs);
  int heads, d_kv;
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  torch::nn::Embedding relative_attention_bias{nullptr};
};
TORCH_MODULE(T5Attention);

struct T5BlockImpl : torch::nn::Module {
  T5BlockImpl(const T5Cfg& c, bool decoder, bool relative_bias);
  Tensor forward(Tensor h, const Tensor& self_bias, const Tensor& memory, const Tensor& cross_bias, LayerCache* cache,
                 Record* rec);
  T5Cfg cfg;
  T5Attention self_attn{nullptr}, cross_attn{nullptr};
  RmsNorm self_norm{nullptr}, cross_norm{nullptr}, ff_norm{nullptr};
  torch::nn::Linear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};
};
TORCH_MODULE(T5Block);

struct T5StackImpl : torch::nn::Module {
  T5StackImpl(const T5Cfg& c, bool decoder);
  // embeds [B,T,D]; mask01 [B,past+T] of the self-attention keys; memory and its
  // mask for the decoder. Returns the final-norm hidden states [B,T,D].
  Tensor forward(const Tensor& embeds, const Tensor& mask01, const Tensor& memory, const Tensor& memory_mask01,
                 Cache* cache, Record* rec = nullptr);
  Tensor position_bias(int64_t q_start, int64_t q_len, int64_t k_len) const;  // [1,H,q_len,k_len]
  T5Cfg cfg;
  bool decoder;
  torch::nn::ModuleList block{nullptr};
  RmsNorm final_layer_norm{nullptr};
};
TORCH_MODULE(T5Stack);

struct T5Impl : torch::nn::Module {  // T5ForConditionalGeneration
  explicit T5Impl(const T5Cfg& c);
  Tensor embed(const Tensor& ids) { return shared(ids); }
  Tensor logits(const Tensor& h);  // decoder output -> [..,V]
  T5Cfg cfg;
  torch::nn::Embedding shared{nullptr};
  T5Stack encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear lm_head{nullptr};  // only when not tied
};
TORCH_MODULE(T5);

}  // namespace core::blip2
