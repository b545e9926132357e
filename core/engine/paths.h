#pragma once
#include <filesystem>

namespace core {

// The folder of the running executable.
std::filesystem::path executable_dir();

// The embedded default model: $AUTOGLM_MODEL if set, else the first folder
// with a config.json among <exe>/../share/open-autoglm/models/default
// (installed), <exe>/models/default (Windows install) and the source tree's
// resources/models/default (build tree). Empty when none is found.
std::filesystem::path default_model_dir();

}  // namespace core
