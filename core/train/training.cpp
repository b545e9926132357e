#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/model/factory.h"
#include "core/error.h"
#include "core/train/batch.h"
#include "core/train/checkpoint.h"
#include "core/train/distributed.h"
#include "core/train/flat_adamw.h"
#include "core/train/greedy.h"
#include "core/train/losses.h"
#include "core/train/scoring.h"
#include "core/train/stages.h"
#include "core/train/trainer.h"

namespace core::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void check_options(const TrainOptions& opt) {
  if (opt.out.empty()) throw Error(ErrorCode::BadArgument, "train needs an output folder");
  if (opt.curriculum != "loss" && opt.curriculum != "excess" && opt.curriculum != "error")
    throw Error(ErrorCode::BadArgument, "unknown curriculum '" + opt.curriculum + "' (known: loss, excess, error)");
  if (!(opt.curriculum_alpha >= 0 && opt.curriculum_alpha <= 1))
    throw Error(ErrorCode::BadArgument, "the curriculum's share must be 0 to 1");
  if (!(opt.curriculum_objects >= 0 && opt.curriculum_objects <= 1))
    throw Error(ErrorCode::BadArgument, "the object-count curriculum's share must be 0 to 1");
}

ModelConfig model_config(const TrainOptions& opt, int vocab_size) {
  auto cfg = small_config(vocab_size);
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
  return cfg;
}

// A training-only head over the per-patch classes; its parameters join `params`.
torch::nn::Linear training_head(bool wanted, int64_t in, std::vector<Tensor>& params) {
  if (!wanted) return torch::nn::Linear(nullptr);
  const auto cls = dense_classes();
  torch::nn::Linear h(in, std::accumulate(cls.begin(), cls.end(), int64_t{0}));
  for (auto& p : h->parameters()) params.push_back(p);
  return h;
}

Aux aux_of(const TrainOptions& opt, torch::nn::Linear& dense, torch::nn::Linear& refer, const Tokenizer& tok) {
  Aux aux;
  aux.dense = dense.is_empty() ? nullptr : &dense;
  aux.refer = refer.is_empty() ? nullptr : &refer;
  aux.dense_weight = opt.dense_weight;
  aux.dense_object_share = opt.dense_object_share;
  aux.ground_weight = opt.ground_weight;
  aux.refer_weight = opt.refer_weight;
  aux.cls_id = tok.cls_id();
  aux.sep_id = tok.sep_id();
  return aux;
}

// How a step's images spread over the ranks.
struct Layout {
  int world = 1, rank = 0;
  int per_image = 1;     // questions about each image in stage 2
  int images = 0;        // a step's images, over all ranks
  int local_images = 0;  // this rank's
  bool lead = true;      // logs, checkpoints and the model folder
};

Layout layout_of(const TrainOptions& opt, const DataParallel* dp) {
  Layout l;
  l.world = dp ? dp->world() : 1;
  l.rank = dp ? dp->rank() : 0;
  l.per_image = opt.questions_per_image;
  if (l.per_image < 1 || opt.batch % l.per_image != 0)
    throw Error(ErrorCode::BadArgument, "the batch (" + std::to_string(opt.batch) +
                                            ") must be a multiple of the questions per image (" +
                                            std::to_string(l.per_image) + ")");
  l.images = opt.batch / l.per_image;
  if (l.images < 2) throw Error(ErrorCode::BadArgument, "a step needs at least 2 images (contrastive loss)");
  if (l.images % l.world != 0)
    throw Error(ErrorCode::BadArgument, "the batch's " + std::to_string(l.images) + " images must split evenly over " +
                                            std::to_string(l.world) + " ranks");
  l.local_images = l.images / l.world;
  l.lead = l.rank == 0;
  return l;
}

// What one run trains: the model, its heads and optimiser, and where they run.
struct Setup {
  const TrainOptions& opt;
  const Log& log;
  const ModelConfig& cfg;
  const Tokenizer& tok;
  Model& m;
  const Heads& heads;
  FlatAdamW& optim;
  const Aux& aux;
  DataParallel* dp;
  const Layout& lay;
  double smoothing_floor;
};

class Loop {
 public:
  Loop(const Setup& s, LoopState& st)
      : s_(s), st_(st), t0_(Clock::now()), last_log_s_(elapsed()), last_log_seen_(st.seen) {}

  void run() {
    for (;; ++st_.step) {
      const double now = shared_clock();
      if (s_.opt.steps > 0 ? st_.step >= s_.opt.steps : now >= s_.opt.minutes * 60.0) break;
      const StepSchedule sched = schedule(s_.opt, st_.step, now);
      step(sched);
      if (s_.lay.lead && s_.opt.checkpoint_every > 0 && st_.step > 0 && st_.step % s_.opt.checkpoint_every == 0)
        save_checkpoint(s_.opt.out / "checkpoint", s_.m, s_.heads, s_.optim, s_.cfg, s_.tok, state());
      if (s_.lay.lead && st_.step % 200 == 0 && s_.log) report(sched);
    }
  }
  double elapsed() const { return st_.spent_s + std::chrono::duration<double>(Clock::now() - t0_).count(); }
  nlohmann::json state() const { return st_.to_json(elapsed(), s_.opt.seed); }

 private:
  // Rank 0's clock decides the schedule and when to stop, for every rank.
  double shared_clock() const {
    double now = elapsed();
    if (s_.dp) {
      std::vector<Tensor> t{torch::full({1}, now, torch::kFloat64)};
      s_.dp->broadcast(t);
      now = t[0].item<double>();
    }
    return now;
  }

  void step(const StepSchedule& sched) {
    const Layout& lay = s_.lay;
    const int k = sched.stage1 ? 1 : lay.per_image;  // questions per image this step
    const int questions = lay.images * k, local = lay.local_images * k;
    const auto batch_types = step_types(s_.opt, sched, st_.step, questions, st_, s_.smoothing_floor);
    // This rank's share of the step: images seen + rank * local_images ...
    const std::vector<std::string> mine(batch_types.begin() + lay.rank * local,
                                        batch_types.begin() + (lay.rank + 1) * local);
    auto b =
        make_batch(s_.cfg, s_.tok, s_.opt.seed, st_.seen_images + lay.rank * lay.local_images, mine, parts(sched, k));
    st_.seen += questions;
    st_.seen_images += lay.images;
    s_.optim.zero_grad();
    auto loss = loss_of(s_.m, b, s_.dp, s_.aux);
    loss.total.backward();
    if (s_.dp) {
      std::vector<Tensor> g{s_.optim.grad()};
      s_.dp->sum(g);
    }
    s_.optim.clip_grad_norm(1.0);
    s_.optim.step(sched.lr);
    update(st_, figures(loss, b, local), static_cast<int>(shapes::question_types().size()));
  }

  BatchParts parts(const StepSchedule& sched, int k) const {
    BatchParts p;
    p.align = s_.cfg.align_dim > 0;
    p.dense = s_.aux.dense != nullptr;
    p.ground = s_.opt.ground_weight > 0;
    p.refer = s_.aux.refer != nullptr;
    p.per_image = k;
    p.relation_share = s_.opt.ground_relation_share;
    p.compare_share = s_.opt.ground_compare_share;
    p.canvas_max = s_.opt.canvas_max;
    p.object_odds = object_odds(s_.opt, sched, st_.object_error);
    return p;
  }

  StepFigures figures(const Losses& loss, const Batch& b, int local) const {
    const int ntypes = static_cast<int>(shapes::question_types().size());
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
    if (s_.dp) {
      std::vector<Tensor> v{stats};
      s_.dp->sum(v);
    }
    StepFigures f;
    f.stats.assign(stats.data_ptr<double>(), stats.data_ptr<double>() + stats.numel());
    f.answer_loss = f.stats[0];
    f.itc = loss.itc;
    f.dense = loss.dense;
    f.ground = loss.ground;
    f.ground_n = loss.ground_n;
    f.refer = loss.refer;
    return f;
  }

  // The progress line, with the held-out accuracy on 48 fresh samples (seeds apart from training's).
  void report(const StepSchedule& sched) {
    const TrainOptions& opt = s_.opt;
    s_.m->eval();
    int right = 0;
    {
      torch::NoGradGuard ng;
      for (int i = 0; i < 48; ++i) {
        auto s = shapes::make_sample(shapes::mix_seed(opt.seed + 555557, static_cast<uint64_t>(i)),
                                     train_gen(opt.canvas_max));
        right += answer_correct(s, greedy(s_.m, s_.cfg, s_.tok, s));
      }
    }
    s_.m->train();
    const double t = elapsed();
    const double rate = static_cast<double>(st_.seen - last_log_seen_) / std::max(1e-9, t - last_log_s_);
    last_log_s_ = t;
    last_log_seen_ = st_.seen;
    const double left =
        opt.steps > 0 ? (opt.steps - st_.step) * opt.batch / std::max(rate, 1e-9) : opt.minutes * 60.0 - t;
    char buf[260];
    std::snprintf(buf, sizeof buf,
                  "step %lld %s loss %.3f (contrastive %.3f, patches %.3f, grounding %.3f, referred %.3f)  held-out "
                  "acc %.2f  lr %.2e  %.0f samples/s  %.0f s left",
                  static_cast<long long>(st_.step), sched.stage1 ? "[stage 1]" : "[stage 2]", st_.ema, st_.itc_ema,
                  st_.dense_ema, st_.ground_ema, st_.refer_ema, right / 48.0, sched.lr, rate, left);
    s_.log(buf);
  }

  const Setup& s_;
  LoopState& st_;
  const Clock::time_point t0_;
  double last_log_s_;
  int64_t last_log_seen_;
};

void write_model(const Setup& s, const Loop& loop, const LoopState& st) {
  const TrainOptions& opt = s.opt;
  fs::create_directories(opt.out);
  save_config(s.cfg, opt.out);
  s.tok.save_vocab(opt.out / "vocab.txt");
  s.m->save_weights(opt.out / "model.safetensors");
  if (opt.checkpoint_every > 0)
    save_checkpoint(opt.out / "checkpoint", s.m, s.heads, s.optim, s.cfg, s.tok, loop.state());
  nlohmann::json meta = loop.state();
  meta["minutes"] = loop.elapsed() / 60.0;
  meta["final_loss"] = st.ema;
  meta["batch"] = opt.batch;
  meta["lr"] = opt.lr;
  meta["hidden"] = opt.hidden;
  meta["dense_weight"] = opt.dense_weight;
  meta["dense_object_share"] = opt.dense_object_share;
  meta["ground_weight"] = opt.ground_weight;
  meta["refer_weight"] = opt.refer_weight;
  meta["ground_relation_share"] = opt.ground_relation_share;
  meta["ground_compare_share"] = opt.ground_compare_share;
  meta["questions_per_image"] = s.lay.per_image;
  meta["canvas_max"] = opt.canvas_max;
  meta["curriculum"] = opt.curriculum;
  meta["curriculum_alpha"] = opt.curriculum_alpha;
  meta["curriculum_objects"] = opt.curriculum_objects;
  meta["image_size"] = opt.image_size;
  meta["ranks"] = s.lay.world;
  meta["types"] = shapes::question_types();
  std::ofstream(opt.out / "training.json") << meta.dump(2) << "\n";
}

}  // namespace

void train(const TrainOptions& opt, const Log& log) {
  check_options(opt);
  configure_compute_threads(opt.threads);
  torch::manual_seed(static_cast<uint64_t>(opt.seed));
  auto vocab = make_vocab(shapes::vocabulary());
  const auto cfg = model_config(opt, static_cast<int>(vocab.size()));
  auto tok = Tokenizer::from_tokens(vocab);
  Model m(cfg);
  m->init_weights(opt.seed);
  m->train();
  // Training-only heads: per-patch attributes, so the vision tokens say what lies where
  // (dense), and the referred object's attributes and place from the fused question (refer).
  auto params = m->parameters();
  torch::nn::Linear dense = training_head(opt.dense_weight > 0, cfg.vision.hidden, params);
  torch::nn::Linear refer = training_head(opt.refer_weight > 0, cfg.text.hidden, params);
  const Heads heads{{"dense", dense}, {"refer", refer}};
  FlatAdamW optim(params, 0.01);
  const Aux aux = aux_of(opt, dense, refer, tok);
  auto dp = DataParallel::from_env(std::chrono::milliseconds(static_cast<int64_t>(opt.dist_timeout_s * 1000)));
  const Layout lay = layout_of(opt, dp.get());
  LoopState st(static_cast<int>(shapes::question_types().size()));
  if (opt.resume) {
    st.restore(load_checkpoint(opt.out / "checkpoint", m, heads, optim));
    if (log && lay.lead) log("resumed at step " + std::to_string(st.step));
  }
  if (dp) {  // same start everywhere, whatever each rank's seed or checkpoint copy
    std::vector<Tensor> start;
    {
      torch::NoGradGuard ng;
      for (auto& p : params) start.push_back(p.data());
      dp->broadcast(start);
    }
    if (log && lay.lead)
      log("data parallel: " + std::to_string(lay.world) + " ranks, " + std::to_string(lay.local_images) +
          " images each per step");
  }
  const Setup setup{opt,
                    log,
                    cfg,
                    tok,
                    m,
                    heads,
                    optim,
                    aux,
                    dp.get(),
                    lay,
                    label_smoothing_floor(cfg.text.vocab_size, kLabelSmoothing)};
  Loop loop(setup, st);
  loop.run();
  m->eval();
  if (!lay.lead) return;
  write_model(setup, loop, st);
  if (log) log("trained " + std::to_string(st.step) + " steps on " + std::to_string(st.seen) + " samples");
  calibrate(opt.out, opt.seed + 1000003, opt.calibration_samples, log);
}

}  // namespace core::train
