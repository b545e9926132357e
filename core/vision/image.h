#pragma once
// Image decoding, model preprocessing and heatmap rendering (OpenCV inside,
// plain core::Image / core::Array outside).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/types.h"

namespace cv {
class Mat;
}

namespace core {

struct DecodeLimits {
  int64_t max_pixels = 64'000'000;       // checked from the header, before decoding
  uint64_t max_file_bytes = 1ull << 30;  // files above this are not read
};

// 8/16-bit, grey, alpha (composited on white), CMYK JPEG, GIF (first frame); EXIF
// orientation applied.
// Throws core::Error (BadImage, ImageTooLarge, Io) naming the file.
Image decode_image_file(const std::filesystem::path& path, const DecodeLimits& = {});
Image decode_image_memory(const uint8_t* data, size_t size, const std::string& label, const DecodeLimits& = {});
// Width and height from the header only (no pixel allocation); false if unknown format.
bool probe_image_size(const uint8_t* data, size_t size, int* width, int* height);

// Copy of an 8-bit RGB cv::Mat (CV_8UC3, any row stride).
Image image_from_mat(const cv::Mat& rgb);

// Pillow's 8-bit BICUBIC resampler (separable, horizontal first, fixed-point,
// antialiased when shrinking), bit-exact with Pillow 9.4.
Image resize_pil_bicubic(const Image& src, int out_w, int out_h);

struct PreprocessSpec {
  int size = 384;
  std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
  double rescale = 1.0 / 255.0;
  // false: every image is resized to size x size (a wide image is squeezed sideways).
  // true: to a grid of patch-sized cells shaped like the image (aspect clamped to 1:4..4:1)
  // with about as many cells as (size / patch)^2, so an object keeps its shape and, on a
  // 2:1 image, is 1.4 times as wide in model pixels as when squeezed.
  bool keep_aspect = false;
  int patch = 1;
  struct Size {
    int width = 0, height = 0;
  };
  Size input_size(int image_width, int image_height) const;
};
// [3, h, w] CHW float at spec.input_size(width, height) (written to *size when given):
// resize (PIL bicubic), x = float(u8 * rescale), (x - mean) / std.
std::vector<float> preprocess(const Image& rgb, const PreprocessSpec& spec, PreprocessSpec::Size* size = nullptr);

enum class Colormap { Turbo, Jet, Viridis, Inferno };
const char* colormap_name(Colormap c);
bool colormap_from_name(const std::string& s, Colormap* out);

// map: [gh, gw]; bilinear upsampling to the image size, min-max normalisation,
// colour map, then alpha blending over the image (alpha in [0, 1]).
Image render_overlay(const Image& base, const Array& map, Colormap cmap, float alpha);
// The colour-mapped heatmap alone at w x h.
Image render_heatmap(const Array& map, int w, int h, Colormap cmap);

void save_png(const Image& img, const std::filesystem::path& path);  // throws on failure

}  // namespace core
