#include "core/model/autoglm/model.h"
#include "core/model/linear.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"

namespace core {

namespace nn = torch::nn;
using torch::Tensor;

namespace {

// An empty module that only groups children, so registered names reproduce
// the checkpoint's nesting ("attention.self.query", "cls.predictions.bias").
std::shared_ptr<nn::Module> group(nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<nn::Module>());
}

nn::LayerNorm layer_norm(int dim, double eps) { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(eps)); }

Tensor split_heads(const Tensor& x, int heads) {  // [B,T,D] -> [B,H,T,dh]
  const auto b = x.size(0), t = x.size(1), d = x.size(2);
  return x.view({b, t, heads, d / heads}).transpose(1, 2);
}

Tensor merge_heads(const Tensor& x) {  // [B,H,T,dh] -> [B,T,D]
  const auto b = x.size(0), h = x.size(1), t = x.size(2), dh = x.size(3);
  return x.transpose(1, 2).reshape({b, t, h * dh});
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& add_mask, Tensor* probs) {
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (add_mask.defined()) scores = scores + add_mask;
  auto p = torch::softmax(scores, -1);
  if (probs) *probs = p;
  return torch::matmul(p, v);
}

}  // namespace

Tensor additive_mask(const Tensor& mask01) {
  return ((1.0 - mask01.to(torch::kFloat32)) * -10000.0).unsqueeze(1).unsqueeze(1);
}

// ---------------------------------------------------------------- vision

VisionEmbeddingsImpl::VisionEmbeddingsImpl(const VisionConfig& c) : cfg(c) {
  class_embedding = register_parameter("class_embedding", torch::zeros({1, 1, c.hidden}));
  position_embedding = register_parameter("position_embedding", torch::zeros({1, c.tokens(), c.hidden}));
  if (c.stem == "conv") {
    // 3x3 convolutions with GELU between them, channels doubling up to hidden: stride 2
    // (padded, overlapping), then stride 3 where the patch has a factor 3: tiling with the
    // default 3x3 kernel, overlapping and padded with a larger stem_tile_kernel.
    stem = register_module("stem", nn::ModuleList());
    const auto strides = c.stem_strides();
    const auto channels = c.stem_channels();
    const auto kernels = c.stem_kernels();
    int in = 3;
    for (size_t i = 0; i < strides.size(); ++i) {
      const int k = kernels[i];
      const int pad = strides[i] == 2 ? 1 : (k - 3) / 2;
      stem->push_back(nn::Conv2d(nn::Conv2dOptions(in, channels[i], k).stride(strides[i]).padding(pad)));
      in = channels[i];
    }
  } else {
    patch_embedding = register_module("patch_embedding",
                                      nn::Conv2d(nn::Conv2dOptions(3, c.hidden, c.patch_size).stride(c.patch_size)));
  }
}

Tensor VisionEmbeddingsImpl::forward(const Tensor& pixels) {
  Tensor x;
  if (patch_embedding) {
    x = patch_embedding(pixels);
  } else {
    x = pixels;
    for (size_t i = 0; i < stem->size(); ++i) {
      x = stem[i]->as<nn::Conv2d>()->forward(x);
      if (i + 1 < stem->size()) x = torch::gelu(x);
    }
  }
  const int64_t gh = x.size(2), gw = x.size(3), g = cfg.grid();
  x = x.flatten(2).transpose(1, 2);  // [B, N, D], row-major patches
  auto cls = class_embedding.expand({x.size(0), 1, x.size(2)}).to(x.dtype());
  Tensor pos = position_embedding;
  if (gh != g || gw != g) {
    // A grid shaped like the image (preprocess keep_aspect): the learned g x g patch
    // positions resampled bilinearly to gh x gw, as ViT/BLIP interpolate_pos_encoding.
    namespace F = torch::nn::functional;
    const int64_t d = pos.size(2);
    auto grid = pos.narrow(1, 1, g * g).reshape({1, g, g, d}).permute({0, 3, 1, 2});
    grid = F::interpolate(
        grid,
        F::InterpolateFuncOptions().size(std::vector<int64_t>{gh, gw}).mode(torch::kBilinear).align_corners(false));
    pos = torch::cat({pos.narrow(1, 0, 1), grid.permute({0, 2, 3, 1}).reshape({1, gh * gw, d})}, 1);
  }
  return torch::cat({cls, x}, 1) + pos.to(x.dtype());
}

VisionLayerImpl::VisionLayerImpl(const VisionConfig& c) : heads(c.heads) {
  layer_norm1 = register_module("layer_norm1", layer_norm(c.hidden, c.ln_eps));
  auto attn = group(*this, "self_attn");
  qkv = attn->register_module("qkv", nn::Linear(c.hidden, 3 * c.hidden));
  projection = attn->register_module("projection", nn::Linear(c.hidden, c.hidden));
  layer_norm2 = register_module("layer_norm2", layer_norm(c.hidden, c.ln_eps));
  auto mlp = group(*this, "mlp");
  fc1 = mlp->register_module("fc1", nn::Linear(c.hidden, c.intermediate));
  fc2 = mlp->register_module("fc2", nn::Linear(c.intermediate, c.hidden));
}

Tensor VisionLayerImpl::forward(Tensor x, Tensor* probs) {
  auto qkv_out = qkv(layer_norm1(x)).chunk(3, -1);
  auto ctx = attention(split_heads(qkv_out[0], heads), split_heads(qkv_out[1], heads), split_heads(qkv_out[2], heads),
                       {}, probs);
  x = x + projection(merge_heads(ctx));
  return x + fc2(torch::gelu(fc1(layer_norm2(x))));
}

VisionModelImpl::VisionModelImpl(const VisionConfig& c) {
  embeddings = register_module("embeddings", VisionEmbeddings(c));
  auto enc = group(*this, "encoder");
  layers = enc->register_module("layers", nn::ModuleList());
  for (int i = 0; i < c.layers; ++i) layers->push_back(VisionLayer(c));
  post_layernorm = register_module("post_layernorm", layer_norm(c.hidden, c.ln_eps));
}

Tensor VisionModelImpl::forward(const Tensor& pixels, Record* rec) {
  auto x = embeddings(pixels);
  const bool keep = rec && rec->enabled && rec->hidden_states;
  if (keep) rec->hidden.push_back(x);
  for (size_t i = 0; i < layers->size(); ++i) {
    Tensor p;
    x = layers[i]->as<VisionLayer>()->forward(x, keep ? &p : nullptr);
    if (keep) {
      rec->hidden.push_back(x);
      rec->self_attn.push_back(p);
    }
  }
  return post_layernorm(x);
}

// ---------------------------------------------------------------- text

AttentionImpl::AttentionImpl(int hidden, int kv_hidden, int heads_, double eps) : heads(heads_) {
  auto self = group(*this, "self");
  query = self->register_module("query", nn::Linear(hidden, hidden));
  key = self->register_module("key", nn::Linear(kv_hidden, hidden));
  value = self->register_module("value", nn::Linear(kv_hidden, hidden));
  auto out = group(*this, "output");
  dense = out->register_module("dense", nn::Linear(hidden, hidden));
  norm = out->register_module("LayerNorm", layer_norm(hidden, eps));
}

std::pair<Tensor, Tensor> AttentionImpl::kv(const Tensor& src) {
  return {split_heads(linear(src, key), heads), split_heads(linear(src, value), heads)};
}

Tensor AttentionImpl::attend(const Tensor& x, const Tensor& k, const Tensor& v, const Tensor& add_mask, Tensor* probs) {
  auto ctx = attention(split_heads(linear(x, query), heads), k, v, add_mask, probs);
  return linear(merge_heads(ctx), dense);
}

GateImpl::GateImpl(int hidden) {
  text = register_module("text", nn::Linear(hidden, hidden));
  visual = register_module("visual", nn::Linear(hidden, hidden));
}

Tensor GateImpl::forward(const Tensor& h, const Tensor& c) {
  return torch::sigmoid(linear(h, text) + linear(c, visual));
}

TextLayerImpl::TextLayerImpl(const TextConfig& c, int kv_hidden, bool cross, bool gated_)
    : pre_norm(c.pre_norm), has_cross(cross), gated(gated_) {
  attention = register_module("attention", Attention(c.hidden, c.hidden, c.heads, c.ln_eps));
  if (cross) {
    crossattention = register_module("crossattention", Attention(c.hidden, kv_hidden, c.heads, c.ln_eps));
    if (gated) gate = crossattention->register_module("gate", Gate(c.hidden));
  }
  intermediate = group(*this, "intermediate")->register_module("dense", nn::Linear(c.hidden, c.intermediate));
  auto out = group(*this, "output");
  output = out->register_module("dense", nn::Linear(c.intermediate, c.hidden));
  output_norm = out->register_module("LayerNorm", layer_norm(c.hidden, c.ln_eps));
}

Tensor TextLayerImpl::forward(Tensor x, const Tensor& self_mask, const Tensor& memory, const Tensor& memory_mask,
                              LayerCache* cache, Record* rec, bool record_self) {
  const bool rec_on = rec && rec->enabled;
  // self-attention
  Tensor probs;
  Tensor a_in = pre_norm ? attention->norm(x) : x;
  auto [k, v] = attention->kv(a_in);
  if (cache) {
    if (cache->self_k.defined()) {
      k = torch::cat({cache->self_k, k}, 2);
      v = torch::cat({cache->self_v, v}, 2);
    }
    cache->self_k = k;
    cache->self_v = v;
  }
  Tensor s = attention->attend(a_in, k, v, self_mask, rec_on && record_self ? &probs : nullptr);
  if (rec_on && record_self) rec->self_attn.push_back(probs);
  Tensor a = pre_norm ? x + s : attention->norm(s + x);
  // cross-attention to the memory, through the gate
  if (has_cross && memory.defined()) {
    Tensor ck, cv;
    if (cache && cache->cross_k.defined()) {
      ck = cache->cross_k;
      cv = cache->cross_v;
    } else {
      std::tie(ck, cv) = crossattention->kv(memory);
      if (cache) {
        cache->cross_k = ck;
        cache->cross_v = cv;
      }
    }
    Tensor c_in = pre_norm ? crossattention->norm(a) : a;
    Tensor cprobs;
    Tensor c = crossattention->attend(c_in, ck, cv, memory_mask, rec_on ? &cprobs : nullptr);
    Tensor g;
    if (gated) g = gate(a, c);
    if (rec_on) {
      rec->cross_attn.push_back(cprobs);
      if (gated) {
        rec->gates.push_back(g.mean(-1).to(torch::kFloat32));
      } else {  // effective share of the image in this block's update
        auto cn = c.to(torch::kFloat32).norm(2, -1), sn = s.to(torch::kFloat32).norm(2, -1);
        rec->gates.push_back(cn / (cn + sn + 1e-12));
      }
    }
    Tensor upd = gated ? g * c : c;
    a = pre_norm ? a + upd : crossattention->norm(upd + a);
  }
  // feed-forward
  if (pre_norm) return a + linear(torch::gelu(linear(output_norm(a), intermediate)), output);
  return output_norm(linear(torch::gelu(linear(a, intermediate)), output) + a);
}

TextEmbeddingsImpl::TextEmbeddingsImpl(const TextConfig& c) {
  word_embeddings = register_module("word_embeddings", nn::Embedding(c.vocab_size, c.hidden));
  position_embeddings = register_module("position_embeddings", nn::Embedding(c.max_positions, c.hidden));
  norm = register_module("LayerNorm", layer_norm(c.hidden, c.ln_eps));
}

Tensor TextEmbeddingsImpl::forward(const Tensor& ids, int64_t past) {
  const int64_t t = ids.size(1);
  if (past + t > position_embeddings->weight.size(0))
    throw Error(ErrorCode::BadQuestion, "text of " + std::to_string(past + t) + " tokens is longer than the model's " +
                                            std::to_string(position_embeddings->weight.size(0)) + " positions");
  auto pos = torch::arange(past, past + t, torch::TensorOptions().dtype(torch::kLong).device(ids.device()));
  return norm(word_embeddings(ids) + position_embeddings(pos).unsqueeze(0));
}

TextEncoderImpl::TextEncoderImpl(const ModelConfig& c) : cfg(c) {
  embeddings = register_module("embeddings", TextEmbeddings(c.text));
  auto enc = group(*this, "encoder");
  layers = enc->register_module("layer", nn::ModuleList());
  for (int i = 0; i < c.text.layers; ++i) {
    const bool fusion = c.fusion_index(i) >= 0;
    layers->push_back(TextLayer(c.text, c.vision.hidden, fusion, fusion && c.gates));
  }
  if (c.text.pre_norm) final_norm = enc->register_module("final_layer_norm", layer_norm(c.text.hidden, c.text.ln_eps));
  if (c.routing) routing_u = group(*this, "routing")->register_parameter("u", torch::zeros({c.text.hidden}));
  if (c.queries > 0) query_tokens = register_parameter("query_tokens", torch::zeros({c.queries, c.text.hidden}));
}

Tensor TextEncoderImpl::memory_mask(const Tensor& mask01) const {
  if (cfg.queries <= 0) return mask01;
  return torch::cat({mask01, torch::ones({mask01.size(0), cfg.queries}, mask01.options())}, 1);
}

Tensor TextEncoderImpl::forward(const Tensor& ids, const Tensor& mask, const Tensor& image, Record* rec,
                                Tensor* last_hidden, std::vector<LayerCache>* image_kv) {
  auto x = embeddings(ids, 0);
  const int64_t words = x.size(1);
  Tensor full_mask = mask;
  if (cfg.queries > 0 && image.defined()) {
    // BLIP-2's query tokens (without position), normalised as the words' embeddings are.
    auto q = embeddings->norm(query_tokens.to(x.dtype())).unsqueeze(0).expand({x.size(0), -1, -1});
    x = torch::cat({x, q}, 1);
    full_mask = memory_mask(mask);
  }
  const bool keep = rec && rec->enabled && rec->hidden_states;
  if (keep) rec->hidden.push_back(x);
  auto self_mask = additive_mask(full_mask).to(x.dtype());
  std::vector<Tensor> fused;  // H_l of each fusion layer
  for (size_t i = 0; i < layers->size(); ++i) {
    auto layer = layers[i]->as<TextLayer>();
    if (image_kv && image.defined() && layer->has_cross) {
      image_kv->resize(layers->size());
      LayerCache c;  // only its cross-attention part outlives this question
      c.cross_k = (*image_kv)[i].cross_k;
      c.cross_v = (*image_kv)[i].cross_v;
      x = layer->forward(x, self_mask, image, {}, &c, rec, true);
      (*image_kv)[i].cross_k = c.cross_k;
      (*image_kv)[i].cross_v = c.cross_v;
    } else {
      x = layer->forward(x, self_mask, image, {}, nullptr, rec, true);
    }
    if (final_norm && i + 1 == layers->size()) x = final_norm(x);
    if (keep) rec->hidden.push_back(x);
    if (layer->has_cross) fused.push_back(x);
  }
  if (last_hidden) *last_hidden = x;
  if (!cfg.routing || !image.defined()) return x;
  // beta = softmax_l(u . mean_tokens(H_l) / tau) over the fusion layers.
  auto m = mask.to(x.dtype()).unsqueeze(-1);  // [B,T,1]
  auto denom = m.sum(1).clamp_min(1.0);
  std::vector<Tensor> logits;
  for (const auto& h : fused)
    logits.push_back(torch::matmul((h.slice(1, 0, words) * m).sum(1) / denom, routing_u.to(x.dtype())));
  auto beta = torch::softmax(torch::stack(logits, 1) / cfg.routing_tau, 1);  // [B,L]
  if (rec && rec->enabled) rec->routing = beta.to(torch::kFloat32);
  auto stacked = torch::stack(fused, 1);  // [B,L,T(+queries),D]
  return (stacked * beta.unsqueeze(-1).unsqueeze(-1)).sum(1);
}

std::vector<LayerCache> TextEncoderImpl::image_kv(const Tensor& image, int64_t repeats) {
  std::vector<LayerCache> kv(layers->size());
  for (size_t i = 0; i < layers->size(); ++i) {
    auto layer = layers[i]->as<TextLayer>();
    if (!layer->has_cross) continue;
    auto [k, v] = layer->crossattention->kv(image);
    kv[i].cross_k = repeats > 1 ? k.repeat_interleave(repeats, 0) : k;
    kv[i].cross_v = repeats > 1 ? v.repeat_interleave(repeats, 0) : v;
  }
  return kv;
}

TextDecoderImpl::TextDecoderImpl(const ModelConfig& c, int memory_hidden) : cfg(c) {
  auto bert = group(*this, "bert");
  embeddings = bert->register_module("embeddings", TextEmbeddings(c.text));
  auto enc = group(*bert, "encoder");
  layers = enc->register_module("layer", nn::ModuleList());
  for (int i = 0; i < c.text.decoder_layers; ++i) layers->push_back(TextLayer(c.text, memory_hidden, true, false));
  if (c.text.pre_norm) final_norm = enc->register_module("final_layer_norm", layer_norm(c.text.hidden, c.text.ln_eps));
  auto pred = group(*group(*this, "cls"), "predictions");
  auto tr = group(*pred, "transform");
  transform = tr->register_module("dense", nn::Linear(c.text.hidden, c.text.hidden));
  transform_norm = tr->register_module("LayerNorm", layer_norm(c.text.hidden, c.text.ln_eps));
  if (!c.tie_lm_head)
    lm_weight = group(*pred, "decoder")->register_parameter("weight", torch::zeros({c.text.vocab_size, c.text.hidden}));
  lm_bias = pred->register_parameter("bias", torch::zeros({c.text.vocab_size}));
}

Tensor TextDecoderImpl::lm_head(const Tensor& h) {
  auto t = transform_norm(torch::gelu(linear(h, transform)));
  const auto& w = lm_weight.defined() ? lm_weight : embeddings->word_embeddings->weight;
  return linear(t, w, lm_bias);
}

Tensor TextDecoderImpl::forward(const Tensor& ids, const Tensor& memory, const Tensor& memory_mask,
                                std::vector<LayerCache>* cache, int64_t past, Record* rec, Tensor* hidden_out,
                                const Tensor& self_key_mask) {
  auto x = embeddings(ids, past);
  const int64_t t = ids.size(1), total = past + t;
  // causal: query i (at position past+i) sees keys j <= past+i
  auto qpos = torch::arange(past, total, torch::TensorOptions().dtype(torch::kLong).device(ids.device())).unsqueeze(1);
  auto kpos = torch::arange(0, total, torch::TensorOptions().dtype(torch::kLong).device(ids.device())).unsqueeze(0);
  auto allowed = (kpos <= qpos).to(x.dtype()).unsqueeze(0).unsqueeze(0);  // [1,1,T,total]
  if (self_key_mask.defined()) allowed = allowed * self_key_mask.to(x.dtype()).unsqueeze(1).unsqueeze(1);
  auto self_mask = (1.0 - allowed) * -10000.0;
  if (cache && cache->empty()) cache->resize(layers->size());
  for (size_t i = 0; i < layers->size(); ++i)
    x = layers[i]->as<TextLayer>()->forward(x, self_mask, memory, memory_mask, cache ? &(*cache)[i] : nullptr, rec,
                                            true);
  if (final_norm) x = final_norm(x);
  if (hidden_out) *hidden_out = x;
  return lm_head(x);
}

AlignHeadsImpl::AlignHeadsImpl(int vision_hidden, int text_hidden, int dim) {
  vision_proj = register_module("vision_proj", nn::Linear(vision_hidden, dim));
  vision_norm = register_module("vision_norm", layer_norm(dim, 1e-5));
  text_proj = register_module("text_proj", nn::Linear(text_hidden, dim));
  text_norm = register_module("text_norm", layer_norm(dim, 1e-5));
  temp = register_parameter("temp", torch::full({1}, 0.07f));
}

Tensor AlignHeadsImpl::image(const Tensor& cls) {
  return torch::nn::functional::normalize(vision_norm(vision_proj(cls)),
                                          torch::nn::functional::NormalizeFuncOptions().dim(-1));
}
Tensor AlignHeadsImpl::text(const Tensor& cls) {
  return torch::nn::functional::normalize(text_norm(text_proj(cls)),
                                          torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

// ---------------------------------------------------------------- model

ModelImpl::ModelImpl(const ModelConfig& c) : cfg(c) {
  if (c.task == ModelTask::Match)
    throw Error(ErrorCode::BadConfig,
                "this is an image-text matching model (BlipForImageTextRetrieval): it matches "
                "text to images and does not answer questions or describe images");
  vision_model = register_module("vision_model", VisionModel(c.vision));
  if (c.task == ModelTask::Vqa) text_encoder = register_module("text_encoder", TextEncoder(c));
  text_decoder =
      register_module("text_decoder", TextDecoder(c, c.task == ModelTask::Vqa ? c.text.hidden : c.vision.hidden));
  if (c.align_dim > 0 && text_encoder)
    align = register_module("align", AlignHeads(c.vision.hidden, c.text.hidden, c.align_dim));
}

void load_named_weights(nn::Module& m, const Checkpoint& st, const std::map<std::string, std::string>& aliases,
                        const std::function<bool(const std::string&)>& ignore) {
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  auto params = m.named_parameters(true);
  for (auto& p : params) {
    std::string name = p.key();
    if (!st.contains(name)) {
      for (const auto& [alias, canonical] : aliases)
        if (canonical == name && st.contains(alias)) name = alias;
    }
    if (!st.contains(name))
      throw Error(ErrorCode::BadWeights, st.label() + ": missing tensor '" + p.key() + "' (expected shape " +
                                             c10::str(p.value().sizes()) + ")");
    const auto& info = st.info(name);
    if (info.shape != p.value().sizes().vec())
      throw Error(ErrorCode::BadWeights, st.label() + ": tensor '" + name + "' has shape " +
                                             c10::str(at::IntArrayRef(info.shape)) + ", expected " +
                                             c10::str(p.value().sizes()));
    if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16 && info.dtype != DType::F64)
      throw Error(ErrorCode::BadWeights, st.label() + ": tensor '" + name + "' has dtype " + dtype_name(info.dtype) +
                                             ", expected a floating-point type");
    auto src = tensor_view(st, name);
    if (!torch::isfinite(src).all().item<bool>())
      throw Error(ErrorCode::BadWeights, st.label() + ": tensor '" + name + "' contains NaN or infinity");
    p.value().copy_(src);
    used.insert(name);
  }
  for (const auto& name : st.names()) {
    if (used.count(name) || (ignore && ignore(name))) continue;
    auto al = aliases.find(name);
    if (al != aliases.end() && used.count(al->second)) continue;  // alias of a loaded tensor
    throw Error(ErrorCode::BadWeights, st.label() + ": unexpected tensor '" + name +
                                           "' (not part of this model's architecture; wrong config.json?)");
  }
}

bool is_position_ids_buffer(const std::string& name) {
  const std::string tail = ".position_ids";
  return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

void ModelImpl::load_weights(const Checkpoint& st) {
  // Checkpoint aliases: HF's state_dict names the LM bias twice. Published .bin
  // files also hold the embeddings' position_ids buffers, which are not weights.
  std::function<bool(const std::string&)> ignore;
  if (cfg.family != ModelFamily::AutoGLM) ignore = is_position_ids_buffer;
  load_named_weights(*this, st, {{"text_decoder.cls.predictions.decoder.bias", "text_decoder.cls.predictions.bias"}},
                     ignore);
}

void ModelImpl::save_weights(const std::filesystem::path& path) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& p : named_parameters(true)) out.emplace_back(p.key(), p.value().to(torch::kFloat32));
  save_tensors(path, out, {{"format", "pt"}, {"family", family_name(cfg.family)}});
}

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// [tokens, dim]: row 0 (the class token) zero, then a square grid row-major; the
// first half of dim codes the column, the second the row, each as sines and cosines.
Tensor sincos_positions(int64_t tokens, int64_t dim) {
  auto out = torch::zeros({tokens, dim});
  const auto grid = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(tokens - 1))));
  const int64_t quarter = dim / 4;
  if (grid * grid != tokens - 1 || quarter == 0) return out;
  auto omega = torch::pow(10000.0, -torch::arange(quarter, torch::kFloat64) / static_cast<double>(quarter));
  auto coord = torch::arange(grid, torch::kFloat64);
  auto ang = torch::outer(coord, omega);                                              // [grid, quarter]
  auto code = torch::cat({torch::sin(ang), torch::cos(ang)}, 1).to(torch::kFloat32);  // [grid, 2*quarter]
  auto cols = code.unsqueeze(0).expand({grid, grid, 2 * quarter});                    // [row, col, .] by column
  auto rows = code.unsqueeze(1).expand({grid, grid, 2 * quarter});                    // by row
  out.slice(0, 1).slice(1, 0, 4 * quarter).copy_(torch::cat({cols, rows}, 2).reshape({grid * grid, 4 * quarter}));
  return out;
}

}  // namespace

void ModelImpl::init_weights(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& p : named_parameters(true)) {
    const auto& name = p.key();
    auto& t = p.value();
    const bool is_norm = name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos ||
                         name.find("_norm") != std::string::npos;
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".temp") == 0) {
      t.fill_(0.07);
    } else if (ends_with(name, "embeddings.position_embedding")) {
      // The vision grid's 2-D sine-cosine code (as MAE's), at the scale of the patch
      // embeddings: with N(0, 0.02) positions are drowned by content and where-questions stay at chance.
      t.copy_(sincos_positions(t.size(1), t.size(2)).to(t.dtype()).unsqueeze(0));
    } else if (is_norm) {
      t.fill_(name.compare(name.size() - 6, 6, "weight") == 0 ? 1.0 : 0.0);
    } else if (ends_with(name, "query_tokens")) {
      t.normal_(0.0, 1.0, gen);
    } else if (name.find("routing.u") != std::string::npos) {
      t.zero_();
    } else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
      t.zero_();
    } else if (t.dim() >= 2 && name.find("embedding") == std::string::npos) {
      // N(0, 1/fan_in): BERT's 0.02 is tuned for hidden 768; at our widths it leaves
      // attention logits near zero, attention uniform and cross-attention slow to bind.
      t.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(t.numel() / t.size(0))), gen);
    } else {
      t.normal_(0.0, 0.02, gen);
    }
  }
}

Tensor ModelImpl::image_embedding(const Tensor& vision_out) { return align->image(vision_out.select(1, 0)); }

Tensor ModelImpl::text_embedding(const Tensor& ids, const Tensor& mask) {
  return align->text(text_encoder->forward(ids, mask, Tensor()).select(1, 0));
}

Tensor ModelImpl::align_temperature() const { return align->temp.clamp(0.001, 0.5); }

int64_t ModelImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters(true)) n += p.numel();
  return n;
}

}  // namespace core
