#include <memory>

#include "core/model/autoglm/family.h"
#include "core/model/blip_itm/family.h"
#include "core/error.h"
#include "core/model/family.h"

namespace core {

std::unique_ptr<Family> make_family(const ModelConfig& cfg) {
  switch (cfg.family) {
    case ModelFamily::AutoGLM:
    case ModelFamily::Blip: return std::make_unique<AutoGLMFamily>(cfg);
    case ModelFamily::BlipItm: return std::make_unique<BlipItmFamily>(cfg);
    case ModelFamily::Blip2: break;
  }
  throw Error(ErrorCode::BadConfig, std::string("model family '") + family_name(cfg.family) +
                                        "' is not part of this build");
}

}  // namespace core
