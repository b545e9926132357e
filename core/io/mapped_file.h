#pragma once
// Read-only memory map of a whole file (RAII, non-copyable).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace core {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws core::Error
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace core
