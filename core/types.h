#pragma once
// Plain value types that every layer of core (and ui/, app/) may use.
#include <cstdint>
#include <vector>

namespace core {

struct Array {  // a dense float array for the UI, row-major
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return shape.empty() ? 0 : n;
  }
};

struct Image {  // 8-bit RGB, packed rows (width * 3 bytes), top row first
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  bool empty() const { return width <= 0 || height <= 0; }
};

// The model families (one folder each under core/model/) and what a model does.
enum class ModelFamily { AutoGLM, Blip, BlipItm, Blip2 };
enum class ModelTask { Vqa, Caption, Match };
const char* family_name(ModelFamily f);  // "open-autoglm", "blip", "blip-itm", "blip2" (config.json's model_type)
const char* task_name(ModelTask t);      // "vqa", "caption", "match"

}  // namespace core
