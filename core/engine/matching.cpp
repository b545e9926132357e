// The engine's side of a matching head (BLIP image-text matching): both
// scores of an image and a text, where the text matches, and the matching
// probability of many images for search re-ranking.
#include "core/engine/impl.h"

namespace core {

namespace {

// Positive part, summing to 1 (all 0 when nothing is positive).
Array unit_map(const Tensor& m) {
  auto p = m.to(torch::kFloat32).clamp_min(0);
  const double sum = p.sum().item<double>();
  return to_array(sum > 0 ? p / sum : p);
}

}  // namespace

void Engine::Impl::require_matching_head() const {
  if (!family->has_matching_head())
    throw Error(ErrorCode::BadArgument, "this model (" + info.name + ") has no image-text matching head");
}

TextMatch Engine::match_text(ImageId id, std::string_view text, const CancelToken& cancel) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->require_alignment();
  const auto& entry = d->entry(id);
  auto enc = d->matching_encoding(text);
  if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
  return d->on_device([&] {
    TextMatch m;
    m.tokens = enc.tokens;
    {
      compat::InferenceGuard guard;
      at::set_num_threads(d->text_threads);
      const auto image = d->image_vector(entry);
      auto ids = d->ids_tensor(enc.ids);
      const auto t = Engine::Impl::to_vector(d->family->text_vector(ids, torch::ones_like(ids)));
      double dot = 0;
      for (size_t k = 0; k < t.size(); ++k) dot += static_cast<double>(image[k]) * t[k];
      m.similarity = static_cast<float>(dot);
    }
    if (!d->family->has_matching_head()) return m;
    auto ids = d->ids_tensor(enc.ids);
    auto maps = d->family->match_maps(entry.embeds, ids, torch::ones_like(ids));
    m.probability = maps.probability.item<float>();
    m.heatmap = unit_map(maps.whole);
    for (int64_t t = 0; t < maps.per_token.size(0); ++t) m.token_maps.push_back(unit_map(maps.per_token[t]));
    return m;
  });
}

std::vector<float> Engine::match_probabilities(std::string_view text, const std::vector<ImageId>& images,
                                               const CancelToken& cancel) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->require_matching_head();
  auto enc = d->matching_encoding(text);
  std::vector<const Impl::Entry*> entries;
  for (auto id : images) entries.push_back(&d->entry(id));
  return d->on_device([&] {
    compat::InferenceGuard guard;
    at::set_num_threads(d->text_threads);
    auto ids = d->ids_tensor(enc.ids);
    std::vector<float> out;
    for (const auto* e : entries) {
      if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
      out.push_back(d->family->match_probability(e->embeds, ids, torch::ones_like(ids))[0].item<float>());
    }
    return out;
  });
}

}  // namespace core
