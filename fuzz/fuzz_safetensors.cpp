// libFuzzer target: the safetensors header parser (core::SafeTensors::parse).
// Any input must either parse into a consistent index or throw core::Error;
// everything else (crash, other exception, sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const core::SafeTensors st = core::SafeTensors::parse(data, size, "fuzz");
    volatile uint64_t sink = st.size() + st.metadata().size();
    for (const std::string& name : st.names()) {
      const core::TensorInfo& ti = st.info(name);
      const size_t bytes = ti.end - ti.begin;
      // The index promises that these bytes lie inside the buffer and match the shape.
      if (static_cast<uint64_t>(ti.numel()) * core::dtype_size(ti.dtype) != bytes) __builtin_trap();
      const uint8_t* p = st.data(name);
      if (p < data || p + bytes > data + size) __builtin_trap();
      if (bytes) sink = sink + p[0] + p[bytes - 1];
      sink = sink + ti.shape.size() + std::string(core::dtype_name(ti.dtype)).size();
    }
    (void)sink;
  } catch (const core::Error&) {
  }
  return 0;
}
