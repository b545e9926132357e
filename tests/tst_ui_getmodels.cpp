// Model > Get models… offscreen, against tst_hub_server (a Hub of our own on
// 127.0.0.1 serving the golden model folders): a pull with progress that is
// then listed and opened, a cancel, a pause and resume, a pull that survives
// the window (the app) closing, a family this app cannot run, and the token.
#include <QtTest>
#include <QFrame>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTreeWidget>

#include <filesystem>
#include <fstream>
#include <memory>

#include "core/hub/cache.h"
#include "hubserver.h"
#include "testutil.h"
#include "ui/getmodelsdialog.h"

namespace fs = std::filesystem;
using ui::GetModelsDialog;
using ui::HubDownload;

namespace {

const QString kRepo = QString::fromLatin1(HubServer::kRepo);

fs::path vqa_folder() { return testutil::blip_dir() / "vqa_model"; }

using Server = HubServer;

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> v;
  std::error_code ec;
  if (fs::exists(dir, ec))
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) v.push_back(e.path());
  return v;
}

std::vector<fs::path> partial_files(const fs::path& cache, const QString& repo) {
  std::vector<fs::path> v;
  for (const auto& f : files_under(core::hub::repo_dir(cache, repo.toStdString()) / "blobs"))
    if (f.extension() == ".incomplete") v.push_back(f);
  return v;
}

QPushButton* rowButton(const GetModelsDialog& dlg, const QString& ref, const char* name) {
  auto* row = dlg.findChild<QFrame*>(QStringLiteral("download:") + ref);
  return row ? row->findChild<QPushButton*>(QLatin1String(name)) : nullptr;
}

QTreeWidgetItem* findItem(QTreeWidget* tree, const QString& text) {
  const auto items = tree->findItems(text, Qt::MatchExactly, 0);
  return items.isEmpty() ? nullptr : items.first();
}

}  // namespace

class TstUiGetModels : public QObject {
  Q_OBJECT
  QTemporaryDir tmp;
  int caches = 0;
  fs::path cache;

  // A fresh, empty cache and the server every pull of this test talks to.
  void pointAt(const Server& hub) {
    cache = fs::path(tmp.path().toStdString()) / ("cache" + std::to_string(++caches));
    qputenv("HF_HUB_CACHE", QByteArray::fromStdString(cache.string()));
    qputenv("HF_ENDPOINT", hub.endpoint().toUtf8());
  }

 private Q_SLOTS:
  void initTestCase() {
    REQUIRE_GOLDEN();
    QVERIFY(tmp.isValid());
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("autoglm-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_ui_getmodels"));
    for (const char* k : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "http_proxy", "https_proxy",
                          "HTTP_PROXY", "HTTPS_PROXY", "HUGGINGFACE_HUB_CACHE"})
      qunsetenv(k);
    qputenv("HF_HOME", (tmp.path() + "/home").toUtf8());
  }
  void init() { QSettings().clear(); }

  // The issue's first dialog test: a catalogue entry pulled with progress, then
  // listed under "On this computer" and opened with one click.
  void pull_with_progress_is_listed_and_opens() {
    Server hub({"--slow-ms", "2"});
    QVERIFY(hub.port() > 0);
    pointAt(hub);
    GetModelsDialog dlg;
    dlg.show();
    auto* catalogue = dlg.findChild<QTreeWidget*>("catalogue");
    auto* models = dlg.findChild<QTreeWidget*>("models");
    QVERIFY(catalogue && models);
    QCOMPARE(catalogue->topLevelItemCount(), GetModelsDialog::catalogue().size());
    QCOMPARE(models->topLevelItemCount(), 0);
    catalogue->setCurrentItem(findItem(catalogue, kRepo));
    QCOMPARE(dlg.findChild<QLineEdit*>("repository")->text(), kRepo);

    QSignalSpy finished(&dlg, &GetModelsDialog::downloadFinished);
    QSignalSpy failed(&dlg, &GetModelsDialog::downloadFailed);
    QTest::mouseClick(dlg.findChild<QPushButton*>("get"), Qt::LeftButton);
    HubDownload* d = dlg.download(kRepo);
    QVERIFY(d);
    QCOMPARE(d->state(), HubDownload::State::Running);
    QSignalSpy progress(d, &HubDownload::progress);
    QVERIFY(QSettings().value("hub/unfinished").toStringList().contains(kRepo));  // until it is done
    QVERIFY2(finished.wait(180000), qPrintable(failed.isEmpty() ? "no answer" : failed.first().at(1).toString()));

    QCOMPARE(d->state(), HubDownload::State::Finished);
    QVERIFY(progress.count() >= 3);  // one per file at least: config, tokenizer files, weights
    quint64 last = 0;
    for (const auto& args : progress) {
      QVERIFY(args.at(0).toULongLong() >= last);  // done only grows
      last = args.at(0).toULongLong();
    }
    QCOMPARE(last, progress.last().at(1).toULongLong());
    QVERIFY(last >= fs::file_size(vqa_folder() / "model.safetensors"));
    const fs::path snap = fs::u8path(finished.first().at(1).toString().toStdString());
    QCOMPARE(fs::file_size(snap / "model.safetensors"), fs::file_size(vqa_folder() / "model.safetensors"));
    QVERIFY(QSettings().value("hub/unfinished").toStringList().isEmpty());

    QTreeWidgetItem* listed = findItem(models, kRepo);
    QVERIFY(listed);
    QCOMPARE(listed->text(1), QStringLiteral("main"));
    QSignalSpy open(&dlg, &GetModelsDialog::openModelRequested);
    QPushButton* rowOpen = rowButton(dlg, kRepo, "open");
    QVERIFY(rowOpen && rowOpen->isVisible());
    QTest::mouseClick(rowOpen, Qt::LeftButton);
    QCOMPARE(open.count(), 1);
    QCOMPARE(fs::canonical(fs::u8path(open.last().at(0).toString().toStdString())), fs::canonical(snap));
    models->setCurrentItem(listed);
    QTest::mouseClick(dlg.findChild<QPushButton*>("openModel"), Qt::LeftButton);
    QCOMPARE(open.count(), 2);
    QVERIFY(fs::exists(fs::u8path(open.last().at(0).toString().toStdString()) / "config.json"));
  }

  void cancel_deletes_the_partial_download() {
    Server hub({"--slow-ms", "20"});
    pointAt(hub);
    GetModelsDialog dlg;
    dlg.show();
    auto* repo = dlg.findChild<QLineEdit*>("repository");
    QTest::keyClicks(repo, kRepo);
    QTest::keyClick(repo, Qt::Key_Return);
    HubDownload* d = dlg.download(kRepo);
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->done() > 1000000 || !d->active(), 120000);  // into the weights
    QCOMPARE(d->state(), HubDownload::State::Running);
    QCOMPARE(partial_files(cache, kRepo).size(), size_t(1));
    QTest::mouseClick(rowButton(dlg, kRepo, "cancel"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(d->state(), HubDownload::State::Cancelled, 60000);
    QVERIFY(partial_files(cache, kRepo).empty());
    QVERIFY(files_under(core::hub::repo_dir(cache, kRepo.toStdString()) / "snapshots").empty());
    QCOMPARE(dlg.findChild<QTreeWidget*>("models")->topLevelItemCount(), 0);
    QVERIFY(dlg.unfinished().isEmpty());
    QVERIFY(rowButton(dlg, kRepo, "dismiss")->isVisible());
  }

  // Pause keeps the partial file; Resume asks only for the rest (a Range request).
  void pause_then_resume_continues_with_range() {
    Server hub({"--slow-ms", "20"});
    pointAt(hub);
    GetModelsDialog dlg;
    dlg.show();
    HubDownload* d = dlg.startDownload(kRepo);
    QTRY_VERIFY_WITH_TIMEOUT(d->done() > 1000000 || !d->active(), 120000);
    QPushButton* pause = rowButton(dlg, kRepo, "pause");
    QTest::mouseClick(pause, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(d->state(), HubDownload::State::Paused, 60000);
    const auto partial = partial_files(cache, kRepo);
    QCOMPARE(partial.size(), size_t(1));
    const auto kept = fs::file_size(partial[0]);
    QVERIFY(kept > 0);
    QCOMPARE(dlg.unfinished(), QStringList{kRepo});

    QSignalSpy finished(&dlg, &GetModelsDialog::downloadFinished);
    QCOMPARE(pause->text(), QStringLiteral("Resume"));
    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(finished.wait(180000));
    QVERIFY(d->resumed());
    const QStringList ranged = hub.log().filter("REQ cdn GET /lfs/").filter("range=bytes=");
    QCOMPARE(ranged.size(), 1);
    QVERIFY2(ranged[0].section("range=bytes=", 1).section('-', 0, 0).toULongLong() >= kept, qPrintable(ranged[0]));
    QVERIFY(findItem(dlg.findChild<QTreeWidget*>("models"), kRepo));
  }

  // The app closes in the middle of a pull; the next Get models window offers
  // to resume it and continues from the partial file.
  void pull_survives_closing_the_window() {
    quint64 kept = 0;
    {
      Server slow({"--slow-ms", "20"});
      pointAt(slow);
      GetModelsDialog dlg;
      HubDownload* d = dlg.startDownload(kRepo);
      QTRY_VERIFY_WITH_TIMEOUT(d->done() > 1000000 || !d->active(), 120000);
      QCOMPARE(d->state(), HubDownload::State::Running);
    }  // the window (and with it the app's downloads) is gone
    const auto partial = partial_files(cache, kRepo);
    QCOMPARE(partial.size(), size_t(1));
    kept = fs::file_size(partial[0]);
    QVERIFY(kept > 0);

    Server hub({});
    qputenv("HF_ENDPOINT", hub.endpoint().toUtf8());
    GetModelsDialog dlg;
    dlg.show();
    QCOMPARE(dlg.unfinished(), QStringList{kRepo});
    auto* bar = dlg.findChild<QFrame*>("resumeBar");
    QVERIFY(bar && bar->isVisible());
    QSignalSpy finished(&dlg, &GetModelsDialog::downloadFinished);
    QTest::mouseClick(dlg.findChild<QPushButton*>("resumeAll"), Qt::LeftButton);
    QVERIFY(!bar->isVisible());
    QVERIFY(finished.wait(180000));
    const QStringList ranged = hub.log().filter("REQ cdn GET /lfs/").filter("range=bytes=");
    QCOMPARE(ranged.size(), 1);
    QVERIFY2(ranged[0].section("range=bytes=", 1).section('-', 0, 0).toULongLong() >= kept, qPrintable(ranged[0]));
    QVERIFY(dlg.unfinished().isEmpty());
    QVERIFY(findItem(dlg.findChild<QTreeWidget*>("models"), kRepo));
  }

  // A repository of a family this app cannot run is named, and refused before
  // any weights are fetched.
  void unsupported_family_is_named_before_the_weights() {
    const fs::path llama = fs::path(tmp.path().toStdString()) / "llama";
    fs::create_directories(llama);
    std::ofstream(llama / "config.json") << R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})";
    std::ofstream(llama / "model.safetensors") << std::string(4096, 'x');
    Server hub({}, {"someone/tiny-llama=" + QString::fromStdString(llama.string())});
    pointAt(hub);
    GetModelsDialog dlg;
    QSignalSpy failed(&dlg, &GetModelsDialog::downloadFailed);
    HubDownload* d = dlg.startDownload("someone/tiny-llama");
    QVERIFY(failed.wait(60000));
    QCOMPARE(d->state(), HubDownload::State::Failed);
    QCOMPARE(d->errorCode(), core::ErrorCode::UnsupportedModel);
    const QString message = failed.first().at(1).toString();
    QVERIFY2(message.contains("llama (LlamaForCausalLM)"), qPrintable(message));
    QVERIFY(hub.log().filter("model.safetensors").filter(" GET ").isEmpty());
    QVERIFY(hub.log().filter("REQ cdn").isEmpty());
    auto* detail = dlg.findChild<QFrame*>("download:someone/tiny-llama")->findChild<QLabel*>("detail");
    QCOMPARE(detail->text(), message);
    QVERIFY(dlg.unfinished().isEmpty());  // another try would not help
  }

  void token_is_kept_for_the_user_only() {
    GetModelsDialog dlg;
    auto* token = dlg.findChild<QLineEdit*>("token");
    auto* save = dlg.findChild<QPushButton*>("saveToken");
    QCOMPARE(token->echoMode(), QLineEdit::Password);
    QTest::keyClicks(token, "hf_test_token");
    QVERIFY(save->isEnabled());
    QTest::mouseClick(save, Qt::LeftButton);
    const QString file = tmp.path() + "/home/token";
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("hf_test_token\n"));
    QCOMPARE(fs::status(file.toStdString()).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    QVERIFY(!QSettings().allKeys().join(' ').contains("token"));
    QCOMPARE(QString::fromStdString(core::hub::read_token_file()), QStringLiteral("hf_test_token"));

    GetModelsDialog again;  // shown again (masked) next time
    QCOMPARE(again.findChild<QLineEdit*>("token")->text(), QStringLiteral("hf_test_token"));
    token->selectAll();
    QTest::keyClick(token, Qt::Key_Backspace);
    QVERIFY(save->isEnabled());
    QTest::mouseClick(save, Qt::LeftButton);
    QVERIFY(!QFile::exists(file));  // an empty token removes the file
  }

  // Not a check: with AUTOGLM_GETMODELS_SCREENSHOT=FILE.png it saves the dialog
  // mid-download for the README (docs/screenshot-get-models.png).
  void screenshot_for_the_readme() {
    const QString out = qEnvironmentVariable("AUTOGLM_GETMODELS_SCREENSHOT");
    if (out.isEmpty()) QSKIP("set AUTOGLM_GETMODELS_SCREENSHOT=FILE.png to save a screenshot");
    const QString caption = QStringLiteral("Salesforce/blip-image-captioning-base");
    Server hub({"--slow-ms", "40"},
               {caption + "=" + QString::fromStdString((testutil::blip_dir() / "caption_model").string())});
    pointAt(hub);
    GetModelsDialog dlg;
    dlg.show();
    QSignalSpy finished(&dlg, &GetModelsDialog::downloadFinished);
    dlg.startDownload(caption);
    QVERIFY(finished.wait(180000));
    rowButton(dlg, caption, "dismiss")->click();
    auto* catalogue = dlg.findChild<QTreeWidget*>("catalogue");
    catalogue->setCurrentItem(findItem(catalogue, kRepo));
    HubDownload* d = dlg.startDownload(kRepo);
    QTRY_VERIFY_WITH_TIMEOUT(d->total() > 0 && d->done() > d->total() * 2 / 5, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(
        !dlg.findChild<QFrame*>("download:" + kRepo)->findChild<QLabel*>("detail")->text().contains("--:--"), 30000);
    QVERIFY(dlg.grab().save(out));
    d->pause();
    QTRY_VERIFY_WITH_TIMEOUT(!d->active(), 60000);
  }
};

QTEST_MAIN(TstUiGetModels)
#include "tst_ui_getmodels.moc"
