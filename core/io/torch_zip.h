#pragma once
// PyTorch checkpoints (`torch.save` since 1.6: a zip of `<folder>/data.pkl`,
// `<folder>/data/<key>`, `<folder>/byteorder`) read without running anything:
// the pickle goes through a machine of our own that knows only the opcodes and
// globals that `torch.load(weights_only=True)` allows, and builds tensor
// descriptions over the zip's stored entries. Nothing in the file is ever
// called or imported. No libtorch here (fuzzed with the other parsers).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/io/safetensors.h"

namespace core {

// One entry of a zip's central directory, checked against the file's size.
struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // of the stored bytes, from the start of the file
  uint64_t size = 0;
};

// Parses the central directory of a zip held in `data` (ZIP64 included).
// Refuses compressed or encrypted entries and entries past the end of the file.
std::vector<ZipEntry> read_zip_directory(const uint8_t* data, size_t size, const std::string& label);

// A tensor as a view over a storage: offset and strides in elements.
struct PickledTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape, stride;
  int64_t offset = 0;
  const uint8_t* storage = nullptr;  // inside the caller's buffer
  uint64_t storage_bytes = 0;
  std::string storage_key;  // tensors on one storage share it
};

// Reads a torch zip checkpoint whose bytes the caller keeps alive. The top-level
// object must be a dict (or OrderedDict) of name -> tensor; nested dicts (a
// checkpoint's "state_dict"/"model" entry) are flattened with dots. Throws
// core::Error (PickleRefused for anything outside the allow-list, BadWeights for
// a malformed container), naming the file, the opcode or global and its offset.
std::vector<PickledTensor> read_torch_zip(const uint8_t* data, size_t size, const std::string& label);

}  // namespace core
