#include "core/model/blip_itm/family.h"

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

}  // namespace core
