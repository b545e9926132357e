#pragma once
// Engine::Impl, shared by the engine's files: engine.cpp (loading, the public
// calls), impl.cpp (the image cache, device, threads, encodings), decoding.cpp,
// inspection.cpp (heatmaps), matching.cpp and language_model.cpp (families that
// decode themselves). Included by those only.
#include "core/engine/engine.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <fstream>
#include <list>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/engine/summary.h"
#include "core/io/config.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/model/autoglm/model.h"
#include "core/model/family.h"
#include "core/runtime/runtime.h"
#include "core/text/tokenizer.h"
#include "core/torch_compat.h"
#include "core/vision/image.h"
#include "core/text/text_tokenizer.h"

namespace core {

namespace fs = std::filesystem;
using torch::Tensor;

namespace engine_detail {

using Clock = std::chrono::steady_clock;

inline const char* scalar_name(torch::ScalarType t) {
  return t == torch::kBFloat16 ? "bfloat16" : t == torch::kFloat16 ? "float16" : "float32";
}
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

inline uint64_t hash_image(const Image& img) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
    h ^= h >> 29;
  };
  mix(static_cast<uint64_t>(img.width));
  mix(static_cast<uint64_t>(img.height));
  const uint8_t* p = img.rgb.data();
  size_t n = img.rgb.size(), i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    mix(v);
  }
  uint64_t tail = 0;
  for (; i < n; ++i) tail = (tail << 8) | p[i];
  mix(tail);
  return h;
}

inline Array to_array(const Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  Array a;
  a.shape = c.sizes().vec();
  a.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return a;
}

inline Tensor from_array(const Array& a) {
  return torch::from_blob(const_cast<float*>(a.data.data()), a.shape, torch::kFloat32).clone();
}

struct Calibration {
  bool present = false;
  float temperature = 1.f;       // for generated answers (per-token logits)
  float rank_temperature = 1.f;  // for the closed-list softmax
  // A generated answer's confidence is exp(log-probability / words^length_exponent):
  // 1 is the geometric mean over its words, 0 the probability of the whole sequence.
  float length_exponent = 1.f;
  std::string default_method = "calibrated";
};

inline Calibration read_calibration(const fs::path& dir) {
  Calibration c;
  const auto path = dir / "calibration.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return c;
  // A few hundred bytes; a hostile file is refused by size before its DOM is built.
  if (const uintmax_t n = fs::file_size(path, ec); !ec && n > (1u << 20))
    throw Error(ErrorCode::BadConfig,
                path.u8string() + ": " + std::to_string(n) + " bytes, too large for a calibration file (limit 1 MiB)");
  std::ifstream f(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
    c.temperature = j.value("temperature", 1.f);
    c.rank_temperature = j.value("rank_temperature", c.temperature);
    c.length_exponent = j.value("length_exponent", 1.f);
    c.default_method = j.value("default", std::string("calibrated"));
  } catch (const std::exception& e) {
    throw Error(ErrorCode::BadConfig, path.u8string() + ": not valid (" + e.what() + ")");
  }
  if (!(c.temperature > 0.f && c.temperature < 100.f) || !(c.rank_temperature > 0.f && c.rank_temperature < 100.f))
    throw Error(ErrorCode::BadConfig, path.u8string() + ": temperature must be in (0, 100)");
  if (!(c.length_exponent >= 0.f && c.length_exponent <= 1.f))
    throw Error(ErrorCode::BadConfig, path.u8string() + ": length_exponent must be in [0, 1]");
  if (c.default_method != "calibrated" && c.default_method != "heuristic")
    throw Error(ErrorCode::BadConfig, path.u8string() + ": \"default\" must be \"calibrated\" or \"heuristic\"");
  c.present = true;
  return c;
}

struct Hyp {
  std::vector<int64_t> ids;  // generated ids (the end token included when it ended)
  double logp = 0, logp_cal = 0;
  std::vector<TokenInfo> tokens;
  bool ended = false;
  double norm_score() const { return ids.empty() ? logp : logp / static_cast<double>(ids.size()); }
};

}  // namespace engine_detail

using namespace engine_detail;

struct Engine::Impl {
  ModelConfig cfg;
  Tokenizer tok;                          // WordPiece (our family, BLIP)
  std::unique_ptr<TextTokenizer> lm_tok;  // families that decode themselves: the language model's
  std::unique_ptr<Family> family;
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
  ModelInfo info;
  Calibration calib;
  struct Entry {
    Tensor embeds;                       // [1, N+1, Dv]
    int grid_h = 0, grid_w = 0;          // its patch grid: N = grid_h * grid_w
    mutable std::vector<float> aligned;  // alignment-space vector, computed on first use
    // The question encoder's cross-attention keys and values of this image, kept
    // for the most recently asked image only (BLIP-base: 42 MB an image).
    mutable std::vector<LayerCache> image_kv;
    double preprocess_ms = 0, vision_ms = 0;
  };
  std::list<std::pair<ImageId, Entry>> lru;  // most recent first
  size_t cache_size = 16;
  int vision_threads = 1, text_threads = 1;  // chosen by measurement at load
  std::atomic<int64_t> vision_runs{0};
  mutable std::mutex mu;
  WarningHandler on_warning;

  // After a CUDA out-of-memory error: the model and the cached image features
  // move to the CPU (float32) for the rest of the session, and the caller is told.
  void fall_back_to_cpu(const std::string& why);

  // Runs fn on the model's device; when the GPU runs out of memory, falls back
  // to the CPU and runs fn once more (what fn had done on the GPU is unwound).
  template <typename Fn>
  auto on_device(Fn&& fn) -> decltype(fn()) {
    if (!device.is_cuda()) return fn();
    std::string why;
    try {
      return fn();
    } catch (const c10::Error& e) {
      if (!compat::is_out_of_memory(e)) throw;
      why = e.what_without_backtrace();
    }
    fall_back_to_cpu(why.substr(0, why.find('\n')));
    return fn();
  }

  // Answer lengths the caller left to the model (0 and -1), for a decoder that
  // starts from `prefix` tokens (HuggingFace's max_length counts them).
  std::pair<int, int> lengths(int max_new, int min_new, size_t prefix) const;

  // The cached entry, moved to the front of the LRU list; null when absent.
  const Entry* touch(ImageId id);

  const Entry& entry(ImageId id);

  // Intra-op threads per stage, by measurement: the model's own vision pass
  // and one decoder step, with one thread and with all cores. Small models
  // (and any model while another process holds a core) run many tiny ops,
  // where OpenMP's barriers cost more than the extra core gives.
  void choose_threads(int requested);

  std::string piece(int64_t id) const { return tok.id_to_token(id); }

  void require_alignment() const {
    if (!family->can(Capability::MatchText))
      throw Error(ErrorCode::BadArgument,
                  "this model (" + info.name + ") has no alignment heads, so it cannot match images with text");
  }

  static std::vector<float> to_vector(const Tensor& t) {
    auto c = t.reshape({-1}).to(torch::kCPU, torch::kFloat32).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }

  const std::vector<float>& image_vector(const Entry& e);

  // A search or label text as the matching model reads it.
  Encoding matching_encoding(std::string_view text) const;

  std::vector<float> text_vector(std::string_view text);

  std::vector<Match> scores(const std::vector<float>& one, const std::vector<std::vector<float>>& many) const;

  // Anything besides [CLS] and [SEP]: the tokenizer drops control characters
  // and splits on Unicode spaces, which the byte checks above do not see.
  bool has_words(const Encoding& enc) const {
    return std::any_of(enc.ids.begin(), enc.ids.end(),
                       [&](int64_t id) { return id != cfg.cls_id && id != cfg.sep_id && id != cfg.pad_id; });
  }

  // A question or search text as the tokenizer sees it, refused when it is not
  // UTF-8, has no words or is absurdly long; `what` names it in the message.
  Encoding checked_encoding(std::string_view q, const std::string& what) const;

  Encoding encode_question(std::string_view q) const;

  Tensor ids_tensor(const std::vector<int64_t>& ids) const {
    return torch::tensor(ids, torch::kLong).unsqueeze(0).to(device);
  }

  // Question encoder pass: F and the record.
  // image_kv: the image's cached cross-attention keys and values (see Entry).
  Tensor encode_text(const Encoding& enc, const Tensor& image, Record* rec, const Entry* cached = nullptr);

  Tensor memory_mask(const Encoding* enc) const;

  std::vector<Hyp> generate(const Tensor& memory, const Tensor& mem_mask, const std::vector<int64_t>& prefix, int beams,
                            int max_new, int min_new, int topk_alt, float temperature, const CancelToken& cancel,
                            Timings* tm);

  std::string answer_text(const std::vector<int64_t>& ids) const;

  void fill_inspection(Result* r, const Record& rec, const Entry& image, const std::vector<std::string>& tokens,
                       bool answer_rows);

  // Heatmap from the recorded arrays; [T, N] relevance per token, then reduced.
  Tensor token_relevance(const Inspection& in, const HeatmapRequest& req) const;

  Array reduce_to_grid(const Tensor& rel_tn, const Inspection& in, int token) const;

  double heatmap_entropy(const Array& a) const;

  void finish_answers(Result* r, std::vector<Answer> answers, ConfidenceMethod method);

  std::vector<Answer> to_answers(const std::vector<Hyp>& hyps);

  // Closed list: softmax over the answers' sequence log-likelihoods.
  std::vector<Answer> rank(const Tensor& memory, const Tensor& mem_mask, const std::vector<std::string>& list,
                           const std::vector<int64_t>& prefix, Timings* tm);

  // matching.cpp: the matching head (BLIP ITM).
  void require_matching_head() const;

  // language_model.cpp: families whose language model decodes itself (BLIP-2).
  std::string lm_prompt(Task task, std::string_view question, const std::string& tmpl) const;
  Result run_language_model(ImageId id, Task task, std::string_view question, const std::string& prompt, int beams,
                            int max_new_tokens, int min_new_tokens, int top_alternatives, ConfidenceMethod confidence,
                            const PartialHandler& on_partial, const CancelToken& cancel);
  Tensor lm_relevance(const Result& r, int answer);  // [T,N] for reduce_to_grid
  std::string lm_piece(int64_t id) const;
};

}  // namespace core
