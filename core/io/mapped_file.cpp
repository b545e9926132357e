#include "core/io/mapped_file.h"

#include "core/error.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cstring>

namespace core {

struct MappedFile::Impl {
#ifdef _WIN32
  HANDLE file = INVALID_HANDLE_VALUE;
  HANDLE mapping = nullptr;
#else
  int fd = -1;
#endif
  void* addr = nullptr;
};

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path), d_(std::make_unique<Impl>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorCode::Io, path.u8string() + ": not a regular file or does not exist");
#ifdef _WIN32
  d_->file = CreateFileW(path.wstring().c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (d_->file == INVALID_HANDLE_VALUE) throw Error(ErrorCode::Io, path.u8string() + ": cannot open");
  LARGE_INTEGER sz;
  GetFileSizeEx(d_->file, &sz);
  size_ = static_cast<size_t>(sz.QuadPart);
  if (size_ > 0) {
    d_->mapping = CreateFileMappingW(d_->file, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (!d_->mapping) throw Error(ErrorCode::Io, path.u8string() + ": cannot map");
    d_->addr = MapViewOfFile(d_->mapping, FILE_MAP_READ, 0, 0, 0);
    if (!d_->addr) throw Error(ErrorCode::Io, path.u8string() + ": cannot map");
  }
#else
  d_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (d_->fd < 0) throw Error(ErrorCode::Io, path.u8string() + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (fstat(d_->fd, &st) != 0) {
    ::close(d_->fd);
    throw Error(ErrorCode::Io, path.u8string() + ": cannot stat");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    d_->addr = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, d_->fd, 0);
    if (d_->addr == MAP_FAILED) {
      d_->addr = nullptr;
      ::close(d_->fd);
      throw Error(ErrorCode::Io, path.u8string() + ": cannot map (" + std::strerror(errno) + ")");
    }
  }
#endif
  data_ = static_cast<const uint8_t*>(d_->addr);
}

MappedFile::~MappedFile() {
#ifdef _WIN32
  if (d_->addr) UnmapViewOfFile(d_->addr);
  if (d_->mapping) CloseHandle(d_->mapping);
  if (d_->file != INVALID_HANDLE_VALUE) CloseHandle(d_->file);
#else
  if (d_->addr) munmap(d_->addr, size_);
  if (d_->fd >= 0) ::close(d_->fd);
#endif
}

}  // namespace core
