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
                                              ".ppm", ".pgm", ".pbm", ".pnm", ".pfm", ".jp2", ".dib"};
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
      skipped.push_back({{"image", f.u8string()}, {"error", e.what()}, {"error_code", core::error_code_name(e.code())}});
    }
  }
  auto scores = engine->rank(text, vectors);
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return scores[x].similarity > scores[y].similarity; });
  if (order.size() > static_cast<size_t>(top)) order.resize(static_cast<size_t>(top));
  json results = json::array();
  for (size_t i : order)
    results.push_back({{"image", names[i]}, {"similarity", round4(scores[i].similarity)}, {"probability", round4(scores[i].probability)}});
  if (a.has("--json")) {
    std::cout << json{{"text", a.get("--text")}, {"images", names.size()}, {"results", results}, {"skipped", skipped},
                      {"error", nullptr}}.dump()
              << "\n";
  } else {
    for (const auto& r : results)
      std::printf("%.3f  %5.1f%%  %s\n", r["similarity"].get<double>(), 100 * r["probability"].get<double>(),
                  r["image"].get<std::string>().c_str());
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
  json out = json::array();
  for (size_t i : order)
    out.push_back({{"label", labels[i]}, {"probability", round4(m[i].probability)}, {"similarity", round4(m[i].similarity)}});
  if (a.has("--json")) {
    std::cout << json{{"image", a.get("--image")}, {"best", labels[order.front()]}, {"labels", out}, {"error", nullptr}}.dump()
              << "\n";
  } else {
    for (const auto& r : out)
      std::printf("%5.1f%%  %s\n", 100 * r["probability"].get<double>(), r["label"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace cli
