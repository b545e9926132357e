// BLIP checkpoints loaded through the normal model-loading path must match the
// HuggingFace reference outputs in ../shared/golden/blip (README there).
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

#include <nlohmann/json.hpp>

#include "core/engine/engine.h"
#include "core/io/config.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"
#include "core/model/autoglm/model.h"
#include "core/vision/image.h"
#include "testutil.h"

using namespace core;
using torch::Tensor;

namespace {

double max_diff(const Tensor& a, const Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

#define COMPARE_TENSOR(ours, name, tol)                                                                             \
  do {                                                                                                              \
    const std::string nm_ = (name);                                                                                 \
    const QString qn_ = QString::fromStdString(nm_);                                                                \
    const Tensor ref_ = tensor_view(*golden, nm_);                                                                  \
    const Tensor got_ = (ours);                                                                                     \
    QVERIFY2(got_.sizes() == ref_.sizes(), qPrintable(QString("%1: shape %2 vs %3")                                 \
                                                          .arg(qn_, QString::fromStdString(c10::str(got_.sizes())), \
                                                               QString::fromStdString(c10::str(ref_.sizes())))));   \
    const double d_ = max_diff(got_, ref_);                                                                         \
    QVERIFY2(d_ <= (tol), qPrintable(QString("%1: max |diff| %2 > %3").arg(qn_).arg(d_).arg(tol)));                 \
  } while (0)

std::vector<int64_t> ids_of(const Tensor& t) {
  auto c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

std::vector<int64_t> json_ids(const nlohmann::json& j) { return j.get<std::vector<int64_t>>(); }

// Reference sequence from an engine answer: [bos] + prompt + generated (+ eos when it ended).
std::vector<int64_t> sequence_of(const Answer& a, const std::vector<int64_t>& prefix) {
  std::vector<int64_t> s = prefix;
  s.insert(s.end(), a.ids.begin(), a.ids.end());
  if (!a.tokens.empty() && a.tokens.size() > a.ids.size()) s.push_back(a.tokens.back().id);
  return s;
}

QString str(const std::vector<int64_t>& v) {
  QStringList l;
  for (auto x : v) l << QString::number(x);
  return "[" + l.join(", ") + "]";
}

}  // namespace

class TstBlipGolden : public QObject {
  Q_OBJECT
  std::unique_ptr<SafeTensors> golden;

 private Q_SLOTS:
  void initTestCase() { torch::manual_seed(0); }

  void config_reads_hf_schema() {
    REQUIRE_GOLDEN();
    auto c = load_config(testutil::blip_dir() / "vqa_model");
    QCOMPARE(c.family, ModelFamily::Blip);
    QCOMPARE(c.task, ModelTask::Vqa);
    QCOMPARE(c.vision.hidden, 32);
    QCOMPARE(c.vision.intermediate, 41);
    QCOMPARE(c.vision.tokens(), 17);
    QCOMPARE(c.vision.ln_eps, 1e-5);
    QCOMPARE(c.text.intermediate, 37);
    QCOMPARE(c.text.vocab_size, 30524);
    QCOMPARE(c.text.ln_eps, 1e-12);
    QCOMPARE(c.bos_id, int64_t(30522));
    QCOMPARE(c.eos_id, int64_t(102));
    QCOMPARE(c.fusion_layers, (std::vector<int>{0, 1}));
    QVERIFY(!c.gates && !c.routing && !c.tie_lm_head && !c.decoder_masks_question);
    QCOMPARE(c.preprocess.size, 32);
    auto cap = load_config(testutil::blip_dir() / "caption_model");
    QCOMPARE(cap.task, ModelTask::Caption);
  }

  void vqa_modules_match_reference() {
    REQUIRE_GOLDEN();
    const auto dir = testutil::blip_dir();
    auto cfg = load_config(dir / "vqa_model");
    Model model(cfg);
    model->load_weights(core::Checkpoint::open(dir / "vqa_model" / "model.safetensors"));
    model->eval();
    golden = std::make_unique<SafeTensors>(SafeTensors::open(dir / "vqa_golden.safetensors"));
    torch::NoGradGuard ng;
    const auto runs = nlohmann::json::parse(testutil::read_file(dir / "vqa_golden.json"))["runs"];
    QCOMPARE(runs.size(), size_t(6));
    for (const auto& run : runs) {
      const std::string p = run["prefix"].get<std::string>() + ".";
      Record vrec;
      vrec.enabled = vrec.hidden_states = true;
      auto image = model->vision_model->forward(tensor_view(*golden, p + "pixel_values"), &vrec);
      for (int k = 0; k <= 2; ++k)
        COMPARE_TENSOR(vrec.hidden[k], p + "vision.hidden_states." + std::to_string(k), 1e-4);
      for (int k = 0; k < 2; ++k) COMPARE_TENSOR(vrec.self_attn[k], p + "vision.attentions." + std::to_string(k), 1e-5);
      COMPARE_TENSOR(image, p + "vision.last_hidden_state", 1e-4);

      auto ids = tensor_view(*golden, p + "input_ids"), mask = tensor_view(*golden, p + "attention_mask");
      Record trec;
      trec.enabled = trec.hidden_states = true;
      auto q = model->text_encoder->forward(ids, mask, image, &trec);
      for (int k = 0; k <= 2; ++k)
        COMPARE_TENSOR(trec.hidden[k], p + "text_encoder.hidden_states." + std::to_string(k), 1e-4);
      for (int k = 0; k < 2; ++k) {
        COMPARE_TENSOR(trec.self_attn[k], p + "text_encoder.self_attentions." + std::to_string(k), 1e-5);
        COMPARE_TENSOR(trec.cross_attn[k], p + "text_encoder.cross_attentions." + std::to_string(k), 1e-5);
      }
      COMPARE_TENSOR(q, p + "text_encoder.last_hidden_state", 1e-4);
      // gates of a model without learned gates are effective shares in (0, 1)
      for (const auto& g : trec.gates) QVERIFY(g.min().item<float>() > 0.f && g.max().item<float>() < 1.f);

      Record drec;
      drec.enabled = true;
      Tensor hidden;
      std::vector<LayerCache> cache;
      auto bos = torch::full({1, 1}, cfg.bos_id, torch::kLong);
      auto logits = model->text_decoder->forward(bos, q, {}, &cache, 0, &drec, &hidden);
      COMPARE_TENSOR(logits, p + "decoder.step0.logits", 1e-3);
      COMPARE_TENSOR(hidden, p + "decoder.step0.last_hidden_state", 1e-4);
      for (int k = 0; k < 2; ++k) {
        COMPARE_TENSOR(drec.self_attn[k], p + "decoder.step0.self_attentions." + std::to_string(k), 1e-5);
        COMPARE_TENSOR(drec.cross_attn[k], p + "decoder.step0.cross_attentions." + std::to_string(k), 1e-5);
      }
      if (p == "img0.q0.") {
        // Non-cached pass over the generated sequence, and the cached per-step scores.
        auto tf_ids = tensor_view(*golden, p + "decoder.teacher_forced.input_ids");
        auto tf = model->text_decoder->forward(tf_ids, q, {}, nullptr, 0);
        COMPARE_TENSOR(tf, p + "decoder.teacher_forced.logits", 1e-3);
        auto scores = tensor_view(*golden, p + "generate.max_new_tokens_5.scores");
        std::vector<LayerCache> c2;
        auto seq = ids_of(tensor_view(*golden, p + "generate.max_new_tokens_5.sequences"));
        for (int64_t s = 0; s < scores.size(0); ++s) {
          auto step = model->text_decoder->forward(torch::full({1, 1}, seq[static_cast<size_t>(s)], torch::kLong), q,
                                                   {}, &c2, s);
          const double d = max_diff(step[0][0], scores[s]);
          QVERIFY2(d <= 1e-3, qPrintable(QString("cached step %1 logits differ by %2").arg(s).arg(d)));
        }
      }
    }
    // Batch: right-padded questions; the decoder attends to every question position.
    auto image = model->vision_model->forward(tensor_view(*golden, "batch.pixel_values"));
    Record brec;
    brec.enabled = true;
    auto q = model->text_encoder->forward(tensor_view(*golden, "batch.input_ids"),
                                          tensor_view(*golden, "batch.attention_mask"), image, &brec);
    COMPARE_TENSOR(q, "batch.text_encoder.last_hidden_state", 1e-4);
    for (int k = 0; k < 2; ++k)
      COMPARE_TENSOR(brec.cross_attn[k], "batch.text_encoder.cross_attentions." + std::to_string(k), 1e-5);
    auto logits = model->text_decoder->forward(torch::full({2, 1}, cfg.bos_id, torch::kLong), q, {}, nullptr, 0);
    COMPARE_TENSOR(logits, "batch.decoder.step0.logits", 1e-3);
  }

  void caption_modules_match_reference() {
    REQUIRE_GOLDEN();
    const auto dir = testutil::blip_dir();
    auto cfg = load_config(dir / "caption_model");
    Model model(cfg);
    model->load_weights(core::Checkpoint::open(dir / "caption_model" / "model.safetensors"));
    model->eval();
    golden = std::make_unique<SafeTensors>(SafeTensors::open(dir / "caption_golden.safetensors"));
    torch::NoGradGuard ng;
    for (const std::string p : {"img0.", "img1."}) {
      auto image = model->vision_model->forward(tensor_view(*golden, p + "pixel_values"));
      COMPARE_TENSOR(image, p + "vision.last_hidden_state", 1e-4);
      Record rec;
      rec.enabled = true;
      auto logits =
          model->text_decoder->forward(torch::full({1, 1}, cfg.bos_id, torch::kLong), image, {}, nullptr, 0, &rec);
      COMPARE_TENSOR(logits, p + "noprompt.decoder.step0.logits", 1e-3);
      for (int k = 0; k < 2; ++k)
        COMPARE_TENSOR(rec.cross_attn[k], p + "noprompt.decoder.step0.cross_attentions." + std::to_string(k), 1e-5);
      auto prompt_ids = tensor_view(*golden, p + "prompt.decoder_input_ids");
      auto all = model->text_decoder->forward(prompt_ids, image, {}, nullptr, 0);
      COMPARE_TENSOR(all.slice(1, all.size(1) - 1), p + "prompt.decoder.step0.logits", 1e-3);
      if (p == "img0.") {
        COMPARE_TENSOR(all, p + "prompt.decoder.logits_all_positions", 1e-3);
        auto tf = model->text_decoder->forward(tensor_view(*golden, p + "noprompt.decoder.teacher_forced.input_ids"),
                                               image, {}, nullptr, 0);
        COMPARE_TENSOR(tf, p + "noprompt.decoder.teacher_forced.logits", 1e-3);
      }
    }
  }

  // End to end through Engine: decode the PNG, preprocess, tokenize, generate. The
  // same model as published checkpoints come (a PyTorch .bin read by the weights-only
  // machine) answers exactly as the reference. The default-length run leaves the
  // length to the model: HF's 20 tokens in all.
  void vqa_engine_generates_reference_ids_data() {
    QTest::addColumn<QString>("folder");
    QTest::newRow("safetensors") << "blip/vqa_model";
    QTest::newRow("pytorch_model.bin") << "pickle/vqa_bin";
  }
  void vqa_engine_generates_reference_ids() {
    REQUIRE_GOLDEN();
    QFETCH(QString, folder);
    const auto dir = testutil::blip_dir();
    const auto model = testutil::golden_dir() / folder.toStdString();
    if (!std::filesystem::exists(model)) QSKIP("this golden folder is absent");
    auto engine = Engine::load(model, Options{Device::Cpu});
    QCOMPARE(engine->info().family, ModelFamily::Blip);
    const auto runs = nlohmann::json::parse(testutil::read_file(dir / "vqa_golden.json"))["runs"];
    for (const auto& run : runs) {
      auto img = decode_image_file(dir / "images" / (run["image"].get<std::string>() + ".png"));
      auto id = engine->encode(img);
      for (const auto& [key, max_new] : {std::pair{"generate_max_new_tokens_5", 5}, {"generate_default", 0}}) {
        AskOptions o;
        o.beams = 1;
        o.max_new_tokens = max_new;
        o.min_new_tokens = 0;  // HF generate's default
        auto r = engine->ask(id, run["question"].get<std::string>(), o);
        QVERIFY(!r.answers.empty());
        auto got = sequence_of(r.answers.front(), {30522});
        auto want = json_ids(run[key]);
        QVERIFY2(got == want, qPrintable(QString("%1 %2: %3 vs reference %4")
                                             .arg(QString::fromStdString(run["prefix"].get<std::string>()), key,
                                                  str(got), str(want))));
        QCOMPARE(r.inspection.cross_attention.shape,
                 (std::vector<int64_t>{2, 2, static_cast<int64_t>(run["input_ids"].size()), 17}));
        QVERIFY(!r.inspection.learned_gates);
        QVERIFY(!r.calibrated);
      }
    }
  }

  // Published .bin files carry the embeddings' position_ids buffers (int64) beside
  // the weights; they load. A generation_config.json sets the answer length.
  void published_extras() {
    REQUIRE_GOLDEN();
    QTemporaryDir tmp;
    const std::filesystem::path dir = tmp.path().toStdString();
    for (const auto& e : std::filesystem::directory_iterator(testutil::blip_dir() / "caption_model"))
      std::filesystem::copy_file(e.path(), dir / e.path().filename());
    auto ts = testutil::read_tensors(dir / "model.safetensors");
    std::string ids(512 * 8, '\0');
    for (int64_t i = 0; i < 512; ++i) std::memcpy(&ids[size_t(i) * 8], &i, 8);
    ts.push_back({"text_decoder.bert.embeddings.position_ids", core::DType::I64, {1, 512}, ids});
    std::filesystem::remove(dir / "model.safetensors");
    testutil::write_tensors(dir / "model.safetensors", ts);
    testutil::write_file(dir / "generation_config.json", R"({"max_new_tokens": 3, "min_new_tokens": 3})");
    auto engine = Engine::load(dir, Options{Device::Cpu});
    auto id = engine->encode(decode_image_file(testutil::blip_dir() / "images" / "grad_640x480.png"));
    DescribeOptions o;
    o.beams = 1;
    auto r = engine->describe(id, o);
    QCOMPARE(r.answers.front().tokens.size(), size_t(3));  // exactly three: both lengths from the file
    o.max_new_tokens = 5;                                  // the caller's setting wins
    o.min_new_tokens = 5;
    QCOMPARE(engine->describe(id, o).answers.front().tokens.size(), size_t(5));
  }

  // Every form the captioning model is published in. The F16/BF16 copies run in
  // float32 and give the goldens' ids (the pickle README: no run changes for this
  // model), and exactly what their F32 twins holding the same rounded values give.
  void caption_engine_generates_reference_ids_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("twin");
    QTest::newRow("safetensors") << "blip/caption_model"
                                 << "";
    QTest::newRow(".bin shards") << "pickle/caption_bin_sharded"
                                 << "";
    QTest::newRow("safetensors shards") << "pickle/caption_st_sharded"
                                        << "";
    QTest::newRow(".bin views") << "pickle/caption_bin_views"
                                << "";
    QTest::newRow("F16") << "pickle/caption_f16"
                         << "pickle/caption_f16_as_f32";
    QTest::newRow("BF16") << "pickle/caption_bf16"
                          << "pickle/caption_bf16_as_f32";
    QTest::newRow(".bin BF16") << "pickle/caption_bin_bf16"
                               << "pickle/caption_bf16_as_f32";
  }
  void caption_engine_generates_reference_ids() {
    REQUIRE_GOLDEN();
    QFETCH(QString, folder);
    QFETCH(QString, twin);
    const auto dir = testutil::blip_dir();
    const auto model = testutil::golden_dir() / folder.toStdString();
    if (!std::filesystem::exists(model)) QSKIP("this golden folder is absent");
    auto engine = Engine::load(model, Options{Device::Cpu});
    QCOMPARE(engine->info().task, ModelTask::Caption);
    QCOMPARE(engine->info().dtype, std::string("float32"));
    std::unique_ptr<Engine> twin_engine;
    if (!twin.isEmpty()) twin_engine = Engine::load(testutil::golden_dir() / twin.toStdString(), Options{Device::Cpu});
    const auto runs = nlohmann::json::parse(testutil::read_file(dir / "caption_golden.json"))["runs"];
    int ended_at_once = 0;
    for (const auto& run : runs) {
      const auto img = decode_image_file(dir / "images" / (run["image"].get<std::string>() + ".png"));
      auto id = engine->encode(img);
      for (const std::string mode : {"noprompt", "prompt"}) {
        const auto& m = run[mode];
        std::vector<int64_t> prefix = json_ids(m["decoder_input_ids"]);
        for (const auto& [key, max_new] : {std::pair{"generate_max_new_tokens_8", 8}, {"generate_default", 0}}) {
          DescribeOptions o;
          o.beams = 1;
          o.max_new_tokens = max_new;
          o.min_new_tokens = 0;  // HF generate's default
          o.prompt = mode == "prompt" ? m["text"].get<std::string>() : "";
          auto r = engine->describe(id, o);
          QVERIFY(!r.answers.empty());
          auto got = sequence_of(r.answers.front(), prefix);
          auto want = json_ids(m[key]);
          QVERIFY2(got == want, qPrintable(QString("%1 %2 %3: %4 vs %5")
                                               .arg(QString::fromStdString(run["prefix"].get<std::string>()),
                                                    QString::fromStdString(mode), key, str(got), str(want))));
          if (twin_engine) {
            auto t = twin_engine->describe(twin_engine->encode(img), o);
            QCOMPARE(t.answers.front().ids, r.answers.front().ids);
            for (size_t k = 0; k < t.answers.front().tokens.size(); ++k)
              QCOMPARE(t.answers.front().tokens[k].p, r.answers.front().tokens[k].p);  // bit for bit
          }
          // Where the reference ends at once, the app's default still says something.
          if (want.size() == prefix.size() + 1 && mode == "noprompt") {
            o.min_new_tokens = DescribeOptions{}.min_new_tokens;
            auto said = engine->describe(id, o);
            QVERIFY(!said.answers.front().text.empty());
            QVERIFY(sequence_of(said.answers.front(), prefix).size() > prefix.size() + 1);
            ++ended_at_once;
          }
        }
      }
    }
    QVERIFY(ended_at_once > 0);  // the golden set has such a case (img1, no prompt)
  }
};

QTEST_APPLESS_MAIN(TstBlipGolden)
#include "tst_blip_golden.moc"
