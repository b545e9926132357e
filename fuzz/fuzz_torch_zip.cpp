// libFuzzer target: the PyTorch zip reader and the weights-only pickle machine
// (core::read_torch_zip). Any input must either give tensors whose every
// element lies inside the buffer, or throw core::Error; everything else
// (crash, hang, other exception, sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/io/torch_zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    volatile uint64_t sink = 0;
    for (const auto& t : core::read_torch_zip(data, size, "fuzz")) {
      const size_t item = core::dtype_size(t.dtype);
      if (t.storage < data || t.storage + t.storage_bytes > data + size) __builtin_trap();
      if (t.shape.size() != t.stride.size()) __builtin_trap();
      uint64_t last = static_cast<uint64_t>(t.offset);
      bool empty = false;
      for (size_t d = 0; d < t.shape.size(); ++d) {
        if (t.shape[d] == 0)
          empty = true;
        else
          last += static_cast<uint64_t>(t.shape[d] - 1) * static_cast<uint64_t>(t.stride[d]);
      }
      if (empty) continue;
      // The view's first and last element, which the reader promised are in the storage.
      if ((last + 1) * item > t.storage_bytes) __builtin_trap();
      sink = sink + t.storage[static_cast<size_t>(t.offset) * item] + t.storage[last * item + item - 1];
    }
    (void)sink;
  } catch (const core::Error&) {
  }
  return 0;
}
