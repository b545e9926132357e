#pragma once
// The autoglm family: our own models and HuggingFace BLIP VQA and captioning
// (one architecture, see model.h), behind the engine's Family seam.
#include <memory>

#include "core/model/autoglm/model.h"
#include "core/model/family.h"

namespace core {

class AutoGLMFamily : public Family {
 public:
  explicit AutoGLMFamily(const ModelConfig& cfg) : model(cfg) {}

  ModelFamily kind() const override { return model->cfg.family; }
  unsigned capabilities() const override;
  void load_weights(const Checkpoint& ck) override { model->load_weights(ck); }
  void to(torch::Device device, torch::ScalarType dtype) override { model->to(device, dtype); }
  void freeze() override;
  int64_t num_parameters() const override { return model->num_parameters(); }
  torch::Tensor encode_image(const torch::Tensor& pixels, Record* rec) override;
  torch::Tensor fuse(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& image, Record* rec,
                     std::vector<LayerCache>* image_kv) override;
  torch::Tensor memory_mask(const torch::Tensor& mask01) const override;
  torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& memory, const torch::Tensor& memory_mask,
                       std::vector<LayerCache>* cache, int64_t past, Record* rec) override;
  torch::Tensor image_vector(const torch::Tensor& image) override { return model->image_embedding(image); }
  torch::Tensor text_vector(const torch::Tensor& ids, const torch::Tensor& mask) override {
    return model->text_embedding(ids, mask);
  }
  float align_temperature() const override;

  Model model;
};

}  // namespace core
