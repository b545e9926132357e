#pragma once
#include <filesystem>
#include <string>

namespace core {

// The folder of the running executable.
std::filesystem::path executable_dir();

// The embedded default model: $AUTOGLM_MODEL if set, else the first folder
// with a config.json among <exe>/../share/open-autoglm/models/default
// (installed), <exe>/models/default (Windows install) and the source tree's
// resources/models/default (build tree). Empty when none is found.
std::filesystem::path default_model_dir();

// What --model takes everywhere (CLI, app, autoglm-train): a folder, or a
// HuggingFace repository id (org/name[@revision]) resolved from the local hub
// cache without any network access. Throws core::Error naming the repository.
std::filesystem::path model_path(const std::string& folder_or_repo);

}  // namespace core
