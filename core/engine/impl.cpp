// Engine::Impl: the image cache, device fallback, thread choice, and the encodings of
// questions and texts.
#include "core/engine/impl.h"
#include "core/model/linear.h"

namespace core {

auto Engine::Impl::fall_back_to_cpu(const std::string& why) -> void {
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

auto Engine::Impl::lengths(int max_new, int min_new, size_t prefix) const -> std::pair<int, int> {
  if (max_new < 0 || max_new > 256)
    throw Error(ErrorCode::BadArgument, "max_new_tokens must be between 1 and 256 (0: the model's default)");
  const int p = static_cast<int>(prefix);
  if (max_new == 0) max_new = cfg.gen_max_length > 0 ? std::max(1, cfg.gen_max_length - p) : cfg.gen_max_new_tokens;
  if (min_new < 0) min_new = cfg.gen_min_length > 0 ? std::max(0, cfg.gen_min_length - p) : cfg.gen_min_new_tokens;
  max_new = std::clamp(max_new, 1, 256);
  return {max_new, std::clamp(min_new, 0, max_new)};
}

auto Engine::Impl::touch(ImageId id) -> const Entry* {
  for (auto it = lru.begin(); it != lru.end(); ++it) {
    if (it->first == id) {
      lru.splice(lru.begin(), lru, it);
      return &lru.front().second;
    }
  }
  return nullptr;
}

auto Engine::Impl::entry(ImageId id) -> const Entry& {
  if (const Entry* e = touch(id)) return *e;
  throw Error(ErrorCode::BadArgument,
              "image " + std::to_string(id) + " is not encoded (or was evicted from the cache)");
}

auto Engine::Impl::choose_threads(int requested) -> void {
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
  auto steps = [&] {
    std::vector<LayerCache> cache;
    auto bos = torch::full({1, 1}, cfg.bos_id, torch::TensorOptions().dtype(torch::kLong).device(device));
    for (int step = 0; step < 3; ++step) family->decode(bos, memory, {}, &cache, step);
  };
  text_threads = pick(steps);
  // One-row products as split matrix-vector products (core/model/linear.h), unless they
  // measure slower here than the matrix products they replace.
  at::set_num_threads(text_threads);
  double on = 1e30, off = 1e30;
  for (int i = 0; i < 2; ++i)
    for (bool rows : {true, false}) {
      set_row_products(rows);
      const auto t0 = Clock::now();
      steps();
      (rows ? on : off) = std::min(rows ? on : off, ms_since(t0));
    }
  set_row_products(on <= 1.1 * off);
  at::set_num_threads(all);
}

auto Engine::Impl::image_vector(const Entry& e) -> const std::vector<float>& {
  if (e.aligned.empty()) {
    compat::InferenceGuard guard;
    e.aligned = to_vector(family->image_vector(e.embeds));
  }
  return e.aligned;
}

auto Engine::Impl::matching_encoding(std::string_view text) const -> Encoding {
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

auto Engine::Impl::text_vector(std::string_view text) -> std::vector<float> {
  auto enc = matching_encoding(text);
  compat::InferenceGuard guard;
  at::set_num_threads(text_threads);
  auto ids = ids_tensor(enc.ids);
  return to_vector(family->text_vector(ids, torch::ones_like(ids)));
}

auto Engine::Impl::scores(const std::vector<float>& one, const std::vector<std::vector<float>>& many) const
    -> std::vector<Match> {
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

auto Engine::Impl::checked_encoding(std::string_view q, const std::string& what) const -> Encoding {
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

auto Engine::Impl::encode_question(std::string_view q) const -> Encoding {
  auto enc = checked_encoding(q, "question");
  const int64_t limit = cfg.text.max_positions;
  if (static_cast<int64_t>(enc.ids.size()) > limit)
    throw Error(ErrorCode::BadQuestion, "the question is too long: " + std::to_string(enc.ids.size()) +
                                            " tokens, this model reads at most " + std::to_string(limit));
  return enc;
}

auto Engine::Impl::encode_text(const Encoding& enc, const Tensor& image, Record* rec, const Entry* cached) -> Tensor {
  auto ids = ids_tensor(enc.ids);
  auto mask = torch::tensor(enc.mask, torch::kLong).unsqueeze(0).to(device);
  if (!cached) return family->fuse(ids, mask, image, rec, nullptr);
  for (auto& other : lru)
    if (&other.second != cached) other.second.image_kv.clear();
  return family->fuse(ids, mask, image, rec, &cached->image_kv);
}

auto Engine::Impl::memory_mask(const Encoding* enc) const -> Tensor {
  if (!enc) return {};
  auto m = family->memory_mask(torch::tensor(enc->mask, torch::kLong).unsqueeze(0).to(device));
  return m.defined() ? additive_mask(m).to(dtype) : m;
}

}  // namespace core
