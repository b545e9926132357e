#pragma once
// BLIP image-text matching behind the engine's Family seam: search and
// zero-shot labels by the contrastive vectors. It answers no questions.
#include <cmath>

#include "core/model/blip_itm/blip_itm.h"
#include "core/model/family.h"

namespace core {

class BlipItmFamily : public Family {
 public:
  explicit BlipItmFamily(const ModelConfig& cfg) : model(cfg) {}

  ModelFamily kind() const override { return ModelFamily::BlipItm; }
  unsigned capabilities() const override { return unsigned(Capability::MatchText); }
  void load_weights(const Checkpoint& ck) override { model->load_weights(ck); }
  void to(torch::Device device, torch::ScalarType dtype) override { model->to(device, dtype); }
  void freeze() override;
  int64_t num_parameters() const override { return model->num_parameters(); }
  torch::Tensor encode_image(const torch::Tensor& pixels, Record* rec) override {
    return model->encode_image(pixels, rec);
  }
  torch::Tensor fuse(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, Record*,
                     std::vector<LayerCache>*) override;
  torch::Tensor memory_mask(const torch::Tensor&) const override { return {}; }
  torch::Tensor decode(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, std::vector<LayerCache>*,
                       int64_t, Record*) override;
  torch::Tensor image_vector(const torch::Tensor& image) override { return model->image_vector(image); }
  torch::Tensor text_vector(const torch::Tensor& ids, const torch::Tensor& mask) override {
    return model->text_vector(ids, mask);
  }
  bool has_matching_head() const override { return true; }
  torch::Tensor match_probability(const torch::Tensor& image, const torch::Tensor& ids,
                                  const torch::Tensor& mask) override {
    return model->itm_probability(image, ids, mask);
  }
  MatchMaps match_maps(const torch::Tensor& image, const torch::Tensor& ids, const torch::Tensor& mask) override;
  // The checkpoint has no learned scale: BLIP's initial one, exp(2.6592) = 1/0.07.
  float align_temperature() const override { return static_cast<float>(std::exp(-BlipItmImpl::kLogScale)); }

  BlipItm model;
};

}  // namespace core
