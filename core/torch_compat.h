#pragma once
// Everything that differs between Debian's libtorch 1.13 and official
// libtorch 2.x builds stays in this header.
#include <torch/torch.h>
#include <torch/version.h>

namespace core::compat {

inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

inline bool cuda_available() { return torch::cuda::is_available(); }

// Inference guard: InferenceMode exists in both; kept here in case it moves.
using InferenceGuard = c10::InferenceMode;

inline std::string version_string() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace core::compat
