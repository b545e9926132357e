#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>

#include "core/engine/engine.h"
#include "core/engine/factory.h"
#include "core/error.h"
#include "core/train/batch.h"
#include "core/train/checkpoint.h"
#include "core/train/distributed.h"
#include "core/train/flat_adamw.h"
#include "core/train/greedy.h"
#include "core/train/losses.h"
#include "core/train/scoring.h"
#include "core/train/trainer.h"

namespace core::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void train(const TrainOptions& opt, const Log& log) {
  if (opt.out.empty()) throw Error(ErrorCode::BadArgument, "train needs an output folder");
  if (opt.curriculum != "loss" && opt.curriculum != "excess" && opt.curriculum != "error")
    throw Error(ErrorCode::BadArgument, "unknown curriculum '" + opt.curriculum + "' (known: loss, excess, error)");
  if (!(opt.curriculum_alpha >= 0 && opt.curriculum_alpha <= 1))
    throw Error(ErrorCode::BadArgument, "the curriculum's share must be 0 to 1");
  if (!(opt.curriculum_objects >= 0 && opt.curriculum_objects <= 1))
    throw Error(ErrorCode::BadArgument, "the object-count curriculum's share must be 0 to 1");
  configure_compute_threads(opt.threads);
  torch::manual_seed(static_cast<uint64_t>(opt.seed));
  auto vocab = make_vocab(shapes::vocabulary());
  auto cfg = small_config(static_cast<int>(vocab.size()));
  cfg.vision.hidden = opt.hidden;
  cfg.vision.image_size = opt.image_size;
  cfg.vision.patch_size = opt.patch;
  cfg.vision.stem = opt.stem;
  cfg.vision.stem_tile_kernel = opt.stem_tile_kernel;
  cfg.preprocess.size = opt.image_size;
  cfg.preprocess.patch = opt.patch;
  cfg.preprocess.keep_aspect = opt.keep_aspect;
  cfg.queries = opt.queries;
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
  cfg.align_dim = opt.align_dim;
  cfg.preprocess.mean = {0.5f, 0.5f, 0.5f};
  cfg.preprocess.std = {0.25f, 0.25f, 0.25f};
  cfg.answer_list = shapes::closed_answers();
  cfg.validate();
  auto tok = Tokenizer::from_tokens(vocab);
  Model m(cfg);
  m->init_weights(opt.seed);
  m->train();
  // Training-only heads: per-patch attributes, so the vision tokens say what lies where
  // (dense), and the referred object's attributes and place from the fused question (refer).
  auto params = m->parameters();
  auto head = [&](bool wanted, int64_t in) {
    if (!wanted) return torch::nn::Linear(nullptr);
    const auto cls = dense_classes();
    torch::nn::Linear h(in, std::accumulate(cls.begin(), cls.end(), int64_t{0}));
    for (auto& p : h->parameters()) params.push_back(p);
    return h;
  };
  torch::nn::Linear dense = head(opt.dense_weight > 0, cfg.vision.hidden);
  torch::nn::Linear refer = head(opt.refer_weight > 0, cfg.text.hidden);
  const Heads heads{{"dense", dense}, {"refer", refer}};
  FlatAdamW optim(params, 0.01);
  Aux aux;
  aux.dense = dense.is_empty() ? nullptr : &dense;
  aux.refer = refer.is_empty() ? nullptr : &refer;
  aux.dense_weight = opt.dense_weight;
  aux.dense_object_share = opt.dense_object_share;
  aux.ground_weight = opt.ground_weight;
  aux.refer_weight = opt.refer_weight;
  aux.cls_id = tok.cls_id();
  aux.sep_id = tok.sep_id();
  auto dp = DataParallel::from_env(std::chrono::milliseconds(static_cast<int64_t>(opt.dist_timeout_s * 1000)));
  const int world = dp ? dp->world() : 1, rank = dp ? dp->rank() : 0;
  const int per_image = opt.questions_per_image;
  if (per_image < 1 || opt.batch % per_image != 0)
    throw Error(ErrorCode::BadArgument, "the batch (" + std::to_string(opt.batch) + ") must be a multiple of the questions per image (" +
                                            std::to_string(per_image) + ")");
  const int images = opt.batch / per_image;  // a step's images, over all ranks
  if (images < 2) throw Error(ErrorCode::BadArgument, "a step needs at least 2 images (contrastive loss)");
  if (images % world != 0)
    throw Error(ErrorCode::BadArgument, "the batch's " + std::to_string(images) + " images must split evenly over " +
                                            std::to_string(world) + " ranks");
  const int local_images = images / world;
  const bool lead = rank == 0;  // logs, checkpoints and the model folder

  const auto& types = shapes::question_types();
  const int ntypes = static_cast<int>(types.size());
  const fs::path ckpt = opt.out / "checkpoint";
  int64_t step = 0, seen = 0, seen_images = 0;  // questions and images trained on
  double ema = 0, first_loss = 0, answer_ema = 0, first_answer_loss = 0, dense_ema = 0, first_dense_loss = 0,
         ground_ema = 0, first_ground_loss = 0, refer_ema = 0, first_refer_loss = 0, spent_s = 0;  // spent_s: training seconds of earlier runs (resume)
  std::vector<double> type_loss(static_cast<size_t>(ntypes), 1.0), type_error(static_cast<size_t>(ntypes), 1.0);
  constexpr int kCounts = 5;  // scenes of 1..5 objects
  // By type, then object count. From 0, not 1 as the types: a count a type is never asked
  // about (a comparison needs two objects) must not draw scenes only to redraw them.
  std::vector<double> object_error(static_cast<size_t>(ntypes * kCounts), 0.0);
  const double smoothing_floor = label_smoothing_floor(cfg.text.vocab_size, kLabelSmoothing);
  if (opt.resume) {
    auto st = load_checkpoint(ckpt, m, heads, optim);
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
    if (static_cast<int>(type_loss.size()) != ntypes) throw Error(ErrorCode::BadConfig, "checkpoint: type_loss has the wrong length");
    if (st.contains("type_error")) type_error = st.at("type_error").get<std::vector<double>>();
    if (static_cast<int>(type_error.size()) != ntypes) throw Error(ErrorCode::BadConfig, "checkpoint: type_error has the wrong length");
    if (st.contains("object_error")) object_error = st.at("object_error").get<std::vector<double>>();
    if (static_cast<int>(object_error.size()) != ntypes * kCounts)
      throw Error(ErrorCode::BadConfig, "checkpoint: object_error has the wrong length");
    if (log && lead) log("resumed at step " + std::to_string(step));
  }
  if (dp) {  // same start everywhere, whatever each rank's seed or checkpoint copy
    std::vector<Tensor> start;
    {
      torch::NoGradGuard ng;
      for (auto& p : params) start.push_back(p.data());
      dp->broadcast(start);
    }
    if (log && lead)
      log("data parallel: " + std::to_string(world) + " ranks, " + std::to_string(local_images) + " images each per step");
  }
  const auto t0 = Clock::now();
  const double budget_s = opt.minutes * 60.0;
  const int warmup = 200;
  auto elapsed = [&] { return spent_s + std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto state = [&] {
    return nlohmann::json{{"step", step}, {"samples", seen}, {"images", seen_images}, {"loss", ema}, {"first_loss", first_loss},
                          {"answer_loss", answer_ema}, {"first_answer_loss", first_answer_loss}, {"seconds", elapsed()},
                          {"type_loss", type_loss}, {"type_error", type_error}, {"object_error", object_error}, {"seed", opt.seed}, {"patch_loss", dense_ema},
                          {"first_patch_loss", first_dense_loss}, {"grounding_loss", ground_ema},
                          {"refer_loss", refer_ema}, {"first_refer_loss", first_refer_loss},
                          {"first_grounding_loss", first_ground_loss}};
  };
  double itc_ema = 0, last_log_s = elapsed();
  int64_t last_log_seen = seen;
  for (;; ++step) {
    double now = elapsed();
    if (dp) {  // rank 0's clock decides the schedule and when to stop, for every rank
      std::vector<Tensor> t{torch::full({1}, now, torch::kFloat64)};
      dp->broadcast(t);
      now = t[0].item<double>();
    }
    if (opt.steps > 0 ? step >= opt.steps : now >= budget_s) break;
    const double progress = std::min(1.0, opt.steps > 0 ? static_cast<double>(step) / opt.steps : now / budget_s);
    const double lr = opt.lr * std::min(1.0, (step + 1.0) / warmup) * (0.5 * (1 + std::cos(M_PI * progress)) * 0.95 + 0.05);
    // Stage 1 (alignment and captioning): describe questions only. Stage 2: every
    // type, drawn more often the higher its running loss, more so as training goes.
    std::vector<std::string> batch_types;
    shapes::Rng pick(shapes::mix_seed(opt.seed ^ 0x5EEDC0DEull, static_cast<uint64_t>(step)));
    const bool stage1 = progress < opt.stage1_fraction;
    const double alpha = stage1 ? 0 : opt.curriculum_alpha * std::min(1.0, (progress - opt.stage1_fraction) / 0.3);
    // Hardness of a type: its running loss, what it has above the loss that label
    // smoothing leaves on a perfectly answered token, or its running error rate.
    std::vector<double> hardness = opt.curriculum == "error" ? type_error : type_loss;
    if (opt.curriculum != "loss")
      for (auto& h : hardness) h = std::max(h - (opt.curriculum == "excess" ? smoothing_floor : 0.0), 1e-3);
    const double total_loss = std::accumulate(hardness.begin(), hardness.end(), 0.0);
    const int k = stage1 ? 1 : per_image;  // questions per image this step
    const int questions = images * k, local = local_images * k;
    for (int i = 0; i < questions; ++i) {
      if (stage1) {
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
    // This rank's share of the step: images seen + rank * local_images ...
    const std::vector<std::string> mine(batch_types.begin() + rank * local, batch_types.begin() + (rank + 1) * local);
    BatchParts parts;
    parts.align = cfg.align_dim > 0;
    parts.dense = !dense.is_empty();
    parts.ground = opt.ground_weight > 0;
    parts.refer = !refer.is_empty();
    parts.per_image = k;
    parts.relation_share = opt.ground_relation_share;
    parts.compare_share = opt.ground_compare_share;
    parts.canvas_max = opt.canvas_max;
    // Within a type, scenes of each object count drawn by its running error, as the types are.
    const double beta = stage1 ? 0 : opt.curriculum_objects * std::min(1.0, (progress - opt.stage1_fraction) / 0.3);
    if (beta > 0)
      for (int t = 0; t < ntypes; ++t) {
        const auto row = object_error.begin() + t * kCounts;
        double sum = 0;
        for (int c = 0; c < kCounts; ++c) sum += std::max(row[c], 1e-3);
        std::array<double, kCounts> odds{};
        for (int c = 0; c < kCounts; ++c) odds[static_cast<size_t>(c)] = (1 - beta) / kCounts + beta * std::max(row[c], 1e-3) / sum;
        parts.object_odds.push_back(odds);
      }
    auto b = make_batch(cfg, tok, opt.seed, seen_images + rank * local_images, mine, parts);
    seen += questions;
    seen_images += images;
    optim.zero_grad();
    auto loss = loss_of(m, b, dp.get(), aux);
    loss.total.backward();
    if (dp) {
      std::vector<Tensor> g{optim.grad()};
      dp->sum(g);
    }
    optim.clip_grad_norm(1.0);
    optim.step(lr);
    // Figures of the global batch: answer loss, and per type the loss sum, count and wrong answers.
    // ... and per type and object count the questions and wrong answers.
    const int by_count = 1 + 3 * ntypes;
    auto stats = torch::zeros({by_count + 2 * ntypes * kCounts}, torch::kFloat64);
    stats[0] = loss.lm_part;
    auto per = loss.per_sample.accessor<float, 1>();
    auto wrong = loss.per_sample_wrong.accessor<float, 1>();
    for (int i = 0; i < local; ++i) {
      const int t = b.type[static_cast<size_t>(i)];
      stats[1 + t] += per[i];
      stats[1 + ntypes + t] += 1;
      stats[1 + 2 * ntypes + t] += wrong[i];
      const int c = t * kCounts + std::clamp(b.objects[static_cast<size_t>(i)], 1, kCounts) - 1;
      stats[by_count + 2 * c] += 1;
      stats[by_count + 2 * c + 1] += wrong[i];
    }
    if (dp) {
      std::vector<Tensor> v{stats};
      dp->sum(v);
    }
    const double lm = stats[0].item<double>(), l = lm + loss.itc;
    if (step == 0) first_loss = l, first_answer_loss = lm, first_dense_loss = loss.dense;
    ema = step == 0 ? l : 0.98 * ema + 0.02 * l;
    answer_ema = step == 0 ? lm : 0.98 * answer_ema + 0.02 * lm;
    itc_ema = step == 0 ? loss.itc : 0.98 * itc_ema + 0.02 * loss.itc;
    dense_ema = step == 0 ? loss.dense : 0.98 * dense_ema + 0.02 * loss.dense;
    if (loss.ground_n > 0) {  // stage 1's captions refer to no object
      if (first_ground_loss == 0) first_ground_loss = ground_ema = loss.ground;
      ground_ema = 0.98 * ground_ema + 0.02 * loss.ground;
    }
    if (loss.refer > 0) {  // as grounding: stage 1 has no referred objects
      if (first_refer_loss == 0) first_refer_loss = refer_ema = loss.refer;
      refer_ema = 0.98 * refer_ema + 0.02 * loss.refer;
    }
    for (int t = 0; t < ntypes; ++t) {
      const double n = stats[1 + ntypes + t].item<double>();
      if (n == 0) continue;
      const double keep = std::pow(0.99, n);
      type_loss[static_cast<size_t>(t)] = keep * type_loss[static_cast<size_t>(t)] + (1 - keep) * stats[1 + t].item<double>() / n;
      type_error[static_cast<size_t>(t)] =
          keep * type_error[static_cast<size_t>(t)] + (1 - keep) * stats[1 + 2 * ntypes + t].item<double>() / n;
    }
    for (int c = 0; c < ntypes * kCounts; ++c) {
      const double n = stats[by_count + 2 * c].item<double>();
      if (n == 0) continue;
      const double keep = std::pow(0.99, n);
      auto& e = object_error[static_cast<size_t>(c)];
      e = keep * e + (1 - keep) * stats[by_count + 2 * c + 1].item<double>() / n;
    }
    if (lead && opt.checkpoint_every > 0 && step > 0 && step % opt.checkpoint_every == 0)
      save_checkpoint(ckpt, m, heads, optim, cfg, tok, state());
    if (lead && step % 200 == 0 && log) {
      // held-out accuracy on 48 fresh samples (seeds apart from training's)
      m->eval();
      int right = 0;
      {
        torch::NoGradGuard ng;
        for (int i = 0; i < 48; ++i) {
          auto s = shapes::make_sample(shapes::mix_seed(opt.seed + 555557, static_cast<uint64_t>(i)), train_gen(opt.canvas_max));
          right += answer_correct(s, greedy(m, cfg, tok, s));
        }
      }
      m->train();
      const double t = elapsed();
      const double rate = static_cast<double>(seen - last_log_seen) / std::max(1e-9, t - last_log_s);
      last_log_s = t;
      last_log_seen = seen;
      const double left = opt.steps > 0 ? (opt.steps - step) * opt.batch / std::max(rate, 1e-9) : budget_s - t;
      char buf[260];
      std::snprintf(buf, sizeof buf,
                    "step %lld %s loss %.3f (contrastive %.3f, patches %.3f, grounding %.3f, referred %.3f)  held-out acc %.2f  lr %.2e  %.0f samples/s  %.0f s left",
                    static_cast<long long>(step), stage1 ? "[stage 1]" : "[stage 2]", ema, itc_ema, dense_ema, ground_ema, refer_ema,
                    right / 48.0, lr, rate, left);
      log(buf);
    }
  }
  m->eval();
  if (!lead) return;
  fs::create_directories(opt.out);
  save_config(cfg, opt.out);
  tok.save_vocab(opt.out / "vocab.txt");
  m->save_weights(opt.out / "model.safetensors");
  if (opt.checkpoint_every > 0) save_checkpoint(ckpt, m, heads, optim, cfg, tok, state());
  {
    nlohmann::json meta = state();
    meta["minutes"] = elapsed() / 60.0;
    meta["final_loss"] = ema;
    meta["batch"] = opt.batch;
    meta["lr"] = opt.lr;
    meta["hidden"] = opt.hidden;
    meta["dense_weight"] = opt.dense_weight;
    meta["dense_object_share"] = opt.dense_object_share;
    meta["ground_weight"] = opt.ground_weight;
    meta["refer_weight"] = opt.refer_weight;
    meta["ground_relation_share"] = opt.ground_relation_share;
    meta["ground_compare_share"] = opt.ground_compare_share;
    meta["questions_per_image"] = per_image;
    meta["canvas_max"] = opt.canvas_max;
    meta["curriculum"] = opt.curriculum;
    meta["curriculum_alpha"] = opt.curriculum_alpha;
    meta["curriculum_objects"] = opt.curriculum_objects;
    meta["image_size"] = opt.image_size;
    meta["ranks"] = world;
    meta["types"] = types;
    std::ofstream(opt.out / "training.json") << meta.dump(2) << "\n";
  }
  if (log) log("trained " + std::to_string(step) + " steps on " + std::to_string(seen) + " samples");
  calibrate(opt.out, opt.seed + 1000003, opt.calibration_samples, log);
}

}  // namespace core::train
