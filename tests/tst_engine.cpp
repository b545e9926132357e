// Engine and model invariants on a small random-weight Open-AutoGLM model
// written by the test (gates, routing, alignment heads, tied LM head).
#include <QtTest>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>

#if defined(__GLIBC__)
#include <sys/resource.h>
#endif

#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/model/factory.h"
#include "core/model/linear.h"
#include "core/bench/flops.h"
#include "core/io/config.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"
#include "core/model/autoglm/model.h"
#include "core/train/trainer.h"
#include "core/torch_compat.h"
#include "core/vision/image.h"
#include "testutil.h"

using namespace core;
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

const std::vector<std::string> kWords = {"what",  "color", "is",       "the",   "star", "circle",  "red",   "blue",
                                         "green", "yes",   "no",       "how",   "many", "objects", "are",   "there",
                                         "?",     ".",     "describe", "image", "a",    "small",   "large", "one",
                                         "two",   "three", "left",     "right", "top",  "bottom"};

Image test_image(int w, int h, uint8_t seed) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i)
    img.rgb[i] = static_cast<uint8_t>((i * 31 + seed * 17 + (i / 97) * 5) & 0xff);
  return img;
}

// Larger random weights than the default init, so greedy choices are not near ties.
void write_model(const fs::path& dir, bool pre_norm = false, bool conv_stem = false) {
  auto cfg = small_config(static_cast<int>(make_vocab(kWords).size()));
  cfg.text.pre_norm = pre_norm;
  if (conv_stem) cfg.vision.stem = "conv";
  write_random_model(dir, cfg, make_vocab(kWords), 3);
  // rescale weights for sharper distributions
  Model m(load_config(dir));
  m->load_weights(core::Checkpoint::open(dir / "model.safetensors"));
  {
    torch::NoGradGuard ng;
    torch::manual_seed(11);
    for (auto& p : m->named_parameters()) {
      if (p.key().find("LayerNorm") != std::string::npos || p.key().find("norm") != std::string::npos) continue;
      if (p.key() == "align.temp") continue;
      p.value().normal_(0.0, 0.3);
    }
  }
  m->save_weights(dir / "model.safetensors");
}

}  // namespace

class TstEngine : public QObject {
  Q_OBJECT
  QTemporaryDir tmp;
  fs::path model;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp.isValid());
    model = fs::path(tmp.path().toStdString()) / "model";
    write_model(model);
  }

  void config_round_trip() {
    auto c = load_config(model);
    QCOMPARE(c.family, ModelFamily::AutoGLM);
    QVERIFY(c.gates && c.routing);
    QCOMPARE(c.fusion_layers, (std::vector<int>{0, 1}));
    auto j = config_to_json(c);
    auto c2 = parse_config(j, "x");
    QCOMPARE(config_to_json(c2).dump(), j.dump());
  }

  void recorded_invariants() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto id = engine->encode(test_image(80, 60, 1));
    auto r = engine->ask(id, "what color is the star?");
    const auto& in = r.inspection;
    QCOMPARE(in.cross_attention.shape.size(), size_t(4));
    const auto L = in.cross_attention.shape[0], H = in.cross_attention.shape[1], T = in.cross_attention.shape[2],
               N = in.cross_attention.shape[3];
    QCOMPARE(L, int64_t(2));
    QCOMPARE(H, int64_t(2));
    QCOMPARE(T, int64_t(in.question_tokens.size()));
    QCOMPARE(N, int64_t(65));  // 8x8 patches + class token
    for (int64_t row = 0; row < L * H * T; ++row) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) s += in.cross_attention.data[static_cast<size_t>(row * N + n)];
      QVERIFY2(std::abs(s - 1.0) < 1e-4, qPrintable(QString("attention row %1 sums to %2").arg(row).arg(s)));
    }
    QCOMPARE(in.gates.shape, (std::vector<int64_t>{L, T}));
    for (float g : in.gates.data) QVERIFY(g > 0.f && g < 1.f);
    QVERIFY(in.learned_gates);
    double rs = 0;
    for (float b : in.routing.data) {
      QVERIFY(b >= 0.f);
      rs += b;
    }
    QVERIFY(std::abs(rs - 1.0) < 1e-5);
    QVERIFY(!r.answers.empty());
    for (const auto& a : r.answers) {
      QVERIFY(a.confidence >= 0.f && a.confidence <= 1.f);
      for (const auto& t : a.tokens) {
        QVERIFY(t.p > 0.f && t.p <= 1.f);
        QVERIFY(!t.top.empty());
        QVERIFY(t.top.front().p >= t.p - 1e-6f);
      }
    }
    QVERIFY(r.timings.decode_ms > 0);
    QVERIFY(!r.timings.step_ms.empty());
  }

  // Fresh vision positions are a 2-D sine-cosine code at the scale of the patch
  // features: tokens of one column share the column half, of one row the row half.
  void init_gives_grid_positions() {
    auto cfg = load_config(model);
    Model m(cfg);
    m->init_weights(3);
    auto pos = m->vision_model->embeddings->position_embedding.detach().squeeze(0);  // [1 + g*g, D]
    const int64_t g = cfg.vision.image_size / cfg.vision.patch_size, half = pos.size(1) / 2;
    QCOMPARE(pos.size(0), 1 + g * g);
    QCOMPARE(pos[0].abs().max().item<double>(), 0.0);  // the class token
    auto at = [&](int64_t r, int64_t c) { return pos[1 + r * g + c]; };
    QVERIFY(torch::allclose(at(0, 2).slice(0, 0, half), at(g - 1, 2).slice(0, 0, half)));
    QVERIFY(torch::allclose(at(1, 0).slice(0, half), at(1, g - 1).slice(0, half)));
    QVERIFY((at(0, 2) - at(g - 1, 2)).slice(0, half).norm().item<double>() > 1.0);
    QVERIFY((at(1, 0) - at(1, g - 1)).slice(0, 0, half).norm().item<double>() > 1.0);
    const double rms = pos.slice(0, 1).pow(2).mean().sqrt().item<double>();
    QVERIFY2(rms > 0.3 && rms < 1.0, qPrintable(QString::number(rms)));
  }

  void kv_cache_matches_recompute() {
    auto cfg = load_config(model);
    Model m(cfg);
    m->load_weights(core::Checkpoint::open(model / "model.safetensors"));
    m->eval();
    torch::NoGradGuard ng;
    auto pixels = torch::randn({1, 3, 64, 64});
    auto image = m->vision_model->forward(pixels);
    auto ids = torch::tensor(std::vector<int64_t>{2, 6, 7, 8, 9, 10, 22, 3}, torch::kLong).unsqueeze(0);
    auto mask = torch::ones_like(ids);
    auto f = m->text_encoder->forward(ids, mask, image);
    // greedy with the cache
    std::vector<LayerCache> cache;
    std::vector<int64_t> seq{cfg.bos_id};
    std::vector<Tensor> cached_logits;
    auto logits = m->text_decoder->forward(torch::full({1, 1}, cfg.bos_id, torch::kLong), f, {}, &cache, 0);
    for (int s = 0; s < 8; ++s) {
      cached_logits.push_back(logits[0][-1]);
      const int64_t next = logits[0][-1].argmax().item<int64_t>();
      seq.push_back(next);
      logits = m->text_decoder->forward(torch::full({1, 1}, next, torch::kLong), f, {}, &cache, s + 1);
    }
    // the whole sequence at once, no cache
    auto full = m->text_decoder->forward(torch::tensor(seq, torch::kLong).unsqueeze(0), f, {}, nullptr, 0);
    for (int s = 0; s < 8; ++s) {
      // float32 rounding grows with the logits' size (these random weights give logits near 100)
      const double scale = std::max(1.0, full[0][s].abs().max().item<double>());
      const double d = (full[0][s] - cached_logits[static_cast<size_t>(s)]).abs().max().item<double>() / scale;
      QVERIFY2(d < 1e-5,
               qPrintable(QString("step %1: cached vs recomputed logits differ by %2 (relative)").arg(s).arg(d)));
      QCOMPARE(full[0][s].argmax().item<int64_t>(), seq[static_cast<size_t>(s) + 1]);
    }
  }

  // Training projects each image's cross-attention keys and values once and shares
  // them among its questions: the fused questions and the gradients reaching the
  // image must be those of repeating the image for each question.
  void shared_image_kv_matches_repeated_image() {
    auto cfg = load_config(model);
    Model m(cfg);
    m->load_weights(core::Checkpoint::open(model / "model.safetensors"));
    m->eval();
    const int64_t images = 2, per_image = 3;
    auto ids = torch::randint(4, cfg.text.vocab_size, {images * per_image, 7}, torch::kLong);
    auto mask = torch::ones_like(ids);
    mask.slice(0, 1, 2).slice(1, 5).zero_();  // one shorter question
    auto pixels = torch::randn({images, 3, 64, 64});
    auto run = [&](bool shared, Tensor* grad) {
      auto image = m->vision_model->forward(pixels).detach().requires_grad_();
      Tensor f;
      if (shared) {
        auto kv = m->text_encoder->image_kv(image, per_image);
        f = m->text_encoder->forward(ids, mask, image, nullptr, nullptr, &kv);
      } else {
        f = m->text_encoder->forward(ids, mask, image.repeat_interleave(per_image, 0));
      }
      (f * torch::linspace(-1, 1, f.size(-1))).sum().backward();
      *grad = image.grad();
      return f.detach();
    };
    Tensor g_shared, g_repeated;
    auto f_shared = run(true, &g_shared), f_repeated = run(false, &g_repeated);
    QCOMPARE(f_shared.sizes(), f_repeated.sizes());
    QVERIFY2(torch::allclose(f_shared, f_repeated, 1e-5, 1e-5),
             qPrintable(QString::number((f_shared - f_repeated).abs().max().item<double>())));
    QVERIFY(g_repeated.abs().sum().item<double>() > 0);
    QVERIFY2(torch::allclose(g_shared, g_repeated, 1e-4, 1e-5),
             qPrintable(QString::number((g_shared - g_repeated).abs().max().item<double>())));
  }

  void beam_one_equals_greedy() {
    auto cfg = load_config(model);
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto id = engine->encode(test_image(64, 64, 2));
    AskOptions o;
    o.beams = 1;
    o.max_new_tokens = 6;
    auto r = engine->ask(id, "how many objects are there?", o);
    // independent greedy loop on the same weights, without the engine
    Model m(cfg);
    m->load_weights(core::Checkpoint::open(model / "model.safetensors"));
    m->eval();
    torch::NoGradGuard ng;
    auto pv = preprocess(test_image(64, 64, 2), cfg.preprocess);
    auto image = m->vision_model->forward(torch::from_blob(pv.data(), {1, 3, 64, 64}, torch::kFloat32));
    auto tok_ids = std::vector<int64_t>{2};
    const auto vocab = make_vocab(kWords);
    for (const char* w : {"how", "many", "objects", "are", "there", "?"})
      tok_ids.push_back(std::find(vocab.begin(), vocab.end(), w) - vocab.begin());
    tok_ids.push_back(3);
    auto ids = torch::tensor(tok_ids, torch::kLong).unsqueeze(0);
    auto f = m->text_encoder->forward(ids, torch::ones_like(ids), image);
    std::vector<int64_t> seq{cfg.bos_id}, out;
    for (int s = 0; s < 6; ++s) {
      auto lg = m->text_decoder->forward(torch::tensor(seq, torch::kLong).unsqueeze(0), f,
                                         additive_mask(torch::ones_like(ids)), nullptr, 0);
      const int64_t next = lg[0][-1].argmax().item<int64_t>();
      seq.push_back(next);
      if (next == cfg.eos_id) break;
      out.push_back(next);
    }
    QCOMPARE(r.answers.front().ids, out);
    // wider beams still return a best hypothesis scoring at least as well
    o.beams = 4;
    auto rb = engine->ask(id, "how many objects are there?", o);
    QVERIFY(!rb.answers.empty());
  }

  // Decoding steps take split matrix-vector products (core/model/linear.h); the matrix
  // products they replace must give the same answers: the same ids, and log-probabilities
  // within 1e-5, with and without beams, on our model and on the golden BLIP.
  void row_products_match_matrix_products() {
    std::vector<fs::path> dirs{model};
    if (testutil::have_golden()) dirs.push_back(testutil::blip_dir() / "vqa_model");
    for (const fs::path& dir : dirs) {
      auto engine = Engine::load(dir, Options{Device::Cpu});
      auto id = engine->encode(test_image(96, 80, 3));
      for (int beams : {1, 3}) {
        AskOptions o;
        o.beams = beams;
        o.max_new_tokens = 8;
        o.min_new_tokens = 8;  // every step runs, whatever the random weights say
        core::set_row_products(false);
        const auto slow = engine->ask(id, "how many objects are there?", o);
        core::set_row_products(true);
        const auto fast = engine->ask(id, "how many objects are there?", o);
        QCOMPARE(fast.answers.size(), slow.answers.size());
        for (size_t a = 0; a < fast.answers.size(); ++a) {
          QCOMPARE(fast.answers[a].ids, slow.answers[a].ids);
          QCOMPARE(fast.answers[a].tokens.size(), slow.answers[a].tokens.size());
          for (size_t t = 0; t < fast.answers[a].tokens.size(); ++t)
            QVERIFY2(std::abs(std::log(fast.answers[a].tokens[t].p) - std::log(slow.answers[a].tokens[t].p)) < 1e-5,
                     dir.filename().string().c_str());
        }
      }
    }
  }

  void save_load_identical_and_deterministic() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto img = test_image(50, 70, 3);
    auto r1 = engine->ask(engine->encode(img), "is the circle red?");
    // save through the model API into a new folder, load it again
    const fs::path copy = fs::path(tmp.path().toStdString()) / "copy";
    fs::create_directories(copy);
    fs::copy_file(model / "config.json", copy / "config.json");
    fs::copy_file(model / "vocab.txt", copy / "vocab.txt");
    {
      Model m(load_config(model));
      m->load_weights(core::Checkpoint::open(model / "model.safetensors"));
      m->save_weights(copy / "model.safetensors");
    }
    auto engine2 = Engine::load(copy, Options{Device::Cpu});
    auto r2 = engine2->ask(engine2->encode(img), "is the circle red?");
    QCOMPARE(r2.answers.front().ids, r1.answers.front().ids);
    QCOMPARE(r2.inspection.cross_attention.data, r1.inspection.cross_attention.data);
    QCOMPARE(r2.answers.front().confidence, r1.answers.front().confidence);
    // the same input twice
    auto r3 = engine->ask(engine->encode(img), "is the circle red?");
    QCOMPARE(r3.inspection.cross_attention.data, r1.inspection.cross_attention.data);
    QCOMPARE(r3.answers.front().text, r1.answers.front().text);
  }

  void image_cache_skips_vision() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto img = test_image(90, 40, 4);
    auto id = engine->encode(img);
    QCOMPARE(engine->vision_runs(), int64_t(1));
    auto r1 = engine->ask(id, "what color is the star?");
    QCOMPARE(engine->encode(img), id);  // same content, same id, no new run
    auto r2 = engine->ask(id, "how many objects are there?");
    QCOMPARE(engine->vision_runs(), int64_t(1));
    auto other = test_image(90, 40, 5);
    QVERIFY(engine->encode(other) != id);
    QCOMPARE(engine->vision_runs(), int64_t(2));
    QVERIFY(engine->cached(id));
    // The second question reused the image's cross-attention keys and values
    // from the first: the same result as a fresh engine asking it first, and
    // again after another image took the cached keys and values away.
    auto fresh = Engine::load(model, Options{Device::Cpu});
    auto r2_fresh = fresh->ask(fresh->encode(img), "how many objects are there?");
    engine->ask(engine->encode(other), "what color is the star?");
    auto r2_again = engine->ask(id, "how many objects are there?");
    for (const auto* r : {&r2, &r2_again}) {
      QCOMPARE(r->answers.front().ids, r2_fresh.answers.front().ids);
      QCOMPARE(r->answers.front().raw_score, r2_fresh.answers.front().raw_score);
      QCOMPARE(r->inspection.cross_attention.data, r2_fresh.inspection.cross_attention.data);
      QCOMPARE(r->inspection.gates.data, r2_fresh.inspection.gates.data);
    }
    QVERIFY(r1.inspection.cross_attention.data != r2.inspection.cross_attention.data);
  }

  void alignment_embeddings() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    QCOMPARE(engine->info().align_dim, 32);
    QVERIFY(engine->info().align_temperature > 0.f);
    auto a = engine->encode(test_image(70, 50, 1)), b = engine->encode(test_image(50, 70, 2));
    auto unit = [](const std::vector<float>& v) {
      double n = 0;
      for (float x : v) n += double(x) * x;
      return std::abs(std::sqrt(n) - 1.0) < 1e-4;
    };
    auto va = engine->embed_image(a);
    QCOMPARE(va.size(), size_t(32));
    QVERIFY(unit(va));
    QVERIFY(unit(engine->embed_text("the red star")));
    QCOMPARE(engine->embed_image(a), va);  // kept with the cached features
    QCOMPARE(engine->vision_runs(), int64_t(2));
    QVERIFY(engine->embed_text("the red star") != engine->embed_text("the blue circle"));
    // text mode skips cross-attention: the text vector does not depend on any image
    QCOMPARE(engine->embed_text("the red star"), engine->embed_text("the red star"));

    auto m = engine->match(a, {"the red star", "the blue circle", "two"});
    QCOMPARE(m.size(), size_t(3));
    double sum = 0;
    for (const auto& x : m) sum += x.probability;
    QVERIFY(std::abs(sum - 1.0) < 1e-5);
    const auto t = engine->embed_text("the blue circle");
    double dot = 0;
    for (size_t k = 0; k < t.size(); ++k) dot += double(t[k]) * va[k];
    QVERIFY(std::abs(m[1].similarity - dot) < 1e-5);
    // softmax with the learned temperature
    const double T = engine->info().align_temperature;
    QVERIFY(std::abs(std::log(double(m[0].probability) / m[1].probability) - (m[0].similarity - m[1].similarity) / T) <
            1e-3);

    auto r = engine->rank("the red star", {a, b});
    QCOMPARE(r.size(), size_t(2));
    QVERIFY(std::abs(r[0].probability + r[1].probability - 1.0) < 1e-5);
    QVERIFY(std::abs(r[0].similarity - m[0].similarity) < 1e-5);
    VERIFY_THROWS_MSG(engine->embed_text(""), "empty");
    VERIFY_THROWS_MSG(engine->match(a, {}), "no texts");
    VERIFY_THROWS_MSG(engine->embed_image(12345), "not encoded");
  }

  void heatmaps_all_methods() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto r = engine->ask(engine->encode(test_image(64, 64, 6)), "what color is the star?");
    for (auto m : {HeatmapMethod::LayerAttention, HeatmapMethod::AllLayers, HeatmapMethod::Rollout,
                   HeatmapMethod::GradWeighted}) {
      for (int token : {-1, 1}) {
        HeatmapRequest req;
        req.method = m;
        req.token = token;
        auto map = engine->heatmap(r, req);
        QCOMPARE(map.shape, (std::vector<int64_t>{8, 8}));
        double s = 0;
        for (float v : map.data) {
          QVERIFY(v >= 0.f);
          s += v;
        }
        QVERIFY2(std::abs(s - 1.0) < 1e-4, heatmap_method_name(m));
      }
    }
    HeatmapRequest bad;
    bad.method = HeatmapMethod::LayerAttention;
    bad.layer = 7;
    VERIFY_THROWS_MSG(engine->heatmap(r, bad), "fusion layer 7");
  }

  void calibration_weighs_answer_length() {
    // length_exponent 1: the geometric mean over the answer's words (raw_score at
    // temperature 1); 0: the whole sequence's probability, the raw score to the power
    // of the word count.
    const fs::path dir = fs::path(tmp.path().toStdString()) / "calibrated";
    fs::create_directories(dir);
    for (const char* f : {"config.json", "vocab.txt", "model.safetensors"}) fs::copy_file(model / f, dir / f);
    AskOptions o;
    o.beams = 1;
    o.min_new_tokens = 4;
    o.max_new_tokens = 4;
    o.confidence = ConfidenceMethod::Calibrated;
    std::vector<float> reported;
    auto ask = [&](double exponent) {
      std::ofstream(dir / "calibration.json")
          << nlohmann::json{{"temperature", 1.0}, {"length_exponent", exponent}}.dump();
      auto engine = Engine::load(dir, Options{Device::Cpu});
      reported.push_back(engine->info().length_exponent);
      return engine->ask(engine->encode(test_image(64, 64, 3)), "what color is the star?", o).answers.front();
    };
    const auto mean = ask(1.0), whole = ask(0.0), half = ask(0.5);
    QCOMPARE(reported, (std::vector<float>{1.f, 0.f, 0.5f}));
    QCOMPARE(whole.text, mean.text);  // the order and the answer do not change
    const double n = static_cast<double>(mean.ids.size());
    QVERIFY2(n >= 2, "needs an answer of several words");
    QVERIFY(std::abs(mean.confidence - mean.raw_score) < 1e-5);
    QVERIFY(std::abs(whole.confidence - std::pow(mean.raw_score, n)) < 1e-5);
    QVERIFY(std::abs(half.confidence - std::pow(mean.raw_score, std::sqrt(n))) < 1e-5);
    QVERIFY(whole.confidence < half.confidence && half.confidence < mean.confidence);
    std::ofstream(dir / "calibration.json") << R"({"temperature": 1.0, "length_exponent": 1.5})";
    VERIFY_THROWS_MSG(Engine::load(dir, Options{Device::Cpu}), "length_exponent must be in [0, 1]");
  }

  void ranking_closed_list() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    AskOptions o;
    o.answers = {"red", "blue", "green", "yes", "no"};
    auto r = engine->ask(engine->encode(test_image(64, 64, 7)), "what color is the star?", o);
    QCOMPARE(r.task, Task::Rank);
    QVERIFY(!r.answers.empty());
    double total = 0;
    for (const auto& a : r.answers) total += a.raw_score;
    QVERIFY(total <= 1.0 + 1e-5);
    for (size_t i = 1; i < r.answers.size(); ++i) QVERIFY(r.answers[i - 1].confidence >= r.answers[i].confidence);
  }

  void variants_pre_norm_and_conv_stem() {
    const fs::path dir = fs::path(tmp.path().toStdString()) / "prenorm";
    write_model(dir, true, true);
    auto engine = Engine::load(dir, Options{Device::Cpu});
    auto r = engine->ask(engine->encode(test_image(64, 64, 8)), "what color is the star?");
    QVERIFY(!r.answers.empty());
    QVERIFY(SafeTensors::open(dir / "model.safetensors").contains("vision_model.embeddings.stem.2.weight"));
    QVERIFY(SafeTensors::open(dir / "model.safetensors").contains("text_encoder.encoder.final_layer_norm.weight"));
  }

  // A conv stem over 48-px images to 12-px tokens (strides 2, 2, 3) with 96 channels.
  static ModelConfig conv12_config() {
    ModelConfig c = small_config(static_cast<int>(make_vocab(kWords).size()));
    c.vision.stem = "conv";
    c.vision.image_size = 48;
    c.vision.patch_size = 12;
    c.preprocess.size = 48;
    c.vision.hidden = 96;
    return c;
  }

  void conv_stem_with_a_factor_three() {
    ModelConfig c = conv12_config();
    QCOMPARE(c.vision.stem_strides(), (std::vector<int>{2, 2, 3}));
    QCOMPARE(c.vision.stem_channels(), (std::vector<int>{24, 48, 96}));
    const fs::path dir = fs::path(tmp.path().toStdString()) / "stem12";
    write_random_model(dir, c, make_vocab(kWords), 3);
    const auto st = SafeTensors::open(dir / "model.safetensors");
    QVERIFY(st.contains("vision_model.embeddings.stem.2.weight"));
    QVERIFY(!st.contains("vision_model.embeddings.stem.3.weight"));
    auto engine = Engine::load(dir, Options{Device::Cpu});
    auto r = engine->ask(engine->encode(test_image(90, 50, 4)), "what color is the star?");
    QVERIFY(!r.answers.empty());
    QCOMPARE(engine->info().grid, 4);
    QCOMPARE(engine->heatmap(r, HeatmapRequest{}).shape, (std::vector<int64_t>{4, 4}));

    for (int p : {1, 5, 10, 14}) {
      c.vision.patch_size = p;
      c.vision.image_size = 7 * p * 4;
      QVERIFY(c.vision.stem_strides().empty());
      VERIFY_THROWS_MSG(c.validate(), "factors 2 and 3");
    }
    c.vision.patch_size = 8;
    c.vision.image_size = 64;
    QCOMPARE(c.vision.stem_strides(), (std::vector<int>{2, 2, 2}));
  }

  void conv_stem_with_an_overlapping_tile_kernel() {
    ModelConfig c = conv12_config();
    const fs::path plain = fs::path(tmp.path().toStdString()) / "tile3";
    write_random_model(plain, c, make_vocab(kWords), 3);
    // A config without the key (every model before it) keeps the tiling 3x3 kernel.
    QVERIFY(!nlohmann::json::parse(testutil::read_file(plain / "config.json"))["vision"].contains("stem_tile_kernel"));
    QCOMPARE(load_config(plain).vision.stem_tile_kernel, 3);

    c.vision.stem_tile_kernel = 5;
    const fs::path dir = fs::path(tmp.path().toStdString()) / "tile5";
    write_random_model(dir, c, make_vocab(kWords), 3);
    QCOMPARE(load_config(dir).vision.stem_tile_kernel, 5);
    const auto st = SafeTensors::open(dir / "model.safetensors");
    QCOMPARE(st.info("vision_model.embeddings.stem.2.weight").shape, (std::vector<int64_t>{96, 48, 5, 5}));
    QCOMPARE(st.info("vision_model.embeddings.stem.1.weight").shape, (std::vector<int64_t>{48, 24, 3, 3}));
    auto engine = Engine::load(dir, Options{Device::Cpu});
    auto r = engine->ask(engine->encode(test_image(90, 50, 4)), "what color is the star?");
    QVERIFY(!r.answers.empty());
    QCOMPARE(engine->info().grid, 4);  // padded: the grid is the same as with tiling
    QCOMPARE(engine->heatmap(r, HeatmapRequest{}).shape, (std::vector<int64_t>{4, 4}));
    QVERIFY(stage_flops(c, 8, 0).vision > stage_flops(load_config(plain), 8, 0).vision);

    for (int k : {1, 2, 4, 11}) {
      c.vision.stem_tile_kernel = k;
      VERIFY_THROWS_MSG(c.validate(), "stem_tile_kernel");
    }
  }

  // An input grid shaped like the image (preprocess keep_aspect): 12-px tokens over a
  // 2:1 image make 3 x 6 where a square makes the trained 4 x 4, positions resampled.
  void keep_aspect_input() {
    ModelConfig c = conv12_config();
    c.preprocess.keep_aspect = true;
    c.preprocess.patch = 12;
    const fs::path dir = fs::path(tmp.path().toStdString()) / "aspect";
    write_random_model(dir, c, make_vocab(kWords), 3);
    QVERIFY(load_config(dir).preprocess.keep_aspect);
    QVERIFY(!load_config(model).preprocess.keep_aspect);
    auto engine = Engine::load(dir, Options{Device::Cpu});
    for (auto [w, h, gh, gw] : {std::array{200, 100, 3, 6}, {100, 200, 6, 3}, {90, 90, 4, 4}, {1000, 50, 2, 8}}) {
      auto r = engine->ask(engine->encode(test_image(w, h, 4)), "what color is the star?");
      QVERIFY(!r.answers.empty());
      QCOMPARE(r.inspection.grid_h, gh);
      QCOMPARE(r.inspection.grid_w, gw);
      for (auto method : {HeatmapMethod::AllLayers, HeatmapMethod::GradWeighted}) {
        HeatmapRequest req;
        req.method = method;
        QCOMPARE(engine->heatmap(r, req).shape, (std::vector<int64_t>{gh, gw}));
      }
    }

    // With a zero stem the tokens are the positions: the trained grid's as they are,
    // a wider grid's a bilinear resampling (a ramp across the columns stays one).
    Model m(c);
    m->init_weights(3);
    torch::NoGradGuard ng;
    for (auto& p : m->vision_model->embeddings->stem->parameters()) p.zero_();
    auto& pos = m->vision_model->embeddings->position_embedding;
    for (int64_t i = 0; i < 16; ++i) pos[0][1 + i].fill_(static_cast<double>(i % 4));
    auto square = m->vision_model->embeddings->forward(torch::randn({1, 3, 48, 48}));
    QVERIFY(torch::equal(square, torch::cat({m->vision_model->embeddings->class_embedding, pos.slice(1, 1)}, 1)));
    auto wide = m->vision_model->embeddings->forward(torch::randn({2, 3, 36, 72})).select(2, 0);  // [2, 1 + 18]
    QCOMPARE(wide.size(1), 1 + 3 * 6);
    for (int64_t r = 0; r < 3; ++r) {
      QCOMPARE(wide[1][1 + r * 6].item<double>(), 0.0);
      QCOMPARE(wide[1][1 + r * 6 + 5].item<double>(), 3.0);
      for (int64_t k = 1; k < 6; ++k)
        QVERIFY(wide[1][1 + r * 6 + k].item<double>() > wide[1][r * 6 + k].item<double>());
    }
    c.preprocess.patch = 8;
    VERIFY_THROWS_MSG(c.validate(), "keep_aspect");
  }

  // Learned query tokens follow the question through the encoder; the decoder reads
  // them, and everything the engine shows about the question stays on its words.
  void learned_queries() {
    ModelConfig c = small_config(static_cast<int>(make_vocab(kWords).size()));
    c.queries = 4;
    const fs::path dir = fs::path(tmp.path().toStdString()) / "queries";
    write_random_model(dir, c, make_vocab(kWords), 3);
    auto loaded = load_config(dir);
    QCOMPARE(loaded.queries, 4);
    QCOMPARE(config_to_json(loaded)["fusion"]["queries"].get<int>(), 4);
    QVERIFY(!config_to_json(load_config(model))["fusion"].contains("queries"));

    Model m(loaded);
    m->load_weights(core::Checkpoint::open(dir / "model.safetensors"));
    m->eval();
    torch::NoGradGuard ng;
    auto image = m->vision_model->forward(torch::randn({1, 3, 64, 64}));
    auto ids = torch::tensor(std::vector<int64_t>{2, 6, 7, 8, 9, 3}, torch::kLong).unsqueeze(0);
    auto mask = torch::ones_like(ids);
    auto f = m->text_encoder->forward(ids, mask, image);
    QCOMPARE(f.size(1), ids.size(1) + 4);
    QCOMPARE(m->text_encoder->forward(ids, mask, Tensor()).size(1), ids.size(1));  // text mode: no queries
    QCOMPARE(m->text_encoder->memory_mask(mask).sizes().vec(), (std::vector<int64_t>{1, 10}));

    // The same question padded by two tokens: with the memory mask the decoder reads the same.
    auto dec_in = torch::tensor(std::vector<int64_t>{c.bos_id, 20, 21}, torch::kLong).unsqueeze(0);
    auto logits = m->text_decoder->forward(dec_in, f, additive_mask(m->text_encoder->memory_mask(mask)), nullptr, 0);
    auto padded = torch::cat({ids, torch::zeros({1, 2}, torch::kLong)}, 1);
    auto pmask = torch::cat({mask, torch::zeros({1, 2}, torch::kLong)}, 1);
    auto fp = m->text_encoder->forward(padded, pmask, image);
    auto plogits = m->text_decoder->forward(dec_in, fp, additive_mask(m->text_encoder->memory_mask(pmask)), nullptr, 0);
    const double scale = std::max(1.0, logits.abs().max().item<double>());
    QVERIFY2((logits - plogits).abs().max().item<double>() / scale < 1e-5, "padding changed what the decoder reads");
    // ... and the queries are read: other query tokens, other logits.
    m->text_encoder->query_tokens.add_(torch::randn_like(m->text_encoder->query_tokens));
    auto f2 = m->text_encoder->forward(ids, mask, image);
    QVERIFY(!torch::allclose(f2.slice(1, 0, ids.size(1)), f.slice(1, 0, ids.size(1))));
    QVERIFY(!torch::allclose(m->text_decoder->forward(dec_in, f2, {}, nullptr, 0), logits));

    auto engine = Engine::load(dir, Options{Device::Cpu});
    auto r = engine->ask(engine->encode(test_image(80, 60, 2)), "what color is the star?");
    QVERIFY(!r.answers.empty());
    const auto& in = r.inspection;
    const auto T = static_cast<int64_t>(in.question_tokens.size());
    QCOMPARE(in.cross_attention.shape[2], T);
    QCOMPARE(in.gates.shape, (std::vector<int64_t>{2, T}));
    QCOMPARE(in.self_attention.shape, (std::vector<int64_t>{2, T, T}));
    for (auto method : {HeatmapMethod::AllLayers, HeatmapMethod::Rollout, HeatmapMethod::GradWeighted}) {
      HeatmapRequest req;
      req.method = method;
      auto map = engine->heatmap(r, req);
      QCOMPARE(map.shape, (std::vector<int64_t>{8, 8}));
      double sum = 0;
      for (float v : map.data) sum += v;
      QVERIFY2(std::abs(sum - 1.0) < 1e-4, heatmap_method_name(method));
    }

    c.queries = 65;
    VERIFY_THROWS_MSG(c.validate(), "queries");
  }

  // The curriculum's floor is libtorch's label-smoothed cross-entropy of a prediction
  // equal to the smoothed target, and every other prediction scores more.
  void label_smoothing_floor_is_the_least_loss() {
    namespace F = torch::nn::functional;
    const int64_t V = 70;
    const double eps = 0.05, floor = core::train::label_smoothing_floor(V, eps);
    QVERIFY(std::abs(floor - 0.405) < 1e-3);
    QCOMPARE(core::train::label_smoothing_floor(V, 0.0), 0.0);
    auto target = torch::full({1, V}, eps / V, torch::kFloat64);
    target[0][3] += 1 - eps;
    auto ce = [&](const torch::Tensor& logits) {
      return F::cross_entropy(logits, torch::tensor({int64_t{3}}), F::CrossEntropyFuncOptions().label_smoothing(eps))
          .item<double>();
    };
    QVERIFY(std::abs(ce(target.log()) - floor) < 1e-9);
    torch::manual_seed(1);
    for (int k = 0; k < 20; ++k) QVERIFY(ce(target.log() + 0.1 * torch::randn({1, V}, torch::kFloat64)) > floor);
  }

  void bad_questions() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto id = engine->encode(test_image(64, 64, 9));
    VERIFY_THROWS_MSG(engine->ask(id, ""), "empty");
    VERIFY_THROWS_MSG(engine->ask(id, "   \t "), "empty");
    VERIFY_THROWS_MSG(engine->ask(id, std::string("what \xff\xfe color")), "UTF-8");
    std::string huge;
    for (int i = 0; i < 2000; ++i) huge += "star ";
    VERIFY_THROWS_MSG(engine->ask(id, huge), "too long");
    VERIFY_THROWS_MSG(engine->ask(12345, "what color is the star?"), "not encoded");
    AskOptions o;
    o.beams = 0;
    VERIFY_THROWS_MSG(engine->ask(id, "what?", o), "beams");
    // still works afterwards
    QVERIFY(!engine->ask(id, "what color is the star?").answers.empty());
  }

  void cancel_stops_generation() {
    auto engine = Engine::load(model, Options{Device::Cpu});
    auto id = engine->encode(test_image(64, 64, 10));
    CancelToken c;
    c.cancel();
    try {
      engine->ask(id, "what color is the star?", {}, c);
      QFAIL("expected cancellation");
    } catch (const Error& e) {
      QCOMPARE(e.code(), ErrorCode::Cancelled);
    }
  }

  void broken_model_folders_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("code");
    for (const auto& b : testutil::broken_models()) QTest::newRow(b.kind) << b.kind << b.message << b.code;
  }
  void broken_model_folders() {
    QFETCH(QString, kind);
    QFETCH(QString, message);
    QFETCH(QString, code);
    SKIP_ROW_WITHOUT_GOLDEN(kind.toStdString());
    const fs::path dir = fs::path(tmp.path().toStdString()) / ("broken-" + kind.toStdString());
    const fs::path marker = fs::path(tmp.path().toStdString()) / ("pwned-" + kind.toStdString());
    testutil::break_model_folder(model, dir, kind.toStdString(), marker);
    VERIFY_THROWS_MSG(Engine::load(dir, Options{Device::Cpu}), message.toStdString());
    try {
      Engine::load(dir, Options{Device::Cpu});
    } catch (const Error& e) {
      QCOMPARE(QString(error_code_name(e.code())), code);
    }
    QVERIFY(!fs::exists(marker));  // the pickle was never run
    QVERIFY(!fs::exists(testutil::kGoldenPickleMarker));
  }

  void out_of_memory_is_recognised() {
    // The engine falls back to the CPU on these (it cannot be exercised without a GPU).
    const c10::SourceLocation here{__func__, __FILE__, static_cast<uint32_t>(__LINE__)};
    QVERIFY(compat::is_out_of_memory(c10::OutOfMemoryError(here, "Tried to allocate 2.00 GiB")));
    QVERIFY(compat::is_out_of_memory(
        c10::Error(here, "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity)")));
    QVERIFY(compat::is_out_of_memory(
        c10::Error(here, "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`")));
    QVERIFY(!compat::is_out_of_memory(c10::Error(here, "shape '[2, 3]' is invalid for input of size 5")));
    QVERIFY(!compat::is_out_of_memory(c10::Error(here, "DefaultCPUAllocator: not enough memory")));
  }

  void freed_blocks_are_reused_without_faults() {
#if defined(__SANITIZE_ADDRESS__)
    QSKIP("AddressSanitizer brings its own allocator");
#elif defined(__GLIBC__)
    if (std::getenv("GLIBC_TUNABLES") || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
        std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("MALLOC_TOP_PAD_"))
      QSKIP("the allocator is set from the environment here");
    configure_allocator();
    // A training step's tensors, about 200 MB in 4 MiB blocks, allocated, written
    // and freed, step after step. glibc's own thresholds trim the freed heap top
    // back to the kernel after each step, and the next step faults every page in
    // again (about 150000 faults for these three rounds).
    const size_t block = 4u << 20;
    auto minor_faults = [] {
      rusage u{};
      getrusage(RUSAGE_SELF, &u);
      return u.ru_minflt;
    };
    auto step = [&] {
      std::vector<char*> blocks;
      for (int i = 0; i < 50; ++i) {
        blocks.push_back(static_cast<char*>(std::malloc(block)));
        QVERIFY(blocks.back());
        std::memset(blocks.back(), 1, block);
      }
      for (char* p : blocks) std::free(p);
    };
    step();
    const long before = minor_faults();
    for (int i = 0; i < 3; ++i) step();
    const long faults = minor_faults() - before;
    QVERIFY2(faults < 2000, qPrintable(QString("%1 page faults for three reused steps of 200 MB").arg(faults)));
#else
    QSKIP("glibc only");
#endif
  }
};

QTEST_APPLESS_MAIN(TstEngine)
#include "tst_engine.moc"
