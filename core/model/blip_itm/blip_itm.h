#pragma once
// HuggingFace BlipForImageTextRetrieval (transformers 4.31) as torch::nn
// modules: the BLIP ViT, the BERT text encoder (text mode for the contrastive
// vectors, image-grounded for the matching head), vision_proj / text_proj and
// itm_head. Registered names are the checkpoint's. The config is a ModelConfig
// with task Match (parse_config reads the HF schema), align_dim being
// image_text_hidden_size.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>

#include "core/io/config.h"
#include "core/model/autoglm/model.h"

namespace core {

class Checkpoint;

// LAVIS's compute_gradcam on the matching head, for one cross-attention layer.
struct ItmGradCam {
  torch::Tensor maps;       // [B, T, gh, gw] per text token (padding rows 0)
  torch::Tensor text_avg;   // [B, gh, gw] mean over the words (tokens 1 .. n-2)
  torch::Tensor attention;  // [B, H, T, N] the layer's cross-attention probabilities
  torch::Tensor gradient;   // [B, H, T, N] d match-logit / d attention
  torch::Tensor logits;     // [B, 2] the matching logits of the same pass
};

struct BlipItmImpl : torch::nn::Module {
  explicit BlipItmImpl(const ModelConfig& c);  // c.task == ModelTask::Match
  ModelConfig cfg;
  VisionModel vision_model{nullptr};
  TextEncoder text_encoder{nullptr};
  torch::nn::Linear vision_proj{nullptr}, text_proj{nullptr}, itm_head{nullptr};

  void load_weights(const Checkpoint& ck);  // throws BadWeights naming the tensor
  void init_weights(uint64_t seed);         // random weights (benchmarks)
  int64_t num_parameters() const;

  // pixels [B,3,S,S] -> image embeds V [B,N,Dv] (post-LayerNorm), the input of
  // every other call; cache it per image.
  torch::Tensor encode_image(const torch::Tensor& pixels, Record* rec = nullptr);
  // Contrastive unit vectors [B, align_dim]: V's class token, and the class
  // token of the text encoder run without the image.
  torch::Tensor image_vector(const torch::Tensor& embeds);
  torch::Tensor text_vector(const torch::Tensor& ids, const torch::Tensor& mask);
  // [images, texts] cosine matrix of [images, P] and [texts, P] vectors: HF 4.31
  // applies no temperature, so rankings use it as it is.
  static torch::Tensor similarity(const torch::Tensor& image_vectors, const torch::Tensor& text_vectors);
  // A zero-shot label distribution [images, labels]: softmax over the labels of
  // cosine * exp(log_scale). The checkpoint has no learned scale; the default is
  // BLIP's initial one (logit_scale_init_value, 1/0.07).
  static constexpr double kLogScale = 2.6592;
  static torch::Tensor label_distribution(const torch::Tensor& similarity, double log_scale = kLogScale);

  // Matching head over pairs: row b = image b with text b; a batch of one on
  // either side is repeated to the other's size. Returns raw logits [B,2]
  // ("match" = 1). The text is fed as tokenized ([CLS] first; HF has no [ENC]).
  torch::Tensor itm_logits(const torch::Tensor& embeds, const torch::Tensor& ids, const torch::Tensor& mask,
                           Record* rec = nullptr, torch::Tensor* last_hidden = nullptr);
  torch::Tensor itm_probability(const torch::Tensor& embeds, const torch::Tensor& ids,
                                const torch::Tensor& mask);  // [B] softmax(logits)[:, 1]
  // Gradient-weighted cross-attention of text-encoder layer `layer` (0-based;
  // the last layer's word maps are 0 by construction, LAVIS uses a middle one).
  // Runs with autograd whatever the caller's grad or inference mode.
  ItmGradCam gradcam(const torch::Tensor& embeds, const torch::Tensor& ids, const torch::Tensor& mask, int layer);
  // The patch grid of embeds with N tokens (class token first).
  std::pair<int64_t, int64_t> grid(int64_t tokens) const;
};
TORCH_MODULE(BlipItm);

// Sizes of Salesforce/blip-itm-base-coco (ViT-B/16 at 384, BERT-base, 256-d
// projections), for random-weight benchmarks.
ModelConfig blip_itm_base_config();
// Writes config.json, preprocessor_config.json and model.safetensors of a
// random-weight model with `c`'s sizes in HF's schema (vocab.txt not included).
void write_random_blip_itm(const std::filesystem::path& dir, const ModelConfig& c, uint64_t seed = 0);

}  // namespace core
