// The autoglm command line end to end, on a random-weight model folder.
#include <QtTest>

#include <fstream>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/model/factory.h"
#include "core/vision/image.h"
#include "testutil.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Run {
  int code;
  QString out, err;
};

Run run(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
        const QString& program = AUTOGLM_CLI) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.setProgram(program);
  p.setArguments(args);
  p.start();
  if (!p.waitForFinished(300000)) return {-1, "", "timeout"};
  return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace

class TstCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp;
  QString model, image;

 private Q_SLOTS:
  void initTestCase() {
    const fs::path dir = fs::path(tmp.path().toStdString());
    auto vocab = core::make_vocab({"what", "color", "is", "the", "star", "red", "blue", "?", "describe", "image", "."});
    core::write_random_model(dir / "model", core::small_config(static_cast<int>(vocab.size())), vocab, 5);
    model = QString::fromStdString((dir / "model").string());
    core::Image img;
    img.width = 40;
    img.height = 30;
    img.rgb.assign(40 * 30 * 3, 200);
    for (int i = 0; i < 300; ++i) img.rgb[static_cast<size_t>(i * 3)] = 20;
    image = tmp.filePath("scène 图.png");
    core::save_png(img, fs::u8path(image.toStdString()));
  }

  // bench prints each stage against its floors, and with --contention measures again beside
  // busy processes, which are gone when it ends (checked by their command line, which the
  // forked spinners share with it).
  void bench_measures_floors_and_contention() {
    const QString marker = QStringLiteral("bench-%1?").arg(QCoreApplication::applicationPid());
    auto r = run({"bench", "--model", model, "--runs", "2", "--contention", "1", "--question", marker, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto j = json::parse(r.out.toStdString());
    QVERIFY(j["floors"]["read_gbs"].get<double>() > 0);
    QVERIFY(j["floors"]["decode_step_mb"].get<double>() > 0);
    QVERIFY(j["floors"]["time_over_bandwidth_floor"]["decode_step"].get<double>() > 0);
    QCOMPARE(j["contention"]["processes"].get<int>(), 1);
    QVERIFY(j["contention"]["ask_p50_ms"].get<double>() > 0);
    QVERIFY(j["contention"]["one_thread_p50_ms"].get<double>() > 0);
#ifdef __linux__
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::ifstream f(e.path() / "cmdline", std::ios::binary);
      const std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      QVERIFY2(cmd.find(marker.toStdString()) == std::string::npos, "a busy process outlived the benchmark");
    }
#endif
  }

  void ask_json_has_every_field() {
    const QString heat = tmp.filePath("heat.png");
    auto r = run({"ask", "--model", model, "--image", image, "--question", "what color is the star?", "--json",
                  "--heatmap", heat, "--method", "rollout"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto j = json::parse(r.out.toStdString());
    for (const char* k : {"image", "question", "answer", "confidence", "candidates", "tokens", "heatmap", "gates",
                          "timings_ms", "error"})
      QVERIFY2(j.contains(k), k);
    QVERIFY(j["error"].is_null());
    QVERIFY(j["confidence"].get<double>() >= 0 && j["confidence"].get<double>() <= 1);
    QCOMPARE(j["heatmap"]["grid"], json({8, 8}));
    QCOMPARE(j["heatmap"]["values"].size(), size_t(64));
    double s = 0;
    for (const auto& v : j["heatmap"]["values"]) s += v.get<double>();
    QVERIFY(std::abs(s - 1.0) < 1e-3);
    QCOMPARE(j["heatmap"]["method"].get<std::string>(), std::string("rollout"));
    QCOMPARE(j["gates"]["layers"].get<int>(), 2);
    QCOMPARE(j["gates"]["per_layer"].size(), size_t(2));
    for (const char* k : {"preprocess", "vision", "fusion", "decode"}) QVERIFY(j["timings_ms"].contains(k));
    auto overlay = core::decode_image_file(fs::u8path(heat.toStdString()));
    QCOMPARE(overlay.width, 40);
    QCOMPARE(overlay.height, 30);
  }

  void batch_goes_on_after_a_broken_line() {
    const QString batch = tmp.filePath("batch.jsonl");
    {
      QFile f(batch);
      QVERIFY(f.open(QIODevice::WriteOnly));
      const std::string img = image.toStdString();
      f.write((json{{"image", img}, {"question", "what color is the star?"}}.dump() + "\n").c_str());
      f.write(
          (json{{"image", tmp.filePath("missing.png").toStdString()}, {"question", "is the star red?"}}.dump() + "\n")
              .c_str());
      f.write("this is not json\n");
      f.write((json{{"image", img}, {"question", "is the star blue?"}}.dump() + "\n").c_str());
    }
    auto r = run({"ask", "--model", model, "--batch", batch});
    QCOMPARE(r.code, 1);
    const auto lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    auto l0 = json::parse(lines[0].toStdString()), l1 = json::parse(lines[1].toStdString()),
         l2 = json::parse(lines[2].toStdString()), l3 = json::parse(lines[3].toStdString());
    QVERIFY(l0["error"].is_null() && l0.contains("answer"));
    QVERIFY(l1["error"].get<std::string>().find("missing.png") != std::string::npos);
    QVERIFY(l2["error"].get<std::string>().find("line 3") != std::string::npos);
    QVERIFY(l3["error"].is_null() && l3.contains("answer"));
  }

  void empty_batch_file_is_an_error() {
    const QString batch = tmp.filePath("empty.jsonl");
    {
      QFile f(batch);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("\n  \n");
    }
    auto r = run({"ask", "--model", model, "--batch", batch});
    QCOMPARE(r.code, 1);
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.contains("empty.jsonl") && r.err.contains("holds no requests"), qPrintable(r.err));
  }

  // autoglm and autoglm-train share one parser: a malformed number names its option.
  void malformed_numbers_name_the_option() {
    const auto env = QProcessEnvironment::systemEnvironment();
    auto lr = run({"train", "--out", tmp.filePath("never"), "--lr", "abc", "--steps", "1"}, env, AUTOGLM_TRAIN);
    QCOMPARE(lr.code, 2);
    QVERIFY2(lr.err.contains("--lr") && lr.err.contains("abc"), qPrintable(lr.err));
    QVERIFY(!QFileInfo::exists(tmp.filePath("never")));
    auto steps = run({"train", "--out", tmp.filePath("never"), "--steps", "12x"}, env, AUTOGLM_TRAIN);
    QCOMPARE(steps.code, 2);
    QVERIFY2(steps.err.contains("--steps"), qPrintable(steps.err));
    auto unknown = run({"eval", "--modle", model}, env, AUTOGLM_TRAIN);
    QCOMPARE(unknown.code, 2);
    QVERIFY2(unknown.err.contains("--modle"), qPrintable(unknown.err));
    auto beams = run({"ask", "--beams", "x", "--image", image, "--question", "q"});
    QCOMPARE(beams.code, 2);
    QVERIFY2(beams.err.contains("--beams"), qPrintable(beams.err));
  }

  void exit_codes_and_messages() {
    QCOMPARE(run({"ask", "--model", model, "--image", image}).code, 2);  // no question
    QCOMPARE(run({"frobnicate"}).code, 2);
    QCOMPARE(run({"ask", "--beams", "x", "--image", image, "--question", "q"}).code, 2);
    auto bad = run({"ask", "--model", model, "--image", image, "--question", ""});
    QCOMPARE(bad.code, 1);
    QVERIFY(bad.err.contains("empty"));
    auto notimg = run({"ask", "--model", model, "--image", tmp.filePath("nope.jpg"), "--question", "what?"});
    QCOMPARE(notimg.code, 1);
    auto help = run({"--help"});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains("--batch"));
    auto ver = run({"--version"});
    QVERIFY(ver.out.startsWith("autoglm "));
    auto info = run({"info", "--model", model, "--json"});
    QCOMPARE(info.code, 0);
    auto j = json::parse(info.out.toStdString());
    QCOMPARE(j["family"].get<std::string>(), std::string("open-autoglm"));
    QVERIFY(j["learned_gates"].get<bool>());
    QVERIFY(j["cpu_native_bfloat16"].is_boolean());  // what it found about this CPU
    QVERIFY(run({"info", "--model", model}).out.contains("bfloat16 arithmetic"));
    auto broken = run({"info", "--model", tmp.path()});
    QCOMPARE(broken.code, 1);
    QVERIFY(broken.err.contains("config.json"));
  }

  // OpenBLAS 0.3.21 takes AVX-512 Zen CPUs for AVX2 ones; the program then restarts itself
  // on the AVX-512 kernels, and leaves a user's own OPENBLAS_CORETYPE alone.
  void blas_kernels_fit_the_cpu() {
    auto env = QProcessEnvironment::systemEnvironment();
    env.remove("OPENBLAS_CORETYPE");
    const auto own = run({"info", "--model", model, "--json"}, env);
    QCOMPARE(own.code, 0);
    const auto blas = QString::fromStdString(json::parse(own.out.toStdString())["blas"].get<std::string>());
    qInfo("BLAS: %s", qPrintable(blas));
    if (!blas.startsWith("OpenBLAS")) QSKIP("not linked against OpenBLAS");
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
      QVERIFY2(!blas.contains(" Haswell ") && !blas.contains(" Zen "), qPrintable(blas));
#endif
    env.insert("OPENBLAS_CORETYPE", "Haswell");
    const auto chosen = run({"info", "--model", model, "--json"}, env);
    QCOMPARE(chosen.code, 0);
    QVERIFY(
        QString::fromStdString(json::parse(chosen.out.toStdString())["blas"].get<std::string>()).contains(" Haswell "));
    // the restart keeps the arguments: a usage error is still one
    QCOMPARE(run({"ask", "--beams", "x", "--image", image, "--question", "q"}, QProcessEnvironment::systemEnvironment())
                 .code,
             2);
  }

  void search_and_label_json() {
    QDir(tmp.path()).mkpath("set");
    for (int i = 0; i < 3; ++i) {
      core::Image img;
      img.width = 32 + 8 * i;
      img.height = 32;
      img.rgb.assign(static_cast<size_t>(img.width) * 32 * 3, static_cast<uint8_t>(60 * i + 20));
      core::save_png(img, fs::u8path(tmp.filePath(QString("set/%1.png").arg(i)).toStdString()));
    }
    testutil::write_file(fs::u8path(tmp.filePath("set/broken.jpg").toStdString()), "not a jpeg");
    testutil::write_file(fs::u8path(tmp.filePath("set/notes.txt").toStdString()), "ignored: not an image name");
    auto r = run({"search", "--model", model, "--images", tmp.filePath("set"), "--text", "the red star", "--top", "2",
                  "--json"});
    QCOMPARE(r.code, 1);  // the broken file is reported, the others still ranked
    auto j = json::parse(r.out.toStdString());
    QCOMPARE(j["images"].get<int>(), 3);
    QCOMPARE(j["results"].size(), size_t(2));
    QVERIFY(j["results"][0]["similarity"].get<double>() >= j["results"][1]["similarity"].get<double>());
    for (const auto& e : j["results"]) {
      QVERIFY(e["image"].get<std::string>().find(".png") != std::string::npos);
      QVERIFY(e["probability"].get<double>() > 0 && e["probability"].get<double>() < 1);
      QVERIFY(std::abs(e["similarity"].get<double>()) <= 1.0001);
    }
    QCOMPARE(j["skipped"].size(), size_t(1));
    QVERIFY(j["skipped"][0]["image"].get<std::string>().find("broken.jpg") != std::string::npos);

    auto l =
        run({"label", "--model", model, "--image", image, "--labels", "a red star, a blue circle,the image", "--json"});
    QVERIFY2(l.code == 0, qPrintable(l.err));
    auto lj = json::parse(l.out.toStdString());
    QCOMPARE(lj["labels"].size(), size_t(3));
    double sum = 0;
    for (const auto& e : lj["labels"]) sum += e["probability"].get<double>();
    QVERIFY(std::abs(sum - 1.0) < 1e-3);
    QCOMPARE(lj["best"], lj["labels"][0]["label"]);
    QVERIFY(lj["labels"][0]["probability"].get<double>() >= lj["labels"][2]["probability"].get<double>());

    QCOMPARE(run({"label", "--model", model, "--image", image, "--labels", "only one"}).code, 2);
    QCOMPARE(run({"search", "--model", model, "--text", "x"}).code, 2);
    auto empty = run({"search", "--model", model, "--images", tmp.filePath("set"), "--text", "  "});
    QCOMPARE(empty.code, 1);
    QVERIFY(empty.err.contains("empty"));
  }

  // BLIP image-text matching through the CLI, on the reference's golden folder:
  // search ranks the images of each text as the reference does, labels rank the
  // texts of each image (those without commas, which --labels splits on) in the
  // reference's order, and ask says that this model matches text.
  // BLIP-2 (OPT and T5) through `autoglm ask --json` and `describe`: every token id the reference's.
  void blip2_answers_match_the_reference() {
    const fs::path dir = testutil::golden_dir() / "blip2";
    if (!fs::exists(dir / "manifest.json")) QSKIP("golden/blip2 not found (set AUTOGLM_GOLDEN_DIR)");
    for (const std::string kind : {"opt", "t5"}) {
      const auto g = json::parse(testutil::read_file(dir / (kind + "_golden.json")));
      const QString model = QString::fromStdString((dir / (kind + "_model")).string());
      int checked = 0;
      for (const auto& golden_run : g["runs"]) {
        const auto want = golden_run["generate_greedy_max_new_tokens_10"].get<std::vector<int64_t>>();
        const QString image =
            QString::fromStdString((dir / "images" / (golden_run["image"].get<std::string>() + ".png")).string());
        QStringList args;
        if (golden_run["prompt"].is_null()) {
          args = {"describe", "--model", model, "--image", image};
        } else {
          std::string q = golden_run["prompt"].get<std::string>();
          q = q.substr(10, q.size() - 10 - 8);  // "Question: " ... " Answer:"
          args = {"ask", "--model", model, "--image", image, "--question", QString::fromStdString(q), "--beams", "1"};
        }
        auto r = run(args + QStringList{"--max-tokens", "10", "--json", "--method", "grad-weighted"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = json::parse(r.out.toStdString());
        std::vector<int64_t> got{want.front()};  // the reference's rows start with the placeholder
        for (const auto& t : j["tokens"]) got.push_back(t["id"].get<int64_t>());
        QCOMPARE(got, want);
        QCOMPARE(QString::fromStdString(j["gates"]["kind"].get<std::string>()), QString("image-reliance"));
        QCOMPARE(j["heatmap"]["values"].size(),
                 size_t(j["heatmap"]["grid"][0].get<int>() * j["heatmap"]["grid"][1].get<int>()));
        ++checked;
      }
      QVERIFY(checked >= 4);
      auto ranked =
          run({"ask", "--model", model, "--image", QString::fromStdString((dir / "images" / "grad_37x53.png").string()),
               "--question", "is it red?", "--answers", "yes,no"});
      QCOMPARE(ranked.code, 1);
      QVERIFY2((ranked.out + ranked.err).contains("closed list"), qPrintable(ranked.out + ranked.err));
    }
  }

  void itm_search_and_labels_match_the_reference() {
    const fs::path dir = testutil::golden_dir() / "blip_itm";
    if (!fs::exists(dir / "itm_golden.json")) QSKIP("golden/blip_itm not found (set AUTOGLM_GOLDEN_DIR)");
    const auto g = json::parse(testutil::read_file(dir / "itm_golden.json"));
    const QString itm = QString::fromStdString((dir / "itm_model").string());
    std::vector<std::string> files;
    for (const auto& im : g["images"]) files.push_back((dir / im["file"].get<std::string>()).string());
    for (const auto& t : g["texts"]) {
      const std::string key = "txt" + std::to_string(t["index"].get<int>());
      auto r = run({"search", "--model", itm, "--images", QString::fromStdString((dir / "images").string()), "--text",
                    QString::fromStdString(t["text"].get<std::string>()), "--rerank", "0", "--json"});
      QVERIFY2(r.code == 0, qPrintable(r.err));
      std::vector<int> got;
      const auto j = json::parse(r.out.toStdString());
      for (const auto& e : j["results"])
        got.push_back(int(std::find(files.begin(), files.end(), e["image"].get<std::string>()) - files.begin()));
      QCOMPARE(got, g["itc"]["search_rank_per_text"][key]["order_idx"].get<std::vector<int>>());
    }
    for (const auto& im : g["images"]) {
      const std::string key = "img" + std::to_string(im["index"].get<int>());
      QStringList labels;
      std::vector<int> want;
      for (int i : g["itc"]["label_rank_per_image"][key]["order_idx"].get<std::vector<int>>()) {
        const std::string text = g["texts"][size_t(i)]["text"].get<std::string>();
        if (text.find(',') != std::string::npos) continue;
        labels << QString::fromStdString(text);
        want.push_back(i);
      }
      QVERIFY(labels.size() >= 3);
      auto r = run({"label", "--model", itm, "--image",
                    QString::fromStdString((dir / im["file"].get<std::string>()).string()), "--labels",
                    labels.join(','), "--json"});
      QVERIFY2(r.code == 0, qPrintable(r.err));
      std::vector<int> got;
      const auto j = json::parse(r.out.toStdString());
      for (const auto& e : j["labels"])
        got.push_back(want[size_t(labels.indexOf(QString::fromStdString(e["label"].get<std::string>())))]);
      QCOMPARE(got, want);
    }
    // A matching head re-ranks the search and scores each label; `match` gives both scores and the map.
    for (const auto& [key, want] : g["itm"]["rerank_per_text"].items()) {
      const auto& text = g["texts"][std::stoul(key.substr(3))]["text"].get<std::string>();
      auto r = run({"search", "--model", itm, "--images", QString::fromStdString((dir / "images").string()), "--text",
                    QString::fromStdString(text), "--rerank", "16", "--json"});
      QVERIFY2(r.code == 0, qPrintable(r.err));
      std::vector<int> got;
      const auto j = json::parse(r.out.toStdString());
      for (const auto& e : j["results"]) {
        QVERIFY(e.contains("match_probability"));
        got.push_back(int(std::find(files.begin(), files.end(), e["image"].get<std::string>()) - files.begin()));
      }
      QCOMPARE(got, want["order_idx"].get<std::vector<int>>());
    }
    const auto& pair = g["pairs"][0];
    auto m =
        run({"match", "--model", itm, "--image", QString::fromStdString(files[pair["image"].get<size_t>()]), "--text",
             QString::fromStdString(g["texts"][pair["text"].get<size_t>()]["text"].get<std::string>()), "--json"});
    QVERIFY2(m.code == 0, qPrintable(m.err));
    const auto mj = json::parse(m.out.toStdString());
    QVERIFY(std::abs(mj["match_probability"].get<double>() - pair["itm_match_prob"].get<double>()) < 1e-3);
    QVERIFY(std::abs(mj["similarity"].get<double>() - pair["itc_sim"].get<double>()) < 1e-3);
    QCOMPARE(mj["heatmap"]["values"].size(), size_t(16));
    QCOMPARE(mj["tokens"].size(), g["texts"][pair["text"].get<size_t>()]["input_ids"].size());
    auto ask =
        run({"ask", "--model", itm, "--image", QString::fromStdString(files.front()), "--question", "what is it?"});
    QCOMPARE(ask.code, 1);
    QVERIFY2((ask.out + ask.err).contains("matches images with text"), qPrintable(ask.out + ask.err));
  }

  void describe_works() {
    auto r = run({"describe", "--model", model, "--image", image, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto j = json::parse(r.out.toStdString());
    QVERIFY(j.contains("answer"));
  }
};

QTEST_GUILESS_MAIN(TstCli)
#include "tst_cli.moc"
