// Pillow's bicubic resampling and the model input (resize, rescale, normalise).
#include "core/vision/image.h"

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/vision/internal.h"

namespace core {

using detail::check_image;

namespace {

[[noreturn]] void fail(ErrorCode code, const std::string& msg) { throw Error(code, msg); }

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
      k[x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits)) : int32_t(0.5 + v * (1 << kPrecisionBits));
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
void resample_horizontal(const uint8_t* src, int in_w, int y0, int rows, uint8_t* dst, int out_w, const Taps& t) {
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
        const uint32_t v =
            (uint32_t(cv::v_reduce_sum(h)) << 11) + uint32_t(cv::v_reduce_sum(l)) + (1u << (kPrecisionBits - 1));
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

}  // namespace

Image resize_pil_bicubic(const Image& src, int out_w, int out_h) {
  check_image(src, "resize");
  if (out_w <= 0 || out_h <= 0)
    fail(ErrorCode::BadArgument, "resize: bad output size " + std::to_string(out_w) + "x" + std::to_string(out_h));
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
    fail(ErrorCode::BadArgument,
         "preprocess: size " + std::to_string(size) + " is not a multiple of the patch " + std::to_string(patch));
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

}  // namespace core
