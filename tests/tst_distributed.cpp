// Data-parallel training over c10d/Gloo on loopback, with real autoglm-train
// processes: two ranks give the weights of one process on the same global
// batch; a rank that dies stops the other with a clear error; fine-tuning
// (one process and two) teaches the shipped model a colour it never saw.
#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"

namespace fs = std::filesystem;

namespace {

struct Proc {
  std::unique_ptr<QProcess> p;
  QString out() const { return QString::fromUtf8(p->readAllStandardOutput()); }
  QString err() const { return QString::fromUtf8(p->readAllStandardError()); }
};

Proc start(const QStringList& args, int rank = -1, int world = 1, int port = 0) {
  Proc r{std::make_unique<QProcess>()};
  auto env = QProcessEnvironment::systemEnvironment();
  env.remove("WORLD_SIZE");
  env.remove("RANK");
  if (rank >= 0) {
    env.insert("WORLD_SIZE", QString::number(world));
    env.insert("RANK", QString::number(rank));
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", QString::number(port));
  }
  r.p->setProcessEnvironment(env);
  r.p->setProgram(AUTOGLM_TRAIN);
  r.p->setArguments(args);
  r.p->start();
  return r;
}

int port_for(int k) { return 20000 + (QCoreApplication::applicationPid() * 7 + k * 131) % 30000; }

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

const QStringList kTiny = {
    "--hidden",  "32", "--batch", "8", "--questions-per-image", "2", "--steps", "12", "--align-dim", "16",
    "--threads", "1",  "--seed",  "4", "--checkpoint-every",    "0"};

}  // namespace

class TstDistributed : public QObject {
  Q_OBJECT
  QTemporaryDir tmp;

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp.isValid()); }

  void two_ranks_equal_one_process() {
    const int port = port_for(1);
    auto r0 = start(QStringList{"train", "--out", tmp.filePath("dp")} + kTiny, 0, 2, port);
    auto r1 = start(QStringList{"train", "--out", tmp.filePath("dp")} + kTiny, 1, 2, port);
    auto one = start(QStringList{"train", "--out", tmp.filePath("single")} + kTiny);
    QVERIFY(r0.p->waitForFinished(300000) && r1.p->waitForFinished(300000) && one.p->waitForFinished(300000));
    const QString e0 = r0.err();
    QVERIFY2(r0.p->exitCode() == 0, qPrintable(e0));
    QVERIFY2(r1.p->exitCode() == 0, qPrintable(r1.err()));
    QVERIFY2(one.p->exitCode() == 0, qPrintable(one.err()));
    QVERIFY(e0.contains("data parallel: 2 ranks, 2 images each"));
    const fs::path a = fs::path(tmp.filePath("dp").toStdString()), b = fs::path(tmp.filePath("single").toStdString());
    QCOMPARE(read_json(a / "training.json")["ranks"].get<int>(), 2);
    QCOMPARE(read_json(a / "training.json")["samples"], read_json(b / "training.json")["samples"]);
    auto sa = core::SafeTensors::open(a / "model.safetensors"), sb = core::SafeTensors::open(b / "model.safetensors");
    double worst = 0, moved = 0;
    std::string where;
    for (const auto& name : sa.names()) {
      const auto ta = core::tensor_view(sa, name), tb = core::tensor_view(sb, name);
      const double d = (ta - tb).abs().max().item<double>();
      if (d > worst) worst = d, where = name;
      moved = std::max(moved, ta.abs().max().item<double>());
    }
    qInfo("largest difference between 2 ranks and 1 process after 12 steps: %.2e (%s)", worst, where.c_str());
    QVERIFY2(worst < 2e-4, where.c_str());
    QVERIFY(moved > 0);
  }

  // --ranks 2: one command starts the second rank itself, with the same result as two started by hand.
  void ranks_option_starts_the_other_processes() {
    auto launched = start(QStringList{"train", "--out", tmp.filePath("ranks"), "--ranks", "2"} + kTiny);
    auto one = start(QStringList{"train", "--out", tmp.filePath("single2")} + kTiny);
    QVERIFY(launched.p->waitForFinished(300000) && one.p->waitForFinished(300000));
    const QString err = launched.err();
    QVERIFY2(launched.p->exitCode() == 0, qPrintable(err));
    QVERIFY2(err.contains("data parallel: 2 processes on this machine") && err.contains("2 ranks, 2 images each"),
             qPrintable(err));
    const fs::path a = fs::path(tmp.filePath("ranks").toStdString()),
                   b = fs::path(tmp.filePath("single2").toStdString());
    QCOMPARE(read_json(a / "training.json")["ranks"].get<int>(), 2);
    auto sa = core::SafeTensors::open(a / "model.safetensors"), sb = core::SafeTensors::open(b / "model.safetensors");
    double worst = 0;
    for (const auto& name : sa.names())
      worst = std::max(worst, (core::tensor_view(sa, name) - core::tensor_view(sb, name)).abs().max().item<double>());
    QVERIFY2(worst < 2e-4, qPrintable(QString::number(worst)));

    auto bad = start(QStringList{"train", "--out", tmp.filePath("bad"), "--ranks", "0"} + kTiny);
    QVERIFY(bad.p->waitForFinished(60000));
    QCOMPARE(bad.p->exitCode(), 1);
    QVERIFY(bad.err().contains("--ranks must be 1 to 256"));
    auto uneven = start(QStringList{"train", "--out", tmp.filePath("uneven")} + kTiny +
                        QStringList{"--questions-per-image", "3"});
    QVERIFY(uneven.p->waitForFinished(60000));
    QCOMPARE(uneven.p->exitCode(), 1);
    QVERIFY2(uneven.err().contains("must be a multiple of the questions per image (3)"), qPrintable(uneven.err()));
  }

  void dead_rank_stops_the_others() {
    const int port = port_for(2);
    QStringList args = {"train",
                        "--out",
                        tmp.filePath("dead"),
                        "--hidden",
                        "32",
                        "--batch",
                        "8",
                        "--steps",
                        "1000000",
                        "--align-dim",
                        "16",
                        "--threads",
                        "1",
                        "--checkpoint-every",
                        "0",
                        "--dist-timeout",
                        "30"};
    auto r0 = start(args, 0, 2, port);
    auto r1 = start(args, 1, 2, port);
    QVERIFY(r0.p->waitForStarted() && r1.p->waitForStarted());
    // Rank 0 says so once both ranks joined and share the start; the steps follow.
    QString err;
    QTRY_VERIFY2_WITH_TIMEOUT((err += r0.err()).contains("data parallel: 2 ranks"), qPrintable(err), 120000);
    QCOMPARE(r0.p->state(), QProcess::Running);
    r1.p->kill();
    r1.p->waitForFinished(10000);
    QElapsedTimer t;
    t.start();
    QVERIFY2(r0.p->waitForFinished(90000), "rank 0 hangs after rank 1 died");
    QVERIFY(r0.p->exitCode() != 0);
    err += r0.err();
    QVERIFY2(err.contains("rank 0 of 2") && err.contains("another rank stopped"), qPrintable(err));
    qInfo("rank 0 stopped %lld ms after rank 1 was killed", t.elapsed());

    // a rank that never comes: the rendezvous times out with a message
    auto alone =
        start({"train", "--out", tmp.filePath("alone"), "--steps", "5", "--dist-timeout", "2"}, 0, 2, port_for(3));
    QVERIFY(alone.p->waitForFinished(60000));
    QVERIFY(alone.p->exitCode() != 0);
    QVERIFY(alone.err().contains("no rendezvous"));
  }

  void finetune_learns_a_new_colour() {
    const QString data = tmp.filePath("pink");
    auto gen = start({"generate-new-color", "--out", data, "--count", "300", "--seed", "12"});
    QVERIFY(gen.p->waitForFinished(120000));
    QCOMPARE(gen.p->exitCode(), 0);
    const QString model = QString(AUTOGLM_SOURCE_DIR) + "/resources/models/default";
    auto ft = start({"finetune", "--model", model, "--data", data + "/data.jsonl", "--out", tmp.filePath("ft"),
                     "--epochs", "6", "--threads", "1", "--seed", "3"});
    QVERIFY(ft.p->waitForFinished(300000));
    QVERIFY2(ft.p->exitCode() == 0, qPrintable(ft.err()));
    auto rep = nlohmann::json::parse(ft.out().toStdString());
    qInfo("validation accuracy %.3f -> %.3f", rep["val_accuracy_before"].get<double>(),
          rep["val_accuracy_after"].get<double>());
    QCOMPARE(rep["new_tokens"], nlohmann::json::array({"pink"}));
    QVERIFY(rep["val_accuracy_after"].get<double>() >= rep["val_accuracy_before"].get<double>() + 0.2);
    const fs::path out = fs::path(tmp.filePath("ft").toStdString());
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "calibration.json", "finetune.json"})
      QVERIFY2(fs::exists(out / f), f);

    // the same on two ranks runs and writes one model folder
    const int port = port_for(4);
    QStringList args = {
        "finetune",     "--model", model,     "--data", data + "/data.jsonl", "--out", tmp.filePath("ft2"),
        "--epochs",     "1",       "--batch", "16",     "--threads",          "1",     "--freeze-vision",
        "--freeze-text"};
    auto r0 = start(args, 0, 2, port), r1 = start(args, 1, 2, port);
    QVERIFY(r0.p->waitForFinished(300000) && r1.p->waitForFinished(300000));
    QVERIFY2(r0.p->exitCode() == 0, qPrintable(r0.err()));
    QVERIFY2(r1.p->exitCode() == 0, qPrintable(r1.err()));
    QVERIFY(fs::exists(fs::path(tmp.filePath("ft2").toStdString()) / "model.safetensors"));
    // frozen: the image encoder and the question encoder (but its fusion) as they were;
    // the word embeddings keep their old rows and gain one
    auto base = core::SafeTensors::open(fs::path(model.toStdString()) / "model.safetensors");
    auto tuned = core::SafeTensors::open(fs::path(tmp.filePath("ft2").toStdString()) / "model.safetensors");
    int frozen = 0, changed = 0;
    for (const auto& name : base.names()) {
      const auto a = core::tensor_view(base, name), b = core::tensor_view(tuned, name);
      const bool fusion = name.find("crossattention") != std::string::npos || name.find("routing") != std::string::npos;
      const bool encoder = name.rfind("vision_model.", 0) == 0 || (name.rfind("text_encoder.", 0) == 0 && !fusion);
      const auto rows = b.slice(0, 0, a.size(0));
      if (encoder) {
        QVERIFY2(rows.equal(a), name.c_str());
        ++frozen;
      } else if (!rows.equal(a)) {
        ++changed;
      }
    }
    QVERIFY(frozen > 10 && changed > 10);

    // bad data: a clear message naming the line
    const QString bad = tmp.filePath("bad.jsonl");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"image\": \"x.png\", \"question\": \"q?\", \"answer\": \"a\"}\n{\"image\": \"x.png\"}\n");
    f.close();
    auto b = start({"finetune", "--model", model, "--data", bad, "--out", tmp.filePath("ft3")});
    QVERIFY(b.p->waitForFinished(60000));
    QCOMPARE(b.p->exitCode(), 1);
    QVERIFY(b.err().contains("bad.jsonl:2"));
  }
};

QTEST_GUILESS_MAIN(TstDistributed)
#include "tst_distributed.moc"
