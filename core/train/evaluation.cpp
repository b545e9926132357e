#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <optional>

#include "core/engine/engine.h"
#include "core/error.h"
#include "core/train/jsonl.h"
#include "core/train/scoring.h"
#include "core/train/shapes.h"
#include "core/train/trainer.h"
#include "core/vision/image.h"

namespace core::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string EvalReport::to_json() const {
  nlohmann::json j = {{"count", count},
                      {"beams", beams},
                      {"accuracy", accuracy},
                      {"per_type", per_type},
                      {"per_type_count", per_type_count},
                      {"ece_calibrated", ece_calibrated},
                      {"ece_heuristic", ece_heuristic},
                      {"accuracy_at_90_coverage", acc_at_90_coverage},
                      {"pointing_count", pointing_count},
                      {"pointing_all_layers", pointing_all_layers},
                      {"pointing_grad_weighted", pointing_grad},
                      {"pointing_all_layers_per_type", pointing_all_layers_per_type},
                      {"pointing_grad_weighted_per_type", pointing_grad_per_type},
                      {"latency_p50_ms", latency_p50_ms},
                      {"latency_p95_ms", latency_p95_ms}};
  return j.dump(2);
}

namespace {

// One question to score: the image, the truth, and the referred object's pixels
// (empty when the question refers to no object).
struct EvalItem {
  Image image;
  std::string question, type, answer;
  cv::Mat referred_mask;  // 8-bit, the image's size, non-zero on the object
};

EvalReport evaluate_items(const fs::path& model, int count, const std::function<EvalItem(int)>& item_at, const Log& log,
                          int beams) {
  auto engine = Engine::load(model, Options{Device::Cpu});
  EvalReport rep;
  rep.beams = beams;
  std::vector<double> conf, heur, lat;
  std::vector<int> correct;
  std::map<std::string, int> right;
  int point_n = 0, point_all = 0, point_grad = 0;
  std::map<std::string, int> point_type_n, point_type_all, point_type_grad;
  for (int i = 0; i < count; ++i) {
    const EvalItem s = item_at(i);
    auto t0 = Clock::now();
    AskOptions o;
    o.beams = beams;
    o.max_new_tokens = 30;
    auto r = engine->ask(engine->encode(s.image), s.question, o);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    const bool ok = !r.answers.empty() && judged_correct(s.type, s.answer, r.answers.front().text);
    correct.push_back(ok);
    conf.push_back(r.answers.empty() ? 0 : r.answers.front().confidence);
    heur.push_back(r.answers.empty() ? 0 : r.answers.front().heuristic);
    right[s.type] += ok;
    rep.per_type_count[s.type] += 1;
    if (!s.referred_mask.empty() && !r.answers.empty()) {
      // pointing game: the heatmap's maximum inside the referred mask dilated by 3%
      const int w = s.image.width, h = s.image.height;
      const int d = std::max(1, static_cast<int>(0.03 * std::min(w, h)));
      cv::Mat dil;
      cv::dilate(s.referred_mask, dil, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * d + 1, 2 * d + 1}));
      auto hit = [&](HeatmapMethod meth) {
        HeatmapRequest req;
        req.method = meth;
        auto map = engine->heatmap(r, req);
        const auto best = std::max_element(map.data.begin(), map.data.end()) - map.data.begin();
        const int gw = static_cast<int>(map.shape[1]), gh = static_cast<int>(map.shape[0]);
        const int x = static_cast<int>((best % gw + 0.5) * w / gw);
        const int y = static_cast<int>((best / gw + 0.5) * h / gh);
        return dil.at<uint8_t>(std::min(y, dil.rows - 1), std::min(x, dil.cols - 1)) > 0;
      };
      const bool all = hit(HeatmapMethod::AllLayers), grad = hit(HeatmapMethod::GradWeighted);
      ++point_n, ++point_type_n[s.type];
      point_all += all, point_type_all[s.type] += all;
      point_grad += grad, point_type_grad[s.type] += grad;
    }
  }
  rep.count = count;
  rep.accuracy = std::accumulate(correct.begin(), correct.end(), 0.0) / std::max(1, count);
  for (auto& [t, n] : rep.per_type_count) rep.per_type[t] = static_cast<double>(right[t]) / n;
  rep.ece_calibrated = ece(conf, correct);
  rep.ece_heuristic = ece(heur, correct);
  std::vector<size_t> order(conf.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return conf[a] > conf[b]; });
  const size_t keep = std::max<size_t>(1, static_cast<size_t>(0.9 * static_cast<double>(order.size())));
  double ok90 = 0;
  for (size_t i = 0; i < std::min(keep, order.size()); ++i) ok90 += correct[order[i]];
  rep.acc_at_90_coverage = ok90 / static_cast<double>(keep);
  rep.pointing_count = point_n;
  rep.pointing_all_layers = point_n ? static_cast<double>(point_all) / point_n : 0;
  rep.pointing_grad = point_n ? static_cast<double>(point_grad) / point_n : 0;
  for (const auto& [t, n] : point_type_n) {
    rep.pointing_all_layers_per_type[t] = static_cast<double>(point_type_all[t]) / n;
    rep.pointing_grad_per_type[t] = static_cast<double>(point_type_grad[t]) / n;
  }
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    rep.latency_p50_ms = lat[lat.size() / 2];
    rep.latency_p95_ms = lat[std::min(lat.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(lat.size())))];
  }
  if (log) log(rep.to_json());
  return rep;
}

}  // namespace

EvalReport evaluate(const fs::path& model, uint64_t seed, int count, const Log& log, int beams) {
  return evaluate_items(
      model, count,
      [seed](int i) {
        auto s = shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(i)), shapes::GenOptions{});
        EvalItem it{image_from_mat(s.scene.rgb), s.question, s.type, s.answer, {}};
        if (s.referred >= 0) it.referred_mask = s.scene.objects[static_cast<size_t>(s.referred)].mask;
        return it;
      },
      log, beams);
}

EvalReport evaluate_set(const fs::path& dir, const fs::path& model, int limit, const Log& log, int beams) {
  const fs::path file = fs::is_directory(dir) ? dir / "requests.jsonl" : dir;
  // A question of the set, checked: the referred object as a mask file or, without
  // masks, its box (neither: no pointing game).
  struct Row {
    std::string where, question, answer, type;
    fs::path image, mask;
    std::optional<cv::Rect> box;
  };
  // The set is read and checked first, so that a bad line stops it before any model time.
  std::vector<Row> rows;
  read_json_lines(
      file, "the set (a folder written by `autoglm-train generate`, or its requests.jsonl)",
      [&](const nlohmann::json& j, const std::string& where) {
        for (const char* key : {"image", "question", "answer"})
          if (!j.contains(key) || !j[key].is_string())
            throw Error(ErrorCode::BadArgument, where + ": needs \"" + key + "\" (a string)");
        if (j.contains("type") && !j["type"].is_string())
          throw Error(ErrorCode::BadArgument, where + ": \"type\" must be a string");
        Row row{where,
                j["question"],
                j["answer"],
                j.value("type", std::string("unknown")),
                image_path(file, j["image"]),
                {},
                {}};
        const int ref = j.contains("referred") && j["referred"].is_number_integer() ? j["referred"].get<int>() : -1;
        if (ref >= 0) {
          const auto r = static_cast<size_t>(ref);
          static const nlohmann::json none;
          const auto& masks = j.contains("masks") ? j["masks"] : none;
          const auto& objects = j.contains("objects") ? j["objects"] : none;
          if (masks.is_array() && r < masks.size() && masks[r].is_string()) {
            row.mask = image_path(file, masks[r]);
          } else if (objects.is_array() && r < objects.size() && objects[r].is_object() &&
                     objects[r].contains("bbox") && objects[r]["bbox"].is_array() && objects[r]["bbox"].size() == 4) {
            const auto& b = objects[r]["bbox"];
            row.box = cv::Rect(static_cast<int>(b[0].get<double>()), static_cast<int>(b[1].get<double>()),
                               static_cast<int>(b[2].get<double>()), static_cast<int>(b[3].get<double>()));
          } else {
            throw Error(ErrorCode::BadArgument,
                        where + ": \"referred\" is " + std::to_string(ref) +
                            " but there is no such entry in \"masks\" or \"objects\" (with a \"bbox\")");
          }
        }
        rows.push_back(std::move(row));
        return limit <= 0 || static_cast<int>(rows.size()) < limit;
      });
  if (rows.empty()) throw Error(ErrorCode::BadArgument, file.string() + " has no questions");
  return evaluate_items(
      model, static_cast<int>(rows.size()),
      [&](int i) {
        const Row& row = rows[static_cast<size_t>(i)];
        EvalItem it{decode_image_file(row.image), row.question, row.type, row.answer, {}};
        if (!row.mask.empty()) {
          it.referred_mask = cv::imread(row.mask.string(), cv::IMREAD_GRAYSCALE);
          if (it.referred_mask.empty())
            throw Error(ErrorCode::Io, row.where + ": cannot read the mask " + row.mask.string());
          if (it.referred_mask.cols != it.image.width || it.referred_mask.rows != it.image.height)
            throw Error(ErrorCode::BadArgument,
                        row.where + ": the mask " + row.mask.string() + " is not the image's size");
        } else if (row.box) {  // a set without masks: the referred object's box stands in for its pixels
          it.referred_mask = cv::Mat::zeros(it.image.height, it.image.width, CV_8U);
          it.referred_mask(*row.box & cv::Rect(0, 0, it.image.width, it.image.height)).setTo(255);
        }
        return it;
      },
      log, beams);
}

}  // namespace core::train
