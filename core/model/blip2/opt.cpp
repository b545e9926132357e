#include <cmath>

#include "core/model/blip2/modules.h"
#include "core/model/blip2/ops.h"

namespace core::blip2 {

namespace nn = torch::nn;

namespace {
constexpr int kPositionOffset = 2;         // OPTLearnedPositionalEmbedding's offset rows
constexpr double kOptLayerNormEps = 1e-5;  // nn.LayerNorm's default; not in OPT configs
}  // namespace

OptLayerImpl::OptLayerImpl(const OptCfg& c) : cfg(c) {
  auto attn = ops::group(*this, "self_attn");
  q_proj = attn->register_module("q_proj", ops::linear(c.hidden, c.hidden));
  k_proj = attn->register_module("k_proj", ops::linear(c.hidden, c.hidden));
  v_proj = attn->register_module("v_proj", ops::linear(c.hidden, c.hidden));
  out_proj = attn->register_module("out_proj", ops::linear(c.hidden, c.hidden));
  self_attn_layer_norm = register_module("self_attn_layer_norm", ops::layer_norm(c.hidden, kOptLayerNormEps));
  fc1 = register_module("fc1", ops::linear(c.hidden, c.ffn));
  fc2 = register_module("fc2", ops::linear(c.ffn, c.hidden));
  final_layer_norm = register_module("final_layer_norm", ops::layer_norm(c.hidden, kOptLayerNormEps));
}

Tensor OptLayerImpl::forward(Tensor h, const Tensor& allowed, LayerCache* cache, Record* rec) {
  const int dh = cfg.hidden / cfg.heads;
  auto x = self_attn_layer_norm(h);
  auto q = ops::split_heads(q_proj(x) * std::pow(double(dh), -0.5), cfg.heads);
  auto k = ops::split_heads(k_proj(x), cfg.heads);
  auto v = ops::split_heads(v_proj(x), cfg.heads);
  if (cache) {
    if (cache->self.k.defined()) {
      k = torch::cat({cache->self.k, k}, 2);
      v = torch::cat({cache->self.v, v}, 2);
    }
    cache->self = {k, v};
  }
  auto scores = torch::matmul(q, k.transpose(-1, -2)).masked_fill(allowed.logical_not(), ops::lowest(q.scalar_type()));
  auto probs = scores.scalar_type() == torch::kHalf ? torch::softmax(scores, -1, torch::kFloat32).to(torch::kHalf)
                                                    : torch::softmax(scores, -1);
  if (rec && rec->attentions) rec->self_attn.push_back(probs);
  h = h + out_proj(ops::merge_heads(torch::matmul(probs, v)));
  return h + fc2(activate(cfg.act, fc1(final_layer_norm(h))));
}

OptImpl::OptImpl(const OptCfg& c) : cfg(c) {
  auto dec = ops::group(*ops::group(*this, "model"), "decoder");
  embed_tokens = dec->register_module("embed_tokens", nn::Embedding(c.vocab, c.hidden));
  embed_positions = dec->register_module("embed_positions", nn::Embedding(c.max_positions + kPositionOffset, c.hidden));
  layers = dec->register_module("layers", nn::ModuleList());
  for (int i = 0; i < c.layers; ++i) layers->push_back(OptLayer(c));
  final_layer_norm = dec->register_module("final_layer_norm", ops::layer_norm(c.hidden, kOptLayerNormEps));
  if (!c.tied) lm_head = register_module("lm_head", ops::linear(c.hidden, c.vocab, false));
}

Tensor OptImpl::forward(const Tensor& embeds, const Tensor& mask01, Cache* cache, Record* rec) {
  const int64_t t = embeds.size(1), total = mask01.size(1), past = total - t;
  TORCH_CHECK(past >= 0, "OPT: the attention mask is shorter than the input");
  if (cache && cache->empty()) cache->resize(layers->size());
  auto mask = mask01.to(torch::kLong);
  auto positions = (torch::cumsum(mask, 1) * mask - 1).narrow(1, past, t) + kPositionOffset;
  TORCH_CHECK(positions.max().item<int64_t>() < embed_positions->weight.size(0),
              "OPT: the input is longer than max_position_embeddings (", cfg.max_positions, ")");
  auto h = embeds + embed_positions(positions);
  // Key j is visible to query i (at absolute position past+i) when j <= past+i and unpadded.
  auto causal = torch::ones({t, total}, torch::dtype(torch::kBool).device(h.device())).tril(past);
  auto allowed = causal.unsqueeze(0).unsqueeze(0) & mask.to(torch::kBool).unsqueeze(1).unsqueeze(2);
  const bool keep = rec && rec->hidden_states;
  for (size_t i = 0; i < layers->size(); ++i) {
    if (keep) rec->hidden.push_back(h);
    h = layers[i]->as<OptLayer>()->forward(h, allowed, cache ? &(*cache)[i] : nullptr, rec);
  }
  h = final_layer_norm(h);
  if (keep) rec->hidden.push_back(h);
  return h;
}

Tensor OptImpl::logits(const Tensor& h) { return lm_head ? lm_head(h) : torch::linear(h, embed_tokens->weight); }

}  // namespace core::blip2
