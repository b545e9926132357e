#include "core/model/blip_itm/family.h"

#include <algorithm>

#include "core/error.h"

namespace core {

namespace {
[[noreturn]] void no_text_generation() {
  throw Error(ErrorCode::BadArgument,
              "this model matches images with text; it does not answer questions or describe images");
}
}  // namespace

void BlipItmFamily::freeze() {
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  model->eval();
}

torch::Tensor BlipItmFamily::fuse(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, Record*,
                                  std::vector<LayerCache>*) {
  no_text_generation();
}

torch::Tensor BlipItmFamily::decode(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                    std::vector<LayerCache>*, int64_t, Record*) {
  no_text_generation();
}

Family::MatchMaps BlipItmFamily::match_maps(const torch::Tensor& image, const torch::Tensor& ids,
                                            const torch::Tensor& mask) {
  // LAVIS's layer: the middle one (block_num 6 of 12); never the last, whose word maps
  // are 0 by construction (the matching head reads the first token only).
  const int layers = model->cfg.text.layers;
  const int layer = std::max(0, std::min(layers / 2, layers - 2));
  auto g = model->gradcam(image, ids, mask, layer);
  MatchMaps m;
  m.probability = torch::softmax(g.logits.to(torch::kFloat32), -1).select(1, 1);
  m.per_token = g.maps[0].to(torch::kFloat32);
  m.whole = g.text_avg[0].to(torch::kFloat32);
  return m;
}

}  // namespace core
