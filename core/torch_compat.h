#pragma once
// Everything that differs between Debian's libtorch 1.13 and official
// libtorch 2.x builds stays in this header.
#include <torch/torch.h>
#include <torch/version.h>

#include <string>

namespace core::compat {

inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

inline bool cuda_available() { return torch::cuda::is_available(); }

// Inference guard: InferenceMode exists in both; kept here in case it moves.
using InferenceGuard = c10::InferenceMode;

// A CUDA allocation failure. libtorch 2.x throws c10::OutOfMemoryError
// (1.13 has the class too, for the caching allocator); older code paths and
// the cuBLAS/cuDNN workspaces only say so in a plain c10::Error's message.
inline bool is_out_of_memory(const c10::Error& e) {
#if TORCH_VERSION_MAJOR >= 2 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR >= 13)
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
#endif
  const std::string msg = e.what_without_backtrace();
  for (const char* needle :
       {"CUDA out of memory", "CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED", "cudaErrorMemoryAllocation"})
    if (msg.find(needle) != std::string::npos) return true;
  return false;
}

// Modules built while it lives create their parameters in `t` (so a bfloat16
// model never holds a float32 copy of its weights).
class DefaultDtypeGuard {
 public:
  explicit DefaultDtypeGuard(torch::ScalarType t) : saved_(c10::get_default_dtype()) {
    c10::set_default_dtype(c10::scalarTypeToTypeMeta(t));
  }
  ~DefaultDtypeGuard() { c10::set_default_dtype(saved_); }
  DefaultDtypeGuard(const DefaultDtypeGuard&) = delete;
  DefaultDtypeGuard& operator=(const DefaultDtypeGuard&) = delete;

 private:
  caffe2::TypeMeta saved_;
};

inline std::string version_string() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace core::compat
