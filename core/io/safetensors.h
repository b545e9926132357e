#pragma once
// safetensors reading and writing, without libtorch (so it can be fuzzed and
// used by tools that do not link torch). Format: 8-byte little-endian header
// length N, N bytes of JSON, then the packed tensor data.
// The torch bridge is core/io/safetensors_torch.h.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace core {

class MappedFile;

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

const char* dtype_name(DType t);  // "F32", ...
size_t dtype_size(DType t);
bool dtype_from_name(const std::string& s, DType* out);

struct TensorInfo {
  DType dtype;
  std::vector<int64_t> shape;
  size_t begin = 0, end = 0;  // byte offsets relative to the data section
  int64_t numel() const;
};

class SafeTensors {
 public:
  static constexpr size_t kMaxHeaderBytes = 100u << 20;

  // Memory-maps and validates the file; throws core::Error naming the file.
  static SafeTensors open(const std::filesystem::path& path);
  // Validates a buffer the caller keeps alive (used by the fuzzer and tests).
  static SafeTensors parse(const uint8_t* data, size_t size, const std::string& label);

  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;  // throws if absent
  const uint8_t* data(const std::string& name) const;     // start of the bytes
  std::vector<std::string> names() const;                 // in offset order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& label() const { return label_; }
  size_t size() const { return index_.size(); }
  // Keeps the mapping alive for views handed out elsewhere.
  std::shared_ptr<const MappedFile> mapping() const { return map_; }

 private:
  std::shared_ptr<const MappedFile> map_;
  const uint8_t* data_section_ = nullptr;
  std::string label_;
  std::map<std::string, TensorInfo> index_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;  // numel * dtype_size bytes, C-contiguous, little-endian
};

// Writes atomically (temporary file, then rename). Tensors are stored sorted by
// name; the header is padded with spaces to a multiple of 8.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace core
