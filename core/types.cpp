#include "core/types.h"

namespace core {

const char* family_name(ModelFamily f) {
  switch (f) {
    case ModelFamily::AutoGLM:
      return "open-autoglm";
    case ModelFamily::Blip:
      return "blip";
    case ModelFamily::BlipItm:
      return "blip-itm";
    case ModelFamily::Blip2:
      return "blip2";
  }
  return "?";
}

const char* task_name(ModelTask t) {
  switch (t) {
    case ModelTask::Vqa:
      return "vqa";
    case ModelTask::Caption:
      return "caption";
    case ModelTask::Match:
      return "match";
  }
  return "?";
}

}  // namespace core
