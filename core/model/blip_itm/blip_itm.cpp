#include "core/model/blip_itm/blip_itm.h"

#include <cmath>

#include "core/error.h"

namespace core {

namespace nn = torch::nn;
namespace F = torch::nn::functional;
using torch::Tensor;

namespace {

Tensor unit(const Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12)); }

// Repeats a batch of one to `n` rows; other sizes must already be `n`.
Tensor to_batch(const Tensor& t, int64_t n, const char* what) {
  if (t.size(0) == n) return t;
  if (t.size(0) == 1) {
    auto sizes = t.sizes().vec();
    sizes[0] = n;
    return t.expand(sizes);
  }
  throw Error(ErrorCode::BadArgument, std::string("image-text matching: ") + what + " batch of " +
                                          std::to_string(t.size(0)) + " does not pair with " + std::to_string(n));
}

}  // namespace

BlipItmImpl::BlipItmImpl(const ModelConfig& c) : cfg(c) {
  if (c.task != ModelTask::Match)
    throw Error(ErrorCode::BadConfig,
                std::string("not an image-text matching config (task ") + task_name(c.task) + ")");
  vision_model = register_module("vision_model", VisionModel(c.vision));
  text_encoder = register_module("text_encoder", TextEncoder(c));
  vision_proj = register_module("vision_proj", nn::Linear(c.vision.hidden, c.align_dim));
  text_proj = register_module("text_proj", nn::Linear(c.text.hidden, c.align_dim));
  itm_head = register_module("itm_head", nn::Linear(c.text.hidden, 2));
}

void BlipItmImpl::load_weights(const Checkpoint& ck) { load_named_weights(*this, ck, {}, is_position_ids_buffer); }

void BlipItmImpl::init_weights(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& p : named_parameters(true)) {
    const auto& name = p.key();
    auto& t = p.value();
    const bool norm = name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos ||
                      name.find("post_layernorm") != std::string::npos;
    const bool bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (norm) {
      t.fill_(bias ? 0.0 : 1.0);
    } else if (bias) {
      t.zero_();
    } else if (t.dim() >= 2 && name.find("embedding") == std::string::npos) {
      t.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(t.numel() / t.size(0))), gen);
    } else {
      t.normal_(0.0, 0.02, gen);
    }
  }
}

int64_t BlipItmImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters(true)) n += p.numel();
  return n;
}

Tensor BlipItmImpl::encode_image(const Tensor& pixels, Record* rec) { return vision_model->forward(pixels, rec); }

Tensor BlipItmImpl::image_vector(const Tensor& embeds) { return unit(vision_proj(embeds.select(1, 0))); }

Tensor BlipItmImpl::text_vector(const Tensor& ids, const Tensor& mask) {
  return unit(text_proj(text_encoder->forward(ids, mask, Tensor()).select(1, 0)));
}

Tensor BlipItmImpl::similarity(const Tensor& image_vectors, const Tensor& text_vectors) {
  return torch::matmul(image_vectors, text_vectors.transpose(0, 1));
}

Tensor BlipItmImpl::label_distribution(const Tensor& similarity, double log_scale) {
  return torch::softmax(similarity.to(torch::kFloat32) * std::exp(log_scale), -1);
}

Tensor BlipItmImpl::itm_logits(const Tensor& embeds, const Tensor& ids, const Tensor& mask, Record* rec,
                               Tensor* last_hidden) {
  const int64_t b = std::max(embeds.size(0), ids.size(0));
  auto image = to_batch(embeds, b, "image");
  auto h = text_encoder->forward(to_batch(ids, b, "text"), to_batch(mask, b, "mask"), image, rec);
  if (last_hidden) *last_hidden = h;
  return itm_head(h.select(1, 0));
}

Tensor BlipItmImpl::itm_probability(const Tensor& embeds, const Tensor& ids, const Tensor& mask) {
  return torch::softmax(itm_logits(embeds, ids, mask).to(torch::kFloat32), -1).select(1, 1);
}

std::pair<int64_t, int64_t> BlipItmImpl::grid(int64_t tokens) const {
  const int64_t g = cfg.vision.grid();
  if (tokens - 1 != g * g)
    throw Error(ErrorCode::BadArgument, "image embeds of " + std::to_string(tokens) + " tokens do not form the " +
                                            std::to_string(g) + "x" + std::to_string(g) + " patch grid");
  return {g, g};
}

ItmGradCam BlipItmImpl::gradcam(const Tensor& embeds, const Tensor& ids, const Tensor& mask, int layer) {
  const auto& fusion = cfg.fusion_layers;
  const int index = cfg.fusion_index(layer);
  if (index < 0)
    throw Error(ErrorCode::BadArgument, "text-encoder layer " + std::to_string(layer) +
                                            " has no cross-attention (layers 0.." +
                                            std::to_string(fusion.empty() ? -1 : fusion.back()) + ")");
  const auto [gh, gw] = grid(embeds.size(1));
  c10::InferenceMode normal_tensors(false);
  torch::AutoGradMode grad_on(true);
  // The image is made a leaf so that every cross-attention map joins the graph,
  // whether or not the weights require gradients.
  auto image = embeds.detach().clone().set_requires_grad(true);
  auto ids_c = ids.clone(), mask_c = mask.clone();
  Record rec;
  rec.enabled = true;
  ItmGradCam out;
  out.logits = itm_logits(image, ids_c, mask_c, &rec);
  out.attention = rec.cross_attn.at(static_cast<size_t>(index));
  out.gradient = torch::autograd::grad({out.logits.select(1, 1).sum()}, {out.attention})[0].detach();
  out.attention = out.attention.detach();
  out.logits = out.logits.detach();

  const int64_t b = out.attention.size(0), h = out.attention.size(1), t = out.attention.size(2);
  auto m = to_batch(mask_c, b, "mask").to(out.attention.dtype()).reshape({b, 1, t, 1, 1});
  auto cams = out.attention.narrow(3, 1, gh * gw).reshape({b, h, t, gh, gw}) * m;
  auto grads = out.gradient.narrow(3, 1, gh * gw).clamp_min(0).reshape({b, h, t, gh, gw}) * m;
  out.maps = (cams * grads).mean(1);  // [B,T,gh,gw]
  // Words are tokens 1 .. n-2 ([CLS] and [SEP] excluded), n = the row's length.
  auto n = to_batch(mask_c, b, "mask").sum(1);                                                              // [B]
  auto pos = torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(n.device())).unsqueeze(0);  // [1,T]
  auto words = ((pos >= 1) & (pos <= (n - 2).unsqueeze(1))).to(out.maps.dtype());                           // [B,T]
  out.text_avg = (out.maps * words.view({b, t, 1, 1})).sum(1) / (n - 2).to(out.maps.dtype()).reshape({b, 1, 1});
  return out;
}

}  // namespace core
