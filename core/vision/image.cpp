#include "core/vision/image.h"

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "core/vision/gif.h"
#include "core/vision/internal.h"

namespace core {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(ErrorCode code, const std::string& msg) { throw Error(code, msg); }

// ---------------------------------------------------------------------------
// Header parsing (no pixel allocation)

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }
bool starts_with(const uint8_t* d, size_t n, const char* magic, size_t len, size_t at = 0) {
  return n >= at + len && std::memcmp(d + at, magic, len) == 0;
}

enum class Format { Unknown, Png, Jpeg, Gif, Bmp, WebP, Tiff, Pnm, SunRaster };

const char* format_name(Format f) {
  switch (f) {
    case Format::Png:
      return "PNG";
    case Format::Jpeg:
      return "JPEG";
    case Format::Gif:
      return "GIF";
    case Format::Bmp:
      return "BMP";
    case Format::WebP:
      return "WebP";
    case Format::Tiff:
      return "TIFF";
    case Format::Pnm:
      return "PNM";
    case Format::SunRaster:
      return "Sun raster";
    case Format::Unknown:
      break;
  }
  return "unknown";
}

Format sniff(const uint8_t* d, size_t n) {
  if (starts_with(d, n, "\x89PNG\r\n\x1a\n", 8)) return Format::Png;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return Format::Jpeg;
  if (starts_with(d, n, "GIF87a", 6) || starts_with(d, n, "GIF89a", 6)) return Format::Gif;
  if (starts_with(d, n, "BM", 2)) return Format::Bmp;
  if (starts_with(d, n, "RIFF", 4) && starts_with(d, n, "WEBP", 4, 8)) return Format::WebP;
  if (starts_with(d, n, "II", 2) || starts_with(d, n, "MM", 2)) {
    if (n >= 4) {
      const uint16_t magic = d[0] == 'I' ? le16(d + 2) : be16(d + 2);
      if (magic == 42 || magic == 43) return Format::Tiff;
    }
  }
  if (n >= 2 && d[0] == 'P' && ((d[1] >= '1' && d[1] <= '7') || d[1] == 'F' || d[1] == 'f')) return Format::Pnm;
  if (n >= 4 && be32(d) == 0x59A66A95u) return Format::SunRaster;
  return Format::Unknown;
}

struct JpegInfo {
  int width = 0, height = 0;
  const uint8_t* exif = nullptr;  // TIFF structure of the first Exif APP1
  size_t exif_size = 0;
  size_t scan = 0;  // offset of the first SOS marker, 0 if none
};

bool is_sof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

JpegInfo scan_jpeg(const uint8_t* d, size_t n) {
  JpegInfo info;
  size_t p = 2;
  while (p < n) {
    if (d[p] != 0xFF) {  // stray bytes between segments, skipped as libjpeg does
      ++p;
      continue;
    }
    while (p < n && d[p] == 0xFF) ++p;  // fill bytes
    if (p >= n) break;
    const uint8_t m = d[p++];
    if (m == 0x00) continue;                              // FF 00 is not a marker: libjpeg discards it as stray bytes
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue;  // no payload
    if (m == 0xD9) break;
    if (m == 0xDA) {
      info.scan = p - 2;
      break;
    }
    if (p + 2 > n) break;
    const size_t len = be16(d + p);
    if (len < 2 || p + len > n) break;
    const uint8_t* seg = d + p + 2;
    const size_t seg_len = len - 2;
    if (is_sof(m) && info.width == 0 && seg_len >= 5) {
      info.height = be16(seg + 1);
      info.width = be16(seg + 3);
    } else if (m == 0xE1 && !info.exif && starts_with(seg, seg_len, "Exif\0\0", 6)) {
      info.exif = seg + 6;
      info.exif_size = seg_len - 6;
    }
    p += len;
  }
  return info;
}

// A minimal reader of the first IFD of a TIFF structure (TIFF files and EXIF
// blocks), classic and BigTIFF.
bool tiff_ifd0_value(const uint8_t* d, size_t n, uint16_t wanted, uint64_t* out) {
  if (n < 8) return false;
  const bool le = d[0] == 'I' && d[1] == 'I';
  if (!le && !(d[0] == 'M' && d[1] == 'M')) return false;
  auto u16 = [&](size_t o) { return le ? le16(d + o) : be16(d + o); };
  auto u32 = [&](size_t o) { return le ? le32(d + o) : be32(d + o); };
  auto u64 = [&](size_t o) {
    const uint64_t a = u32(o), b = u32(o + 4);
    return le ? (b << 32 | a) : (a << 32 | b);
  };
  const uint16_t magic = u16(2);
  const bool big = magic == 43;
  if (!big && magic != 42) return false;
  if (big && n < 16) return false;
  const uint64_t ifd = big ? u64(8) : u32(4);
  const size_t count_size = big ? 8 : 2, entry_size = big ? 20 : 12, value_at = big ? 12 : 8;
  if (ifd > n || n - ifd < count_size) return false;
  const uint64_t count = big ? u64(ifd) : u16(ifd);
  const uint64_t max_entries = (n - ifd - count_size) / entry_size;
  for (uint64_t i = 0; i < std::min(count, max_entries); ++i) {
    const size_t e = size_t(ifd + count_size + i * entry_size);
    if (u16(e) != wanted) continue;
    switch (u16(e + 2)) {
      case 3:
        *out = u16(e + value_at);
        return true;  // SHORT
      case 4:
        *out = u32(e + value_at);
        return true;  // LONG
      case 16:        // LONG8: only BigTIFF's 8-byte value fields hold one
        if (!big) return false;
        *out = u64(e + value_at);
        return true;
      default:
        return false;
    }
  }
  return false;
}

// Width and height from the ASCII header of PBM/PGM/PPM/PFM (and PAM's
// WIDTH/HEIGHT lines).
bool probe_pnm(const uint8_t* d, size_t n, int* w, int* h) {
  n = std::min<size_t>(n, 4096);
  size_t p = 2;
  auto token = [&](std::string* t) {
    t->clear();
    while (p < n) {
      if (d[p] == '#') {
        while (p < n && d[p] != '\n' && d[p] != '\r') ++p;
      } else if (std::isspace(d[p])) {
        ++p;
      } else {
        break;
      }
    }
    while (p < n && !std::isspace(d[p]) && d[p] != '#') t->push_back(char(d[p++]));
    return !t->empty();
  };
  auto number = [](const std::string& s, int* v) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    *v = std::stoi(s);
    return true;
  };
  std::string t;
  if (d[1] == 'F' || d[1] == 'f') {
    // OpenCV's PFM reader takes "P[Ff]\n", then each number up to the next
    // single whitespace byte (no comments, no runs of blanks): read it the same
    // way, so that the size judged here is the size it decodes.
    if (n < 3 || d[2] != '\n') return false;
    p = 3;
    for (int* v : {w, h}) {
      t.clear();
      while (p < n && !std::isspace(d[p])) t.push_back(char(d[p++]));
      if (p++ >= n || !number(t, v)) return false;
    }
    return true;
  }
  if (d[1] != '7') {
    // OpenCV's PxM reader (ReadNumber): skip blanks and '#' comments, read digits,
    // and consume the one byte after them whatever it is, so "1#6" is 1, then 6.
    auto read_number = [&](int* v) {
      auto next = [&](int* c) { return p < n ? (*c = d[p++], true) : false; };
      int c = 0;
      if (!next(&c)) return false;
      while (!std::isdigit(c)) {
        if (c == '#') {
          do {
            if (!next(&c)) return false;
          } while (c != '\n' && c != '\r');
          if (!next(&c)) return false;
        } else if (std::isspace(c)) {
          while (std::isspace(c))
            if (!next(&c)) return false;
        } else {
          return false;
        }
      }
      int64_t value = 0;
      do {
        value = value * 10 + (c - '0');
        if (value > INT_MAX) return false;
      } while (next(&c) && std::isdigit(c));
      *v = static_cast<int>(value);
      return true;
    };
    return read_number(w) && read_number(h);
  }
  *w = *h = 0;
  while (token(&t) && t != "ENDHDR") {
    std::string v;
    if (t == "WIDTH" && (!token(&v) || !number(v, w))) return false;
    if (t == "HEIGHT" && (!token(&v) || !number(v, h))) return false;
  }
  return *w > 0 && *h > 0;
}

bool probe_webp(const uint8_t* d, size_t n, int* w, int* h) {
  if (n < 30) return false;
  const uint8_t* c = d + 12;
  if (std::memcmp(c, "VP8X", 4) == 0) {
    *w = int(1 + (c[12] | c[13] << 8 | c[14] << 16));
    *h = int(1 + (c[15] | c[16] << 8 | c[17] << 16));
    return true;
  }
  if (std::memcmp(c, "VP8 ", 4) == 0) {
    if (c[11] != 0x9D || c[12] != 0x01 || c[13] != 0x2A) return false;
    *w = le16(c + 14) & 0x3FFF;
    *h = le16(c + 16) & 0x3FFF;
    return true;
  }
  if (std::memcmp(c, "VP8L", 4) == 0) {
    if (c[8] != 0x2F) return false;
    const uint32_t bits = le32(c + 9);
    *w = int((bits & 0x3FFF) + 1);
    *h = int(((bits >> 14) & 0x3FFF) + 1);
    return true;
  }
  return false;
}

bool probe(Format f, const uint8_t* d, size_t n, int* w, int* h) {
  int64_t W = 0, H = 0;
  switch (f) {
    case Format::Png:
      if (n < 24 || std::memcmp(d + 12, "IHDR", 4) != 0) return false;
      W = be32(d + 16);
      H = be32(d + 20);
      break;
    case Format::Jpeg: {
      const JpegInfo j = scan_jpeg(d, n);
      W = j.width;
      H = j.height;
      break;
    }
    case Format::Gif:
      if (n < 10) return false;
      W = le16(d + 6);
      H = le16(d + 8);
      break;
    case Format::Bmp: {
      if (n < 26) return false;
      if (le32(d + 14) == 12) {  // OS/2 BITMAPCOREHEADER
        W = le16(d + 18);
        H = le16(d + 20);
      } else {
        W = int32_t(le32(d + 18));
        H = std::abs(int64_t(int32_t(le32(d + 22))));  // negative: top-down rows
      }
      break;
    }
    case Format::WebP: {
      int a = 0, b = 0;
      if (!probe_webp(d, n, &a, &b)) return false;
      W = a;
      H = b;
      break;
    }
    case Format::Tiff: {
      uint64_t a = 0, b = 0;
      if (!tiff_ifd0_value(d, n, 256, &a) || !tiff_ifd0_value(d, n, 257, &b)) return false;
      if (a > INT_MAX || b > INT_MAX) return false;
      W = int64_t(a);
      H = int64_t(b);
      break;
    }
    case Format::Pnm: {
      int a = 0, b = 0;
      if (!probe_pnm(d, n, &a, &b)) return false;
      W = a;
      H = b;
      break;
    }
    case Format::SunRaster:
      if (n < 12) return false;
      W = be32(d + 4);
      H = be32(d + 8);
      break;
    case Format::Unknown:
      return false;
  }
  if (W <= 0 || H <= 0 || W > INT_MAX || H > INT_MAX) return false;
  *w = int(W);
  *h = int(H);
  return true;
}

// ---------------------------------------------------------------------------
// EXIF orientation (OpenCV applies it only without IMREAD_UNCHANGED)

const uint8_t* find_exif(Format f, const uint8_t* d, size_t n, size_t* size) {
  if (f == Format::Jpeg) {
    const JpegInfo j = scan_jpeg(d, n);
    *size = j.exif_size;
    return j.exif;
  }
  if (f == Format::Png) {
    for (size_t p = 8; p + 12 <= n;) {
      const size_t len = be32(d + p);
      const uint8_t* type = d + p + 4;
      if (len > n - p - 12) break;
      if (std::memcmp(type, "eXIf", 4) == 0) {
        *size = len;
        return d + p + 8;
      }
      if (std::memcmp(type, "IDAT", 4) == 0 || std::memcmp(type, "IEND", 4) == 0) break;
      p += 12 + len;
    }
  }
  if (f == Format::WebP) {
    for (size_t p = 12; p + 8 <= n;) {
      const size_t len = le32(d + p + 4);
      if (len > n - p - 8) break;
      if (std::memcmp(d + p, "EXIF", 4) == 0) {
        const uint8_t* e = d + p + 8;
        if (starts_with(e, len, "Exif\0\0", 6)) {
          *size = len - 6;
          return e + 6;
        }
        *size = len;
        return e;
      }
      p += 8 + len + (len & 1);
    }
  }
  return nullptr;
}

int exif_orientation(Format f, const uint8_t* d, size_t n) {
  size_t size = 0;
  const uint8_t* exif = find_exif(f, d, n, &size);
  uint64_t v = 1;
  if (!exif || !tiff_ifd0_value(exif, size, 0x0112, &v) || v < 1 || v > 8) return 1;
  return int(v);
}

void apply_orientation(cv::Mat& m, int orientation) {
  cv::Mat t;
  switch (orientation) {
    case 2:
      cv::flip(m, t, 1);
      break;
    case 3:
      cv::rotate(m, t, cv::ROTATE_180);
      break;
    case 4:
      cv::flip(m, t, 0);
      break;
    case 5:
      cv::transpose(m, t);
      break;
    case 6:
      cv::rotate(m, t, cv::ROTATE_90_CLOCKWISE);
      break;
    case 7:
      cv::transpose(m, t);
      cv::flip(t, t, -1);
      break;
    case 8:
      cv::rotate(m, t, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    default:
      return;
  }
  m = t;
}

// ---------------------------------------------------------------------------
// Pixel conversion to packed 8-bit RGB

uint8_t over_white(int v, int a) { return uint8_t((v * a + 255 * (255 - a) + 127) / 255); }

cv::Mat to_rgb8(const cv::Mat& m, const std::string& label) {
  cv::Mat m8;
  switch (m.depth()) {
    case CV_8U:
      m8 = m;
      break;
    case CV_16U:
      m.convertTo(m8, CV_8U, 1.0 / 257.0);
      break;
    case CV_32F:
    case CV_64F:
      m.convertTo(m8, CV_8U, 255.0);
      break;
    default:
      fail(ErrorCode::BadImage, label + ": unsupported sample format");
  }
  cv::Mat out(m8.rows, m8.cols, CV_8UC3);
  switch (m8.channels()) {
    case 1:
      cv::cvtColor(m8, out, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      cv::cvtColor(m8, out, cv::COLOR_BGR2RGB);
      break;
    case 2:
    case 4: {
      const int cn = m8.channels();
      for (int y = 0; y < m8.rows; ++y) {
        const uint8_t* s = m8.ptr<uint8_t>(y);
        uint8_t* o = out.ptr<uint8_t>(y);
        for (int x = 0; x < m8.cols; ++x, s += cn, o += 3) {
          const int a = s[cn - 1];
          if (cn == 2) {
            o[0] = o[1] = o[2] = over_white(s[0], a);
          } else {
            o[0] = over_white(s[2], a);
            o[1] = over_white(s[1], a);
            o[2] = over_white(s[0], a);
          }
        }
      }
      break;
    }
    default:
      fail(ErrorCode::BadImage, label + ": unsupported number of channels");
  }
  return out;
}

void check_pixels(const std::string& label, int64_t w, int64_t h, const DecodeLimits& lim) {
  if (w * h > lim.max_pixels)
    fail(ErrorCode::ImageTooLarge, label + ": image is " + std::to_string(w) + "x" + std::to_string(h) + " pixels (" +
                                       std::to_string(w * h) + "), above the limit of " +
                                       std::to_string(lim.max_pixels) + " pixels");
}

}  // namespace

namespace detail {
void check_image(const Image& img, const char* what) {
  if (img.empty() || img.rgb.size() != size_t(img.width) * img.height * 3)
    throw Error(ErrorCode::BadArgument, std::string(what) + ": empty image or pixel buffer of the wrong size");
}
}  // namespace detail

Image image_from_mat(const cv::Mat& rgb) {
  Image img;
  img.width = rgb.cols;
  img.height = rgb.rows;
  img.rgb.resize(size_t(rgb.cols) * rgb.rows * 3);
  rgb.copyTo(cv::Mat(rgb.rows, rgb.cols, CV_8UC3, img.rgb.data()));
  return img;
}

// ---------------------------------------------------------------------------

bool probe_image_size(const uint8_t* data, size_t size, int* width, int* height) {
  if (!data || size == 0) return false;
  int w = 0, h = 0;
  if (!probe(sniff(data, size), data, size, &w, &h)) return false;
  if (width) *width = w;
  if (height) *height = h;
  return true;
}

Image decode_image_memory(const uint8_t* data, size_t size, const std::string& label, const DecodeLimits& lim) {
  if (size == 0) fail(ErrorCode::BadImage, label + ": empty file (0 bytes)");
  if (!data) fail(ErrorCode::BadArgument, label + ": no data");
  if (size > lim.max_file_bytes || size > size_t(INT_MAX))
    fail(ErrorCode::ImageTooLarge, label + ": " + std::to_string(size) + " bytes, above the limit of " +
                                       std::to_string(std::min<uint64_t>(lim.max_file_bytes, INT_MAX)) + " bytes");
  const std::string corrupt = label + ": not an image or corrupt";
  const Format fmt = sniff(data, size);
  // Only formats whose size is known from the header reach the decoder: OpenCV
  // also decodes others (Radiance HDR, JPEG 2000, ...) and would allocate the
  // whole image before the pixel limit could be checked (a decompression bomb).
  if (fmt == Format::Unknown)
    fail(ErrorCode::BadImage, corrupt +
                                  " (unrecognised format; PNG, JPEG, GIF, BMP, WebP, TIFF, PNM and "
                                  "Sun raster images are read)");
  int w = 0, h = 0;
  if (!probe(fmt, data, size, &w, &h))
    fail(ErrorCode::BadImage, corrupt + " (unreadable " + format_name(fmt) + " header)");
  check_pixels(label, w, h, lim);
  // OpenCV refuses sides above 2^20 (and more than 2^30 pixels) by throwing from
  // cv::imdecode, past the point where decoders without memory input (PFM, Sun
  // raster) have spilled the file to a temporary file that is then never removed.
  constexpr int kMaxSide = 1 << 20;
  if (w > kMaxSide || h > kMaxSide || int64_t(w) * h > (int64_t(1) << 30))
    fail(ErrorCode::ImageTooLarge, label + ": image is " + std::to_string(w) + "x" + std::to_string(h) +
                                       " pixels, above what the decoder reads (sides up to " +
                                       std::to_string(kMaxSide) + ")");
  if (fmt == Format::Gif) return decode_gif(data, size, label);
  if (fmt == Format::Jpeg) {
    // libjpeg pads a truncated scan with grey and reports success; entropy-coded
    // data cannot contain FF D9, so a missing EOI after the first scan means truncation.
    const JpegInfo j = scan_jpeg(data, size);
    bool eoi = false;
    for (size_t p = j.scan; j.scan && p + 1 < size && !eoi; ++p) eoi = data[p] == 0xFF && data[p + 1] == 0xD9;
    if (!eoi) fail(ErrorCode::BadImage, corrupt + " (truncated JPEG)");
  }

  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::Mat(1, int(size), CV_8U, const_cast<uint8_t*>(data)), cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    raw.release();
  }
  if (raw.empty()) fail(ErrorCode::BadImage, corrupt);
  check_pixels(label, raw.cols, raw.rows, lim);  // in case the decoder disagrees with the header

  cv::Mat rgb = to_rgb8(raw, label);
  raw.release();
  apply_orientation(rgb, exif_orientation(fmt, data, size));
  return image_from_mat(rgb);
}

Image decode_image_file(const std::filesystem::path& path, const DecodeLimits& lim) {
  const std::string label = path.u8string();
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) fail(ErrorCode::Io, label + ": no such file");
  if (ec) fail(ErrorCode::Io, label + ": cannot access (" + ec.message() + ")");
  if (fs::is_directory(st)) fail(ErrorCode::Io, label + ": is a directory, not an image file");
  if (!fs::is_regular_file(st)) fail(ErrorCode::Io, label + ": not a regular file");
  const uint64_t n = fs::file_size(path, ec);
  if (ec) fail(ErrorCode::Io, label + ": cannot read (" + ec.message() + ")");
  if (n == 0) fail(ErrorCode::BadImage, label + ": empty file (0 bytes)");
  if (n > lim.max_file_bytes)
    fail(ErrorCode::ImageTooLarge, label + ": file is " + std::to_string(n) + " bytes, above the limit of " +
                                       std::to_string(lim.max_file_bytes) + " bytes");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(ErrorCode::Io, label + ": cannot open for reading");
  std::vector<uint8_t> bytes(n);
  f.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(n));
  if (size_t(f.gcount()) != n) fail(ErrorCode::Io, label + ": read failed");
  return decode_image_memory(bytes.data(), bytes.size(), label, lim);
}

}  // namespace core
