#include "core/train/calibration.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <numeric>

#include "core/io/checkpoint.h"
#include "core/torch_compat.h"
#include "core/train/greedy.h"
#include "core/train/scoring.h"

namespace core::train {

namespace fs = std::filesystem;

void fit_calibration(const fs::path& model, int count, const std::function<CalItem(int)>& item_at, const Log& log) {
  auto cfg = load_config(model);
  auto tok = Tokenizer::from_folder(model);
  Model m(cfg);
  m->load_weights(Checkpoint::open(model / "model.safetensors"));
  m->eval();
  compat::InferenceGuard guard;
  std::vector<std::vector<Tensor>> step_logits;  // per sample: [V] per chosen step
  std::vector<std::vector<int64_t>> chosen;
  std::vector<int> correct;
  std::vector<double> heur;
  for (int i = 0; i < count; ++i) {
    const CalItem item = item_at(i);
    std::vector<Tensor> ls;
    auto out = greedy_ids(m, cfg, pixel_batch(item.image, cfg), tok.encode(item.question).ids, 30, &ls);
    double top1 = 0;
    for (const auto& l : ls) top1 += torch::softmax(l, -1).max().item<double>();
    correct.push_back(item.correct(answer_text(tok, cfg, out)) ? 1 : 0);
    heur.push_back(top1 / static_cast<double>(out.size()) /
                   (1.0 + 0.1 * std::max<double>(0, static_cast<double>(out.size()) - 2)));
    step_logits.push_back(std::move(ls));
    chosen.push_back(std::move(out));
  }
  // Per temperature, each answer's summed log-probability; the length exponent is
  // then free to fit: a caption is right only when every word is, so the geometric
  // mean over words (exponent 1) overstates long answers.
  std::vector<double> temps;
  for (int k = 0; k <= 35; ++k) temps.push_back(0.5 + 0.1 * k);
  std::vector<std::vector<double>> sum_logp(temps.size());
  std::vector<double> words;
  for (size_t i = 0; i < chosen.size(); ++i) {
    auto logits = torch::stack(step_logits[i]);  // [steps, V]
    auto ids = torch::tensor(chosen[i], torch::kLong).unsqueeze(1);
    for (size_t k = 0; k < temps.size(); ++k)
      sum_logp[k].push_back(torch::log_softmax(logits / temps[k], -1).gather(1, ids).sum().item<double>());
    words.push_back(
        static_cast<double>(std::max<size_t>(1, chosen[i].size() - (chosen[i].back() == cfg.eos_id ? 1 : 0))));
  }
  auto conf_at = [&](size_t k, double beta) {
    std::vector<double> c;
    for (size_t i = 0; i < chosen.size(); ++i) c.push_back(std::exp(sum_logp[k][i] / std::pow(words[i], beta)));
    return c;
  };
  const size_t t1 = 5;  // temps[5] == 1.0
  const double ece_raw = ece(conf_at(t1, 1.0), correct);
  double best_t = 1, best_beta = 1, best_e = ece_raw;
  // A second free parameter needs a held-out set large enough for 15 bins to mean something.
  const int first_b = chosen.size() >= 500 ? 0 : 20;  // exponent 0.05 * b; 20: exponent 1 only
  for (size_t k = 0; k < temps.size(); ++k)
    for (int b = first_b; b <= 20; ++b) {
      const double e = ece(conf_at(k, 0.05 * b), correct);
      if (e < best_e - 1e-12) {
        best_e = e;
        best_t = temps[k];
        best_beta = 0.05 * b;
      }
    }
  const double ece_h = ece(heur, correct);
  const double acc = std::accumulate(correct.begin(), correct.end(), 0.0) / std::max<size_t>(1, correct.size());
  nlohmann::json j = {{"temperature", std::round(best_t * 100) / 100},
                      {"rank_temperature", std::round(best_t * 100) / 100},
                      {"length_exponent", std::round(best_beta * 100) / 100},
                      {"ece", best_e},
                      {"ece_uncalibrated", ece_raw},
                      {"ece_heuristic", ece_h},
                      {"default", ece_h < best_e ? "heuristic" : "calibrated"},
                      {"samples", count},
                      {"heldout_accuracy", acc},
                      {"bins", 15}};
  std::ofstream(model / "calibration.json") << j.dump(2) << "\n";
  if (log) {
    char buf[200];
    std::snprintf(
        buf, sizeof buf,
        "calibration: T=%.2f length exponent %.2f  ECE %.3f (T=1: %.3f, heuristic %.3f)  held-out accuracy %.3f",
        best_t, best_beta, best_e, ece_raw, ece_h, acc);
    log(buf);
  }
}

void calibrate(const fs::path& model, uint64_t seed, int count, const Log& log) {
  fit_calibration(
      model, count,
      [seed](int i) {
        // The spec's canvas sizes (64 to 1024 pixels), as users' images and the evaluation.
        auto s = std::make_shared<shapes::Sample>(
            shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(i)), shapes::GenOptions{}));
        return CalItem{image_from_mat(s->scene.rgb), s->question,
                       [s](const std::string& answer) { return answer_correct(*s, answer); }};
      },
      log);
}

}  // namespace core::train
