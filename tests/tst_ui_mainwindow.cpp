// The main window, offscreen, with a random-weight model: images in by open,
// drop and paste; errors shown in the window; a question answered with a
// confidence; the heatmap overlay; the gates; earlier answers; saving the
// overlay; switching the language. Also saves a screenshot of the window.
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDropEvent>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <numeric>

#include <opencv2/core.hpp>

#include "core/model/factory.h"
#include "core/train/shapes.h"
#include "ui/answerlist.h"
#include "ui/gatesview.h"
#include "ui/getmodelsdialog.h"
#include "ui/imageview.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/mainwindow.h"
#include "ui/messagebar.h"
#include "ui/settingsdialog.h"
#include "testutil.h"

namespace {

// A shapes-world scene, as the default model sees them.
QImage shapesScene(uint64_t seed, int w, int h) {
  core::shapes::GenOptions opt;
  opt.fixed_w = w;
  opt.fixed_h = h;
  const auto scene = core::shapes::render_scene(seed, opt);
  QImage img(scene.rgb.cols, scene.rgb.rows, QImage::Format_RGB888);
  for (int y = 0; y < img.height(); ++y) std::memcpy(img.scanLine(y), scene.rgb.ptr(y), size_t(img.width()) * 3);
  return img;
}

// A drag entering the window, then the drop (the application delivers a drop
// only to the widget that accepted the drag).
bool dragAndDrop(QWidget* w, const QMimeData* mime) {
  const QPoint pos(w->width() / 3, w->height() / 2);
  QDragEnterEvent enter(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(w, &enter);
  if (!enter.isAccepted()) return false;
  QDropEvent drop(QPointF(pos), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(w, &drop);
  return drop.isAccepted();
}

int wordCount(const ui::ResultPtr& r) {
  int n = 0;
  for (const auto& t : r->inspection.question_tokens) n += t != "[CLS]" && t != "[SEP]" && t != "[PAD]";
  return n;
}

}  // namespace

class TstUiMainWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void opensImages();
  void dropAddsImagesAndRejectsOthers();
  void pasteImageData();
  void emptyQuestionShowsMessage();
  void asksAndShowsAnswer();
  void heatmapOverlayMarksRegion();
  void overlayColours();
  void gatesPanelHoldsResultValues();
  void thresholdMarksNotSure();
  void earlierAnswerRestoresHeatmap();
  void heatmapMethodChange();
  void savesOverlay();
  void historyRecall();
  void escapeCancels();
  void recentFilesAndSettings();
  void describesImage();
  void switchesLanguage();
  void screenshot();
  void brokenModelFolderKeepsWindowWorking();
  void modelWithoutGatesShowsEffectiveShare();
  void blip2StreamsAndShowsImageReliance();
  void getModelsOpensAModel();
  void preferencesKeepTheHubTokenOutOfTheSettings();
  void cleanupTestCase();
  void cleanup();

 private:
  // m_scene open and current, with the answer to `question` and its heatmap shown.
  bool askAboutScene(const QString& question = QStringLiteral("what color is the circle?"));
  QTemporaryDir m_dir;
  QString m_model, m_scene, m_scene2, m_text;
  std::unique_ptr<ui::MainWindow> m_win;
};

void TstUiMainWindow::initTestCase() {
  QVERIFY(m_dir.isValid());
  qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toUtf8());
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("OpenAutoGLM-test"));
  QCoreApplication::setApplicationName(QStringLiteral("tst_ui_mainwindow"));
  ui::setLanguage(QStringLiteral("en"));

  m_model = m_dir.filePath(QStringLiteral("model"));
  const auto vocab = core::make_vocab(core::shapes::vocabulary());
  core::write_random_model(std::filesystem::u8path(m_model.toStdString()), core::small_config(int(vocab.size())), vocab,
                           3);
  m_scene = m_dir.filePath(QStringLiteral("scene-1.png"));
  m_scene2 = m_dir.filePath(QStringLiteral("scene-2.png"));
  QVERIFY(shapesScene(7, 320, 240).save(m_scene));
  QVERIFY(shapesScene(8, 200, 200).save(m_scene2));
  m_text = m_dir.filePath(QStringLiteral("readme.txt"));
  QFile f(m_text);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("hello\n");
  f.close();
}

// Each test gets a window of its own, with the model loaded and nothing open.
void TstUiMainWindow::init() {
  m_win = std::make_unique<ui::MainWindow>();
  m_win->resize(1360, 860);
  m_win->show();
  QVERIFY(QTest::qWaitForWindowExposed(m_win.get()));
  QSignalSpy loaded(m_win->controller(), &ui::InferenceController::modelLoaded);
  m_win->overrideDevice(core::Device::Cpu, 0);
  m_win->loadModel(m_model);
  QVERIFY(loaded.wait(120000));
  QVERIFY(m_win->modelStatusLabel()->text().contains(QStringLiteral("model")));
  // a square-input model: its grid, not the note of a grid shaped like each picture
  QVERIFY(m_win->modelStatusLabel()->toolTip().contains(QStringLiteral("grid 8 × 8")));
  QVERIFY(!m_win->modelStatusLabel()->toolTip().contains(QStringLiteral("shaped like")));
}

void TstUiMainWindow::cleanup() { m_win.reset(); }

bool TstUiMainWindow::askAboutScene(const QString& question) {
  if (m_win->currentImage() != m_scene && m_win->openFiles({m_scene}) != 1) return false;
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  m_win->askQuestion(question);
  return shown.wait(60000) && QTest::qWaitFor([this] { return m_win->heatmapShown(); }, 30000);
}

void TstUiMainWindow::opensImages() {
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  QCOMPARE(m_win->thumbnails()->count(), 1);
  QCOMPARE(m_win->currentImage(), m_scene);
  QVERIFY(m_win->imageView()->hasImage());
  QCOMPARE(m_win->imageView()->image().size(), QSize(320, 240));
  // Opening it again adds nothing.
  QCOMPARE(m_win->openFiles({m_scene}), 0);
  QCOMPARE(m_win->thumbnails()->count(), 1);
}

void TstUiMainWindow::dropAddsImagesAndRejectsOthers() {
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  // A text file and a missing file: a message, nothing added.
  {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(m_text), QUrl::fromLocalFile(m_dir.filePath(QStringLiteral("gone.png")))});
    QVERIFY(dragAndDrop(m_win.get(), &mime));
    QCOMPARE(m_win->thumbnails()->count(), 1);
    QVERIFY(!m_win->messageBar()->isHidden());
    const QString msg = m_win->messageBar()->text();
    QVERIFY2(msg.contains(QStringLiteral("readme.txt")) && msg.contains(QStringLiteral("gone.png")), qPrintable(msg));
    QCOMPARE(m_win->currentImage(), m_scene);
  }
  // An image too large to decode: refused from its header.
  {
    const QString huge = m_dir.filePath(QStringLiteral("huge.png"));
    QFile f(huge);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString(testutil::png_declaring(100000, 100000)));
    f.close();
    m_win->messageBar()->dismiss();
    QCOMPARE(m_win->openFiles({huge}), 0);
    QCOMPARE(m_win->thumbnails()->count(), 1);
    QVERIFY2(m_win->messageBar()->text().contains(QStringLiteral("too large")),
             qPrintable(m_win->messageBar()->text()));
  }
  // A folder with an image in it (and a text file, skipped quietly).
  {
    QTemporaryDir folder;
    QVERIFY(shapesScene(9, 128, 96).save(folder.filePath(QStringLiteral("a.png"))));
    QFile::copy(m_text, folder.filePath(QStringLiteral("b.txt")));
    m_win->messageBar()->dismiss();
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(m_scene2), QUrl::fromLocalFile(folder.path())});
    QVERIFY(dragAndDrop(m_win.get(), &mime));
    QCOMPARE(m_win->thumbnails()->count(), 3);
    QCOMPARE(m_win->currentImage(), m_scene2);
    QVERIFY(m_win->messageBar()->isHidden());
  }
}

void TstUiMainWindow::pasteImageData() {
  const int before = m_win->thumbnails()->count();
  QMimeData mime;
  mime.setImageData(shapesScene(10, 100, 80));
  QVERIFY(m_win->handleMimeData(&mime));
  QCOMPARE(m_win->thumbnails()->count(), before + 1);
  QCOMPARE(m_win->imageView()->image().size(), QSize(100, 80));
  // Through the clipboard and the Paste action (Ctrl+V).
  QGuiApplication::clipboard()->setImage(shapesScene(11, 90, 70));
  QTest::keySequence(m_win.get(), QKeySequence::Paste);
  QTRY_COMPARE(m_win->thumbnails()->count(), before + 2);
}

void TstUiMainWindow::emptyQuestionShowsMessage() {
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  const int rows = m_win->answerList()->count();
  m_win->askQuestion(QStringLiteral("   "));
  QCOMPARE(m_win->answerList()->count(), rows);
  QVERIFY(!m_win->messageBar()->isHidden());
  QVERIFY(!m_win->lastMessage().isEmpty());
}

void TstUiMainWindow::asksAndShowsAnswer() {
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  QSignalSpy heat(m_win.get(), &ui::MainWindow::heatmapUpdated);
  const int rows = m_win->answerList()->count();
  // Typed into the question box and asked with Enter.
  m_win->questionEdit()->setFocus();
  QTest::keyClicks(m_win->questionEdit(), QStringLiteral("what color is the circle?"));
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  QSignalSpy separateHeatmaps(m_win->controller(), &ui::InferenceController::heatmapReady);
  QTest::keyClick(m_win->questionEdit(), Qt::Key_Return);
  QCOMPARE(m_win->answerList()->count(), rows + 1);
  QVERIFY(m_win->questionEdit()->text().isEmpty());
  QVERIFY(shown.wait(60000));
  auto* item = m_win->answerList()->item(rows);
  QCOMPARE(ui::RowState(item->data(ui::AnswerList::StateRole).toInt()), ui::RowState::Answered);
  const double conf = item->data(ui::AnswerList::ConfidenceRole).toDouble();
  QVERIFY(conf >= 0.0 && conf <= 1.0);
  QVERIFY(!item->data(ui::AnswerList::AnswerRole).toString().isEmpty());
  QVERIFY(item->toolTip().contains(QStringLiteral("Token probabilities")));
  QCOMPARE(m_win->answerList()->currentItem(), item);
  QVERIFY(m_win->shownResult());
  QCOMPARE(item->data(ui::AnswerList::AnswerRole).toString(),
           QString::fromStdString(m_win->shownResult()->answers.front().text));
  QVERIFY(m_win->timingStatusLabel()->text().contains(QStringLiteral("ms")));
  // The answer came with its heatmap: shown at once, without a second request to the worker.
  QVERIFY(m_win->heatmapShown());
  QCOMPARE(heat.count(), 1);
  QCOMPARE(separateHeatmaps.count(), 0);
}

void TstUiMainWindow::heatmapOverlayMarksRegion() {
  QVERIFY(askAboutScene());
  ui::ImageView* view = m_win->imageView();
  QVERIFY(view->hasHeatmap());
  const core::Array map = view->heatmap();
  QCOMPARE(map.shape.size(), size_t(2));
  const double sum = std::accumulate(map.data.begin(), map.data.end(), 0.0);
  QVERIFY(std::abs(sum - 1.0) < 1e-3);
  // The most-attended cell is coloured (turbo's hot end) over the image.
  const auto maxIt = std::max_element(map.data.begin(), map.data.end());
  const int gw = int(map.shape[1]), gh = int(map.shape[0]);
  const int cell = int(maxIt - map.data.begin());
  const QImage base = view->image().convertToFormat(QImage::Format_RGB32);
  view->setOverlayOpacity(0.6);
  const QImage composed = view->composedImage();
  QCOMPARE(composed.size(), base.size());
  const QPoint c(int((cell % gw + 0.5) * base.width() / gw), int((cell / gw + 0.5) * base.height() / gh));
  const QColor a = base.pixelColor(c), b = composed.pixelColor(c);
  const int diff = std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
  QVERIFY2(diff > 30, qPrintable(QStringLiteral("diff %1").arg(diff)));
  QVERIFY(view->valueAt(QPointF(c)) == double(*maxIt));
  // Hidden overlay: the plain image.
  view->setOverlayVisible(false);
  QCOMPARE(view->composedImage(), base);
  view->setOverlayVisible(true);
  view->setOverlayOpacity(0.5);
}

void TstUiMainWindow::overlayColours() {
  // A map with one hot cell: that region turns the colour map's hot end,
  // the rest its cold end; a flat map stays uniformly cold.
  ui::ImageView view;
  QImage grey(160, 160, QImage::Format_RGB32);
  grey.fill(QColor(128, 128, 128));
  view.setImage(grey);
  view.setColormap(core::Colormap::Jet);  // blue (cold) .. red (hot)
  view.setOverlayOpacity(1.0);
  core::Array map;
  map.shape = {4, 4};
  map.data.assign(16, 0.02f);
  map.data[1 * 4 + 2] = 1.f - 15 * 0.02f;  // row 1, column 2
  view.setHeatmap(map);
  const QImage hot = view.composedImage();
  const QColor inCell = hot.pixelColor(2 * 40 + 20, 1 * 40 + 20), far = hot.pixelColor(10, 150);
  QVERIFY2(inCell.red() > 100 && inCell.blue() < 60, qPrintable(inCell.name()));
  QVERIFY2(far.blue() > 100 && far.red() < 60, qPrintable(far.name()));
  QCOMPARE(view.valueAt(QPointF(100, 60)), double(map.data[6]));
  QCOMPARE(view.valueAt(QPointF(500, 60)), -1.0);
  map.data.assign(16, 1.f / 16);
  map.data[5] += 1e-5f;  // noise must not light up
  view.setHeatmap(map);
  const QImage flat = view.composedImage();
  QVERIFY(std::abs(flat.pixelColor(60, 60).red() - flat.pixelColor(150, 150).red()) < 8);
  QVERIFY(flat.pixelColor(60, 60).blue() > flat.pixelColor(60, 60).red());
}

void TstUiMainWindow::gatesPanelHoldsResultValues() {
  QVERIFY(askAboutScene());
  const ui::ResultPtr r = m_win->shownResult();
  QVERIFY(r);
  const ui::GatesPanel* gates = m_win->gatesPanel();
  const auto& g = r->inspection.gates;
  const int L = int(g.shape[0]), T = int(g.shape[1]);
  QCOMPARE(gates->layerCount(), L);
  QCOMPARE(L, 2);
  QVERIFY(gates->learnedGates());
  QCOMPARE(gates->kindText(), QStringLiteral("Learned gates"));
  QCOMPARE(gates->grid()->rows(), L);
  // Columns: the words of the question, without [CLS]/[SEP].
  std::vector<int> cols;
  for (int t = 0; t < T; ++t) {
    const auto& tok = r->inspection.question_tokens[size_t(t)];
    if (tok != "[CLS]" && tok != "[SEP]" && tok != "[PAD]") cols.push_back(t);
  }
  QCOMPARE(gates->grid()->columns(), int(cols.size()));
  for (int l = 0; l < L; ++l) {
    double mean = 0;
    for (size_t c = 0; c < cols.size(); ++c) {
      const double v = g.data[size_t(l) * size_t(T) + size_t(cols[c])];
      QCOMPARE(gates->grid()->value(l, int(c)), v);
      mean += v;
    }
    mean /= double(cols.size());
    QVERIFY(std::abs(gates->meanGates()[size_t(l)] - mean) < 1e-9);
    QCOMPARE(gates->routing()[size_t(l)], double(r->inspection.routing.data[size_t(l)]));
  }
}

void TstUiMainWindow::thresholdMarksNotSure() {
  QVERIFY(askAboutScene());
  auto* list = m_win->answerList();
  auto* item = list->currentItem();
  QVERIFY(item);
  const double conf = item->data(ui::AnswerList::ConfidenceRole).toDouble();
  m_win->setThreshold(std::min(1.0, conf + 0.01));
  QVERIFY(list->notSure(item));
  m_win->setThreshold(std::max(0.0, conf - 0.01));
  QVERIFY(!list->notSure(item));
  m_win->setThreshold(0.5);
}

void TstUiMainWindow::earlierAnswerRestoresHeatmap() {
  QCOMPARE(m_win->openFiles({m_scene2}), 1);
  QVERIFY(askAboutScene());
  auto* list = m_win->answerList();
  const int first = list->currentRow();
  const ui::ResultPtr firstResult = m_win->shownResult();
  const core::Array firstMap = m_win->imageView()->heatmap();
  const int rows = list->count();
  QSignalSpy heat(m_win.get(), &ui::MainWindow::heatmapUpdated);
  m_win->askQuestion(QStringLiteral("how many shapes are there?"));
  QCOMPARE(list->count(), rows + 1);
  QTRY_VERIFY_WITH_TIMEOUT(m_win->shownResult() && m_win->shownResult() != firstResult, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(m_win->heatmapShown(), 30000);
  const int secondCols = m_win->gatesPanel()->grid()->columns();
  QCOMPARE(secondCols, wordCount(m_win->shownResult()));
  list->setCurrentRow(first);
  QCOMPARE(m_win->shownResult(), firstResult);
  QVERIFY(m_win->heatmapShown());
  QCOMPARE(m_win->imageView()->heatmap().data, firstMap.data);
  QCOMPARE(m_win->gatesPanel()->grid()->columns(), wordCount(firstResult));
  // Switching images and back keeps the answers of each.
  QVERIFY(m_win->setCurrentImage(m_scene2));
  QCOMPARE(list->count(), 0);
  QVERIFY(!m_win->imageView()->hasHeatmap());
  QVERIFY(m_win->setCurrentImage(m_scene));
  QCOMPARE(list->count(), rows + 1);
  QTRY_VERIFY(m_win->heatmapShown());
}

void TstUiMainWindow::heatmapMethodChange() {
  QVERIFY(askAboutScene());
  QSignalSpy heat(m_win.get(), &ui::MainWindow::heatmapUpdated);
  QComboBox* method = m_win->heatmapMethodBox();
  const core::Array before = m_win->imageView()->heatmap();
  method->setCurrentIndex(method->findData(int(core::HeatmapMethod::GradWeighted)));
  QVERIFY(heat.wait(60000));
  QVERIFY(m_win->heatmapShown());
  QVERIFY(m_win->imageView()->heatmap().data != before.data);
  method->setCurrentIndex(method->findData(int(core::HeatmapMethod::LayerAttention)));
  QVERIFY(heat.wait(60000));
  method->setCurrentIndex(method->findData(int(core::HeatmapMethod::AllLayers)));
  QVERIFY(heat.wait(60000));
}

void TstUiMainWindow::savesOverlay() {
  QVERIFY(askAboutScene());
  const QString out = m_dir.filePath(QStringLiteral("overlay.png"));
  QVERIFY(m_win->saveOverlay(out));
  QImage img(out);
  QCOMPARE(img.size(), QSize(320, 240));
  QVERIFY(!m_win->saveOverlay(m_dir.filePath(QStringLiteral("no/such/dir/x.png"))));
  QVERIFY(!m_win->messageBar()->isHidden());
}

void TstUiMainWindow::historyRecall() {
  QVERIFY(askAboutScene(QStringLiteral("what color is the circle?")));
  QVERIFY(askAboutScene(QStringLiteral("how many shapes are there?")));
  QLineEdit* q = m_win->questionEdit();
  q->setFocus();
  q->setText(QStringLiteral("draft"));
  QTest::keyClick(q, Qt::Key_Up);
  QCOMPARE(q->text(), QStringLiteral("how many shapes are there?"));
  QTest::keyClick(q, Qt::Key_Up);
  QCOMPARE(q->text(), QStringLiteral("what color is the circle?"));
  QTest::keyClick(q, Qt::Key_Down);
  QTest::keyClick(q, Qt::Key_Down);
  QCOMPARE(q->text(), QStringLiteral("draft"));
  q->clear();
}

void TstUiMainWindow::escapeCancels() {
  QVERIFY(askAboutScene());
  auto* list = m_win->answerList();
  const int rows = list->count();
  QSignalSpy cancelled(m_win->controller(), &ui::InferenceController::requestCancelled);
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  m_win->askQuestion(QStringLiteral("what is left of the circle?"));
  QVERIFY(m_win->controller()->busy());
  QTest::keyClick(m_win->questionEdit(), Qt::Key_Escape);
  QVERIFY(cancelled.wait(60000));
  QCOMPARE(list->count(), rows + 1);
  QCOMPARE(ui::RowState(list->item(rows)->data(ui::AnswerList::StateRole).toInt()), ui::RowState::Cancelled);
  QCOMPARE(shown.size(), 0);
  QVERIFY(!m_win->controller()->busy());
  // The earlier answer is still the one shown.
  QVERIFY(m_win->shownResult());
}

void TstUiMainWindow::recentFilesAndSettings() {
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  QGuiApplication::clipboard()->setImage(shapesScene(11, 90, 70));
  QTest::keySequence(m_win.get(), QKeySequence::Paste);
  QTRY_COMPARE(m_win->thumbnails()->count(), 2);
  const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
  QVERIFY(recent.contains(m_scene));
  QVERIFY(!recent.filter(QStringLiteral("pasted-")).size());  // pasted images are temporary
  ui::AppSettings s;
  s.beams = 2;
  s.maxAnswerTokens = 7;
  s.threshold = 0.3;
  s.language = QStringLiteral("zh_CN");
  s.device = core::Device::Cpu;
  s.save();
  const ui::AppSettings back = ui::AppSettings::load();
  QCOMPARE(back.beams, 2);
  QCOMPARE(back.maxAnswerTokens, 7);
  QCOMPARE(back.threshold, 0.3);
  QCOMPARE(back.language, QStringLiteral("zh_CN"));
  QCOMPARE(back.device, core::Device::Cpu);
  ui::SettingsDialog dlg(back);
  QCOMPARE(dlg.settings().beams, 2);
  QCOMPARE(dlg.settings().language, QStringLiteral("zh_CN"));
  dlg.show();
  QVERIFY(QTest::qWaitForWindowExposed(&dlg));
  QVERIFY(dlg.grab().save(QDir(QStringLiteral(AUTOGLM_BINARY_DIR)).filePath(QStringLiteral("settings-dialog.png"))));
  ui::AppSettings().save();  // back to the defaults
}

void TstUiMainWindow::describesImage() {
  QVERIFY(askAboutScene());
  auto* list = m_win->answerList();
  const int rows = list->count();
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  m_win->describeImage();
  QCOMPARE(list->count(), rows + 1);
  QVERIFY(list->item(rows)->data(ui::AnswerList::DescribeRole).toBool());
  QVERIFY(shown.wait(60000));
  QCOMPARE(ui::RowState(list->item(rows)->data(ui::AnswerList::StateRole).toInt()), ui::RowState::Answered);
  QCOMPARE(m_win->shownResult()->task, core::Task::Describe);
  QTRY_VERIFY_WITH_TIMEOUT(m_win->heatmapShown(), 30000);
}

void TstUiMainWindow::switchesLanguage() {
  QVERIFY(askAboutScene());
  auto* ask = m_win->findChild<QPushButton*>(QStringLiteral("askButton"));
  QVERIFY(ask);
  QCOMPARE(ask->text(), QStringLiteral("Ask"));
  QVERIFY(ui::setLanguage(QStringLiteral("zh_CN")));
  QCOMPARE(ask->text(), QStringLiteral("提问"));
  QCOMPARE(m_win->gatesPanel()->kindText(), QStringLiteral("学习门控"));
  QVERIFY(m_win->questionEdit()->placeholderText() !=
          QStringLiteral("Ask about the image, e.g. “what colour is the circle?”"));
  QVERIFY(ui::setLanguage(QStringLiteral("en")));
  QCOMPARE(ask->text(), QStringLiteral("Ask"));
  QCOMPARE(m_win->gatesPanel()->kindText(), QStringLiteral("Learned gates"));
}

void TstUiMainWindow::screenshot() {
  // docs/screenshot-main.png is made from this (AUTOGLM_SCREENSHOT_DIR).
  QString dir = qEnvironmentVariable("AUTOGLM_SCREENSHOT_DIR");
  if (dir.isEmpty()) dir = QStringLiteral(AUTOGLM_BINARY_DIR);
  QCOMPARE(m_win->openFiles({m_scene2}), 1);
  QVERIFY(askAboutScene(QStringLiteral("what color is the circle?")));
  QVERIFY(askAboutScene(QStringLiteral("how many shapes are there?")));
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  m_win->describeImage();
  QVERIFY(shown.wait(60000));
  m_win->answerList()->setCurrentRow(0);
  QTRY_VERIFY_WITH_TIMEOUT(m_win->heatmapShown(), 30000);
  m_win->messageBar()->dismiss();
  m_win->imageView()->zoomToFit();
  QCoreApplication::sendPostedEvents();  // layout requests are posted events: apply them before the grab
  const QImage shot = m_win->grab().toImage();
  QVERIFY(!shot.isNull());
  QVERIFY(shot.save(QDir(dir).filePath(QStringLiteral("screenshot-main.png"))));
  QVERIFY(ui::setLanguage(QStringLiteral("zh_CN")));
  QCoreApplication::sendPostedEvents();
  QVERIFY(m_win->grab().toImage().save(QDir(dir).filePath(QStringLiteral("screenshot-main-zh_CN.png"))));
  QVERIFY(ui::setLanguage(QStringLiteral("en")));
}

void TstUiMainWindow::brokenModelFolderKeepsWindowWorking() {
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  QTemporaryDir broken;
  QSignalSpy failed(m_win->controller(), &ui::InferenceController::modelLoadFailed);
  m_win->loadModel(broken.path());
  QVERIFY(failed.wait(60000));
  QVERIFY(!m_win->messageBar()->isHidden());
  QVERIFY(m_win->messageBar()->text().contains(broken.path()));
  QVERIFY(m_win->controller()->hasModel());
  const int rows = m_win->answerList()->count();
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  m_win->askQuestion(QStringLiteral("what shape is red?"));
  QVERIFY(shown.wait(60000));
  QCOMPARE(m_win->answerList()->count(), rows + 1);
}

void TstUiMainWindow::modelWithoutGatesShowsEffectiveShare() {
  // A model of the family without learned gates or routing (as BLIP): the
  // panel shows the effective image share and says so.
  const QString plain = m_dir.filePath(QStringLiteral("plain-model"));
  const auto vocab = core::make_vocab(core::shapes::vocabulary());
  auto cfg = core::small_config(int(vocab.size()));
  cfg.gates = false;
  cfg.routing = false;
  core::write_random_model(std::filesystem::u8path(plain.toStdString()), cfg, vocab, 5);
  QCOMPARE(m_win->openFiles({m_scene}), 1);
  QSignalSpy loaded(m_win->controller(), &ui::InferenceController::modelLoaded);
  m_win->loadModel(plain);
  QVERIFY(loaded.wait(60000));
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  m_win->askQuestion(QStringLiteral("what color is the circle?"));
  QVERIFY(shown.wait(60000));
  const ui::GatesPanel* gates = m_win->gatesPanel();
  QVERIFY(!gates->learnedGates());
  QCOMPARE(gates->kindText(), QStringLiteral("Effective image share (no learned gates)"));
  QCOMPARE(gates->layerCount(), 2);
  // Without routing the last fusion layer carries everything.
  QCOMPARE(gates->routing(), (std::vector<double>{0.0, 1.0}));
}

void TstUiMainWindow::blip2StreamsAndShowsImageReliance() {
  // BLIP-2 (the golden tiny OPT model), greedy: the answer streams in token by
  // token, then shows with the heatmap and the language model's image reliance.
  const auto dir = testutil::golden_dir() / "blip2" / "opt_model";
  if (!std::filesystem::exists(dir / "config.json")) QSKIP("golden/blip2 not found (set AUTOGLM_GOLDEN_DIR)");
  QSettings().setValue(QStringLiteral("ask/beams"), 1);
  struct Restore {
    ~Restore() { QSettings().remove(QStringLiteral("ask/beams")); }
  } restore;
  m_win = std::make_unique<ui::MainWindow>();
  m_win->overrideDevice(core::Device::Cpu, 0);
  m_win->show();
  const QString image =
      QString::fromStdString((testutil::golden_dir() / "blip2" / "images" / "grad_640x480.png").string());
  QCOMPARE(m_win->openFiles({image}), 1);
  QSignalSpy loaded(m_win->controller(), &ui::InferenceController::modelLoaded);
  m_win->loadModel(QString::fromStdString(dir.string()));
  QVERIFY(loaded.wait(60000));
  QSignalSpy partial(m_win->controller(), &ui::InferenceController::answerPartial);
  QSignalSpy shown(m_win.get(), &ui::MainWindow::answerShown);
  QSignalSpy heat(m_win.get(), &ui::MainWindow::heatmapUpdated);
  m_win->askQuestion(QStringLiteral("what is in the image?"));
  QVERIFY(shown.wait(60000));
  const ui::ResultPtr r = m_win->shownResult();
  QVERIFY(r && !r->answers.empty());
  QCOMPARE(QString::fromStdString(r->prompt), QStringLiteral("Question: what is in the image? Answer:"));
  // the reference's greedy tokens (golden/blip2: 42584 1253 41439, then the end token)
  QCOMPARE(r->answers.front().ids, (std::vector<int64_t>{42584, 1253, 41439}));
  QCOMPARE(partial.count(), 3);
  QCOMPARE(partial.last().at(1).toString(), QString::fromStdString(r->answers.front().text));
  const ui::GatesPanel* gates = m_win->gatesPanel();
  QCOMPARE(gates->kindText(), QStringLiteral("Image reliance (no learned gates)"));
  QCOMPARE(gates->layerCount(), int(r->inspection.gates.shape[0]));
  QVERIFY(heat.count() > 0 || heat.wait(60000));
  QVERIFY(m_win->imageView()->hasHeatmap());
  // Flan-T5: the reference's greedy answer at the model's default length.
  const auto t5 = testutil::golden_dir() / "blip2" / "t5_model";
  const auto golden = nlohmann::json::parse(testutil::read_file(testutil::golden_dir() / "blip2" / "t5_golden.json"));
  std::vector<int64_t> want;
  for (const auto& run : golden["runs"])
    if (run["prefix"] == "img0.q0") want = run["generate_greedy_default"].get<std::vector<int64_t>>();
  QVERIFY(want.size() > 2);
  want.erase(want.begin());  // the decoder's start token
  if (want.back() == golden["token_ids"]["eos"].get<int64_t>()) want.pop_back();
  loaded.clear();
  m_win->loadModel(QString::fromStdString(t5.string()));
  QVERIFY(loaded.wait(60000));
  shown.clear();
  m_win->askQuestion(QStringLiteral("what is in the image?"));
  QVERIFY(shown.wait(60000));
  QCOMPARE(m_win->shownResult()->answers.front().ids, want);
  QCOMPARE(m_win->gatesPanel()->kindText(), QStringLiteral("Image reliance (no learned gates)"));
}

void TstUiMainWindow::getModelsOpensAModel() {
  // Model > Get Models… opens the dialog; its Open loads the model as the
  // current one and remembers it, as Preferences' model folder does.
  qputenv("HF_HUB_CACHE", m_dir.filePath(QStringLiteral("hub")).toUtf8());
  QAction* act = nullptr;
  for (QAction* a : m_win->findChildren<QAction*>())
    if (a->text() == QStringLiteral("&Get Models…")) act = a;
  QVERIFY(act);
  act->trigger();
  auto* dlg = m_win->findChild<ui::GetModelsDialog*>();
  QVERIFY(dlg);
  QTRY_VERIFY(dlg->isVisible());
  QSignalSpy loaded(m_win->controller(), &ui::InferenceController::modelLoaded);
  Q_EMIT dlg->openModelRequested(m_model);
  QVERIFY(loaded.wait(60000));
  QCOMPARE(QSettings().value(QStringLiteral("model/dir")).toString(), m_model);
  dlg->close();
  act->trigger();
  QCOMPARE(m_win->findChildren<ui::GetModelsDialog*>().size(), 1);  // one dialog, kept with its downloads
}

void TstUiMainWindow::preferencesKeepTheHubTokenOutOfTheSettings() {
  const QString home = m_dir.filePath(QStringLiteral("hf-home"));
  qputenv("HF_HOME", home.toUtf8());
  ui::SettingsDialog dlg(ui::AppSettings::load());
  QLineEdit* token = nullptr;
  for (auto* e : dlg.findChildren<QLineEdit*>())
    if (e->echoMode() == QLineEdit::Password) token = e;
  QVERIFY(token);
  QTest::keyClicks(token, QStringLiteral("hf_from_preferences"));
  dlg.show();
  auto* box = dlg.findChild<QDialogButtonBox*>();
  QTest::mouseClick(box->button(QDialogButtonBox::Ok), Qt::LeftButton);
  QCOMPARE(dlg.result(), int(QDialog::Accepted));
  const QString file = home + QStringLiteral("/token");
  QFile f(file);
  QVERIFY(f.open(QIODevice::ReadOnly));
  QCOMPARE(f.readAll(), QByteArray("hf_from_preferences\n"));
  QCOMPARE(std::filesystem::status(file.toStdString()).permissions(),
           std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  QSettings q;
  for (const QString& k : q.allKeys())
    QVERIFY2(!q.value(k).toString().contains(QStringLiteral("hf_from")), qPrintable(k));
}

void TstUiMainWindow::cleanupTestCase() { m_win.reset(); }

QTEST_MAIN(TstUiMainWindow)
#include "tst_ui_mainwindow.moc"
