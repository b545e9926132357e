// autoglm search / label: image-text matching through the alignment heads.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

#include "app/cli.h"
#include "core/vision/image.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cli {

namespace {

json round4(double v) { return std::round(v * 1e4) / 1e4; }

bool has_image_suffix(const fs::path& p) {
  static const std::set<std::string> known = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff",
                                              ".ppm", ".pgm", ".pbm",  ".pnm", ".pfm", ".jp2",  ".dib"};
  std::string ext = p.extension().u8string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return known.count(ext) > 0;
}

}  // namespace

int cmd_search(const Args& a) {
  if (!a.has("--images")) throw UsageError("search needs --images DIR");
  if (!a.has("--text")) throw UsageError("search needs --text TEXT");
  const int top = to_int(a, "--top", 10, 1, 1000000);
  const fs::path dir = fs::u8path(a.get("--images"));
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw core::Error(core::ErrorCode::Io, a.get("--images") + ": not a folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && has_image_suffix(e.path())) files.push_back(e.path());
  if (ec) throw core::Error(core::ErrorCode::Io, a.get("--images") + ": " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw core::Error(core::ErrorCode::BadImage, a.get("--images") + ": no images in this folder");

  auto engine = core::Engine::load(model_dir(a), engine_options(a));
  const auto text = engine->embed_text(a.get("--text"));  // bad text or a model without heads: fail early
  std::vector<std::vector<float>> vectors;
  std::vector<std::string> names;
  json skipped = json::array();
  for (const auto& f : files) {
    try {
      auto id = engine->encode(core::decode_image_file(f));
      vectors.push_back(engine->embed_image(id));
      names.push_back(f.u8string());
    } catch (const core::Error& e) {
      skipped.push_back(
          {{"image", f.u8string()}, {"error", e.what()}, {"error_code", core::error_code_name(e.code())}});
    }
  }
  auto scores = engine->rank(text, vectors);
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return scores[x].similarity > scores[y].similarity; });
  // A matching head re-ranks the best K by its probability that image and text match.
  const int rerank = engine->info().matching_head ? to_int(a, "--rerank", 16, 0, 100000) : 0;
  std::vector<float> matched(scores.size(), -1.f);
  const size_t k = std::min(order.size(), static_cast<size_t>(rerank));
  for (size_t r = 0; r < k; ++r) {
    auto id = engine->encode(core::decode_image_file(fs::u8path(names[order[r]])));
    matched[order[r]] = engine->match_probabilities(a.get("--text"), {id}).front();
  }
  std::stable_sort(order.begin(), order.begin() + static_cast<long>(k),
                   [&](size_t x, size_t y) { return matched[x] > matched[y]; });
  if (order.size() > static_cast<size_t>(top)) order.resize(static_cast<size_t>(top));
  json results = json::array();
  for (size_t i : order) {
    json r = {{"image", names[i]},
              {"similarity", round4(scores[i].similarity)},
              {"probability", round4(scores[i].probability)}};
    if (matched[i] >= 0) r["match_probability"] = round4(matched[i]);
    results.push_back(r);
  }
  if (a.has("--json")) {
    std::cout << json{{"text", a.get("--text")},
                      {"images", names.size()},
                      {"results", results},
                      {"skipped", skipped},
                      {"error", nullptr}}
                     .dump()
              << "\n";
  } else {
    for (const auto& r : results) {
      std::printf("%.3f  %5.1f%%", r["similarity"].get<double>(), 100 * r["probability"].get<double>());
      if (r.contains("match_probability")) std::printf("  match %5.1f%%", 100 * r["match_probability"].get<double>());
      std::printf("  %s\n", r["image"].get<std::string>().c_str());
    }
    for (const auto& s : skipped)
      std::cerr << "skipped " << s["image"].get<std::string>() << ": " << s["error"].get<std::string>() << "\n";
  }
  return skipped.empty() ? 0 : 1;
}

int cmd_label(const Args& a) {
  if (!a.has("--image")) throw UsageError("label needs --image PATH");
  const auto labels = split_list(a.get("--labels"));
  if (labels.size() < 2) throw UsageError("label needs at least two --labels, separated by commas");
  auto engine = core::Engine::load(model_dir(a), engine_options(a));
  auto id = engine->encode(core::decode_image_file(fs::u8path(a.get("--image"))));
  auto m = engine->match(id, labels);
  std::vector<size_t> order(m.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return m[x].probability > m[y].probability; });
  const bool head = engine->info().matching_head;
  json out = json::array();
  for (size_t i : order) {
    json r = {{"label", labels[i]}, {"probability", round4(m[i].probability)}, {"similarity", round4(m[i].similarity)}};
    if (head) r["match_probability"] = round4(engine->match_probabilities(labels[i], {id}).front());
    out.push_back(r);
  }
  if (a.has("--json")) {
    std::cout << json{{"image", a.get("--image")}, {"best", labels[order.front()]}, {"labels", out}, {"error", nullptr}}
                     .dump()
              << "\n";
  } else {
    for (const auto& r : out)
      std::printf("%5.1f%%  %s\n", 100 * r["probability"].get<double>(), r["label"].get<std::string>().c_str());
  }
  return 0;
}

// Both scores of one image and one text, and where the text matches (the
// matching head's gradient-weighted cross-attention), in ask's heatmap schema.
int cmd_match(const Args& a) {
  if (!a.has("--image")) throw UsageError("match needs --image PATH");
  if (!a.has("--text")) throw UsageError("match needs --text TEXT");
  auto engine = core::Engine::load(model_dir(a), engine_options(a));
  if (!engine->info().matching_head)
    throw core::Error(
        core::ErrorCode::BadArgument,
        "this model (" + engine->info().name + ") has no image-text matching head; match needs one (BLIP ITM)");
  const auto img = core::decode_image_file(fs::u8path(a.get("--image")));
  const auto m = engine->match_text(engine->encode(img), a.get("--text"));
  const int token = to_int(a, "--token", -1, -1, static_cast<int>(m.tokens.size()) - 1);
  const core::Array& map = token >= 0 ? m.token_maps[static_cast<size_t>(token)] : m.heatmap;
  auto values = [](const core::Array& arr) {
    std::vector<double> v;
    for (float x : arr.data) v.push_back(std::round(x * 1e6) / 1e6);
    return v;
  };
  json tokens = json::array();
  for (size_t t = 0; t < m.tokens.size(); ++t)
    tokens.push_back({{"text", m.tokens[t]}, {"heatmap", values(m.token_maps[t])}});
  json out = {
      {"image", a.get("--image")},
      {"text", a.get("--text")},
      {"similarity", round4(m.similarity)},
      {"match_probability", round4(m.probability)},
      {"heatmap",
       {{"method", "itm-gradcam"}, {"token", token}, {"grid", {map.shape[0], map.shape[1]}}, {"values", values(map)}}},
      {"tokens", tokens},
      {"error", nullptr}};
  save_heatmap(a, img, map, &out);
  if (a.has("--json")) {
    std::cout << out.dump() << "\n";
  } else {
    std::printf("similarity %.3f  match %5.1f%%\n", m.similarity, 100 * m.probability);
    if (a.has("--heatmap")) std::printf("heatmap: %s\n", a.get("--heatmap").c_str());
  }
  return 0;
}

}  // namespace cli
