// libFuzzer target: image decoding from memory (format sniffing, header
// probing and the pixel limit, OpenCV decoding, EXIF orientation, conversion
// to 8-bit RGB) and the model preprocessing (Pillow bicubic resize to 32x32,
// normalisation). Only core::Error is expected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/vision/image.h"

namespace {

// OpenCV decoders without memory input (PFM, Sun raster) go through a
// temporary file; pointing OpenCV at a private folder lets every run check
// that none is left behind (a disk leak a hostile file could repeat).
std::string g_temp_dir;

void remove_temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(g_temp_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "autoglm_fuzz_image.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) std::abort();
  g_temp_dir = tmpl;
  setenv("OPENCV_TEMP_PATH", g_temp_dir.c_str(), 1);
  std::atexit(remove_temp_dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  core::DecodeLimits limits;
  limits.max_pixels = 4'000'000;
  try {
    int w = 0, h = 0;
    const bool probed = core::probe_image_size(data, size, &w, &h);
    const core::Image img = core::decode_image_memory(data, size, "fuzz", limits);
    const int64_t pixels = static_cast<int64_t>(img.width) * img.height;
    if (img.width <= 0 || img.height <= 0 || img.rgb.size() != static_cast<size_t>(pixels) * 3 ||
        pixels > limits.max_pixels)
      __builtin_trap();
    // The pixel limit is judged from the header before decoding: an image that
    // decodes must have been probed, and not to a smaller size than it has
    // (EXIF rotation may swap width and height, never change the product).
    if (!probed || pixels > static_cast<int64_t>(w) * h) __builtin_trap();
    core::PreprocessSpec spec;
    spec.size = 32;
    const std::vector<float> x = core::preprocess(img, spec);
    if (x.size() != 3u * 32 * 32) __builtin_trap();
  } catch (const core::Error&) {
  }
  if (!std::filesystem::is_empty(g_temp_dir)) __builtin_trap();  // a temporary file leaked
  return 0;
}
