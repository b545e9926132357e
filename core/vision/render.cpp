// Heatmaps as colours, overlays on the image, PNG files.
#include "core/vision/image.h"

#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/vision/internal.h"

namespace core {

using detail::check_image;

namespace {

[[noreturn]] void fail(ErrorCode code, const std::string& msg) { throw Error(code, msg); }

// ---------------------------------------------------------------------------
// Heatmaps

cv::Mat heat_u8(const Array& map, int w, int h) {
  if (map.shape.size() != 2 || map.shape[0] <= 0 || map.shape[1] <= 0)
    fail(ErrorCode::BadArgument, "heatmap: expected a non-empty [h, w] map");
  if (map.shape[0] > INT_MAX || map.shape[1] > INT_MAX || map.data.size() != size_t(map.shape[0] * map.shape[1]))
    fail(ErrorCode::BadArgument, "heatmap: " + std::to_string(map.data.size()) + " values for a map of shape [" +
                                     std::to_string(map.shape[0]) + ", " + std::to_string(map.shape[1]) + "]");
  if (w <= 0 || h <= 0)
    fail(ErrorCode::BadArgument, "heatmap: bad output size " + std::to_string(w) + "x" + std::to_string(h));
  float lo = INFINITY;
  for (float v : map.data)
    if (std::isfinite(v)) lo = std::min(lo, v);
  if (!std::isfinite(lo)) lo = 0.f;
  cv::Mat m(int(map.shape[0]), int(map.shape[1]), CV_32F);
  std::transform(map.data.begin(), map.data.end(), m.ptr<float>(), [lo](float v) { return std::isfinite(v) ? v : lo; });
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
    case Colormap::Turbo:
      return cv::COLORMAP_TURBO;
    case Colormap::Jet:
      return cv::COLORMAP_JET;
    case Colormap::Viridis:
      return cv::COLORMAP_VIRIDIS;
    case Colormap::Inferno:
      return cv::COLORMAP_INFERNO;
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

const char* colormap_name(Colormap c) {
  switch (c) {
    case Colormap::Turbo:
      return "turbo";
    case Colormap::Jet:
      return "jet";
    case Colormap::Viridis:
      return "viridis";
    case Colormap::Inferno:
      return "inferno";
  }
  return "turbo";
}

bool colormap_from_name(const std::string& s, Colormap* out) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
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
  cv::cvtColor(cv::Mat(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.rgb.data())), bgr, cv::COLOR_RGB2BGR);
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
