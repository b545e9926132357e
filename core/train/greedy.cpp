#include "core/train/greedy.h"

#include <cmath>

namespace core::train {

std::vector<int64_t> greedy_ids(Model& m, const ModelConfig& cfg, const Tensor& pixels,
                                const std::vector<int64_t>& question, int max_steps, std::vector<Tensor>* step_logits) {
  auto image = m->vision_model->forward(pixels);
  auto ids = torch::tensor(question, torch::kLong).unsqueeze(0);
  auto f = m->text_encoder->forward(ids, torch::ones_like(ids), image);
  std::vector<LayerCache> cache;
  std::vector<int64_t> out;
  int64_t next = cfg.bos_id;
  for (int t = 0; t < max_steps; ++t) {
    auto logits = m->text_decoder->forward(torch::full({1, 1}, next, torch::kLong), f, {}, &cache, t)[0][-1];
    // as the engine: no empty answers (the end token cannot come first)
    next = t == 0 ? logits.index_fill(0, torch::tensor({cfg.eos_id}), -INFINITY).argmax().item<int64_t>()
                  : logits.argmax().item<int64_t>();
    if (step_logits) step_logits->push_back(logits.clone());
    out.push_back(next);
    if (next == cfg.eos_id) break;
  }
  return out;
}

std::string answer_text(const Tokenizer& tok, const ModelConfig& cfg, std::vector<int64_t> ids) {
  if (!ids.empty() && ids.back() == cfg.eos_id) ids.pop_back();
  return tok.decode(ids, true);
}

Tensor pixel_batch(const Image& img, const ModelConfig& cfg) {
  PreprocessSpec::Size in;
  auto p = preprocess(img, cfg.preprocess, &in);
  return torch::from_blob(p.data(), {1, 3, in.height, in.width}, torch::kFloat32).clone();
}

std::string greedy(Model& m, const ModelConfig& cfg, const Tokenizer& tok, const shapes::Sample& s) {
  return answer_text(tok, cfg,
                     greedy_ids(m, cfg, pixel_batch(image_from_mat(s.scene.rgb), cfg), tok.encode(s.question).ids, 30));
}

}  // namespace core::train
