#include "core/io/torch_zip.h"

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/io/bytes.h"

namespace core {

namespace {

[[noreturn]] void bad_container(const std::string& label, const std::string& what) {
  throw Error(ErrorCode::BadWeights, label + ": " + what);
}

std::string method_name(uint16_t m) {
  switch (m) {
    case 8:
      return "method 8, deflate";
    case 9:
      return "method 9, deflate64";
    case 12:
      return "method 12, bzip2";
    case 14:
      return "method 14, lzma";
    case 93:
      return "method 93, zstd";
    default:
      return "method " + std::to_string(m);
  }
}

// The oldest torch.save wrote a tar archive; 1.0-1.5 a bare pickle stream.
void refuse_legacy(const uint8_t* data, size_t size, const std::string& label) {
  if (size >= 262 && std::memcmp(data + 257, "ustar", 5) == 0)
    throw Error(ErrorCode::PickleRefused, label +
                                              ": a legacy tar checkpoint (torch.save before PyTorch 1.0) is not "
                                              "supported; re-save it with a current torch.save or convert it to "
                                              "safetensors");
  if (size >= 2 && data[0] == 0x80)
    throw Error(ErrorCode::PickleRefused, label +
                                              ": legacy (pre-1.6, non-zip) PyTorch format is not supported; re-save "
                                              "it with a current torch.save or convert it to safetensors");
}

}  // namespace

std::vector<ZipEntry> read_zip_directory(const uint8_t* data, size_t size, const std::string& label) {
  if (size < 4 || le32(data) != 0x04034b50) {
    refuse_legacy(data, size, label);
    bad_container(label, "not a zip file, so not a PyTorch checkpoint of torch.save since 1.6");
  }
  constexpr size_t kEocd = 22;
  if (size < kEocd) bad_container(label, "truncated zip: no end of central directory record");
  // The end record sits at the end, after a comment of at most 65535 bytes.
  size_t eocd = std::string::npos;
  const size_t lowest = size - kEocd > 65535 ? size - kEocd - 65535 : 0;
  for (size_t p = size - kEocd + 1; p-- > lowest;) {
    if (le32(data + p) == 0x06054b50 && p + kEocd + le16(data + p + 20) <= size) {
      eocd = p;
      break;
    }
  }
  if (eocd == std::string::npos) bad_container(label, "truncated or corrupt zip: no end of central directory record");
  uint64_t count = le16(data + eocd + 10);
  uint64_t cd_size = le32(data + eocd + 12);
  uint64_t cd_offset = le32(data + eocd + 16);
  if (eocd >= 20 && le32(data + eocd - 20) == 0x07064b50) {
    const uint64_t z = le64(data + eocd - 20 + 8);
    if (z > size || size - z < 56 || le32(data + z) != 0x06064b50)
      bad_container(label, "corrupt zip: the ZIP64 end of central directory record is not where its locator says");
    count = le64(data + z + 32);
    cd_size = le64(data + z + 40);
    cd_offset = le64(data + z + 48);
  }
  if (cd_offset > size || cd_size > size - cd_offset)
    bad_container(label, "truncated or corrupt zip: the central directory lies past the end of the file");
  if (count > cd_size / 46) bad_container(label, "corrupt zip: more entries declared than the central directory holds");

  std::vector<ZipEntry> out;
  out.reserve(static_cast<size_t>(count));
  const uint8_t* p = data + cd_offset;
  const uint8_t* end = p + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (end - p < 46 || le32(p) != 0x02014b50) bad_container(label, "corrupt zip: bad central directory entry");
    const uint16_t flags = le16(p + 8), method = le16(p + 10);
    uint64_t csize = le32(p + 20), usize = le32(p + 24), local = le32(p + 42);
    const size_t nlen = le16(p + 28), elen = le16(p + 30), clen = le16(p + 32);
    if (static_cast<size_t>(end - p) < 46 + nlen + elen + clen)
      bad_container(label, "corrupt zip: entry name past the directory");
    ZipEntry e;
    e.name.assign(reinterpret_cast<const char*>(p + 46), nlen);
    // ZIP64 sizes and offsets replace the 32-bit fields that hold 0xFFFFFFFF, in this order.
    for (const uint8_t* x = p + 46 + nlen; x + 4 <= p + 46 + nlen + elen;) {
      const uint16_t id = le16(x), len = le16(x + 2);
      const uint8_t* v = x + 4;
      if (v + len > p + 46 + nlen + elen) break;
      if (id == 0x0001) {
        const uint8_t* ve = v + len;
        for (uint64_t* field : {&usize, &csize, &local}) {
          if (*field != 0xFFFFFFFFu) continue;
          if (ve - v < 8) bad_container(label, "corrupt zip: short ZIP64 field of " + e.name);
          *field = le64(v);
          v += 8;
        }
      }
      x += 4 + len;
    }
    if (flags & 1) bad_container(label, "encrypted zip entry " + e.name + ": cannot be read");
    if (method != 0)
      bad_container(label, "compressed zip entry " + e.name + " (" + method_name(method) +
                               "); only stored (uncompressed) entries are read, as torch.save writes them");
    if (csize != usize) bad_container(label, "corrupt zip: stored entry " + e.name + " has two different sizes");
    if (local > size || size - local < 30 || le32(data + local) != 0x04034b50)
      bad_container(label, "corrupt zip: the local header of " + e.name + " is missing");
    const uint64_t start = local + 30 + le16(data + local + 26) + le16(data + local + 28);
    if (start > size || usize > size - start)
      bad_container(label, "zip entry " + e.name + " extends past the end of the file (declares " +
                               std::to_string(usize) + " bytes; the file has " + std::to_string(size) + ")");
    e.data_offset = start;
    e.size = usize;
    out.push_back(std::move(e));
    p += 46 + nlen + elen + clen;
  }
  return out;
}

}  // namespace core
