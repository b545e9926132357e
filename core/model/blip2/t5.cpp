#include <cmath>

#include "core/model/blip2/modules.h"
#include "core/model/blip2/ops.h"

namespace core::blip2 {

namespace nn = torch::nn;

RmsNormImpl::RmsNormImpl(int dim, double e) : eps(e) { weight = register_parameter("weight", torch::ones({dim})); }

Tensor RmsNormImpl::forward(const Tensor& x) {
  auto variance = x.to(torch::kFloat32).pow(2).mean(-1, true);
  auto y = x * torch::rsqrt(variance + eps);
  if (weight.scalar_type() == torch::kHalf || weight.scalar_type() == torch::kBFloat16) y = y.to(weight.scalar_type());
  return weight * y;
}

T5AttentionImpl::T5AttentionImpl(const T5Cfg& c, bool relative_bias) : heads(c.heads), d_kv(c.d_kv) {
  const int inner = c.heads * c.d_kv;
  q = register_module("q", ops::linear(c.d_model, inner, false));
  k = register_module("k", ops::linear(c.d_model, inner, false));
  v = register_module("v", ops::linear(c.d_model, inner, false));
  o = register_module("o", ops::linear(inner, c.d_model, false));
  if (relative_bias)
    relative_attention_bias = register_module("relative_attention_bias", nn::Embedding(c.buckets, c.heads));
}

Tensor T5AttentionImpl::forward(const Tensor& x, const Tensor& kv_src, const Tensor& bias, KV* cache, bool cross,
                                Tensor* probs) {
  auto qs = ops::split_heads(q(x), heads);
  Tensor ks, vs;
  if (cross && cache && cache->k.defined()) {
    ks = cache->k;
    vs = cache->v;
  } else {
    const Tensor& src = cross ? kv_src : x;
    ks = ops::split_heads(k(src), heads);
    vs = ops::split_heads(v(src), heads);
    if (!cross && cache && cache->k.defined()) {
      ks = torch::cat({cache->k, ks}, 2);
      vs = torch::cat({cache->v, vs}, 2);
    }
    if (cache) *cache = {ks, vs};
  }
  auto scores = torch::matmul(qs, ks.transpose(3, 2));  // T5 does not scale by 1/sqrt(d_kv)
  if (bias.defined()) scores = scores + bias;
  auto p = torch::softmax(scores.to(torch::kFloat32), -1).to(scores.scalar_type());
  if (probs) *probs = p;
  return o(ops::merge_heads(torch::matmul(p, vs)));
}

T5BlockImpl::T5BlockImpl(const T5Cfg& c, bool decoder, bool relative_bias) : cfg(c) {
  auto layer = register_module("layer", nn::ModuleList());
  auto l0 = std::make_shared<nn::Module>();
  self_attn = l0->register_module("SelfAttention", T5Attention(c, relative_bias));
  self_norm = l0->register_module("layer_norm", RmsNorm(c.d_model, c.eps));
  layer->push_back(l0);
  if (decoder) {
    auto l1 = std::make_shared<nn::Module>();
    cross_attn = l1->register_module("EncDecAttention", T5Attention(c, false));
    cross_norm = l1->register_module("layer_norm", RmsNorm(c.d_model, c.eps));
    layer->push_back(l1);
  }
  auto ff = std::make_shared<nn::Module>();
  auto dense = ops::group(*ff, "DenseReluDense");
  if (c.gated) {
    wi_0 = dense->register_module("wi_0", ops::linear(c.d_model, c.d_ff, false));
    wi_1 = dense->register_module("wi_1", ops::linear(c.d_model, c.d_ff, false));
  } else {
    wi = dense->register_module("wi", ops::linear(c.d_model, c.d_ff, false));
  }
  wo = dense->register_module("wo", ops::linear(c.d_ff, c.d_model, false));
  ff_norm = ff->register_module("layer_norm", RmsNorm(c.d_model, c.eps));
  layer->push_back(ff);
}

Tensor T5BlockImpl::forward(Tensor h, const Tensor& self_bias, const Tensor& memory, const Tensor& cross_bias,
                            LayerCache* cache, Record* rec) {
  const bool keep = rec && rec->attentions;
  Tensor p;
  h = h + self_attn->forward(self_norm(h), {}, self_bias, cache ? &cache->self : nullptr, false, keep ? &p : nullptr);
  if (keep) rec->self_attn.push_back(p);
  if (cross_attn) {
    h = h + cross_attn->forward(cross_norm(h), memory, cross_bias, cache ? &cache->cross : nullptr, true,
                                keep ? &p : nullptr);
    if (keep) rec->cross_attn.push_back(p);
  }
  auto x = ff_norm(h);
  auto inner = cfg.gated ? activate(cfg.act, wi_0(x)) * wi_1(x) : activate(cfg.act, wi(x));
  return h + wo(inner.to(wo->weight.scalar_type()));
}

T5StackImpl::T5StackImpl(const T5Cfg& c, bool dec) : cfg(c), decoder(dec) {
  block = register_module("block", nn::ModuleList());
  const int n = dec ? c.decoder_layers : c.layers;
  for (int i = 0; i < n; ++i) block->push_back(T5Block(c, dec, i == 0));
  final_layer_norm = register_module("final_layer_norm", RmsNorm(c.d_model, c.eps));
}

Tensor T5StackImpl::position_bias(int64_t q_start, int64_t q_len, int64_t k_len) const {
  auto table = block->ptr<T5BlockImpl>(0)->self_attn->relative_attention_bias;
  const auto dev = table->weight.device();
  auto context = torch::arange(q_start, q_start + q_len, torch::dtype(torch::kLong).device(dev)).unsqueeze(1);
  auto memory = torch::arange(k_len, torch::dtype(torch::kLong).device(dev)).unsqueeze(0);
  auto rel = memory - context;
  int64_t buckets = cfg.buckets;
  auto bucket = torch::zeros_like(rel);
  if (!decoder) {
    buckets /= 2;
    bucket = bucket + (rel > 0).to(torch::kLong) * buckets;
    rel = rel.abs();
  } else {
    rel = -torch::min(rel, torch::zeros_like(rel));
  }
  const int64_t max_exact = buckets / 2;
  auto is_small = rel < max_exact;
  auto large = max_exact + (torch::log(rel.to(torch::kFloat32) / double(max_exact)) /
                            std::log(double(cfg.max_distance) / double(max_exact)) * double(buckets - max_exact))
                               .to(torch::kLong);
  large = torch::min(large, torch::full_like(large, buckets - 1));
  bucket = bucket + torch::where(is_small, rel, large);
  return table(bucket).permute({2, 0, 1}).unsqueeze(0);  // [1,H,q,k]
}

namespace {
Tensor padding_bias(const Tensor& mask01, torch::ScalarType dt) {  // [B,T] -> [B,1,1,T], HF's (1-m)*min
  return ((1.0 - mask01.to(dt)) * ops::lowest(dt)).unsqueeze(1).unsqueeze(1);
}
}  // namespace

Tensor T5StackImpl::forward(const Tensor& embeds, const Tensor& mask01, const Tensor& memory,
                            const Tensor& memory_mask01, Cache* cache, Record* rec) {
  const int64_t t = embeds.size(1), total = mask01.size(1), past = total - t;
  TORCH_CHECK(past >= 0, "T5: the attention mask is shorter than the input");
  if (cache && cache->empty()) cache->resize(block->size());
  const auto dt = embeds.scalar_type();
  auto self_bias = position_bias(past, t, total).to(dt);
  auto mask = padding_bias(mask01, dt);
  if (decoder) {
    auto causal = torch::ones({t, total}, torch::dtype(torch::kBool).device(embeds.device())).tril(past);
    mask = mask + causal.logical_not().to(dt).mul(ops::lowest(dt));
  }
  self_bias = self_bias + mask;
  Tensor cross_bias = decoder ? padding_bias(memory_mask01, dt) : Tensor();
  auto h = embeds;
  const bool keep = rec && rec->hidden_states;
  for (size_t i = 0; i < block->size(); ++i) {
    if (keep) rec->hidden.push_back(h);
    h = block[i]->as<T5Block>()->forward(h, self_bias, memory, cross_bias, cache ? &(*cache)[i] : nullptr, rec);
  }
  h = final_layer_norm(h);
  if (keep) rec->hidden.push_back(h);
  return h;
}

T5Impl::T5Impl(const T5Cfg& c) : cfg(c) {
  shared = register_module("shared", nn::Embedding(c.vocab, c.d_model));
  encoder = register_module("encoder", T5Stack(c, false));
  decoder = register_module("decoder", T5Stack(c, true));
  if (!c.tied) lm_head = register_module("lm_head", ops::linear(c.d_model, c.vocab, false));
}

Tensor T5Impl::logits(const Tensor& h) {
  if (lm_head) return lm_head(h);
  return torch::linear(h * std::pow(double(cfg.d_model), -0.5), shared->weight);
}

}  // namespace core::blip2
