#include "core/engine/summary.h"

#include <nlohmann/json.hpp>

namespace core {

bool is_special_token(const std::string& t) { return t == "[CLS]" || t == "[SEP]" || t == "[PAD]"; }

std::vector<uint8_t> special_rows(const std::vector<std::string>& tokens) {
  std::vector<uint8_t> out;
  for (const auto& t : tokens) out.push_back(is_special_token(t) ? 1 : 0);
  return out;
}

std::vector<double> gate_means(const Inspection& in) {
  const auto& g = in.gates;
  std::vector<double> out;
  if (g.shape.size() != 2 || g.numel() != static_cast<int64_t>(g.data.size())) return out;
  const int64_t L = g.shape[0], T = g.shape[1];
  const auto special = in.special.size() == static_cast<size_t>(T) ? in.special : special_rows(in.question_tokens);
  std::vector<int64_t> words;
  for (int64_t t = 0; t < T; ++t)
    if (t >= static_cast<int64_t>(special.size()) || !special[static_cast<size_t>(t)]) words.push_back(t);
  if (words.empty())
    for (int64_t t = 0; t < T; ++t) words.push_back(t);
  for (int64_t l = 0; l < L; ++l) {
    double sum = 0;
    for (int64_t t : words) sum += g.data[static_cast<size_t>(l * T + t)];
    out.push_back(sum / static_cast<double>(words.size()));
  }
  return out;
}

const char* gate_kind(const Inspection& in) {
  return in.image_reliance ? "image-reliance" : in.learned_gates ? "learned" : "effective-share";
}

nlohmann::json timings_json(const Timings& t) {
  return {{"preprocess", t.preprocess_ms},    {"vision", t.vision_ms}, {"fusion", t.fusion_ms}, {"decode", t.decode_ms},
          {"vision_cached", t.vision_cached}, {"steps", t.step_ms}};
}

Timings timings_from_json(const nlohmann::json& j) {
  Timings t;
  if (!j.is_object()) return t;
  auto num = [&](const char* now, const char* before) {
    for (const char* k : {now, before})
      if (auto it = j.find(k); it != j.end() && it->is_number()) return it->get<double>();
    return 0.0;
  };
  t.preprocess_ms = num("preprocess", "preprocess_ms");
  t.vision_ms = num("vision", "vision_ms");
  t.fusion_ms = num("fusion", "fusion_ms");
  t.decode_ms = num("decode", "decode_ms");
  if (auto it = j.find("vision_cached"); it != j.end() && it->is_boolean()) t.vision_cached = it->get<bool>();
  for (const char* k : {"steps", "step_ms"})
    if (auto it = j.find(k); it != j.end() && it->is_array()) {
      for (const auto& v : *it)
        if (v.is_number()) t.step_ms.push_back(v.get<double>());
      break;
    }
  return t;
}

}  // namespace core
