#pragma once
// BLIP-2 behind the engine's Family seam. The image's tokens the engine caches
// are the vision encoder's output; each answer runs the Q-Former (cheap: 32
// queries), the projection and the language model, which decodes itself with
// the reference's generate() and reports what the inspection panels draw.
#include "core/model/blip2/blip2.h"
#include "core/model/family.h"

namespace core {

class Blip2Family : public Family {
 public:
  explicit Blip2Family(const blip2::Blip2Config& cfg) : model(cfg) {}

  ModelFamily kind() const override { return ModelFamily::Blip2; }
  unsigned capabilities() const override { return unsigned(Capability::Ask) | unsigned(Capability::Describe); }
  void load_weights(const Checkpoint& ck) override { model->load_weights(ck); }
  void to(torch::Device device, torch::ScalarType dtype) override { model->to(device, dtype); }
  void freeze() override;
  int64_t num_parameters() const override { return model->num_parameters(); }
  torch::Tensor encode_image(const torch::Tensor& pixels, Record* rec) override;
  torch::Tensor fuse(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, Record*,
                     std::vector<LayerCache>*) override;
  torch::Tensor memory_mask(const torch::Tensor&) const override { return {}; }
  torch::Tensor decode(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, std::vector<LayerCache>*,
                       int64_t, Record*) override;
  torch::Tensor image_vector(const torch::Tensor&) override;
  torch::Tensor text_vector(const torch::Tensor&, const torch::Tensor&) override;
  float align_temperature() const override { return 0.f; }

  bool decodes_itself() const override { return true; }
  Generation generate(const torch::Tensor& image, const GenerationRequest& req) override;
  torch::Tensor answer_relevance(const torch::Tensor& image, const std::vector<int64_t>& prompt,
                                 const std::vector<int64_t>& answer) override;

  blip2::Blip2Model model;

 private:
  // The Q-Former over the image's tokens -> projected queries [1,Q,D]; rec keeps its attentions.
  torch::Tensor queries(const torch::Tensor& image, blip2::Record* rec);
  torch::Tensor prompt_tensor(const std::vector<int64_t>& prompt) const;
};

}  // namespace core
