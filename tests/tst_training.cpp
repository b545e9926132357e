// Training from scratch on the shapes world (a tiny configuration), checkpoints
// and resume, and the quality of the shipped default model.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/engine/engine.h"
#include "core/engine/paths.h"
#include "core/io/safetensors.h"
#include "core/train/shapes.h"
#include "core/train/trainer.h"
#include "core/vision/image.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_json(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f);
}

core::train::TrainOptions tiny(const fs::path& out) {
  core::train::TrainOptions o;
  o.out = out;
  o.seed = 5;
  o.batch = 16;
  o.hidden = 32;
  o.heads = 2;
  o.vision_layers = 1;
  o.text_layers = 1;
  o.decoder_layers = 1;
  o.align_dim = 16;
  o.lr = 3e-3;
  o.threads = 1;
  o.calibration_samples = 40;
  o.checkpoint_every = 200;
  o.dense_weight = 1;
  o.dense_object_share = 0.5;  // as the preset
  o.ground_weight = 1;
  o.refer_weight = 1;
  o.questions_per_image = 2;  // 8 images a step, 16 questions once captioning is over
  o.canvas_max = 128;
  return o;
}

// A training-only head's weight matrix from a checkpoint (float32).
std::vector<float> head_weights(const fs::path& checkpoint, const std::string& head = "dense",
                                const std::string& file = "heads.safetensors", const std::string& suffix = ".weight") {
  auto st = core::SafeTensors::open(checkpoint / file);
  const std::string name = "head." + head + suffix;
  const auto& info = st.info(name);
  std::vector<float> w(static_cast<size_t>(info.numel()));
  std::memcpy(w.data(), st.data(name), w.size() * sizeof(float));
  return w;
}

double relative_change(const std::vector<float>& before, const std::vector<float>& after) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    diff += (after[i] - before[i]) * (after[i] - before[i]);
    norm += before[i] * before[i];
  }
  return std::sqrt(diff / norm);
}

fs::path shipped_model() { return fs::path(AUTOGLM_SOURCE_DIR) / "resources" / "models" / "default"; }

}  // namespace

class TstTraining : public QObject {
  Q_OBJECT
  QTemporaryDir tmp;

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp.isValid()); }

  void tiny_model_loss_halves_and_resumes() {
    const fs::path out = fs::path(tmp.path().toStdString()) / "tiny";
    auto o = tiny(out);
    o.steps = 600;
    std::vector<std::string> lines;
    core::train::train(o, [&](const std::string& s) { lines.push_back(s); });
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "calibration.json", "training.json",
                          "checkpoint/optimizer.safetensors", "checkpoint/state.json"})
      QVERIFY2(fs::exists(out / f), f);
    auto meta = read_json(out / "training.json");
    QCOMPARE(meta["dense_object_share"].get<double>(), 0.5);
    QCOMPARE(meta["canvas_max"].get<int>(), 128);
    const double first = meta["first_answer_loss"], last = meta["answer_loss"];
    qInfo("answer loss %.3f -> %.3f", first, last);
    QVERIFY2(last < 0.5 * first, qPrintable(QString("answer loss %1 -> %2").arg(first).arg(last)));
    QVERIFY(meta["final_loss"].get<double>() < meta["first_loss"].get<double>());  // with the contrastive term
    // the per-patch attribute head learns too (its weights are kept for resuming, not in the model)
    const double first_patch = meta["first_patch_loss"], last_patch = meta["patch_loss"];
    qInfo("patch loss %.3f -> %.3f", first_patch, last_patch);
    QVERIFY2(last_patch < 0.6 * first_patch,
             qPrintable(QString("patch loss %1 -> %2").arg(first_patch).arg(last_patch)));
    QVERIFY(fs::exists(out / "checkpoint" / "heads.safetensors"));
    // and the fusion layers' heatmap moves toward the object asked about (uniform: about 4.2)
    const double first_ground = meta["first_grounding_loss"], last_ground = meta["grounding_loss"];
    qInfo("grounding loss %.3f -> %.3f", first_ground, last_ground);
    QVERIFY2(first_ground > 3 && last_ground < first_ground - 0.3,
             qPrintable(QString("grounding loss %1 -> %2").arg(first_ground).arg(last_ground)));
    // and the fused question names the object it asks about (chance: about 1.4)
    const double first_refer = meta["first_refer_loss"], last_refer = meta["refer_loss"];
    qInfo("referred-object loss %.3f -> %.3f", first_refer, last_refer);
    QVERIFY2(first_refer > 1 && last_refer < 0.75 * first_refer,
             qPrintable(QString("referred-object loss %1 -> %2").arg(first_refer).arg(last_refer)));
    QVERIFY(std::any_of(lines.begin(), lines.end(), [](const std::string& s) {
      return s.find("held-out acc") != std::string::npos && s.find("samples/s") != std::string::npos;
    }));
    // the result is a model folder the engine loads, with alignment heads
    auto engine = core::Engine::load(out, core::Options{core::Device::Cpu});
    QCOMPARE(engine->info().align_dim, 16);
    QVERIFY(engine->info().calibrated);
    const auto calib = read_json(out / "calibration.json");
    QVERIFY(calib["length_exponent"].get<double>() >= 0 && calib["length_exponent"].get<double>() <= 1);
    QVERIFY(calib["ece"].get<double>() <= calib["ece_uncalibrated"].get<double>());

    const auto head_before = head_weights(out / "checkpoint"), refer_before = head_weights(out / "checkpoint", "refer");
    const auto moment_before = head_weights(out / "checkpoint", "dense", "optimizer.safetensors", ".weight.exp_avg_sq");
    // resume: continues at the checkpoint's step with its optimizer state
    o.steps = 640;
    o.resume = true;
    lines.clear();
    core::train::train(o, [&](const std::string& s) { lines.push_back(s); });
    QVERIFY(!lines.empty());
    QCOMPARE(QString::fromStdString(lines.front()), QString("resumed at step 600"));
    auto meta2 = read_json(out / "training.json");
    QCOMPARE(meta2["step"].get<int>(), 640);
    // 8 images a step; stage 1's steps ask one caption of each, stage 2's two questions
    const int images = meta2["images"].get<int>(), questions = meta2["samples"].get<int>();
    QCOMPARE(images, 640 * 8);
    QVERIFY2(questions > images + 500 * 8 && questions < 2 * images, qPrintable(QString::number(questions)));
    QCOMPARE(meta2["questions_per_image"].get<int>(), 2);
    QCOMPARE(meta2["first_answer_loss"].get<double>(), first);
    // the head came back trained: 40 more steps moved its weights a little, a fresh start would not be near
    const auto head_after = head_weights(out / "checkpoint"), refer_after = head_weights(out / "checkpoint", "refer");
    QCOMPARE(head_after.size(), head_before.size());
    QCOMPARE(refer_after.size(), refer_before.size());
    const double drift = relative_change(head_before, head_after),
                 refer_drift = relative_change(refer_before, refer_after);
    qInfo("head drift over 40 resumed steps: patches %.3f, referred object %.3f", drift, refer_drift);
    QVERIFY2(drift < 0.3 && refer_drift < 0.3, qPrintable(QString("drift %1, %2").arg(drift).arg(refer_drift)));
    // and AdamW's second moments came back: 40 steps at beta2 0.999 keep 96% of them (lost, they would be 4%)
    const auto moment_after = head_weights(out / "checkpoint", "dense", "optimizer.safetensors", ".weight.exp_avg_sq");
    const double moment_drift = relative_change(moment_before, moment_after);
    qInfo("second-moment change over 40 resumed steps: %.3f", moment_drift);
    QVERIFY2(moment_drift < 0.5, qPrintable(QString::number(moment_drift)));

    o.out = fs::path(tmp.path().toStdString()) / "nothing-here";
    try {
      core::train::train(o, nullptr);
      QFAIL("resume without a checkpoint");
    } catch (const core::Error& e) {
      QVERIFY(std::string(e.what()).find("no checkpoint") != std::string::npos);
    }
    o.resume = false;
    o.curriculum = "hardest";
    try {
      core::train::train(o, nullptr);
      QFAIL("an unknown curriculum");
    } catch (const core::Error& e) {
      QVERIFY(std::string(e.what()).find("unknown curriculum 'hardest'") != std::string::npos);
    }
  }

  // A model whose input keeps the image's aspect ratio: training keeps each batch to
  // one patch grid, the engine answers on the image's own grid, and finetuning on wide,
  // tall and square images batches them by input size.
  void tiny_model_keeps_aspect() {
    const fs::path out = fs::path(tmp.path().toStdString()) / "aspect";
    auto o = tiny(out);
    o.keep_aspect = true;
    o.steps = 300;
    o.curriculum = "error";      // types drawn by their running share of wrong answers
    o.curriculum_objects = 0.6;  // ... and within a type, scenes by object count
    core::train::train(o, nullptr);
    QVERIFY(read_json(out / "config.json")["preprocess"]["keep_aspect"].get<bool>());
    const auto meta = read_json(out / "training.json");
    QCOMPARE(meta["curriculum"].get<std::string>(), std::string("error"));
    // each type's running error is a rate; some types are learned (from 1 at the start), a tiny model still errs
    const auto errors = meta["type_error"].get<std::vector<double>>();
    QCOMPARE(errors.size(), core::shapes::question_types().size());
    for (double e : errors) QVERIFY2(e >= 0 && e <= 1, qPrintable(QString::number(e)));
    QVERIFY2(*std::min_element(errors.begin(), errors.end()) < 0.9, qPrintable(QString::number(errors.front())));
    QVERIFY(*std::max_element(errors.begin(), errors.end()) > 0.05);
    // by type and object count: rates, up from their start (0) where the model errs
    QCOMPARE(meta["curriculum_objects"].get<double>(), 0.6);
    const auto by_count = meta["object_error"].get<std::vector<double>>();
    QCOMPARE(by_count.size(), 5 * errors.size());
    for (double e : by_count) QVERIFY2(e >= 0 && e <= 1, qPrintable(QString::number(e)));
    QVERIFY2(*std::max_element(by_count.begin(), by_count.end()) > 0.05, qPrintable(QString::number(by_count.back())));
    // no comparison is asked about one object: that count keeps no error to draw scenes by
    const auto& types = core::shapes::question_types();
    const auto compare = std::find(types.begin(), types.end(), "compare") - types.begin();
    QCOMPARE(by_count[static_cast<size_t>(5 * compare)], 0.0);
    const double first = meta["first_answer_loss"], last = meta["answer_loss"];
    qInfo("answer loss %.3f -> %.3f", first, last);
    QVERIFY2(last < 0.8 * first, qPrintable(QString("answer loss %1 -> %2").arg(first).arg(last)));
    const double first_patch = meta["first_patch_loss"], last_patch = meta["patch_loss"];
    qInfo("patch loss %.3f -> %.3f", first_patch, last_patch);
    QVERIFY2(last_patch < 0.9 * first_patch,
             qPrintable(QString("patch loss %1 -> %2").arg(first_patch).arg(last_patch)));

    auto engine = core::Engine::load(out, core::Options{core::Device::Cpu});
    core::shapes::GenOptions wide;
    wide.fixed_w = 256;
    wide.fixed_h = 128;
    const auto sc = core::shapes::render_scene(7, wide);
    const auto r = engine->ask(engine->encode(core::image_from_mat(sc.rgb)), "describe the image.");
    QVERIFY(!r.answers.empty());
    QCOMPARE(r.inspection.grid_h, 6);  // 8 x 8 cells for a square, 6 x 11 for 2:1
    QCOMPARE(r.inspection.grid_w, 11);

    const fs::path data = fs::path(tmp.path().toStdString()) / "aspect-data";
    fs::create_directories(data);
    std::ofstream lines(data / "data.jsonl");
    const std::array<std::array<int, 2>, 3> sizes{{{128, 128}, {256, 128}, {128, 256}}};
    for (int k = 0; k < 30; ++k) {
      core::shapes::GenOptions g;
      g.fixed_w = sizes[size_t(k) % 3][0];
      g.fixed_h = sizes[size_t(k) % 3][1];
      const auto s = core::shapes::make_sample_of_type(core::shapes::mix_seed(77, uint64_t(k)), "color", g);
      const std::string name = std::to_string(k) + ".png";
      core::save_png(core::image_from_mat(s.scene.rgb), data / name);
      lines << json{{"image", name}, {"question", s.question}, {"answer", s.answer}}.dump() << "\n";
    }
    lines.close();
    core::train::FinetuneOptions f;
    f.model = out;
    f.data = data / "data.jsonl";
    f.out = fs::path(tmp.path().toStdString()) / "aspect-finetuned";
    f.epochs = 2;
    f.patience = 5;
    f.batch = 4;
    f.threads = 1;
    std::vector<std::string> log;
    const auto rep = core::train::finetune(f, [&](const std::string& s) { log.push_back(s); });
    QCOMPARE(rep.epochs_run, 2);
    QVERIFY(fs::exists(f.out / "model.safetensors"));
    QVERIFY(read_json(f.out / "config.json")["preprocess"]["keep_aspect"].get<bool>());
    QVERIFY(std::any_of(log.begin(), log.end(), [](const std::string& s) { return s.rfind("epoch 2", 0) == 0; }));
  }

  void shipped_model_answers() {
    QVERIFY(fs::exists(shipped_model() / "model.safetensors"));
    auto r = core::train::evaluate(shipped_model(), 424242, 300, nullptr, core::AskOptions{}.beams);  // as ask decodes
    QCOMPARE(r.beams, core::AskOptions{}.beams);
    qInfo("shipped model on 300 fresh questions: accuracy %.3f, pointing %.3f (all layers) %.3f (grad-weighted)",
          r.accuracy, r.pointing_all_layers, r.pointing_grad);
    QVERIFY2(r.accuracy >= SHIPPED_MIN_ACCURACY, qPrintable(QString::number(r.accuracy)));
    QVERIFY2(std::max(r.pointing_all_layers, r.pointing_grad) >= SHIPPED_MIN_POINTING,
             qPrintable(QString::number(r.pointing_all_layers)));
  }

  // `autoglm-train eval --set`: a set written by `generate` scores exactly as the same
  // questions rendered in memory (PNG keeps every pixel), a set without masks is scored
  // on the referred object's box, and a bad line is named before any question is asked.
  void set_on_disk_scores_as_in_memory() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const fs::path dir = tmp.path().toStdString();
    const uint64_t seed = 515151;
    const int n = 80;
    core::shapes::write_dataset(dir, seed, n);
    const auto mem = core::train::evaluate(shipped_model(), seed, n, nullptr);
    const auto disk = core::train::evaluate_set(dir, shipped_model(), 0, nullptr);
    qInfo("%d questions: accuracy %.3f in memory, %.3f from disk; pointing %.3f / %.3f on %d", n, mem.accuracy,
          disk.accuracy, mem.pointing_all_layers, disk.pointing_all_layers, disk.pointing_count);
    QCOMPARE(disk.count, n);
    QVERIFY(mem.accuracy > 0.7);
    QCOMPARE(disk.accuracy, mem.accuracy);
    QVERIFY(disk.per_type == mem.per_type);
    QVERIFY(disk.per_type_count == mem.per_type_count);
    QVERIFY(mem.pointing_count > n / 3);
    QCOMPARE(disk.pointing_count, mem.pointing_count);
    QCOMPARE(disk.pointing_all_layers, mem.pointing_all_layers);
    QCOMPARE(disk.pointing_grad, mem.pointing_grad);
    QCOMPARE(disk.ece_calibrated, mem.ece_calibrated);
    QCOMPARE(core::train::evaluate_set(dir / "requests.jsonl", shipped_model(), 10, nullptr).count, 10);

    // Without "masks": a box holds its object's pixels, so every mask hit is a box hit.
    std::vector<json> rows;
    {
      std::ifstream in(dir / "requests.jsonl");
      for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
    }
    {
      std::ofstream out(dir / "boxes.jsonl");
      for (auto j : rows) {
        j.erase("masks");
        out << j.dump() << "\n";
      }
    }
    const auto boxes = core::train::evaluate_set(dir / "boxes.jsonl", shipped_model(), 0, nullptr);
    QCOMPARE(boxes.accuracy, mem.accuracy);
    QCOMPARE(boxes.pointing_count, mem.pointing_count);
    QVERIFY(boxes.pointing_all_layers >= mem.pointing_all_layers);

    auto fails_with = [&](const std::vector<json>& set, const std::string& what) {
      {
        std::ofstream out(dir / "bad.jsonl");
        for (const auto& j : set) out << j.dump() << "\n";
      }
      try {
        core::train::evaluate_set(dir / "bad.jsonl", shipped_model(), 0, nullptr);
      } catch (const core::Error& e) {
        QVERIFY2(std::string(e.what()).find(what) != std::string::npos, e.what());
        return;
      }
      QFAIL(("no error for " + what).c_str());
    };
    auto no_answer = rows;
    no_answer[2].erase("answer");
    fails_with(no_answer, "bad.jsonl:3: needs \"answer\"");
    auto no_image = rows;
    no_image[1]["image"] = "images/missing.png";
    fails_with(no_image, "missing.png");
    auto bad_ref = rows;
    for (auto& j : bad_ref)
      if (j.value("referred", -1) >= 0) {
        j["referred"] = 9;
        break;
      }
    fails_with(bad_ref, "\"referred\" is 9");
    fails_with({}, "has no questions");
  }

  void shipped_model_matches_captions() {
    // A scene against its own caption and against another scene's: the own one
    // must win most of the time (a random-weight model wins about half).
    auto engine = core::Engine::load(shipped_model(), core::Options{core::Device::Cpu});
    QVERIFY(engine->info().align_dim > 0);
    int wins = 0, n = 0;
    for (uint64_t i = 0; n < 100; ++i) {
      auto a = core::shapes::render_scene(core::shapes::mix_seed(99, 2 * i));
      auto b = core::shapes::render_scene(core::shapes::mix_seed(99, 2 * i + 1));
      const auto ca = core::shapes::caption(a), cb = core::shapes::caption(b);
      if (core::shapes::caption_matches(ca, cb)) continue;
      auto m = engine->match(engine->encode(core::image_from_mat(a.rgb)), {ca, cb});
      wins += m[0].similarity > m[1].similarity;
      ++n;
    }
    qInfo("own caption preferred in %d of %d pairs", wins, n);
    QVERIFY2(wins >= 80, qPrintable(QString::number(wins)));
  }

  // A five-object caption takes 24 tokens: with the default options the answer to
  // "describe the image." is whole, not cut after "and".
  void shipped_model_captions_are_whole() {
    auto engine = core::Engine::load(shipped_model(), core::Options{core::Device::Cpu});
    const auto& shapes = core::shapes::shape_names();
    int n = 0, right = 0;
    for (uint64_t i = 0; n < 20; ++i) {
      auto sc = core::shapes::render_scene(core::shapes::mix_seed(31, i));
      if (sc.objects.size() != 5) continue;
      ++n;
      const auto r =
          engine->ask(engine->encode(core::image_from_mat(sc.rgb)), "describe the image.", core::AskOptions{});
      QVERIFY(!r.answers.empty());
      const std::string a = r.answers[0].text;
      const std::string last = a.substr(a.find_last_of(' ') + 1);
      QVERIFY2(std::find(shapes.begin(), shapes.end(), last) != shapes.end(), a.c_str());
      right += core::shapes::caption_matches(a, core::shapes::caption(sc));
    }
    qInfo("five-object captions: %d of %d right", right, n);
    QVERIFY(right > 0);
  }
};

QTEST_APPLESS_MAIN(TstTraining)
#include "tst_training.moc"
