// libFuzzer target: the config.json parsers (our own schema and HuggingFace's
// BlipConfig) and ModelConfig::validate. The input is parsed as JSON and fed
// as is, and also with "model_type" forced to each schema so that both
// parsers see every input. Only core::Error and nlohmann's errors from json::parse are
// expected; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io/config.h"

namespace {

void run(const nlohmann::json& j) {
  try {
    const core::ModelConfig c = core::parse_config(j, "fuzz");
    c.validate();
    if (c.family == core::ModelFamily::AutoGLM) {
      // A config that validates must survive a round trip through our writer
      // (training saves the config it was given): failing here is a finding.
      try {
        const nlohmann::json saved = nlohmann::json::parse(core::config_to_json(c).dump(2));
        const core::ModelConfig again = core::parse_config(saved, "fuzz");
        again.validate();
      } catch (const std::exception&) {
        __builtin_trap();
      }
    }
  } catch (const core::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {  // parse_error, out_of_range (number overflow), ...
    return 0;
  }
  run(j);
  if (j.is_object()) {
    for (const char* type : {"open-autoglm", "blip"}) {
      j["model_type"] = type;
      run(j);
    }
  }
  return 0;
}
