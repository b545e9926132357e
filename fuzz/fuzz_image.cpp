// libFuzzer target: image decoding from memory (format sniffing, header
// probing and the pixel limit, OpenCV decoding, EXIF orientation, conversion
// to 8-bit RGB) and the model preprocessing (Pillow bicubic resize to 32x32,
// normalisation). Only core::Error is expected.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/vision/image.h"

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
  return 0;
}
