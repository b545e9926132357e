#pragma once
// Everything that differs between Debian's libtorch 1.13 and official
// libtorch 2.x builds stays in this header.
#include <torch/torch.h>
#include <torch/version.h>

#include <string>
#include <type_traits>

namespace core::compat {

inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

inline bool cuda_available() { return torch::cuda::is_available(); }

// Inference guard: InferenceMode exists in both; kept here in case it moves.
using InferenceGuard = c10::InferenceMode;

// Optimizer state is keyed by the parameter's TensorImpl: as a string in 1.x, as the pointer in 2.x.
template <typename Key>
Key state_key_of(c10::TensorImpl* impl) {
  if constexpr (std::is_same_v<Key, std::string>)
    return c10::guts::to_string(impl);
  else
    return static_cast<Key>(impl);
}
inline auto optimizer_state_key(const torch::Tensor& p) {
  using Key = typename std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
  return state_key_of<Key>(p.unsafeGetTensorImpl());
}

// A CUDA allocation failure. libtorch 2.x throws c10::OutOfMemoryError
// (1.13 has the class too, for the caching allocator); older code paths and
// the cuBLAS/cuDNN workspaces only say so in a plain c10::Error's message.
inline bool is_out_of_memory(const c10::Error& e) {
#if TORCH_VERSION_MAJOR >= 2 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR >= 13)
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
#endif
  const std::string msg = e.what_without_backtrace();
  for (const char* needle : {"CUDA out of memory", "CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED",
                             "cudaErrorMemoryAllocation"})
    if (msg.find(needle) != std::string::npos) return true;
  return false;
}

inline std::string version_string() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace core::compat
