#include "core/train/trainer.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>

#include "core/engine/engine.h"
#include "core/engine/factory.h"
#include "core/error.h"
#include "core/io/config.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "core/torch_compat.h"
#include "core/train/shapes.h"
#include "core/vision/image.h"

namespace core::train {

namespace fs = std::filesystem;
using torch::Tensor;
using Clock = std::chrono::steady_clock;

namespace {

// Training scenes vary in size (the preprocessing resizes), but stay small to render fast.
shapes::GenOptions train_gen() {
  shapes::GenOptions g;
  g.vary_size = true;
  g.min_side = 64;
  g.max_side = 160;
  return g;
}

struct Batch {
  Tensor pixels, q_ids, q_mask, dec_in, dec_tgt;
};

Batch make_batch(const ModelConfig& cfg, const Tokenizer& tok, uint64_t seed, int64_t first, int n) {
  std::vector<float> pix;
  std::vector<std::vector<int64_t>> qs, as;
  size_t qmax = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    auto s = shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(first + i)), train_gen());
    auto p = preprocess(image_from_mat(s.scene.rgb), cfg.preprocess);
    pix.insert(pix.end(), p.begin(), p.end());
    qs.push_back(tok.encode(s.question).ids);
    auto a = tok.encode(s.answer, false).ids;
    a.push_back(cfg.eos_id);
    as.push_back(a);
    qmax = std::max(qmax, qs.back().size());
    amax = std::max(amax, a.size());
  }
  const int S = cfg.preprocess.size;
  Batch b;
  b.pixels = torch::from_blob(pix.data(), {n, 3, S, S}, torch::kFloat32).clone();
  b.q_ids = torch::full({n, static_cast<int64_t>(qmax)}, cfg.pad_id, torch::kLong);
  b.q_mask = torch::zeros({n, static_cast<int64_t>(qmax)}, torch::kLong);
  b.dec_in = torch::full({n, static_cast<int64_t>(amax)}, cfg.pad_id, torch::kLong);
  b.dec_tgt = torch::full({n, static_cast<int64_t>(amax)}, -100, torch::kLong);
  for (int i = 0; i < n; ++i) {
    for (size_t j = 0; j < qs[i].size(); ++j) {
      b.q_ids[i][static_cast<int64_t>(j)] = qs[i][j];
      b.q_mask[i][static_cast<int64_t>(j)] = 1;
    }
    b.dec_in[i][0] = cfg.bos_id;
    for (size_t j = 0; j < as[i].size(); ++j) {
      if (j + 1 < as[i].size()) b.dec_in[i][static_cast<int64_t>(j) + 1] = as[i][j];
      b.dec_tgt[i][static_cast<int64_t>(j)] = as[i][j];
    }
  }
  return b;
}

Tensor loss_of(Model& m, const Batch& b) {
  auto image = m->vision_model->forward(b.pixels);
  auto fused = m->text_encoder->forward(b.q_ids, b.q_mask, image);
  auto logits = m->text_decoder->forward(b.dec_in, fused, additive_mask(b.q_mask), nullptr, 0);
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), b.dec_tgt.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).label_smoothing(0.05));
}

double ece(const std::vector<double>& conf, const std::vector<int>& correct, int bins = 15) {
  std::vector<double> sc(bins), sa(bins);
  std::vector<int> cnt(bins);
  for (size_t i = 0; i < conf.size(); ++i) {
    const int b = std::min(bins - 1, static_cast<int>(conf[i] * bins));
    sc[b] += conf[i];
    sa[b] += correct[i];
    ++cnt[b];
  }
  double e = 0;
  for (int b = 0; b < bins; ++b)
    if (cnt[b]) e += std::abs(sa[b] - sc[b]) / static_cast<double>(conf.size());
  return e;
}

bool answer_correct(const shapes::Sample& s, const std::string& answer) {
  if (s.type == "describe") return shapes::caption_matches(answer, s.answer);
  return answer == s.answer;
}

}  // namespace

std::string EvalReport::to_json() const {
  nlohmann::json j = {{"count", count},
                      {"accuracy", accuracy},
                      {"per_type", per_type},
                      {"per_type_count", per_type_count},
                      {"ece_calibrated", ece_calibrated},
                      {"ece_heuristic", ece_heuristic},
                      {"accuracy_at_90_coverage", acc_at_90_coverage},
                      {"pointing_all_layers", pointing_all_layers},
                      {"pointing_grad_weighted", pointing_grad},
                      {"latency_p50_ms", latency_p50_ms},
                      {"latency_p95_ms", latency_p95_ms}};
  return j.dump(2);
}

void train(const TrainOptions& opt, const Log& log) {
  if (opt.out.empty()) throw Error(ErrorCode::BadArgument, "train needs an output folder");
  configure_compute_threads(opt.threads);
  torch::manual_seed(static_cast<uint64_t>(opt.seed));
  auto vocab = make_vocab(shapes::vocabulary());
  auto cfg = small_config(static_cast<int>(vocab.size()));
  cfg.vision.hidden = opt.hidden;
  cfg.vision.layers = opt.vision_layers;
  cfg.vision.heads = opt.heads;
  cfg.vision.intermediate = 2 * opt.hidden;
  cfg.text.hidden = opt.hidden;
  cfg.text.layers = opt.text_layers;
  cfg.text.decoder_layers = opt.decoder_layers;
  cfg.text.heads = opt.heads;
  cfg.text.intermediate = 2 * opt.hidden;
  cfg.fusion_layers.clear();
  for (int i = 0; i < opt.text_layers; ++i) cfg.fusion_layers.push_back(i);
  cfg.align_dim = 0;
  cfg.preprocess.mean = {0.5f, 0.5f, 0.5f};
  cfg.preprocess.std = {0.25f, 0.25f, 0.25f};
  cfg.answer_list = shapes::closed_answers();
  cfg.validate();
  auto tok = Tokenizer::from_tokens(vocab);
  Model m(cfg);
  m->init_weights(opt.seed);
  m->train();
  torch::optim::AdamW optim(m->parameters(), torch::optim::AdamWOptions(opt.lr).weight_decay(0.01));
  const auto t0 = Clock::now();
  const double budget_s = opt.minutes * 60.0;
  int64_t step = 0, seen = 0;
  double ema = 0;
  const int warmup = 200;
  for (;; ++step) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    if (opt.steps > 0 ? step >= opt.steps : elapsed >= budget_s) break;
    const double progress = opt.steps > 0 ? static_cast<double>(step) / opt.steps : elapsed / budget_s;
    const double lr = opt.lr * std::min(1.0, (step + 1.0) / warmup) * (0.5 * (1 + std::cos(M_PI * std::min(1.0, progress))) * 0.95 + 0.05);
    for (auto& g : optim.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    auto b = make_batch(cfg, tok, opt.seed, seen, opt.batch);
    seen += opt.batch;
    optim.zero_grad();
    auto loss = loss_of(m, b);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(m->parameters(), 1.0);
    optim.step();
    const double l = loss.item<double>();
    ema = step == 0 ? l : 0.98 * ema + 0.02 * l;
    if (step % 100 == 0 && log) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "step %lld  loss %.4f  lr %.2e  %.0f s", static_cast<long long>(step), ema, lr, elapsed);
      log(buf);
    }
  }
  m->eval();
  fs::create_directories(opt.out);
  save_config(cfg, opt.out);
  tok.save_vocab(opt.out / "vocab.txt");
  m->save_weights(opt.out / "model.safetensors");
  {
    nlohmann::json meta = {{"steps", step}, {"samples", seen}, {"seed", opt.seed}, {"final_loss", ema},
                           {"minutes", std::chrono::duration<double>(Clock::now() - t0).count() / 60.0}};
    std::ofstream(opt.out / "training.json") << meta.dump(2) << "\n";
  }
  if (log) log("trained " + std::to_string(step) + " steps on " + std::to_string(seen) + " samples");
  calibrate(opt.out, opt.seed + 1000003, opt.calibration_samples, log);
}

void calibrate(const fs::path& model, uint64_t seed, int count, const Log& log) {
  // Greedy answers with their per-step logits on held-out samples, then the
  // temperature minimising the ECE of the length-normalised probability.
  auto cfg = load_config(model);
  auto tok = Tokenizer::from_folder(model);
  Model m(cfg);
  m->load_weights(SafeTensors::open(model / "model.safetensors"));
  m->eval();
  compat::InferenceGuard guard;
  std::vector<std::vector<Tensor>> step_logits;  // per sample: [V] per chosen step
  std::vector<std::vector<int64_t>> chosen;
  std::vector<int> correct;
  std::vector<double> heur;
  for (int i = 0; i < count; ++i) {
    auto s = shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(i)), train_gen());
    auto p = preprocess(image_from_mat(s.scene.rgb), cfg.preprocess);
    auto image = m->vision_model->forward(torch::from_blob(p.data(), {1, 3, cfg.preprocess.size, cfg.preprocess.size}, torch::kFloat32));
    auto enc = tok.encode(s.question);
    auto ids = torch::tensor(enc.ids, torch::kLong).unsqueeze(0);
    auto f = m->text_encoder->forward(ids, torch::ones_like(ids), image);
    std::vector<LayerCache> cache;
    auto logits = m->text_decoder->forward(torch::full({1, 1}, cfg.bos_id, torch::kLong), f, {}, &cache, 0)[0][-1];
    std::vector<Tensor> ls;
    std::vector<int64_t> out;
    double top1 = 0;
    for (int t = 0; t < 30; ++t) {
      const int64_t next = logits.argmax().item<int64_t>();
      ls.push_back(logits.clone());
      out.push_back(next);
      top1 += torch::softmax(logits, -1).max().item<double>();
      if (next == cfg.eos_id) break;
      logits = m->text_decoder->forward(torch::full({1, 1}, next, torch::kLong), f, {}, &cache, t + 1)[0][-1];
    }
    std::vector<int64_t> body(out.begin(), out.end());
    if (!body.empty() && body.back() == cfg.eos_id) body.pop_back();
    correct.push_back(answer_correct(s, tok.decode(body, true)) ? 1 : 0);
    heur.push_back(top1 / static_cast<double>(out.size()) / (1.0 + 0.1 * std::max<double>(0, static_cast<double>(out.size()) - 2)));
    step_logits.push_back(std::move(ls));
    chosen.push_back(std::move(out));
  }
  auto conf_at = [&](double T) {
    std::vector<double> c;
    for (size_t i = 0; i < chosen.size(); ++i) {
      double lp = 0;
      for (size_t t = 0; t < chosen[i].size(); ++t)
        lp += torch::log_softmax(step_logits[i][t] / T, -1)[chosen[i][t]].item<double>();
      const size_t words = chosen[i].size() - (chosen[i].back() == cfg.eos_id ? 1 : 0);
      c.push_back(std::exp(lp / static_cast<double>(std::max<size_t>(1, words))));
    }
    return c;
  };
  double best_t = 1, best_e = ece(conf_at(1.0), correct);
  const double ece_raw = best_e;
  for (double T = 0.5; T <= 4.0; T += 0.1) {
    const double e = ece(conf_at(T), correct);
    if (e < best_e) {
      best_e = e;
      best_t = T;
    }
  }
  const double ece_h = ece(heur, correct);
  const double acc = std::accumulate(correct.begin(), correct.end(), 0.0) / std::max<size_t>(1, correct.size());
  nlohmann::json j = {{"temperature", std::round(best_t * 100) / 100},
                      {"rank_temperature", std::round(best_t * 100) / 100},
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
    std::snprintf(buf, sizeof buf, "calibration: T=%.2f  ECE %.3f (T=1: %.3f, heuristic %.3f)  held-out accuracy %.3f",
                  best_t, best_e, ece_raw, ece_h, acc);
    log(buf);
  }
}

EvalReport evaluate(const fs::path& model, uint64_t seed, int count, const Log& log) {
  auto engine = Engine::load(model, Options{Device::Cpu});
  EvalReport rep;
  std::vector<double> conf, heur, lat;
  std::vector<int> correct;
  std::map<std::string, int> right;
  int point_n = 0, point_all = 0, point_grad = 0;
  for (int i = 0; i < count; ++i) {
    auto s = shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(i)), shapes::GenOptions{});
    auto img = image_from_mat(s.scene.rgb);
    auto t0 = Clock::now();
    AskOptions o;
    o.beams = 1;
    o.max_new_tokens = 30;
    auto r = engine->ask(engine->encode(img), s.question, o);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    const bool ok = !r.answers.empty() && answer_correct(s, r.answers.front().text);
    correct.push_back(ok);
    conf.push_back(r.answers.empty() ? 0 : r.answers.front().confidence);
    heur.push_back(r.answers.empty() ? 0 : r.answers.front().heuristic);
    right[s.type] += ok;
    rep.per_type_count[s.type] += 1;
    if (s.referred >= 0 && !r.answers.empty()) {
      // pointing game: the heatmap's maximum inside the referred mask dilated by 3%
      const auto& obj = s.scene.objects[static_cast<size_t>(s.referred)];
      const int d = std::max(1, static_cast<int>(0.03 * std::min(s.scene.width(), s.scene.height())));
      cv::Mat dil;
      cv::dilate(obj.mask, dil, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * d + 1, 2 * d + 1}));
      auto hit = [&](HeatmapMethod meth) {
        HeatmapRequest req;
        req.method = meth;
        auto map = engine->heatmap(r, req);
        const auto best = std::max_element(map.data.begin(), map.data.end()) - map.data.begin();
        const int gw = static_cast<int>(map.shape[1]), gh = static_cast<int>(map.shape[0]);
        const int x = static_cast<int>((best % gw + 0.5) * s.scene.width() / gw);
        const int y = static_cast<int>((best / gw + 0.5) * s.scene.height() / gh);
        return dil.at<uint8_t>(std::min(y, dil.rows - 1), std::min(x, dil.cols - 1)) > 0;
      };
      ++point_n;
      point_all += hit(HeatmapMethod::AllLayers);
      point_grad += hit(HeatmapMethod::GradWeighted);
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
  for (size_t i = 0; i < keep; ++i) ok90 += correct[order[i]];
  rep.acc_at_90_coverage = ok90 / static_cast<double>(keep);
  rep.pointing_all_layers = point_n ? static_cast<double>(point_all) / point_n : 0;
  rep.pointing_grad = point_n ? static_cast<double>(point_grad) / point_n : 0;
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    rep.latency_p50_ms = lat[lat.size() / 2];
    rep.latency_p95_ms = lat[std::min(lat.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(lat.size())))];
  }
  if (log) log(rep.to_json());
  return rep;
}

}  // namespace core::train
