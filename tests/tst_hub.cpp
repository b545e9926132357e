// Models from the Hub through the real autoglm binary, against tst_hub_server
// (a Hub of our own on 127.0.0.1 serving the golden model folders). The real
// Hub is never contacted: HF_ENDPOINT always points at the local server.
#include <QtTest>
#include <QTcpServer>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

#include "core/hub/cache.h"
#include "hubserver.h"
#include "testutil.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kRepo = HubServer::kRepo;

fs::path vqa_folder() { return testutil::blip_dir() / "vqa_model"; }
QString image_path() { return QString::fromStdString((testutil::blip_dir() / "images" / "grad_640x480.png").string()); }

using Server = HubServer;

struct Run {
  int code;
  QString out, err;
  std::vector<json> lines() const {
    std::vector<json> v;
    for (const auto& l : out.split('\n', Qt::SkipEmptyParts)) v.push_back(json::parse(l.toStdString(), nullptr, false));
    return v;
  }
  json last() const {
    auto v = lines();
    return v.empty() ? json() : v.back();
  }
};

Run run(const QStringList& args, const QProcessEnvironment& env) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.setProgram(AUTOGLM_CLI);
  p.setArguments(args);
  p.start();
  if (!p.waitForFinished(300000)) return {-1, "", "timeout"};
  return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> v;
  std::error_code ec;
  if (fs::exists(dir, ec))
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) v.push_back(e.path());
  return v;
}

}  // namespace

class TstHub : public QObject {
  Q_OBJECT
  QTemporaryDir tmp;
  int caches = 0;

  // A fresh cache folder and the environment that points the CLI at it.
  QProcessEnvironment env_for(const QString& endpoint, fs::path* cache) {
    *cache = fs::path(tmp.path().toStdString()) / ("cache" + std::to_string(++caches));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* k : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "http_proxy", "https_proxy",
                          "HTTP_PROXY", "HTTPS_PROXY", "HUGGINGFACE_HUB_CACHE"})
      env.remove(k);
    env.insert("HF_HUB_CACHE", QString::fromStdString(cache->string()));
    env.insert("HF_HOME", QString::fromStdString((*cache / "home").string()));
    env.insert("HF_ENDPOINT", endpoint);
    return env;
  }

  fs::path snapshots(const fs::path& cache) { return core::hub::repo_dir(cache, kRepo) / "snapshots"; }

 private Q_SLOTS:
  void initTestCase() {
    REQUIRE_GOLDEN();
    QVERIFY(tmp.isValid());
  }

  // The issue's first test: pull, then ask with --model REPO and get the same
  // answer as from the folder; the CDN never sees the token.
  void pull_then_ask_by_repository_id() {
    Server hub({"--token", "hf_secret"});
    QVERIFY(hub.port() > 0);
    fs::path cache;
    auto env = env_for(hub.endpoint(), &cache);
    env.insert("HF_TOKEN", "hf_secret");
    auto r = run({"pull", kRepo, "--json"}, env);
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    const json done = r.last();
    QCOMPARE(done["event"].get<std::string>(), std::string("done"));
    const fs::path snap = fs::u8path(done["path"].get<std::string>());
    QVERIFY(fs::is_symlink(snap / "model.safetensors"));
    QVERIFY(fs::is_symlink(snap / "config.json"));
    QVERIFY(!fs::exists(snap / "config_full.json"));  // not a file the model needs
    QCOMPARE(fs::file_size(snap / "model.safetensors"), fs::file_size(vqa_folder() / "model.safetensors"));
    std::ifstream ref(core::hub::repo_dir(cache, kRepo) / "refs" / "main");
    std::string commit;
    ref >> commit;
    QCOMPARE(commit, done["commit"].get<std::string>());
    bool any_progress = false;
    for (const auto& l : r.lines()) any_progress |= l.value("event", "") == "progress";
    QVERIFY(any_progress);
    const QStringList log = hub.log();
    QVERIFY(!log.filter("REQ cdn GET /lfs/").isEmpty());  // LFS came through the redirect
    QVERIFY(log.filter("REQ cdn").filter("auth=yes").isEmpty());
    QVERIFY(!log.filter("REQ api GET /api/models/Salesforce/blip-vqa-base/revision/main").filter("auth=yes").isEmpty());

    auto by_repo = run({"ask", "--model", kRepo, "--image", image_path(), "--question", "what is in the picture?",
                        "--json", "--device", "cpu"},
                       env);
    QVERIFY2(by_repo.code == 0, qPrintable(by_repo.err + by_repo.out));
    auto by_folder = run({"ask", "--model", QString::fromStdString(vqa_folder().string()), "--image", image_path(),
                          "--question", "what is in the picture?", "--json", "--device", "cpu"},
                         env);
    QVERIFY2(by_folder.code == 0, qPrintable(by_folder.err));
    QCOMPARE(by_repo.last()["answer"], by_folder.last()["answer"]);
    QCOMPARE(by_repo.last()["confidence"], by_folder.last()["confidence"]);

    // Pulled again: nothing is fetched.
    auto again = run({"pull", kRepo, "--json"}, env);
    QVERIFY2(again.code == 0, qPrintable(again.err));
    QCOMPARE(again.last()["downloaded"].get<int64_t>(), int64_t(0));

    // Offline: answers from the cache, and ask needs no server at all.
    env.insert("HF_HUB_OFFLINE", "1");
    env.insert("HF_ENDPOINT", "http://127.0.0.1:9");
    auto offline = run({"pull", kRepo, "--json"}, env);
    QVERIFY2(offline.code == 0, qPrintable(offline.err + offline.out));
    QCOMPARE(offline.last()["from_cache"].get<bool>(), true);
    auto models = run({"models", "--json"}, env);
    QVERIFY2(models.code == 0, qPrintable(models.err));
    QCOMPARE(models.last()["repo"].get<std::string>(), std::string(kRepo));
    QCOMPARE(models.last()["loads"].get<bool>(), true);
    QCOMPARE(models.last()["revision"].get<std::string>(), std::string("main"));

    auto rm = run({"rm", kRepo}, env);
    QVERIFY2(rm.code == 0, qPrintable(rm.err));
    QVERIFY(!fs::exists(core::hub::repo_dir(cache, kRepo)));
    auto gone = run({"ask", "--model", kRepo, "--image", image_path(), "--question", "what?", "--json"}, env);
    QCOMPARE(gone.code, 1);
    QVERIFY2(gone.out.contains(kRepo) && gone.out.contains("autoglm pull"), qPrintable(gone.out));
  }

  void offline_with_nothing_cached_names_the_repository() {
    fs::path cache;
    auto env = env_for("http://127.0.0.1:9", &cache);
    env.insert("HF_HUB_OFFLINE", "1");
    auto r = run({"pull", kRepo, "--json"}, env);
    QCOMPARE(r.code, 1);
    QCOMPARE(r.last()["error_code"].get<std::string>(), std::string("offline"));
    QVERIFY2(r.last()["error"].get<std::string>().find(kRepo) != std::string::npos, qPrintable(r.out));
  }

  // kill -9 in the middle of the weights, then a second pull continues them with Range.
  void killed_pull_resumes_with_range() {
    fs::path cache;
    qint64 killed_at = 0;
    {
      Server slow({"--slow-ms", "25"});
      auto env = env_for(slow.endpoint(), &cache);
      QProcess p;
      p.setProcessEnvironment(env);
      p.start(AUTOGLM_CLI, {"pull", kRepo, "--json"});
      QByteArray pending;
      while (killed_at == 0 && p.waitForReadyRead(60000)) {
        pending += p.readAllStandardOutput();
        int nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const json j = json::parse(pending.left(nl).toStdString(), nullptr, false);
          pending.remove(0, nl + 1);
          if (j.value("file", "") == "model.safetensors" && j.value("file_done", int64_t(0)) > 1000000)
            killed_at = j["file_done"].get<qint64>();
        }
      }
      QVERIFY2(killed_at > 0, "no progress on model.safetensors was reported");
      p.kill();  // SIGKILL
      QVERIFY(p.waitForFinished(10000));
    }
    std::vector<fs::path> partial;
    for (const auto& f : files_under(core::hub::repo_dir(cache, kRepo) / "blobs"))
      if (f.extension() == ".incomplete") partial.push_back(f);
    QCOMPARE(partial.size(), size_t(1));
    QVERIFY(static_cast<qint64>(fs::file_size(partial[0])) >= killed_at);
    QVERIFY(files_under(snapshots(cache)).empty());

    Server hub({});
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HF_HUB_CACHE", QString::fromStdString(cache.string()));
    env.insert("HF_HOME", QString::fromStdString((cache / "home").string()));
    env.insert("HF_ENDPOINT", hub.endpoint());
    env.remove("HF_HUB_OFFLINE");
    env.remove("HF_TOKEN");
    auto r = run({"pull", kRepo, "--json"}, env);
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    const QStringList ranged = hub.log().filter("REQ cdn GET /lfs/").filter("range=bytes=");
    QCOMPARE(ranged.size(), 1);
    const qint64 from = ranged[0].section("range=bytes=", 1).section('-', 0, 0).toLongLong();
    QVERIFY2(from >= killed_at, qPrintable(ranged[0]));
    QVERIFY(r.last()["downloaded"].get<qint64>() <
            static_cast<qint64>(fs::file_size(vqa_folder() / "model.safetensors")));
    const fs::path snap = fs::u8path(r.last()["path"].get<std::string>());
    QCOMPARE(fs::file_size(snap / "model.safetensors"), fs::file_size(vqa_folder() / "model.safetensors"));
  }

  // A connection cut in the middle of a file is retried in the same run with Range;
  // a server that ignores Range sends it whole again, and the file is still right.
  void dropped_connection_is_retried() {
    QFETCH(bool, ignore_range);
    QStringList opts = {"--cut-after", "3000000"};
    if (ignore_range) opts << "--ignore-range";
    Server hub(opts);
    fs::path cache;
    auto r = run({"pull", kRepo, "--json"}, env_for(hub.endpoint(), &cache));
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    const QStringList log = hub.log();
    QVERIFY(!log.filter("CUT at").isEmpty());
    const QStringList ranged = log.filter("REQ cdn GET /lfs/").filter("range=bytes=");
    QCOMPARE(ranged.size(), 1);
    QVERIFY2(ranged[0].section("range=bytes=", 1).section('-', 0, 0).toLongLong() > 0, qPrintable(ranged[0]));
    bool restarted = false;
    for (const auto& l : r.lines())
      restarted |= l.value("event", "") == "note" && l.value("message", "").find("from zero") != std::string::npos;
    QCOMPARE(restarted, ignore_range);
    QCOMPARE(r.last()["event"].get<std::string>(), std::string("done"));
  }
  void dropped_connection_is_retried_data() {
    QTest::addColumn<bool>("ignore_range");
    QTest::newRow("range honoured") << false;
    QTest::newRow("range ignored") << true;
  }

  void corrupted_byte_is_refused() {
    Server hub({"--corrupt", "model.safetensors"});
    fs::path cache;
    auto r = run({"pull", kRepo, "--json"}, env_for(hub.endpoint(), &cache));
    QCOMPARE(r.code, 1);
    QCOMPARE(r.last()["error_code"].get<std::string>(), std::string("checksum"));
    const std::string msg = r.last()["error"].get<std::string>();
    QVERIFY2(msg.find(kRepo) != std::string::npos && msg.find("sha256") != std::string::npos, msg.c_str());
    QVERIFY(files_under(snapshots(cache)).empty());
    for (const auto& f : files_under(core::hub::repo_dir(cache, kRepo) / "blobs"))
      QVERIFY2(fs::file_size(f) < 1000000, f.string().c_str());  // neither the blob nor a partial one
  }

  void server_errors_are_named() {
    QFETCH(QStringList, server_opts);
    QFETCH(QString, repo);
    QFETCH(QString, code);
    QFETCH(QString, says);
    Server hub(server_opts);
    fs::path cache;
    auto r = run({"pull", repo, "--json"}, env_for(hub.endpoint(), &cache));
    QCOMPARE(r.code, 1);
    QCOMPARE(QString::fromStdString(r.last()["error_code"].get<std::string>()), code);
    const QString msg = QString::fromStdString(r.last()["error"].get<std::string>());
    QVERIFY2(msg.contains(repo.section('@', 0, 0)) && msg.contains(says), qPrintable(msg));
  }
  void server_errors_are_named_data() {
    QTest::addColumn<QStringList>("server_opts");
    QTest::addColumn<QString>("repo");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("says");
    QTest::newRow("404") << QStringList{} << "nobody/no-such-model"
                         << "not_found"
                         << "not found";
    QTest::newRow("revision") << QStringList{} << QString(kRepo) + "@v9"
                              << "not_found"
                              << "revision 'v9'";
    QTest::newRow("401") << QStringList{"--token", "hf_right"} << QString(kRepo) << "unauthorized"
                         << "HF_TOKEN";
    QTest::newRow("403") << QStringList{"--status", "403"} << QString(kRepo) << "unauthorized"
                         << "conditions";
    QTest::newRow("500") << QStringList{"--status", "500"} << QString(kRepo) << "network"
                         << "HTTP 500";
  }

  // A family this build cannot run is named right after config.json, and no
  // weights are requested (the issue's "say which family it is").
  void unsupported_family_is_named_before_the_weights() {
    const fs::path dir = fs::path(tmp.path().toStdString()) / "tiny-llama";
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})";
    std::ofstream(dir / "model.safetensors") << std::string(4096, 'x');
    Server hub({"--repo", "someone/tiny-llama=" + QString::fromStdString(dir.string())});
    fs::path cache;
    auto r = run({"pull", "someone/tiny-llama", "--json"}, env_for(hub.endpoint(), &cache));
    QCOMPARE(r.code, 1);
    QCOMPARE(r.last()["error_code"].get<std::string>(), std::string("unsupported_model"));
    const QString msg = QString::fromStdString(r.last()["error"].get<std::string>());
    QVERIFY2(msg.contains("someone/tiny-llama") && msg.contains("llama (LlamaForCausalLM)"), qPrintable(msg));
    QVERIFY(hub.log().filter("model.safetensors").isEmpty());
    QVERIFY(hub.log().filter("REQ cdn").isEmpty());
    QVERIFY(files_under(core::hub::repo_dir(cache, "someone/tiny-llama") / "snapshots").empty());
  }

  // Sharded safetensors: the index and exactly the shards it names; a repository
  // with only PyTorch weights gets its .bin, and both load.
  void weights_are_chosen_as_the_model_needs() {
    Server hub(
        {"--repo",
         "org/sharded=" + QString::fromStdString((testutil::golden_dir() / "pickle" / "caption_st_sharded").string()),
         "--repo", "org/bin-only=" + QString::fromStdString((testutil::golden_dir() / "pickle" / "vqa_bin").string())});
    fs::path cache;
    auto env = env_for(hub.endpoint(), &cache);
    auto sharded = run({"pull", "org/sharded", "--json"}, env);
    QVERIFY2(sharded.code == 0, qPrintable(sharded.err + sharded.out));
    const fs::path snap = fs::u8path(sharded.last()["path"].get<std::string>());
    for (const char* f : {"model.safetensors.index.json", "model-00001-of-00002.safetensors",
                          "model-00002-of-00002.safetensors", "config.json", "vocab.txt"})
      QVERIFY2(fs::exists(snap / f), f);
    QVERIFY(!fs::exists(snap / "config_full.json"));
    auto bin = run({"pull", "org/bin-only", "--json"}, env);
    QVERIFY2(bin.code == 0, qPrintable(bin.err + bin.out));
    QVERIFY(fs::exists(fs::u8path(bin.last()["path"].get<std::string>()) / "pytorch_model.bin"));
    auto models = run({"models", "--json"}, env);
    QCOMPARE(models.lines().size(), size_t(2));
    for (const auto& m : models.lines()) {
      QVERIFY(m["loads"].is_boolean());
      QCOMPARE(m["family"].get<std::string>(),
               std::string(m["repo"] == "org/sharded" ? "blip (BlipForConditionalGeneration)"
                                                      : "blip (BlipForQuestionAnswering)"));
      QVERIFY2(m["loads"].get<bool>(), m.dump().c_str());
    }
    // The .bin-only model answers through --model REPO (read by the weights-only machine).
    auto ask = run({"ask", "--model", "org/bin-only", "--image",
                    QString::fromStdString((testutil::blip_dir() / "images" / "grad_37x53.png").string()), "--question",
                    "what is this?", "--json"},
                   env);
    QVERIFY2(ask.code == 0, qPrintable(ask.err + ask.out));
  }

  void a_few_5xx_are_retried() {
    Server hub({"--status", "503", "--fail-times", "2"});
    fs::path cache;
    auto r = run({"pull", kRepo, "--json"}, env_for(hub.endpoint(), &cache));
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QCOMPARE(hub.log().filter("REQ api GET /api/models/").size(), 3);
  }

  void no_network_is_named() {
    QTcpServer closed;  // a port nobody listens on once closed
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const int port = closed.serverPort();
    closed.close();
    fs::path cache;
    auto r = run({"pull", kRepo, "--json"}, env_for(QString("http://127.0.0.1:%1").arg(port), &cache));
    QCOMPARE(r.code, 1);
    QCOMPARE(r.last()["error_code"].get<std::string>(), std::string("network"));
    QVERIFY(r.last()["error"].get<std::string>().find(kRepo) != std::string::npos);
  }

  // A cache as HuggingFace's tools write it (blobs named by etag, relative links,
  // refs/main) is found by --model REPO and REPO@commit, and listed by models.
  void cache_in_hf_layout_is_found() {
    fs::path cache;
    auto env = env_for("http://127.0.0.1:9", &cache);
    const std::string repo = "someone/blip-vqa-copy";
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    const fs::path dir = core::hub::repo_dir(cache, repo);
    fs::create_directories(dir / "blobs");
    fs::create_directories(dir / "snapshots" / commit);
    fs::create_directories(dir / "refs");
    int n = 0;
    for (const auto& e : fs::directory_iterator(vqa_folder())) {
      const std::string blob = "etag" + std::to_string(n++);
      fs::copy_file(e.path(), dir / "blobs" / blob);
      fs::create_symlink(fs::path("..") / ".." / "blobs" / blob, dir / "snapshots" / commit / e.path().filename());
    }
    std::ofstream(dir / "refs" / "main") << commit;
    for (const QString& m : {QString::fromStdString(repo), QString::fromStdString(repo + "@" + commit)}) {
      auto r = run({"ask", "--model", m, "--image", image_path(), "--question", "what is in the picture?", "--json",
                    "--device", "cpu"},
                   env);
      QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
      QVERIFY(r.last()["error"].is_null());
    }
    auto models = run({"models", "--json"}, env);
    QVERIFY2(models.code == 0, qPrintable(models.err));
    QCOMPARE(models.last()["repo"].get<std::string>(), repo);
    QCOMPARE(models.last()["commit"].get<std::string>(), commit);
    QVERIFY(models.last()["size"].get<int64_t>() > 12000000);
  }
};

QTEST_GUILESS_MAIN(TstHub)
#include "tst_hub.moc"
