#pragma once
// One meaning for an answer's figures wherever they are written or drawn: the
// CLI's JSON, the history store, the session export and the gates panel.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/engine/engine.h"

namespace core {

// 1 for each token row that is not a word: [CLS], [SEP] (also a language
// model's end token), [PAD].
std::vector<uint8_t> special_rows(const std::vector<std::string>& tokens);
bool is_special_token(const std::string& token);

// The mean gate (or image share, or image reliance) of each layer over the
// words, special rows left out (all rows where there are no words).
std::vector<double> gate_means(const Inspection& in);
// "learned", "effective-share" or "image-reliance".
const char* gate_kind(const Inspection& in);

// {"preprocess", "vision", "fusion", "decode" (ms), "vision_cached", "steps" (ms each)}.
nlohmann::json timings_json(const Timings& t);
// Reads timings_json's form and the history's older one (preprocess_ms, ..., step_ms).
Timings timings_from_json(const nlohmann::json& j);

}  // namespace core
