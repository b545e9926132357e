#include "core/vision/gif.h"

#include <array>

#include "core/error.h"

namespace core {

namespace {

// Bounds-checked reads; running out of bytes is a truncated file.
class Reader {
 public:
  Reader(const uint8_t* d, size_t n, const std::string& label) : d_(d), n_(n), label_(label) {}

  [[noreturn]] void corrupt(const std::string& why) const {
    throw Error(ErrorCode::BadImage, label_ + ": corrupt GIF (" + why + ")");
  }
  uint8_t u8(const char* what) {
    need(1, what);
    return d_[p_++];
  }
  int u16(const char* what) {
    need(2, what);
    const int v = d_[p_] | d_[p_ + 1] << 8;
    p_ += 2;
    return v;
  }
  const uint8_t* bytes(size_t k, const char* what) {
    need(k, what);
    const uint8_t* s = d_ + p_;
    p_ += k;
    return s;
  }

 private:
  void need(size_t k, const char* what) const {
    if (k > n_ - p_) corrupt(std::string("truncated ") + what);
  }

  const uint8_t* d_;
  size_t n_, p_ = 0;
  const std::string& label_;
};

// LZW codes, least significant bit first, across the data sub-blocks.
class CodeReader {
 public:
  explicit CodeReader(Reader& r) : r_(r) {}

  // -1 at the block terminator.
  int next(int width) {
    while (nbits_ < width) {
      if (block_left_ == 0) {
        if (ended_) return -1;
        block_left_ = r_.u8("image data");
        if (block_left_ == 0) {
          ended_ = true;
          return -1;
        }
      }
      bits_ |= uint32_t(r_.u8("image data")) << nbits_;
      nbits_ += 8;
      --block_left_;
    }
    const int code = int(bits_ & ((1u << width) - 1));
    bits_ >>= width;
    nbits_ -= width;
    return code;
  }

 private:
  Reader& r_;
  size_t block_left_ = 0;
  bool ended_ = false;
  uint32_t bits_ = 0;
  int nbits_ = 0;
};

// Indices past the end of a short table read black.
using Palette = std::array<uint8_t, 256 * 3>;

int read_palette(Reader& r, uint8_t flags, Palette* pal) {
  const int count = 2 << (flags & 7);
  const uint8_t* p = r.bytes(size_t(count) * 3, "colour table");
  pal->fill(0);
  std::copy(p, p + count * 3, pal->begin());
  return count;
}

void skip_sub_blocks(Reader& r, const char* what) {
  for (size_t len; (len = r.u8(what)) != 0;) r.bytes(len, what);
}

// An extension block (after its 0x21): a Graphic Control Extension sets the
// transparent index of the next image, the others are skipped.
void read_extension(Reader& r, int* transparent) {
  const uint8_t kind = r.u8("extension");
  if (kind == 0xF9) {  // Graphic Control Extension of the next image
    const size_t len = r.u8("extension");
    const uint8_t* b = r.bytes(len, "extension");
    if (len >= 4) *transparent = (b[0] & 1) ? b[3] : -1;
    if (len != 0) skip_sub_blocks(r, "extension");
  } else {
    skip_sub_blocks(r, "extension");
  }
}

struct Frame {
  int left = 0, top = 0, width = 0, height = 0;
  const Palette* pal = nullptr;
  bool interlaced = false;
  int min_size = 0;  // LZW minimum code size
};

// The image descriptor (after its 0x2C), its local colour table if any, and the LZW code size.
Frame read_frame(Reader& r, int W, int H, const Palette& global, int global_count, Palette* local) {
  Frame f;
  f.left = r.u16("image descriptor");
  f.top = r.u16("image descriptor");
  f.width = r.u16("image descriptor");
  f.height = r.u16("image descriptor");
  const uint8_t flags = r.u8("image descriptor");
  if (f.width > W || f.height > H)
    r.corrupt("frame of " + std::to_string(f.width) + "x" + std::to_string(f.height) + " pixels larger than the " +
              std::to_string(W) + "x" + std::to_string(H) + " screen");
  f.pal = &global;
  int pal_count = global_count;
  if (flags & 0x80) {
    pal_count = read_palette(r, flags, local);
    f.pal = local;
  }
  if (pal_count == 0) r.corrupt("no colour table");
  f.interlaced = flags & 0x40;
  f.min_size = r.u8("image data");
  if (f.min_size < 2 || f.min_size > 8) r.corrupt("LZW code size " + std::to_string(f.min_size));
  return f;
}

// The logical screen, white or the background colour, before the frame is drawn.
Image blank_screen(int W, int H, int transparent, const Palette& global, int global_count, uint8_t background) {
  Image out;
  out.width = W;
  out.height = H;
  out.rgb.assign(size_t(W) * H * 3, 255);
  if (transparent < 0 && global_count > 0 && background < global_count) {
    const uint8_t* c = &global[size_t(background) * 3];
    for (size_t i = 0; i < out.rgb.size(); i += 3) std::copy(c, c + 3, &out.rgb[i]);
  }
  return out;
}

// Decodes the frame's LZW data onto `out`.
void draw_frame(Reader& r, const Frame& f, int transparent, Image& out) {
  const int W = out.width, H = out.height;
  const int left = f.left, top = f.top, fw = f.width, fh = f.height, min_size = f.min_size;
  const Palette* pal = f.pal;
  const bool interlaced = f.interlaced;

  // Codes below `clear` are palette indices, the ones above `end` strings
  // of the table: a code's string is its prefix's string plus its suffix.
  const int clear = 1 << min_size, end = clear + 1;
  constexpr int kMaxCodes = 4096;
  std::array<uint16_t, kMaxCodes> prefix{}, length{};
  std::array<uint8_t, kMaxCodes> suffix{}, first{};
  for (int c = 0; c < clear; ++c) {
    suffix[c] = first[c] = uint8_t(c);
    length[c] = 1;
  }
  std::array<uint8_t, kMaxCodes> run{};
  int width = min_size + 1, next = end + 1, prev = -1;

  static constexpr int kPassStart[] = {0, 4, 2, 1}, kPassStep[] = {8, 8, 4, 2};
  const int64_t total = int64_t(fw) * fh;
  int64_t done = 0;
  int x = 0, y = 0, pass = 0;
  CodeReader codes(r);
  while (done < total) {
    const int code = codes.next(width);
    if (code < 0 || code == end) break;  // too few pixels: the rest stays background
    if (code == clear) {
      width = min_size + 1;
      next = end + 1;
      prev = -1;
      continue;
    }
    if (code > next || (code == next && prev < 0)) r.corrupt("bad LZW code");
    if (prev >= 0 && next < kMaxCodes) {
      prefix[next] = uint16_t(prev);
      suffix[next] = code == next ? first[prev] : first[code];
      first[next] = first[prev];
      length[next] = uint16_t(length[prev] + 1);
      if (++next == 1 << width && width < 12) ++width;
    }
    prev = code;

    const int len = length[code];
    int k = code;
    for (int i = len - 1; i >= 0; --i, k = prefix[k]) run[i] = suffix[k];
    for (int i = 0; i < len && done < total; ++i, ++done) {
      const int cx = left + x, cy = top + y;
      if (cx < W && cy < H) {
        const int index = run[i];
        uint8_t* o = &out.rgb[(size_t(cy) * W + cx) * 3];
        if (index == transparent) {
          o[0] = o[1] = o[2] = 255;
        } else {
          const uint8_t* c = &(*pal)[size_t(index) * 3];
          o[0] = c[0];
          o[1] = c[1];
          o[2] = c[2];
        }
      }
      if (++x < fw) continue;
      x = 0;
      if (!interlaced) {
        ++y;
      } else {
        y += kPassStep[pass];
        while (y >= fh && pass < 3) y = kPassStart[++pass];
      }
    }
  }
}

}  // namespace

Image decode_gif(const uint8_t* data, size_t size, const std::string& label) {
  Reader r(data, size, label);
  r.bytes(6, "header");  // GIF87a / GIF89a, checked by the caller
  const int W = r.u16("header"), H = r.u16("header");
  const uint8_t screen_flags = r.u8("header");
  const uint8_t background = r.u8("header");
  r.u8("header");  // pixel aspect ratio
  if (W == 0 || H == 0) r.corrupt("empty logical screen");

  Palette global{};
  int global_count = 0;
  if (screen_flags & 0x80) global_count = read_palette(r, screen_flags, &global);

  int transparent = -1;
  for (;;) {
    const uint8_t block = r.u8("file before the first image");
    if (block == 0x3B) r.corrupt("no image");
    if (block == 0x21) {
      read_extension(r, &transparent);
      continue;
    }
    if (block != 0x2C) r.corrupt("unknown block type " + std::to_string(block));

    Palette local{};
    const Frame f = read_frame(r, W, H, global, global_count, &local);
    Image out = blank_screen(W, H, transparent, global, global_count, background);
    draw_frame(r, f, transparent, out);
    return out;
  }
}

}  // namespace core
