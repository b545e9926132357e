#include <memory>

#include "core/model/autoglm/family.h"
#include "core/model/blip2/family.h"
#include "core/model/blip_itm/family.h"
#include "core/error.h"
#include "core/model/family.h"

namespace core {

std::unique_ptr<Family> make_family(const ModelConfig& cfg) {
  switch (cfg.family) {
    case ModelFamily::AutoGLM:
    case ModelFamily::Blip:
      return std::make_unique<AutoGLMFamily>(cfg);
    case ModelFamily::BlipItm:
      return std::make_unique<BlipItmFamily>(cfg);
    case ModelFamily::Blip2:
      if (cfg.blip2) return std::make_unique<Blip2Family>(*cfg.blip2);
      break;
  }
  throw Error(ErrorCode::BadConfig,
              std::string("model family '") + family_name(cfg.family) + "' is not part of this build");
}

torch::Tensor Family::match_probability(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
  throw Error(ErrorCode::BadArgument,
              std::string("the ") + family_name(kind()) + " family has no image-text matching head");
}

Family::MatchMaps Family::match_maps(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
  throw Error(ErrorCode::BadArgument,
              std::string("the ") + family_name(kind()) + " family has no image-text matching head");
}

Generation Family::generate(const torch::Tensor&, const GenerationRequest&) {
  throw Error(ErrorCode::BadArgument, std::string("the ") + family_name(kind()) + " family decodes through the engine");
}

torch::Tensor Family::answer_relevance(const torch::Tensor&, const std::vector<int64_t>&, const std::vector<int64_t>&) {
  throw Error(ErrorCode::BadArgument, std::string("the ") + family_name(kind()) + " family decodes through the engine");
}

}  // namespace core
