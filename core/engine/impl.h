#pragma once
// Engine::Impl, shared by the engine's files: engine.cpp (loading, the image
// cache, the public calls) and language_model.cpp (families that decode
// themselves). Included by those two only.
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

#include "core/engine/flops.h"
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
  void fall_back_to_cpu(const std::string& why) {
    family->to(torch::kCPU, torch::kFloat32);
    for (auto& entry : lru) {
      entry.second.embeds = entry.second.embeds.to(torch::kCPU, torch::kFloat32);
      entry.second.image_kv.clear();
    }
    device = torch::Device(torch::kCPU);
    dtype = torch::kFloat32;
    info.device = "cpu";
    info.dtype = "float32";
    info.running_bytes = static_cast<uint64_t>(family->num_parameters()) * 4;
    vision_threads = text_threads = at::get_num_threads();
    if (on_warning) on_warning(Warning{Warning::Code::CpuFallback, why});
  }

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
  std::pair<int, int> lengths(int max_new, int min_new, size_t prefix) const {
    if (max_new < 0 || max_new > 256)
      throw Error(ErrorCode::BadArgument, "max_new_tokens must be between 1 and 256 (0: the model's default)");
    const int p = static_cast<int>(prefix);
    if (max_new == 0) max_new = cfg.gen_max_length > 0 ? std::max(1, cfg.gen_max_length - p) : cfg.gen_max_new_tokens;
    if (min_new < 0) min_new = cfg.gen_min_length > 0 ? std::max(0, cfg.gen_min_length - p) : cfg.gen_min_new_tokens;
    max_new = std::clamp(max_new, 1, 256);
    return {max_new, std::clamp(min_new, 0, max_new)};
  }

  // The cached entry, moved to the front of the LRU list; null when absent.
  const Entry* touch(ImageId id) {
    for (auto it = lru.begin(); it != lru.end(); ++it) {
      if (it->first == id) {
        lru.splice(lru.begin(), lru, it);
        return &lru.front().second;
      }
    }
    return nullptr;
  }

  const Entry& entry(ImageId id) {
    if (const Entry* e = touch(id)) return *e;
    throw Error(ErrorCode::BadArgument,
                "image " + std::to_string(id) + " is not encoded (or was evicted from the cache)");
  }

  // Intra-op threads per stage, by measurement: the model's own vision pass
  // and one decoder step, with one thread and with all cores. Small models
  // (and any model while another process holds a core) run many tiny ops,
  // where OpenMP's barriers cost more than the extra core gives.
  void choose_threads(int requested) {
    const int all = at::get_num_threads();
    if (requested > 0 || all <= 1 || device.is_cuda()) {
      vision_threads = text_threads = requested > 0 ? requested : all;
      return;
    }
    compat::InferenceGuard guard;
    const int s = cfg.preprocess.size;
    auto pixels = torch::zeros({1, 3, s, s}, torch::TensorOptions().dtype(dtype).device(device));
    // Both settings are timed in turns after a warm-up run each, and all cores must win
    // clearly: single best-of-3 timings flipped between 1 and 2 threads from one load to
    // the next on the 2-core machine, and the 2-thread choice then answered 2-3x slower.
    auto pick = [&](const std::function<void()>& f) {
      at::set_num_threads(all);
      if (all == 1) {  // nothing to choose from (f still runs: its results are used)
        f();
        return 1;
      }
      auto t0 = Clock::now();
      f();
      if (ms_since(t0) > 400) return all;  // big matrix products: use every core
      at::set_num_threads(1);
      f();
      double many = 1e30, one = 1e30;
      for (int i = 0; i < 5; ++i)
        for (int n : {all, 1}) {
          double& best = n == 1 ? one : many;
          at::set_num_threads(n);
          t0 = Clock::now();
          f();
          best = std::min(best, ms_since(t0));
        }
      return many < 0.8 * one ? all : 1;
    };
    Tensor image;
    vision_threads = pick([&] { image = family->encode_image(pixels); });
    if (family->decodes_itself()) {  // the language model's first two tokens
      GenerationRequest req;
      req.max_new = 2;
      req.top_alternatives = 1;
      text_threads = pick([&] { family->generate(image, req); });
      at::set_num_threads(all);
      return;
    }
    std::vector<int64_t> q{cfg.cls_id, cfg.sep_id};
    auto ids = torch::tensor(q, torch::kLong).unsqueeze(0).to(device);
    if (!family->can(Capability::Ask) && !family->can(Capability::Describe)) {  // text matching only
      text_threads = pick([&] { family->text_vector(ids, torch::ones_like(ids)); });
      at::set_num_threads(all);
      return;
    }
    Tensor memory =
        family->can(Capability::Ask) ? family->fuse(ids, torch::ones_like(ids), image, nullptr, nullptr) : image;
    text_threads = pick([&] {
      std::vector<LayerCache> cache;
      auto bos = torch::full({1, 1}, cfg.bos_id, torch::TensorOptions().dtype(torch::kLong).device(device));
      family->decode(bos, memory, {}, &cache, 0);
      family->decode(bos, memory, {}, &cache, 1);
    });
    at::set_num_threads(all);
  }

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

  const std::vector<float>& image_vector(const Entry& e) {
    if (e.aligned.empty()) {
      compat::InferenceGuard guard;
      e.aligned = to_vector(family->image_vector(e.embeds));
    }
    return e.aligned;
  }

  // A search or label text as the matching model reads it.
  Encoding matching_encoding(std::string_view text) const {
    auto enc = checked_encoding(text, "text");
    const auto limit = static_cast<size_t>(
        cfg.match_max_tokens > 0 ? std::min(cfg.match_max_tokens, cfg.text.max_positions) : cfg.text.max_positions);
    if (enc.ids.size() > limit) {  // search text: keep the start, as BLIP's retrieval does
      enc.ids.resize(limit);
      enc.ids.back() = cfg.sep_id;
      enc.mask.resize(limit);
      enc.tokens.resize(limit);
      enc.tokens.back() = "[SEP]";
    }
    return enc;
  }

  std::vector<float> text_vector(std::string_view text) {
    auto enc = matching_encoding(text);
    compat::InferenceGuard guard;
    at::set_num_threads(text_threads);
    auto ids = ids_tensor(enc.ids);
    return to_vector(family->text_vector(ids, torch::ones_like(ids)));
  }

  std::vector<Match> scores(const std::vector<float>& one, const std::vector<std::vector<float>>& many) const {
    std::vector<Match> out(many.size());
    if (many.empty()) return out;
    const double temp = std::max(1e-3f, info.align_temperature);
    double top = -1e30;
    for (size_t i = 0; i < many.size(); ++i) {
      if (many[i].size() != one.size())
        throw Error(ErrorCode::BadArgument, "embedding of size " + std::to_string(many[i].size()) +
                                                " cannot be compared with one of size " + std::to_string(one.size()));
      double dot = 0;
      for (size_t k = 0; k < one.size(); ++k) dot += static_cast<double>(one[k]) * many[i][k];
      out[i].similarity = static_cast<float>(dot);
      top = std::max(top, dot / temp);
    }
    double sum = 0;
    for (auto& m : out) sum += std::exp(m.similarity / temp - top);
    for (auto& m : out) m.probability = static_cast<float>(std::exp(m.similarity / temp - top) / sum);
    return out;
  }

  // Anything besides [CLS] and [SEP]: the tokenizer drops control characters
  // and splits on Unicode spaces, which the byte checks above do not see.
  bool has_words(const Encoding& enc) const {
    return std::any_of(enc.ids.begin(), enc.ids.end(),
                       [&](int64_t id) { return id != cfg.cls_id && id != cfg.sep_id && id != cfg.pad_id; });
  }

  // A question or search text as the tokenizer sees it, refused when it is not
  // UTF-8, has no words or is absurdly long; `what` names it in the message.
  Encoding checked_encoding(std::string_view q, const std::string& what) const {
    if (!is_valid_utf8(q)) throw Error(ErrorCode::BadQuestion, "the " + what + " is not valid UTF-8");
    const bool blank =
        std::all_of(q.begin(), q.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (q.empty() || blank) throw Error(ErrorCode::BadQuestion, "the " + what + " is empty");
    if (q.size() > 16384)
      throw Error(ErrorCode::BadQuestion, "the " + what + " is too long (" + std::to_string(q.size()) + " bytes)");
    auto enc = tok.encode(q, true);
    if (!has_words(enc))
      throw Error(ErrorCode::BadQuestion, "the " + what + " is empty (it has only spaces or control characters)");
    return enc;
  }

  Encoding encode_question(std::string_view q) const {
    auto enc = checked_encoding(q, "question");
    const int64_t limit = cfg.text.max_positions;
    if (static_cast<int64_t>(enc.ids.size()) > limit)
      throw Error(ErrorCode::BadQuestion, "the question is too long: " + std::to_string(enc.ids.size()) +
                                              " tokens, this model reads at most " + std::to_string(limit));
    return enc;
  }

  Tensor ids_tensor(const std::vector<int64_t>& ids) const {
    return torch::tensor(ids, torch::kLong).unsqueeze(0).to(device);
  }

  // Question encoder pass: F and the record.
  // image_kv: the image's cached cross-attention keys and values (see Entry).
  Tensor encode_text(const Encoding& enc, const Tensor& image, Record* rec, const Entry* cached = nullptr) {
    auto ids = ids_tensor(enc.ids);
    auto mask = torch::tensor(enc.mask, torch::kLong).unsqueeze(0).to(device);
    if (!cached) return family->fuse(ids, mask, image, rec, nullptr);
    for (auto& other : lru)
      if (&other.second != cached) other.second.image_kv.clear();
    return family->fuse(ids, mask, image, rec, &cached->image_kv);
  }

  Tensor memory_mask(const Encoding* enc) const {
    if (!enc) return {};
    auto m = family->memory_mask(torch::tensor(enc->mask, torch::kLong).unsqueeze(0).to(device));
    return m.defined() ? additive_mask(m).to(dtype) : m;
  }

  std::vector<Hyp> generate(const Tensor& memory, const Tensor& mem_mask, const std::vector<int64_t>& prefix, int beams,
                            int max_new, int min_new, int topk_alt, float temperature, const CancelToken& cancel,
                            Timings* tm) {
    beams = std::max(1, beams);
    std::vector<LayerCache> cache;
    auto t0 = Clock::now();
    auto logits = family->decode(ids_tensor(prefix), memory, mem_mask, &cache, 0);
    logits = logits.select(1, logits.size(1) - 1).to(torch::kFloat32);  // [A, V]
    int64_t past = static_cast<int64_t>(prefix.size());
    tm->step_ms.push_back(ms_since(t0));
    std::vector<Hyp> alive(1), finished;
    for (int step = 0; step < max_new; ++step) {
      if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
      auto ts = Clock::now();
      auto logp = torch::log_softmax(logits, -1);
      auto logp_cal = temperature == 1.f ? logp : torch::log_softmax(logits / temperature, -1);
      if (step < min_new) {
        // Barred after normalising (as HF's beam search does), so every probability stays the model's own.
        logp.select(1, cfg.eos_id).fill_(-std::numeric_limits<float>::infinity());
        logp_cal.select(1, cfg.eos_id).fill_(-std::numeric_limits<float>::infinity());
      }
      auto total = logp + torch::tensor(std::vector<double>([&] {
                                          std::vector<double> v;
                                          for (auto& h : alive) v.push_back(h.logp);
                                          return v;
                                        }()),
                                        torch::kFloat32)
                              .unsqueeze(1)
                              .to(logp.device());
      const int64_t V = logp.size(1);
      const int64_t want = std::min<int64_t>(2 * beams, total.numel());
      auto top = std::get<1>(total.flatten().topk(want)).to(torch::kCPU);
      auto alt = logp.exp().topk(std::min<int64_t>(std::max(topk_alt, 1), V), -1);
      auto alt_p = std::get<0>(alt).to(torch::kCPU), alt_i = std::get<1>(alt).to(torch::kCPU);
      auto lp_cpu = logp.to(torch::kCPU), lpc_cpu = logp_cal.to(torch::kCPU);
      std::vector<Hyp> next;
      std::vector<int64_t> src;
      for (int64_t k = 0; k < want; ++k) {
        const int64_t flat = top[k].item<int64_t>(), a = flat / V, id = flat % V;
        Hyp h = alive[static_cast<size_t>(a)];
        const float lp = lp_cpu[a][id].item<float>();
        h.ids.push_back(id);
        h.logp += lp;
        h.logp_cal += lpc_cpu[a][id].item<float>();
        TokenInfo ti{piece(id), id, std::exp(lp), {}};
        for (int64_t j = 0; j < std::min<int64_t>(topk_alt, alt_p.size(1)); ++j)
          ti.top.push_back({piece(alt_i[a][j].item<int64_t>()), alt_p[a][j].item<float>()});
        h.tokens.push_back(std::move(ti));
        if (id == cfg.eos_id) {
          // As in HF beam search: an ending only counts when it ranks within the top `beams`.
          h.ended = true;
          if (k < beams && static_cast<int>(finished.size()) < beams) finished.push_back(std::move(h));
        } else if (static_cast<int>(next.size()) < beams) {
          next.push_back(std::move(h));
          src.push_back(a);
        }
        if (static_cast<int>(finished.size()) >= beams) break;
      }
      tm->step_ms.push_back(ms_since(ts));
      if (static_cast<int>(finished.size()) >= beams || next.empty() || step + 1 == max_new) {
        if (static_cast<int>(finished.size()) < beams)
          for (auto& h : next)
            if (static_cast<int>(finished.size()) < beams) finished.push_back(std::move(h));
        break;
      }
      // Reorder the caches to the surviving hypotheses and feed their last token.
      auto index = torch::tensor(src, torch::kLong).to(device);
      for (auto& c : cache) {
        c.self_k = c.self_k.index_select(0, index);
        c.self_v = c.self_v.index_select(0, index);
        c.cross_k = c.cross_k.index_select(0, index);
        c.cross_v = c.cross_v.index_select(0, index);
      }
      std::vector<int64_t> last;
      for (auto& h : next) last.push_back(h.ids.back());
      alive = std::move(next);
      Tensor mm = mem_mask.defined() ? mem_mask.expand({static_cast<int64_t>(alive.size()), -1, -1, -1}) : mem_mask;
      auto step_ids = torch::tensor(last, torch::kLong).unsqueeze(1).to(device);
      ts = Clock::now();
      logits = family->decode(step_ids, memory, mm, &cache, past).select(1, 0).to(torch::kFloat32);
      tm->step_ms.back() += ms_since(ts);
      ++past;
    }
    std::stable_sort(finished.begin(), finished.end(),
                     [](const Hyp& a, const Hyp& b) { return a.norm_score() > b.norm_score(); });
    tm->decode_ms = ms_since(t0);
    return finished;
  }

  std::string answer_text(const std::vector<int64_t>& ids) const {
    std::vector<int64_t> body;
    for (auto id : ids)
      if (id != cfg.eos_id && id != cfg.bos_id) body.push_back(id);
    return tok.decode(body, true);
  }

  void fill_inspection(Result* r, const Record& rec, const Entry& image, const std::vector<std::string>& tokens,
                       bool answer_rows) {
    auto& in = r->inspection;
    in.question_tokens = tokens;
    in.special = special_rows(tokens);
    in.tokens_are_answer = answer_rows;
    in.grid_h = image.grid_h;
    in.grid_w = image.grid_w;
    in.has_class_token = true;
    in.learned_gates = cfg.gates && !answer_rows;
    for (int i = 0; i < (answer_rows ? cfg.text.decoder_layers : cfg.text.layers); ++i)
      if (answer_rows || cfg.fusion_index(i) >= 0) in.fusion_layers.push_back(i);
    // The question's rows only: a model's learned query tokens follow them in the record.
    const int64_t T = static_cast<int64_t>(tokens.size());
    std::vector<Tensor> cross, gates, self;
    for (const auto& t : rec.cross_attn) cross.push_back(t[0].slice(1, 0, T).to(torch::kFloat32));
    for (const auto& t : rec.gates) gates.push_back(t[0].slice(0, 0, T).to(torch::kFloat32));
    for (const auto& t : rec.self_attn) self.push_back(t[0].to(torch::kFloat32).mean(0).slice(0, 0, T).slice(1, 0, T));
    in.cross_attention = to_array(torch::stack(cross));
    in.gates = to_array(torch::stack(gates));
    in.self_attention = to_array(torch::stack(self));
    const int64_t L = static_cast<int64_t>(cross.size());
    if (rec.routing.defined()) {
      in.routing = to_array(rec.routing[0]);
    } else {
      auto onehot = torch::zeros({L});
      onehot[L - 1] = 1.f;
      in.routing = to_array(onehot);
    }
  }

  // Heatmap from the recorded arrays; [T, N] relevance per token, then reduced.
  Tensor token_relevance(const Inspection& in, const HeatmapRequest& req) const {
    auto cross = from_array(in.cross_attention);  // [L,H,T,N]
    const int64_t L = cross.size(0);
    auto heads = [&](const Tensor& a) {  // [H,T,N] -> [T,N]
      if (req.head >= 0) {
        if (req.head >= a.size(0))
          throw Error(ErrorCode::BadArgument, "head " + std::to_string(req.head) + " does not exist");
        return a[req.head];
      }
      return a.mean(0);
    };
    switch (req.method) {
      case HeatmapMethod::LayerAttention: {
        const int l = req.layer < 0 ? static_cast<int>(L) - 1 : req.layer;
        if (l >= L) throw Error(ErrorCode::BadArgument, "fusion layer " + std::to_string(l) + " does not exist");
        return heads(cross[l]);
      }
      case HeatmapMethod::AllLayers: {
        Tensor acc;
        for (int64_t l = 0; l < L; ++l) acc = acc.defined() ? acc + heads(cross[l]) : heads(cross[l]);
        return acc / static_cast<double>(L);
      }
      case HeatmapMethod::Rollout: {
        if (in.self_attention.data.empty())
          throw Error(ErrorCode::BadArgument,
                      "this model records no text self-attention, so it has no rollout heatmap");
        // Image relevance of each text token, carried through the text
        // self-attention (with the residual as 0.5 I) and added at each fusion layer.
        auto self = from_array(in.self_attention);  // [Lt,T,T]
        const int64_t T = cross.size(2), N = cross.size(3);
        auto eye = torch::eye(T);
        auto rel = torch::zeros({T, N});
        int64_t fused = 0;
        for (int64_t l = 0; l < self.size(0); ++l) {
          auto a = 0.5 * self[l] + 0.5 * eye;
          a = a / a.sum(-1, true);
          rel = torch::matmul(a, rel);
          const bool is_fusion = std::find(in.fusion_layers.begin(), in.fusion_layers.end(), static_cast<int>(l)) !=
                                 in.fusion_layers.end();
          if (is_fusion && fused < L) rel = rel + heads(cross[fused++]);
        }
        return rel;
      }
      case HeatmapMethod::GradWeighted:
        break;
    }
    throw Error(ErrorCode::Internal, "unreachable");
  }

  Array reduce_to_grid(const Tensor& rel_tn, const Inspection& in, int token) const {
    const int64_t T = rel_tn.size(0);
    Tensor row;
    if (token >= 0) {
      if (token >= T) throw Error(ErrorCode::BadArgument, "token " + std::to_string(token) + " does not exist");
      row = rel_tn[token];
    } else {
      std::vector<int64_t> keep;
      for (int64_t t = 0; t < T; ++t) {
        const auto& s =
            t < static_cast<int64_t>(in.question_tokens.size()) ? in.question_tokens[static_cast<size_t>(t)] : "";
        if (s != "[CLS]" && s != "[SEP]" && s != "[PAD]") keep.push_back(t);
      }
      if (keep.empty())
        row = rel_tn.mean(0);
      else
        row = rel_tn.index_select(0, torch::tensor(keep, torch::kLong)).mean(0);
    }
    if (in.has_class_token) row = row.slice(0, 1);
    row = row.clamp_min(0);
    const double sum = row.sum().item<double>();
    row = sum > 0 ? row / sum : torch::full_like(row, 1.0 / static_cast<double>(row.numel()));
    auto a = to_array(row.reshape({in.grid_h, in.grid_w}));
    return a;
  }

  double heatmap_entropy(const Array& a) const {
    double h = 0;
    for (float v : a.data)
      if (v > 0) h -= v * std::log(v);
    return a.data.size() > 1 ? h / std::log(static_cast<double>(a.data.size())) : 0.0;
  }

  void finish_answers(Result* r, std::vector<Answer> answers, ConfidenceMethod method) {
    // seed heuristic: mean top-1 probability x length term x attention-spread penalty
    Array map;
    if (!r->inspection.cross_attention.data.empty()) {
      HeatmapRequest req;
      map = reduce_to_grid(token_relevance(r->inspection, req), r->inspection, -1);
    }
    const double spread = map.data.empty() ? 0.0 : heatmap_entropy(map);
    for (auto& a : answers) {
      double top1 = 0;
      for (const auto& t : a.tokens) top1 += t.top.empty() ? t.p : t.top.front().p;
      top1 = a.tokens.empty() ? 0 : top1 / static_cast<double>(a.tokens.size());
      const double length_term = 1.0 / (1.0 + 0.1 * std::max<double>(0, static_cast<double>(a.tokens.size()) - 2));
      a.heuristic = static_cast<float>(top1 * length_term * (1.0 - 0.5 * spread));
    }
    if (method == ConfidenceMethod::Auto)
      method = calib.default_method == "heuristic" ? ConfidenceMethod::Heuristic : ConfidenceMethod::Calibrated;
    if (method == ConfidenceMethod::Heuristic) {
      for (auto& a : answers) a.confidence = a.heuristic;
      std::stable_sort(answers.begin(), answers.end(),
                       [](const Answer& a, const Answer& b) { return a.confidence > b.confidence; });
    } else {
      // The model's own length-normalised score orders the candidates; the calibrated
      // confidence (which may weigh length differently) says how likely each is right.
      std::stable_sort(answers.begin(), answers.end(),
                       [](const Answer& a, const Answer& b) { return a.raw_score > b.raw_score; });
    }
    // Hide candidates below mean + 0.5 std of the candidates' scores (the best stays).
    if (answers.size() > 1) {
      double mean = 0, var = 0;
      for (const auto& a : answers) mean += a.confidence;
      mean /= static_cast<double>(answers.size());
      for (const auto& a : answers) var += (a.confidence - mean) * (a.confidence - mean);
      const double cut = mean + 0.5 * std::sqrt(var / static_cast<double>(answers.size()));
      std::vector<Answer> kept{answers.front()};
      for (size_t i = 1; i < answers.size(); ++i)
        if (answers[i].confidence >= cut) kept.push_back(answers[i]);
      answers = std::move(kept);
    }
    r->answers = std::move(answers);
    r->calibrated = calib.present;
  }

  std::vector<Answer> to_answers(const std::vector<Hyp>& hyps) {
    std::vector<Answer> out;
    for (const auto& h : hyps) {
      Answer a;
      for (auto id : h.ids)
        if (id != cfg.eos_id) a.ids.push_back(id);
      a.text = answer_text(a.ids);
      a.tokens = h.tokens;
      // Length-normalised over the answer's words; the end token's probability
      // counts but not its length, so a one-word answer keeps its true probability.
      const double n = std::max<double>(1, static_cast<double>(a.ids.size()));
      a.raw_score = static_cast<float>(std::exp(h.logp / n));
      a.confidence = static_cast<float>(std::exp(h.logp_cal / std::pow(n, calib.length_exponent)));
      // identical texts (e.g. differing only in special tokens) merge
      auto same = std::find_if(out.begin(), out.end(), [&](const Answer& b) { return b.text == a.text; });
      if (same == out.end()) out.push_back(std::move(a));
    }
    return out;
  }

  // Closed list: softmax over the answers' sequence log-likelihoods.
  std::vector<Answer> rank(const Tensor& memory, const Tensor& mem_mask, const std::vector<std::string>& list,
                           const std::vector<int64_t>& prefix, Timings* tm) {
    auto t0 = Clock::now();
    std::vector<std::vector<int64_t>> seqs;
    size_t longest = 0;
    for (const auto& s : list) {
      auto enc = tok.encode(s, false);
      if (enc.ids.empty()) throw Error(ErrorCode::BadArgument, "empty candidate answer in the list");
      enc.ids.push_back(cfg.eos_id);
      longest = std::max(longest, enc.ids.size());
      seqs.push_back(enc.ids);
    }
    const int64_t R = static_cast<int64_t>(seqs.size()), P = static_cast<int64_t>(prefix.size()),
                  Lmax = static_cast<int64_t>(longest);
    auto input = torch::full({R, P + Lmax - 1}, cfg.pad_id, torch::kLong);
    auto target = torch::full({R, Lmax}, -1, torch::kLong);
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t j = 0; j < P; ++j) input[r][j] = prefix[static_cast<size_t>(j)];
      const auto& s = seqs[static_cast<size_t>(r)];
      for (size_t j = 0; j + 1 < s.size(); ++j) input[r][P + static_cast<int64_t>(j)] = s[j];
      for (size_t j = 0; j < s.size(); ++j) target[r][static_cast<int64_t>(j)] = s[j];
    }
    auto mem = memory.expand({R, -1, -1});
    Tensor mm = mem_mask.defined() ? mem_mask.expand({R, -1, -1, -1}) : mem_mask;
    auto logits = family->decode(input.to(device), mem, mm, nullptr, 0).to(torch::kFloat32).to(torch::kCPU);
    auto logp = torch::log_softmax(logits.slice(1, P - 1), -1);  // predictions for target positions
    auto valid = target.ge(0);
    auto gathered = logp.gather(2, target.clamp_min(0).unsqueeze(-1)).squeeze(-1) * valid;
    auto seq_logp = gathered.sum(1);  // [R]
    auto raw = torch::softmax(seq_logp, 0), cal = torch::softmax(seq_logp / calib.rank_temperature, 0);
    auto probs = logp.exp();
    std::vector<Answer> out;
    for (int64_t r = 0; r < R; ++r) {
      Answer a;
      a.text = list[static_cast<size_t>(r)];
      a.raw_score = raw[r].item<float>();
      a.confidence = cal[r].item<float>();
      const auto& s = seqs[static_cast<size_t>(r)];
      for (size_t j = 0; j < s.size(); ++j) {
        const auto id = s[j];
        if (id != cfg.eos_id) a.ids.push_back(id);
        auto row = probs[r][static_cast<int64_t>(j)];
        auto top = row.topk(5);
        TokenInfo ti{piece(id), id, row[id].item<float>(), {}};
        for (int64_t k = 0; k < 5; ++k)
          ti.top.push_back({piece(std::get<1>(top)[k].item<int64_t>()), std::get<0>(top)[k].item<float>()});
        a.tokens.push_back(std::move(ti));
      }
      out.push_back(std::move(a));
    }
    tm->decode_ms = ms_since(t0);
    return out;
  }

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
