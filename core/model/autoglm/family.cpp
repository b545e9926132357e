#include "core/model/autoglm/family.h"

#include "core/error.h"

namespace core {

unsigned AutoGLMFamily::capabilities() const {
  unsigned c = 0;
  if (model->cfg.task == ModelTask::Vqa) c |= unsigned(Capability::Ask) | unsigned(Capability::RankAnswers);
  if (model->cfg.task == ModelTask::Caption) c |= unsigned(Capability::Describe);
  if (model->align) c |= unsigned(Capability::MatchText);
  return c;
}

void AutoGLMFamily::freeze() {
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  model->eval();
}

torch::Tensor AutoGLMFamily::encode_image(const torch::Tensor& pixels, Record* rec) {
  return model->vision_model->forward(pixels, rec);
}

torch::Tensor AutoGLMFamily::fuse(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& image,
                                  Record* rec, std::vector<LayerCache>* image_kv) {
  return model->text_encoder->forward(ids, mask, image, rec, nullptr, image_kv);
}

torch::Tensor AutoGLMFamily::memory_mask(const torch::Tensor& mask01) const {
  if (!model->cfg.decoder_masks_question) return {};
  return model->cfg.queries > 0 ? model->text_encoder->memory_mask(mask01) : mask01;
}

torch::Tensor AutoGLMFamily::decode(const torch::Tensor& ids, const torch::Tensor& memory,
                                    const torch::Tensor& memory_mask, std::vector<LayerCache>* cache, int64_t past,
                                    Record* rec) {
  return model->text_decoder->forward(ids, memory, memory_mask, cache, past, rec);
}

float AutoGLMFamily::align_temperature() const {
  if (!model->align) throw Error(ErrorCode::BadArgument, "this model has no alignment heads");
  return model->align_temperature().item<float>();
}

}  // namespace core
