#include <cmath>

#include "core/model/blip2/modules.h"
#include "core/model/blip2/ops.h"

namespace core::blip2 {

namespace nn = torch::nn;

Tensor activate(Act a, const Tensor& x) {
  switch (a) {
    case Act::Relu:
      return torch::relu(x);
    case Act::Gelu:
      return torch::gelu(x);
    case Act::GeluNew:
      return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * torch::pow(x, 3.0))));
  }
  return x;
}

void reorder_cache(Cache& cache, const Tensor& rows) {
  for (auto& layer : cache)
    for (KV* kv : {&layer.self, &layer.cross})
      if (kv->k.defined()) {
        kv->k = kv->k.index_select(0, rows);
        kv->v = kv->v.index_select(0, rows);
      }
}

VisionLayerImpl::VisionLayerImpl(const VisionCfg& c) : cfg(c) {
  layer_norm1 = register_module("layer_norm1", ops::layer_norm(c.hidden, c.ln_eps));
  auto attn = ops::group(*this, "self_attn");
  qkv = attn->register_module("qkv", ops::linear(c.hidden, 3 * c.hidden, c.qkv_bias));
  projection = attn->register_module("projection", ops::linear(c.hidden, c.hidden));
  layer_norm2 = register_module("layer_norm2", ops::layer_norm(c.hidden, c.ln_eps));
  auto mlp = ops::group(*this, "mlp");
  fc1 = mlp->register_module("fc1", ops::linear(c.hidden, c.intermediate));
  fc2 = mlp->register_module("fc2", ops::linear(c.intermediate, c.hidden));
}

Tensor VisionLayerImpl::forward(Tensor x, Record* rec) {
  const int64_t b = x.size(0), t = x.size(1), dh = cfg.hidden / cfg.heads;
  // [B,T,3,H,dh] -> [3,B,H,T,dh]: the fused projection's rows are q | k | v, each head-major.
  auto mixed = qkv(layer_norm1(x)).reshape({b, t, 3, cfg.heads, dh}).permute({2, 0, 3, 1, 4});
  auto scores = torch::matmul(mixed[0], mixed[1].transpose(-1, -2)) * std::pow(double(dh), -0.5);
  auto probs = torch::softmax(scores, -1);
  if (rec && rec->attentions) rec->self_attn.push_back(probs);
  auto ctx = torch::matmul(probs, mixed[2]).permute({0, 2, 1, 3}).reshape({b, t, cfg.hidden});
  x = x + projection(ctx);
  return x + fc2(activate(cfg.act, fc1(layer_norm2(x))));
}

VisionModelImpl::VisionModelImpl(const VisionCfg& c) : cfg(c) {
  auto emb = ops::group(*this, "embeddings");
  class_embedding = emb->register_parameter("class_embedding", torch::zeros({1, 1, c.hidden}));
  position_embedding = emb->register_parameter("position_embedding", torch::zeros({1, c.tokens(), c.hidden}));
  patch_embedding = emb->register_module("patch_embedding",
                                         nn::Conv2d(nn::Conv2dOptions(3, c.hidden, c.patch_size).stride(c.patch_size)));
  auto enc = ops::group(*this, "encoder");
  layers = enc->register_module("layers", nn::ModuleList());
  for (int i = 0; i < c.layers; ++i) layers->push_back(VisionLayer(c));
  post_layernorm = register_module("post_layernorm", ops::layer_norm(c.hidden, c.ln_eps));
}

Tensor VisionModelImpl::forward(const Tensor& pixels, Record* rec) {
  auto patches = patch_embedding(pixels.to(class_embedding.dtype())).flatten(2).transpose(1, 2);
  auto cls = class_embedding.expand({patches.size(0), 1, cfg.hidden});
  auto x = torch::cat({cls, patches}, 1) + position_embedding.narrow(1, 0, patches.size(1) + 1);
  const bool keep = rec && rec->hidden_states;
  for (size_t i = 0; i < layers->size(); ++i) {
    if (keep) rec->hidden.push_back(x);
    x = layers[i]->as<VisionLayer>()->forward(x, rec);
  }
  if (keep) rec->hidden.push_back(x);
  return post_layernorm(x);
}

}  // namespace core::blip2
