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

namespace core {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(ErrorCode code, const std::string& msg) { throw Error(code, msg); }

// ---------------------------------------------------------------------------
// Header parsing (no pixel allocation)

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint16_t le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }
uint32_t le32(const uint8_t* p) {
  return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}
bool starts_with(const uint8_t* d, size_t n, const char* magic, size_t len, size_t at = 0) {
  return n >= at + len && std::memcmp(d + at, magic, len) == 0;
}

enum class Format { Unknown, Png, Jpeg, Gif, Bmp, WebP, Tiff, Pnm, SunRaster };

const char* format_name(Format f) {
  switch (f) {
    case Format::Png: return "PNG";
    case Format::Jpeg: return "JPEG";
    case Format::Gif: return "GIF";
    case Format::Bmp: return "BMP";
    case Format::WebP: return "WebP";
    case Format::Tiff: return "TIFF";
    case Format::Pnm: return "PNM";
    case Format::SunRaster: return "Sun raster";
    case Format::Unknown: break;
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
  if (n >= 2 && d[0] == 'P' && ((d[1] >= '1' && d[1] <= '7') || d[1] == 'F' || d[1] == 'f'))
    return Format::Pnm;
  if (n >= 4 && be32(d) == 0x59A66A95u) return Format::SunRaster;
  return Format::Unknown;
}

struct JpegInfo {
  int width = 0, height = 0;
  const uint8_t* exif = nullptr;  // TIFF structure of the first Exif APP1
  size_t exif_size = 0;
  size_t scan = 0;                // offset of the first SOS marker, 0 if none
};

bool is_sof(uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

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
    if (m == 0x00) continue;  // FF 00 is not a marker: libjpeg discards it as stray bytes
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
      case 3: *out = u16(e + value_at); return true;   // SHORT
      case 4: *out = u32(e + value_at); return true;   // LONG
      case 16:                                         // LONG8: only BigTIFF's 8-byte value fields hold one
        if (!big) return false;
        *out = u64(e + value_at);
        return true;
      default: return false;
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
    if (s.empty() || s.size() > 9 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
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
    case 2: cv::flip(m, t, 1); break;
    case 3: cv::rotate(m, t, cv::ROTATE_180); break;
    case 4: cv::flip(m, t, 0); break;
    case 5: cv::transpose(m, t); break;
    case 6: cv::rotate(m, t, cv::ROTATE_90_CLOCKWISE); break;
    case 7:
      cv::transpose(m, t);
      cv::flip(t, t, -1);
      break;
    case 8: cv::rotate(m, t, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: return;
  }
  m = t;
}

// ---------------------------------------------------------------------------
// Pixel conversion to packed 8-bit RGB

uint8_t over_white(int v, int a) { return uint8_t((v * a + 255 * (255 - a) + 127) / 255); }

cv::Mat to_rgb8(const cv::Mat& m, const std::string& label) {
  cv::Mat m8;
  switch (m.depth()) {
    case CV_8U: m8 = m; break;
    case CV_16U: m.convertTo(m8, CV_8U, 1.0 / 257.0); break;
    case CV_32F:
    case CV_64F: m.convertTo(m8, CV_8U, 255.0); break;
    default: fail(ErrorCode::BadImage, label + ": unsupported sample format");
  }
  cv::Mat out(m8.rows, m8.cols, CV_8UC3);
  switch (m8.channels()) {
    case 1: cv::cvtColor(m8, out, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(m8, out, cv::COLOR_BGR2RGB); break;
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
    default: fail(ErrorCode::BadImage, label + ": unsupported number of channels");
  }
  return out;
}

void check_pixels(const std::string& label, int64_t w, int64_t h, const DecodeLimits& lim) {
  if (w * h > lim.max_pixels)
    fail(ErrorCode::ImageTooLarge, label + ": image is " + std::to_string(w) + "x" +
                                       std::to_string(h) + " pixels (" + std::to_string(w * h) +
                                       "), above the limit of " + std::to_string(lim.max_pixels) +
                                       " pixels");
}

void check_image(const Image& img, const char* what) {
  if (img.empty() || img.rgb.size() != size_t(img.width) * img.height * 3)
    fail(ErrorCode::BadArgument, std::string(what) + ": empty image or pixel buffer of the wrong size");
}

// ---------------------------------------------------------------------------
// Pillow's convolution resampler

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

struct Taps {
  int ksize = 0;
  std::vector<int> first, count;  // per output pixel
  std::vector<int32_t> k;         // [out, ksize] fixed-point weights
};

// Pillow 9.4 precompute_coeffs + normalize_coeffs_8bpc, same operations in the same order.
Taps bicubic_taps(int in_size, int out_size) {
  const double scale = double(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Taps t;
  t.ksize = int(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.k.assign(size_t(out_size) * t.ksize, 0);
  std::vector<double> w(t.ksize);
  for (int i = 0; i < out_size; ++i) {
    const double center = 0.0 + (i + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    int32_t* k = &t.k[size_t(i) * t.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      k[x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits))
                   : int32_t(0.5 + v * (1 << kPrecisionBits));
    }
    t.first[i] = xmin;
    t.count[i] = xmax;
  }
  return t;
}

inline uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits) << 8) return 255;
  if (v <= 0) return 0;
  return uint8_t(v >> kPrecisionBits);
}

// Rows [y0, y0 + rows) of src (width in_w), resampled horizontally into dst (width out_w).
void resample_horizontal(const uint8_t* src, int in_w, int y0, int rows, uint8_t* dst, int out_w,
                         const Taps& t) {
#if CV_SIMD128
  // Each 22-bit weight is split as k = hi * 2^11 + lo (both fit int16), so that
  // 16-bit multiply-adds give the exact integer sums. Per-lane sums may wrap;
  // the total fits int32 (as in Pillow), so recombining modulo 2^32 is exact.
  const int kpad = (t.ksize + 7) / 8 * 8;
  std::vector<int16_t> hi(size_t(out_w) * kpad, 0), lo(size_t(out_w) * kpad, 0);
  for (int x = 0; x < out_w; ++x)
    for (int i = 0; i < t.count[x]; ++i) {
      const int32_t k = t.k[size_t(x) * t.ksize + i];
      hi[size_t(x) * kpad + i] = int16_t(k >> 11);
      lo[size_t(x) * kpad + i] = int16_t(k & 0x7FF);
    }
  // Planar copies of one row, padded for the reads past the last tap.
  const size_t stride = size_t(in_w) + kpad;
  std::vector<uint8_t> planes(3 * stride, 0);
  uint8_t* pr = planes.data();
  uint8_t* pg = pr + stride;
  uint8_t* pb = pg + stride;
  for (int y = 0; y < rows; ++y) {
    const uint8_t* s = src + size_t(y0 + y) * in_w * 3;
    int i = 0;
    for (; i + 16 <= in_w; i += 16) {
      cv::v_uint8x16 r, g, b;
      cv::v_load_deinterleave(s + 3 * i, r, g, b);
      cv::v_store(pr + i, r);
      cv::v_store(pg + i, g);
      cv::v_store(pb + i, b);
    }
    for (; i < in_w; ++i) {
      pr[i] = s[3 * i];
      pg[i] = s[3 * i + 1];
      pb[i] = s[3 * i + 2];
    }
    uint8_t* o = dst + size_t(y) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      const int16_t* kh = &hi[size_t(x) * kpad];
      const int16_t* kl = &lo[size_t(x) * kpad];
      const int f = t.first[x];
      cv::v_int32x4 rh = cv::v_setzero_s32(), rl = rh, gh = rh, gl = rh, bh = rh, bl = rh;
      for (int j = 0, n = t.count[x]; j < n; j += 8) {
        const cv::v_int16x8 wh = cv::v_load(kh + j), wl = cv::v_load(kl + j);
        const cv::v_int16x8 vr = cv::v_reinterpret_as_s16(cv::v_load_expand(pr + f + j));
        const cv::v_int16x8 vg = cv::v_reinterpret_as_s16(cv::v_load_expand(pg + f + j));
        const cv::v_int16x8 vb = cv::v_reinterpret_as_s16(cv::v_load_expand(pb + f + j));
        rh = cv::v_dotprod(vr, wh, rh);
        rl = cv::v_dotprod(vr, wl, rl);
        gh = cv::v_dotprod(vg, wh, gh);
        gl = cv::v_dotprod(vg, wl, gl);
        bh = cv::v_dotprod(vb, wh, bh);
        bl = cv::v_dotprod(vb, wl, bl);
      }
      auto sum = [](const cv::v_int32x4& h, const cv::v_int32x4& l) {
        const uint32_t v = (uint32_t(cv::v_reduce_sum(h)) << 11) + uint32_t(cv::v_reduce_sum(l)) +
                           (1u << (kPrecisionBits - 1));
        return int32_t(v);
      };
      o[3 * x] = clip8(sum(rh, rl));
      o[3 * x + 1] = clip8(sum(gh, gl));
      o[3 * x + 2] = clip8(sum(bh, bl));
    }
  }
#else
  for (int y = 0; y < rows; ++y) {
    const uint8_t* s = src + size_t(y0 + y) * in_w * 3;
    uint8_t* o = dst + size_t(y) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      const int32_t* k = &t.k[size_t(x) * t.ksize];
      const uint8_t* p = s + size_t(t.first[x]) * 3;
      int32_t r = 1 << (kPrecisionBits - 1), g = r, b = r;
      for (int i = 0, n = t.count[x]; i < n; ++i, p += 3) {
        r += p[0] * k[i];
        g += p[1] * k[i];
        b += p[2] * k[i];
      }
      o[3 * x] = clip8(r);
      o[3 * x + 1] = clip8(g);
      o[3 * x + 2] = clip8(b);
    }
  }
#endif
}

// src rows are indexed from the first row the taps use (t.first shifted by y0).
void resample_vertical(const uint8_t* src, int w, int y0, uint8_t* dst, int out_h, const Taps& t) {
  const size_t row = size_t(w) * 3;
  std::vector<int32_t> acc(row);
  for (int y = 0; y < out_h; ++y) {
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    const int32_t* k = &t.k[size_t(y) * t.ksize];
    for (int i = 0, n = t.count[y]; i < n; ++i) {
      const uint8_t* s = src + size_t(t.first[y] - y0 + i) * row;
      const int32_t ki = k[i];
      for (size_t j = 0; j < row; ++j) acc[j] += s[j] * ki;
    }
    uint8_t* o = dst + size_t(y) * row;
    for (size_t j = 0; j < row; ++j) o[j] = clip8(acc[j]);
  }
}

// ---------------------------------------------------------------------------
// Heatmaps

cv::Mat heat_u8(const Array& map, int w, int h) {
  if (map.shape.size() != 2 || map.shape[0] <= 0 || map.shape[1] <= 0)
    fail(ErrorCode::BadArgument, "heatmap: expected a non-empty [h, w] map");
  if (map.shape[0] > INT_MAX || map.shape[1] > INT_MAX ||
      map.data.size() != size_t(map.shape[0] * map.shape[1]))
    fail(ErrorCode::BadArgument, "heatmap: " + std::to_string(map.data.size()) +
                                     " values for a map of shape [" +
                                     std::to_string(map.shape[0]) + ", " +
                                     std::to_string(map.shape[1]) + "]");
  if (w <= 0 || h <= 0)
    fail(ErrorCode::BadArgument,
         "heatmap: bad output size " + std::to_string(w) + "x" + std::to_string(h));
  float lo = INFINITY;
  for (float v : map.data)
    if (std::isfinite(v)) lo = std::min(lo, v);
  if (!std::isfinite(lo)) lo = 0.f;
  cv::Mat m(int(map.shape[0]), int(map.shape[1]), CV_32F);
  std::transform(map.data.begin(), map.data.end(), m.ptr<float>(),
                 [lo](float v) { return std::isfinite(v) ? v : lo; });
  cv::Mat up;
  cv::resize(m, up, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  double mn = 0, mx = 0;
  cv::minMaxLoc(up, &mn, &mx);
  // A nearly flat map must look flat: the colour range never stretches over
  // differences smaller than half the map's mean magnitude.
  const double floor_range = 0.5 * cv::mean(cv::abs(m))[0];
  const double range = std::max(mx - mn, floor_range);
  cv::Mat u8;
  if (range > 0)
    up.convertTo(u8, CV_8U, 255.0 / range, -mn * 255.0 / range);
  else
    u8 = cv::Mat::zeros(h, w, CV_8U);
  return u8;
}

int cv_colormap(Colormap c) {
  switch (c) {
    case Colormap::Turbo: return cv::COLORMAP_TURBO;
    case Colormap::Jet: return cv::COLORMAP_JET;
    case Colormap::Viridis: return cv::COLORMAP_VIRIDIS;
    case Colormap::Inferno: return cv::COLORMAP_INFERNO;
  }
  return cv::COLORMAP_TURBO;
}

cv::Mat heat_rgb(const Array& map, int w, int h, Colormap cmap) {
  cv::Mat bgr, rgb;
  cv::applyColorMap(heat_u8(map, w, h), bgr, cv_colormap(cmap));
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace

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

Image decode_image_memory(const uint8_t* data, size_t size, const std::string& label,
                          const DecodeLimits& lim) {
  if (size == 0) fail(ErrorCode::BadImage, label + ": empty file (0 bytes)");
  if (!data) fail(ErrorCode::BadArgument, label + ": no data");
  if (size > lim.max_file_bytes || size > size_t(INT_MAX))
    fail(ErrorCode::ImageTooLarge, label + ": " + std::to_string(size) +
                                       " bytes, above the limit of " +
                                       std::to_string(std::min<uint64_t>(lim.max_file_bytes, INT_MAX)) +
                                       " bytes");
  const std::string corrupt = label + ": not an image or corrupt";
  const Format fmt = sniff(data, size);
  // Only formats whose size is known from the header reach the decoder: OpenCV
  // also decodes others (Radiance HDR, JPEG 2000, ...) and would allocate the
  // whole image before the pixel limit could be checked (a decompression bomb).
  if (fmt == Format::Unknown)
    fail(ErrorCode::BadImage, corrupt + " (unrecognised format; PNG, JPEG, GIF, BMP, WebP, TIFF, PNM and "
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
                                       " pixels, above what the decoder reads (sides up to " + std::to_string(kMaxSide) + ")");
  if (fmt == Format::Gif) return decode_gif(data, size, label);
  if (fmt == Format::Jpeg) {
    // libjpeg pads a truncated scan with grey and reports success; entropy-coded
    // data cannot contain FF D9, so a missing EOI after the first scan means truncation.
    const JpegInfo j = scan_jpeg(data, size);
    bool eoi = false;
    for (size_t p = j.scan; j.scan && p + 1 < size && !eoi; ++p)
      eoi = data[p] == 0xFF && data[p + 1] == 0xD9;
    if (!eoi) fail(ErrorCode::BadImage, corrupt + " (truncated JPEG)");
  }

  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::Mat(1, int(size), CV_8U, const_cast<uint8_t*>(data)),
                       cv::IMREAD_UNCHANGED);
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
    fail(ErrorCode::ImageTooLarge, label + ": file is " + std::to_string(n) +
                                       " bytes, above the limit of " +
                                       std::to_string(lim.max_file_bytes) + " bytes");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(ErrorCode::Io, label + ": cannot open for reading");
  std::vector<uint8_t> bytes(n);
  f.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(n));
  if (size_t(f.gcount()) != n) fail(ErrorCode::Io, label + ": read failed");
  return decode_image_memory(bytes.data(), bytes.size(), label, lim);
}

Image resize_pil_bicubic(const Image& src, int out_w, int out_h) {
  check_image(src, "resize");
  if (out_w <= 0 || out_h <= 0)
    fail(ErrorCode::BadArgument,
         "resize: bad output size " + std::to_string(out_w) + "x" + std::to_string(out_h));
  if (out_w == src.width && out_h == src.height) return src;

  const Taps th = bicubic_taps(src.width, out_w);
  const Taps tv = bicubic_taps(src.height, out_h);
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(size_t(out_w) * out_h * 3);
  if (out_w == src.width) {
    resample_vertical(src.rgb.data(), src.width, 0, out.rgb.data(), out_h, tv);
    return out;
  }
  if (out_h == src.height) {
    resample_horizontal(src.rgb.data(), src.width, 0, out_h, out.rgb.data(), out_w, th);
    return out;
  }
  // Only the source rows the vertical taps reach go through the horizontal pass.
  const int y0 = tv.first.front();
  const int y1 = tv.first.back() + tv.count.back();
  std::vector<uint8_t> tmp(size_t(out_w) * (y1 - y0) * 3);
  resample_horizontal(src.rgb.data(), src.width, y0, y1 - y0, tmp.data(), out_w, th);
  resample_vertical(tmp.data(), out_w, y0, out.rgb.data(), out_h, tv);
  return out;
}

PreprocessSpec::Size PreprocessSpec::input_size(int image_width, int image_height) const {
  if (size <= 0) fail(ErrorCode::BadArgument, "preprocess: bad size " + std::to_string(size));
  if (!keep_aspect) return {size, size};
  if (patch <= 0 || size % patch != 0)
    fail(ErrorCode::BadArgument, "preprocess: size " + std::to_string(size) + " is not a multiple of the patch " +
                                     std::to_string(patch));
  if (image_width <= 0 || image_height <= 0) fail(ErrorCode::BadArgument, "preprocess: empty image");
  const double grid = size / patch;
  const double aspect = std::clamp(double(image_width) / image_height, 0.25, 4.0);
  const int gw = std::max(1, int(std::lround(grid * std::sqrt(aspect))));
  const int gh = std::max(1, int(std::lround(grid / std::sqrt(aspect))));
  return {gw * patch, gh * patch};
}

std::vector<float> preprocess(const Image& rgb, const PreprocessSpec& spec, PreprocessSpec::Size* size) {
  check_image(rgb, "preprocess");
  const auto in = spec.input_size(rgb.width, rgb.height);
  if (size) *size = in;
  const Image r = resize_pil_bicubic(rgb, in.width, in.height);
  const size_t plane = size_t(in.width) * in.height;
  std::vector<float> out(3 * plane);
  for (int c = 0; c < 3; ++c) {
    const float mean = spec.mean[c], std = spec.std[c];
    float* o = out.data() + c * plane;
    for (size_t i = 0; i < plane; ++i) {
      const float x = float(double(r.rgb[3 * i + c]) * spec.rescale);
      o[i] = (x - mean) / std;
    }
  }
  return out;
}

const char* colormap_name(Colormap c) {
  switch (c) {
    case Colormap::Turbo: return "turbo";
    case Colormap::Jet: return "jet";
    case Colormap::Viridis: return "viridis";
    case Colormap::Inferno: return "inferno";
  }
  return "turbo";
}

bool colormap_from_name(const std::string& s, Colormap* out) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return char(std::tolower(ch)); });
  for (Colormap c : {Colormap::Turbo, Colormap::Jet, Colormap::Viridis, Colormap::Inferno}) {
    if (lower == colormap_name(c)) {
      if (out) *out = c;
      return true;
    }
  }
  return false;
}

Image render_heatmap(const Array& map, int w, int h, Colormap cmap) {
  return image_from_mat(heat_rgb(map, w, h, cmap));
}

Image render_overlay(const Image& base, const Array& map, Colormap cmap, float alpha) {
  check_image(base, "overlay");
  const double a = alpha >= 0.f ? std::min(double(alpha), 1.0) : 0.0;  // NaN -> 0
  const cv::Mat heat = heat_rgb(map, base.width, base.height, cmap);
  const cv::Mat img(base.height, base.width, CV_8UC3, const_cast<uint8_t*>(base.rgb.data()));
  cv::Mat out;
  cv::addWeighted(img, 1.0 - a, heat, a, 0.0, out);
  return image_from_mat(out);
}

void save_png(const Image& img, const std::filesystem::path& path) {
  check_image(img, "save_png");
  const std::string label = path.u8string();
  cv::Mat bgr;
  cv::cvtColor(cv::Mat(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.rgb.data())), bgr,
               cv::COLOR_RGB2BGR);
  std::vector<uchar> buf;
  bool ok = false;
  try {
    ok = cv::imencode(".png", bgr, buf);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok) fail(ErrorCode::Io, label + ": PNG encoding failed");
  // Written by the standard library rather than cv::imwrite so that non-ASCII
  // paths work on every platform.
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(buf.size()));
  if (!f) fail(ErrorCode::Io, label + ": cannot write");
}

}  // namespace core
