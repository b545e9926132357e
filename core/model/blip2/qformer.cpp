#include <cmath>

#include "core/model/blip2/modules.h"
#include "core/model/blip2/ops.h"

namespace core::blip2 {

namespace nn = torch::nn;

QAttentionImpl::QAttentionImpl(const QFormerCfg& c, int kv_hidden) : heads(c.heads) {
  auto attn = ops::group(*this, "attention");
  query = attn->register_module("query", ops::linear(c.hidden, c.hidden));
  key = attn->register_module("key", ops::linear(kv_hidden, c.hidden));
  value = attn->register_module("value", ops::linear(kv_hidden, c.hidden));
  auto out = ops::group(*this, "output");
  dense = out->register_module("dense", ops::linear(c.hidden, c.hidden));
  norm = out->register_module("LayerNorm", ops::layer_norm(c.hidden, c.ln_eps));
}

Tensor QAttentionImpl::forward(const Tensor& h, const Tensor& kv_src, Tensor* probs) {
  auto q = ops::split_heads(query(h), heads);
  auto k = ops::split_heads(key(kv_src), heads);
  auto v = ops::split_heads(value(kv_src), heads);
  // Masks are all ones for the queries and the image: adding them changes nothing.
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(q.size(-1)));
  auto p = torch::softmax(scores, -1);
  if (probs) *probs = p;
  return norm(dense(ops::merge_heads(torch::matmul(p, v))) + h);
}

QFormerLayerImpl::QFormerLayerImpl(const QFormerCfg& c, bool cross) : act(c.act) {
  attention = register_module("attention", QAttention(c, c.hidden));
  if (cross) crossattention = register_module("crossattention", QAttention(c, c.encoder_hidden));
  auto inter = ops::group(*this, "intermediate_query");
  intermediate = inter->register_module("dense", ops::linear(c.hidden, c.intermediate));
  auto out = ops::group(*this, "output_query");
  output = out->register_module("dense", ops::linear(c.intermediate, c.hidden));
  output_norm = out->register_module("LayerNorm", ops::layer_norm(c.hidden, c.ln_eps));
}

Tensor QFormerLayerImpl::forward(Tensor h, const Tensor& image, Record* rec) {
  const bool keep = rec && rec->attentions;
  Tensor p;
  h = attention->forward(h, h, keep ? &p : nullptr);
  if (keep) rec->self_attn.push_back(p);
  if (crossattention) {
    h = crossattention->forward(h, image, keep ? &p : nullptr);
    if (keep) rec->cross_attn.push_back(p);
  }
  return output_norm(output(activate(act, intermediate(h))) + h);
}

QFormerImpl::QFormerImpl(const QFormerCfg& c) {
  layernorm = register_module("layernorm", ops::layer_norm(c.hidden, c.ln_eps));
  auto enc = ops::group(*this, "encoder");
  layers = enc->register_module("layer", nn::ModuleList());
  for (int i = 0; i < c.layers; ++i) layers->push_back(QFormerLayer(c, c.has_cross(i)));
}

Tensor QFormerImpl::forward(const Tensor& queries, const Tensor& image, Record* rec) {
  auto h = layernorm(queries);
  const bool keep = rec && rec->hidden_states;
  for (size_t i = 0; i < layers->size(); ++i) {
    if (keep) rec->hidden.push_back(h);
    h = layers[i]->as<QFormerLayer>()->forward(h, image, rec);
  }
  if (keep) rec->hidden.push_back(h);
  return h;
}

}  // namespace core::blip2
