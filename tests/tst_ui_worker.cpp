// The inference worker on its own thread, driven through InferenceController
// over a real Qt event loop: answers, superseded and cancelled requests, bad
// files and folders, heatmaps, and the translated error texts.
#include <QImage>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTranslator>
#include <QtTest>

#include <cmath>
#include <numeric>

#include "core/model/factory.h"
#include "ui/errortext.h"
#include "ui/inferencecontroller.h"
#include "ui/inferenceworker.h"
#include "ui/metatypes.h"

namespace {

const std::vector<std::string> kWords = {
    "what", "color",  "colour", "is",   "the",    "circle",   "square", "triangle", "star",  "red", "green",
    "blue", "yellow", "how",    "many", "shapes", "are",      "there",  "left",     "right", "of",  "a",
    "one",  "two",    "three",  "yes",  "no",     "describe", "image",  ".",        "?"};

QImage sceneImage(int w, int h) {
  QImage img(w, h, QImage::Format_RGB888);
  img.fill(QColor(235, 235, 235));
  QPainter p(&img);
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(Qt::NoPen);
  p.setBrush(QColor(220, 40, 40));
  p.drawEllipse(QRectF(w * 0.1, h * 0.15, w * 0.35, h * 0.35));
  p.setBrush(QColor(40, 80, 220));
  p.drawRect(QRectF(w * 0.55, h * 0.55, w * 0.3, h * 0.3));
  return img;
}

}  // namespace

class TstUiWorker : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void answersQuestion();
  void reusesEncodedImage();
  void supersededRequestIsDropped();
  void cancelledRequestGivesNoAnswer();
  void nonImageFileGivesErrorAndNextWorks();
  void emptyQuestionIsAnError();
  void heatmaps_data();
  void heatmaps();
  void brokenModelKeepsPreviousModel();
  void noModelIsAnError();
  void errorTexts();
  void loadStagesInChinese();

 private:
  ui::ResultPtr askAndWait(ui::InferenceController& ctl, const QString& image, const QString& question);

  QTemporaryDir m_dir;
  QString m_model, m_image, m_text;
  std::unique_ptr<ui::InferenceController> m_ctl;
  ui::ResultPtr m_result;
};

void TstUiWorker::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_model = m_dir.filePath(QStringLiteral("model"));
  const auto vocab = core::make_vocab(kWords);
  core::write_random_model(std::filesystem::u8path(m_model.toStdString()), core::small_config(int(vocab.size())), vocab,
                           11);
  m_image = m_dir.filePath(QStringLiteral("scene.png"));
  QVERIFY(sceneImage(96, 80).save(m_image));
  m_text = m_dir.filePath(QStringLiteral("notes.png"));  // an image name, but text inside
  QFile f(m_text);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("this is not an image\n");
  f.close();

  m_ctl = std::make_unique<ui::InferenceController>();
  QSignalSpy loaded(m_ctl.get(), &ui::InferenceController::modelLoaded);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::modelLoadFailed);
  QSignalSpy progress(m_ctl.get(), &ui::InferenceController::loadProgress);
  core::Options opt;
  opt.device = core::Device::Cpu;
  m_ctl->loadModel(m_model, opt);
  QVERIFY(m_ctl->loading());
  QVERIFY2(loaded.wait(120000), failed.isEmpty() ? "timeout" : qPrintable(failed.first().first().toString()));
  QVERIFY(m_ctl->hasModel());
  QVERIFY(!m_ctl->loading());
  QVERIFY(!progress.isEmpty());
  QCOMPARE(m_ctl->modelInfo().fusion_layers.size(), size_t(2));
}

ui::ResultPtr TstUiWorker::askAndWait(ui::InferenceController& ctl, const QString& image, const QString& question) {
  QSignalSpy ready(&ctl, &ui::InferenceController::answerReady);
  QSignalSpy failed(&ctl, &ui::InferenceController::requestFailed);
  const quint64 id = ctl.ask(image, question, core::AskOptions{});
  if (!ready.wait(60000)) {
    qWarning() << "no answer" << (failed.isEmpty() ? QString() : failed.first().at(1).toString());
    return nullptr;
  }
  if (ready.first().at(0).toULongLong() != id) return nullptr;
  return ready.first().at(1).value<ui::ResultPtr>();
}

void TstUiWorker::answersQuestion() {
  QSignalSpy busy(m_ctl.get(), &ui::InferenceController::busyChanged);
  m_result = askAndWait(*m_ctl, m_image, QStringLiteral("what color is the circle?"));
  QVERIFY(m_result);
  QVERIFY(!m_result->answers.empty());
  for (const auto& a : m_result->answers) {
    QVERIFY(a.confidence >= 0.f && a.confidence <= 1.f);
    QVERIFY(!a.tokens.empty() || a.text.empty());
  }
  const auto& in = m_result->inspection;
  QCOMPARE(in.gates.shape.size(), size_t(2));
  QCOMPARE(in.gates.shape[0], int64_t(2));
  QCOMPARE(in.cross_attention.shape.size(), size_t(4));
  QCOMPARE(in.routing.data.size(), size_t(2));
  QVERIFY(in.learned_gates);
  QCOMPARE(busy.size(), 2);  // true, then false
  QCOMPARE(busy.at(0).at(0).toBool(), true);
  QCOMPARE(busy.at(1).at(0).toBool(), false);
  QVERIFY(!m_ctl->busy());
}

void TstUiWorker::reusesEncodedImage() {
  // A second question about the same file must not run the vision encoder again.
  // (Image ids are content hashes: equal whether or not the encoder ran.)
  QVERIFY(askAndWait(*m_ctl, m_image, QStringLiteral("what color is the square?")));
  const qint64 runs = m_ctl->worker()->visionRuns();
  QVERIFY(runs > 0);
  QVERIFY(askAndWait(*m_ctl, m_image, QStringLiteral("how many shapes are there?")));
  QCOMPARE(m_ctl->worker()->visionRuns(), runs);
}

void TstUiWorker::supersededRequestIsDropped() {
  QSignalSpy workerReady(m_ctl->worker(), &ui::InferenceWorker::answerReady);
  QSignalSpy workerDropped(m_ctl->worker(), &ui::InferenceWorker::requestDropped);
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::answerReady);
  QSignalSpy cancelled(m_ctl.get(), &ui::InferenceController::requestCancelled);
  QSignalSpy loaded(m_ctl.get(), &ui::InferenceController::modelLoaded);
  // A model load in front keeps the worker busy while both questions queue up.
  core::Options opt;
  opt.device = core::Device::Cpu;
  m_ctl->loadModel(m_model, opt);
  const quint64 first = m_ctl->ask(m_image, QStringLiteral("what color is the square?"), {});
  const quint64 second = m_ctl->ask(m_image, QStringLiteral("what color is the circle?"), {});
  QVERIFY(second > first);
  QVERIFY(ready.wait(120000));
  QCOMPARE(loaded.size(), 1);
  QCOMPARE(ready.size(), 1);
  QCOMPARE(ready.first().at(0).toULongLong(), second);
  // The worker never produced an answer for the first one, and said so.
  for (const auto& args : workerReady) QVERIFY(args.at(0).toULongLong() != first);
  bool droppedFirst = false;
  for (const auto& args : workerDropped) droppedFirst |= args.at(0).toULongLong() == first;
  QVERIFY(droppedFirst);
  QTRY_VERIFY(!cancelled.isEmpty());
  QCOMPARE(cancelled.first().at(0).toULongLong(), first);
  QVERIFY(!m_ctl->busy());
}

void TstUiWorker::cancelledRequestGivesNoAnswer() {
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::answerReady);
  QSignalSpy cancelled(m_ctl.get(), &ui::InferenceController::requestCancelled);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::requestFailed);
  core::AskOptions opt;
  opt.beams = 4;
  opt.max_new_tokens = 40;
  const quint64 id = m_ctl->ask(m_image, QStringLiteral("what is left of the circle?"), opt);
  m_ctl->cancel();
  QVERIFY(cancelled.wait(60000));
  QCOMPARE(cancelled.first().at(0).toULongLong(), id);
  QVERIFY(!m_ctl->busy());
  // The next one works and is the only answer: the worker takes requests in order, so
  // an answer to the cancelled one would have come first.
  QVERIFY(askAndWait(*m_ctl, m_image, QStringLiteral("what color is the circle?")));
  QCOMPARE(ready.size(), 1);
  QVERIFY(ready.first().at(0).toULongLong() != id);
  QCOMPARE(failed.size(), 0);
}

void TstUiWorker::nonImageFileGivesErrorAndNextWorks() {
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::requestFailed);
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::answerReady);
  const quint64 id = m_ctl->ask(m_text, QStringLiteral("what color is the circle?"), {});
  QVERIFY(failed.wait(60000));
  QCOMPARE(failed.first().at(0).toULongLong(), id);
  const QString msg = failed.first().at(1).toString();
  QVERIFY2(msg.startsWith(ui::errorSummary(core::ErrorCode::BadImage)), qPrintable(msg));
  QVERIFY2(msg.contains(QStringLiteral("notes.png")), qPrintable(msg));  // the detail names the file
  QCOMPARE(ready.size(), 0);
  // A missing file, too.
  const quint64 id2 = m_ctl->ask(m_dir.filePath(QStringLiteral("missing.png")), QStringLiteral("what?"), {});
  QVERIFY(failed.wait(60000));
  QCOMPARE(failed.last().at(0).toULongLong(), id2);
  QVERIFY(askAndWait(*m_ctl, m_image, QStringLiteral("what color is the square?")));
}

void TstUiWorker::emptyQuestionIsAnError() {
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::requestFailed);
  m_ctl->ask(m_image, QStringLiteral("   "), {});
  QVERIFY(failed.wait(60000));
  QVERIFY(failed.first().at(1).toString().startsWith(ui::errorSummary(core::ErrorCode::BadQuestion)));
}

void TstUiWorker::heatmaps_data() {
  QTest::addColumn<int>("method");
  QTest::addColumn<int>("layer");
  QTest::addColumn<int>("head");
  QTest::addColumn<int>("token");
  QTest::newRow("layer 0, head 1") << int(core::HeatmapMethod::LayerAttention) << 0 << 1 << -1;
  QTest::newRow("all layers, token 1") << int(core::HeatmapMethod::AllLayers) << -1 << -1 << 1;
  QTest::newRow("rollout") << int(core::HeatmapMethod::Rollout) << -1 << -1 << -1;
  QTest::newRow("gradient-weighted") << int(core::HeatmapMethod::GradWeighted) << -1 << -1 << -1;
}

void TstUiWorker::heatmaps() {
  QFETCH(int, method);
  QFETCH(int, layer);
  QFETCH(int, head);
  QFETCH(int, token);
  QVERIFY(m_result);
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::heatmapReady);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::heatmapFailed);
  core::HeatmapRequest req;
  req.method = core::HeatmapMethod(method);
  req.layer = layer;
  req.head = head;
  req.token = token;
  const quint64 id = m_ctl->heatmap(m_result, req);
  QVERIFY2(ready.wait(60000), failed.isEmpty() ? "timeout" : qPrintable(failed.first().at(1).toString()));
  QCOMPARE(ready.first().at(0).toULongLong(), id);
  const auto map = ready.first().at(1).value<core::Array>();
  QCOMPARE(map.shape, (std::vector<int64_t>{m_result->inspection.grid_h, m_result->inspection.grid_w}));
  const double sum = std::accumulate(map.data.begin(), map.data.end(), 0.0);
  QVERIFY(std::abs(sum - 1.0) < 1e-3);
}

void TstUiWorker::brokenModelKeepsPreviousModel() {
  QTemporaryDir broken;
  QFile cfg(broken.filePath(QStringLiteral("config.json")));
  QVERIFY(cfg.open(QIODevice::WriteOnly));
  cfg.write("{ not json");
  cfg.close();
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::modelLoadFailed);
  m_ctl->loadModel(broken.path(), core::Options{});
  QVERIFY(failed.wait(60000));
  QVERIFY(failed.first().at(0).toString().startsWith(ui::errorSummary(core::ErrorCode::BadConfig)));
  QVERIFY(m_ctl->hasModel());
  QVERIFY(askAndWait(*m_ctl, m_image, QStringLiteral("what color is the circle?")));
}

void TstUiWorker::noModelIsAnError() {
  ui::InferenceController fresh;
  QSignalSpy failed(&fresh, &ui::InferenceController::requestFailed);
  fresh.ask(m_image, QStringLiteral("what?"), {});
  QVERIFY(failed.wait(10000));
  QVERIFY(!failed.first().at(1).toString().isEmpty());
  QVERIFY(!fresh.busy());
}

void TstUiWorker::errorTexts() {
  const core::Error e(core::ErrorCode::ImageTooLarge, "big.png: 100000 x 100000 pixels");
  const QString t = ui::errorText(e);
  QVERIFY(t.startsWith(ui::errorSummary(core::ErrorCode::ImageTooLarge)));
  QVERIFY(t.contains(QStringLiteral("big.png")));
  QVERIFY(ui::errorText(std::runtime_error("boom")).contains(QStringLiteral("boom")));
  QCOMPARE(ui::loadStageText(core::LoadStage::Weights), QStringLiteral("Reading the weights"));
}

// Under the Chinese interface, every stage a real load reports is Chinese text:
// no English word (no Latin letter at all) reaches the status bar.
void TstUiWorker::loadStagesInChinese() {
  QTranslator zh;
  QVERIFY(zh.load(QStringLiteral(":/i18n/autoglm_zh_CN.qm")));
  QVERIFY(QCoreApplication::installTranslator(&zh));
  ui::InferenceController ctl;
  QSignalSpy loaded(&ctl, &ui::InferenceController::modelLoaded);
  QSignalSpy progress(&ctl, &ui::InferenceController::loadProgress);
  core::Options opt;
  opt.device = core::Device::Cpu;
  ctl.loadModel(m_model, opt);
  const bool ok = loaded.wait(120000);
  QCoreApplication::removeTranslator(&zh);
  QVERIFY(ok);
  QVERIFY(progress.size() >= 5);
  for (const auto& args : progress) {
    const QString stage = args.at(1).toString();
    QVERIFY2(!stage.isEmpty(), "an empty stage text");
    for (const QChar c : stage) QVERIFY2(!(c.isLetter() && c.unicode() < 0x80), qPrintable(stage));
  }
}

QTEST_MAIN(TstUiWorker)
#include "tst_ui_worker.moc"
