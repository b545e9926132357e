#include "core/train/stages.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/train/shapes.h"

namespace core::train {

namespace {
constexpr int kWarmup = 200;
}

LoopState::LoopState(int ntypes)
    : type_loss(static_cast<size_t>(ntypes), 1.0),
      type_error(static_cast<size_t>(ntypes), 1.0),
      object_error(static_cast<size_t>(ntypes * kCounts), 0.0) {}

nlohmann::json LoopState::to_json(double seconds, uint64_t seed) const {
  return nlohmann::json{{"step", step},
                        {"samples", seen},
                        {"images", seen_images},
                        {"loss", ema},
                        {"first_loss", first_loss},
                        {"answer_loss", answer_ema},
                        {"first_answer_loss", first_answer_loss},
                        {"seconds", seconds},
                        {"type_loss", type_loss},
                        {"type_error", type_error},
                        {"object_error", object_error},
                        {"seed", seed},
                        {"patch_loss", dense_ema},
                        {"first_patch_loss", first_dense_loss},
                        {"grounding_loss", ground_ema},
                        {"refer_loss", refer_ema},
                        {"first_refer_loss", first_refer_loss},
                        {"first_grounding_loss", first_ground_loss}};
}

void LoopState::restore(const nlohmann::json& st) {
  const size_t ntypes = type_loss.size();
  step = st.at("step");
  seen = st.at("samples");
  seen_images = st.value("images", seen);
  ema = st.at("loss");
  first_loss = st.at("first_loss");
  answer_ema = st.at("answer_loss");
  first_answer_loss = st.at("first_answer_loss");
  spent_s = st.at("seconds");
  dense_ema = st.value("patch_loss", 0.0);
  first_dense_loss = st.value("first_patch_loss", 0.0);
  ground_ema = st.value("grounding_loss", 0.0);
  refer_ema = st.value("refer_loss", 0.0);
  first_refer_loss = st.value("first_refer_loss", 0.0);
  first_ground_loss = st.value("first_grounding_loss", 0.0);
  type_loss = st.at("type_loss").get<std::vector<double>>();
  if (type_loss.size() != ntypes) throw Error(ErrorCode::BadConfig, "checkpoint: type_loss has the wrong length");
  if (st.contains("type_error")) type_error = st.at("type_error").get<std::vector<double>>();
  if (type_error.size() != ntypes) throw Error(ErrorCode::BadConfig, "checkpoint: type_error has the wrong length");
  if (st.contains("object_error")) object_error = st.at("object_error").get<std::vector<double>>();
  if (object_error.size() != ntypes * kCounts)
    throw Error(ErrorCode::BadConfig, "checkpoint: object_error has the wrong length");
}

StepSchedule schedule(const TrainOptions& opt, int64_t step, double now_s) {
  StepSchedule s;
  const double budget_s = opt.minutes * 60.0;
  s.progress = std::min(1.0, opt.steps > 0 ? static_cast<double>(step) / opt.steps : now_s / budget_s);
  s.lr = opt.lr * std::min(1.0, (step + 1.0) / kWarmup) * (0.5 * (1 + std::cos(M_PI * s.progress)) * 0.95 + 0.05);
  s.stage1 = s.progress < opt.stage1_fraction;
  return s;
}

std::vector<std::string> step_types(const TrainOptions& opt, const StepSchedule& s, int64_t step, int questions,
                                    const LoopState& st, double smoothing_floor) {
  const auto& types = shapes::question_types();
  const int ntypes = static_cast<int>(types.size());
  std::vector<std::string> batch_types;
  shapes::Rng pick(shapes::mix_seed(opt.seed ^ 0x5EEDC0DEull, static_cast<uint64_t>(step)));
  const double alpha = s.stage1 ? 0 : opt.curriculum_alpha * std::min(1.0, (s.progress - opt.stage1_fraction) / 0.3);
  // Hardness of a type: its running loss, what it has above the loss that label
  // smoothing leaves on a perfectly answered token, or its running error rate.
  std::vector<double> hardness = opt.curriculum == "error" ? st.type_error : st.type_loss;
  if (opt.curriculum != "loss")
    for (auto& h : hardness) h = std::max(h - (opt.curriculum == "excess" ? smoothing_floor : 0.0), 1e-3);
  const double total_loss = std::accumulate(hardness.begin(), hardness.end(), 0.0);
  for (int i = 0; i < questions; ++i) {
    if (s.stage1) {
      batch_types.push_back("describe");
      continue;
    }
    double u = pick.uniform(), acc = 0;
    int t = ntypes - 1;
    for (int j = 0; j < ntypes; ++j) {
      acc += (1 - alpha) / ntypes + alpha * hardness[static_cast<size_t>(j)] / total_loss;
      if (u < acc) {
        t = j;
        break;
      }
    }
    batch_types.push_back(types[static_cast<size_t>(t)]);
  }
  return batch_types;
}

std::vector<std::array<double, kCounts>> object_odds(const TrainOptions& opt, const StepSchedule& s,
                                                     const std::vector<double>& object_error) {
  std::vector<std::array<double, kCounts>> out;
  const int ntypes = static_cast<int>(shapes::question_types().size());
  const double beta = s.stage1 ? 0 : opt.curriculum_objects * std::min(1.0, (s.progress - opt.stage1_fraction) / 0.3);
  if (beta > 0)
    for (int t = 0; t < ntypes; ++t) {
      const auto row = object_error.begin() + t * kCounts;
      double sum = 0;
      for (int c = 0; c < kCounts; ++c) sum += std::max(row[c], 1e-3);
      std::array<double, kCounts> odds{};
      for (int c = 0; c < kCounts; ++c)
        odds[static_cast<size_t>(c)] = (1 - beta) / kCounts + beta * std::max(row[c], 1e-3) / sum;
      out.push_back(odds);
    }
  return out;
}

void update(LoopState& st, const StepFigures& f, int ntypes) {
  const auto& stats = f.stats;
  const int by_count = 1 + 3 * ntypes;
  const double lm = f.answer_loss, l = lm + f.itc;
  const bool first = st.step == 0;
  if (first) st.first_loss = l, st.first_answer_loss = lm, st.first_dense_loss = f.dense;
  st.ema = first ? l : 0.98 * st.ema + 0.02 * l;
  st.answer_ema = first ? lm : 0.98 * st.answer_ema + 0.02 * lm;
  st.itc_ema = first ? f.itc : 0.98 * st.itc_ema + 0.02 * f.itc;
  st.dense_ema = first ? f.dense : 0.98 * st.dense_ema + 0.02 * f.dense;
  if (f.ground_n > 0) {  // stage 1's captions refer to no object
    if (st.first_ground_loss == 0) st.first_ground_loss = st.ground_ema = f.ground;
    st.ground_ema = 0.98 * st.ground_ema + 0.02 * f.ground;
  }
  if (f.refer > 0) {  // as grounding: stage 1 has no referred objects
    if (st.first_refer_loss == 0) st.first_refer_loss = st.refer_ema = f.refer;
    st.refer_ema = 0.98 * st.refer_ema + 0.02 * f.refer;
  }
  for (int t = 0; t < ntypes; ++t) {
    const double n = stats[static_cast<size_t>(1 + ntypes + t)];
    if (n == 0) continue;
    const double keep = std::pow(0.99, n);
    auto& loss = st.type_loss[static_cast<size_t>(t)];
    auto& error = st.type_error[static_cast<size_t>(t)];
    loss = keep * loss + (1 - keep) * stats[static_cast<size_t>(1 + t)] / n;
    error = keep * error + (1 - keep) * stats[static_cast<size_t>(1 + 2 * ntypes + t)] / n;
  }
  for (int c = 0; c < ntypes * kCounts; ++c) {
    const double n = stats[static_cast<size_t>(by_count + 2 * c)];
    if (n == 0) continue;
    const double keep = std::pow(0.99, n);
    auto& e = st.object_error[static_cast<size_t>(c)];
    e = keep * e + (1 - keep) * stats[static_cast<size_t>(by_count + 2 * c + 1)] / n;
  }
}

}  // namespace core::train
