// History in the window, offscreen, with a random-weight model: answers and
// captions go to the database as they arrive (with the heatmap shown); a new
// window brings the last session back, an image that moved shows as missing
// (not as an error) with its answers; the History panel searches, renames,
// opens and deletes (after asking) sessions; File > Export writes a report.
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>
#include <QtTest>

#include "core/model/factory.h"
#include "core/train/shapes.h"
#include "ui/answerlist.h"
#include "ui/gatesview.h"
#include "ui/historypanel.h"
#include "ui/historystore.h"
#include "ui/imageview.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/mainwindow.h"
#include "ui/messagebar.h"

namespace {

QImage scene(QColor bg, QColor fg) {
  QImage img(240, 180, QImage::Format_RGB32);
  img.fill(bg);
  QPainter p(&img);
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(Qt::NoPen);
  p.setBrush(fg);
  p.drawEllipse(QRect(60, 40, 80, 80));
  return img;
}

// Answers the next confirmation box the panel opens.
void answerConfirmation(ui::HistoryPanel* panel, QMessageBox::StandardButton button) {
  auto* timer = new QTimer(panel);
  timer->setInterval(20);
  QObject::connect(timer, &QTimer::timeout, panel, [panel, button, timer] {
    auto* box = panel->findChild<QMessageBox*>(QStringLiteral("confirmDeleteSession"));
    if (!box || !box->isVisible()) return;
    timer->stop();
    timer->deleteLater();
    box->button(button)->click();
  });
  timer->start();
}

QStringList sessionTitles(ui::HistoryPanel* panel) {
  QStringList out;
  for (int i = 0; i < panel->list()->count(); ++i)
    out << panel->list()->item(i)->data(ui::HistoryPanel::TitleRole).toString();
  return out;
}

QList<qint64> sessionIds(ui::HistoryPanel* panel) {
  QList<qint64> out;
  for (int i = 0; i < panel->list()->count(); ++i)
    out << panel->list()->item(i)->data(ui::HistoryPanel::SessionRole).toLongLong();
  return out;
}

}  // namespace

class TstHistoryUi : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void inMemoryUnderTestMode();
  void answersAreStoredAsTheyArrive();
  void lastSessionComesBack();
  void historyPanel();
  void exportFromWindow();
  void translated();
  void cleanupTestCase();

 private:
  std::unique_ptr<ui::MainWindow> newWindow();
  bool ask(ui::MainWindow* w, const QString& q);
  QTemporaryDir m_dir;
  QString m_model, m_db, m_imgA, m_imgB, m_imgC;
  qint64 m_first = 0;
  std::unique_ptr<ui::MainWindow> m_win;
};

void TstHistoryUi::initTestCase() {
  QVERIFY(m_dir.isValid());
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("OpenAutoGLM-test"));
  QCoreApplication::setApplicationName(QStringLiteral("tst_history_ui"));
  ui::setLanguage(QStringLiteral("en"));
  m_model = m_dir.filePath(QStringLiteral("model"));
  const auto vocab = core::make_vocab(core::shapes::vocabulary());
  core::write_random_model(std::filesystem::u8path(m_model.toStdString()), core::small_config(int(vocab.size())), vocab,
                           3);
  m_db = m_dir.filePath(QStringLiteral("data/history.sqlite"));
  m_imgA = m_dir.filePath(QStringLiteral("red.png"));
  m_imgB = m_dir.filePath(QStringLiteral("blue.png"));
  m_imgC = m_dir.filePath(QStringLiteral("green.png"));
  QVERIFY(scene(Qt::white, Qt::red).save(m_imgA));
  QVERIFY(scene(Qt::yellow, Qt::blue).save(m_imgB));
  QVERIFY(scene(Qt::gray, Qt::green).save(m_imgC));
}

std::unique_ptr<ui::MainWindow> TstHistoryUi::newWindow() {
  auto w = std::make_unique<ui::MainWindow>();
  w->resize(1280, 800);
  w->show();
  if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
  QSignalSpy loaded(w->controller(), &ui::InferenceController::modelLoaded);
  w->overrideDevice(core::Device::Cpu, 0);
  w->loadModel(m_model);
  if (!loaded.wait(120000)) return nullptr;
  return w;
}

bool TstHistoryUi::ask(ui::MainWindow* w, const QString& q) {
  QSignalSpy shown(w, &ui::MainWindow::answerShown);
  if (q.isEmpty())
    w->describeImage();
  else
    w->askQuestion(q);
  return shown.wait(60000);
}

void TstHistoryUi::inMemoryUnderTestMode() {
  // Test mode: the window never touches a history file of its own.
  m_win = newWindow();
  QVERIFY(m_win);
  QVERIFY(m_win->history()->isOpen());
  QCOMPARE(m_win->history()->path(), QStringLiteral(":memory:"));
  QVERIFY(m_win->historyDock()->isVisible());
  QVERIFY(m_win->historyPanel()->isVisible());
}

void TstHistoryUi::answersAreStoredAsTheyArrive() {
  QVERIFY(m_win->openHistory(m_db));
  QCOMPARE(m_win->history()->path(), m_db);
  QCOMPARE(m_win->thumbnails()->count(), 0);  // a new file: nothing to bring back
  QCOMPARE(m_win->openFiles({m_imgA, m_imgB}), 2);
  ui::HistoryStore* store = m_win->history();
  m_first = m_win->currentSession();
  QVERIFY(m_first > 0);
  QVERIFY(m_win->setCurrentImage(m_imgA));
  QVERIFY(ask(m_win.get(), QStringLiteral("what color is the circle?")));
  {
    // Committed already, before any heatmap.
    const auto data = store->loadSession(m_first);
    QVERIFY(data);
    QCOMPARE(data->images.size(), size_t(2));
    QCOMPARE(data->images[0].sha256, ui::HistoryStore::sha256File(m_imgA));
    QVERIFY(!data->images[0].thumbnailPng.isEmpty());
    QCOMPARE(data->answers.size(), size_t(1));
    const auto& a = data->answers[0];
    QCOMPARE(a.imagePath, m_imgA);
    QCOMPARE(a.question, QStringLiteral("what color is the circle?"));
    QCOMPARE(a.model, QStringLiteral("model"));
    QCOMPARE(a.answerText(), m_win->answerList()->currentItem()->data(ui::AnswerList::AnswerRole).toString());
    QCOMPARE(a.result.answers.size(), m_win->shownResult()->answers.size());
    QVERIFY(a.settingsJson.contains("\"beams\":3"));
    QVERIFY(a.result.inspection.gates.numel() > 0);
  }
  // The heatmap shown is stored with the answer.
  QTRY_VERIFY_WITH_TIMEOUT(m_win->heatmapShown(), 30000);
  QTRY_VERIFY_WITH_TIMEOUT(store->loadSession(m_first)->answers[0].hasHeatmap, 5000);
  QCOMPARE(store->loadSession(m_first)->answers[0].heatmap.data, m_win->imageView()->heatmap().data);
  // A caption of the second image.
  QVERIFY(m_win->setCurrentImage(m_imgB));
  QVERIFY(ask(m_win.get(), QString()));
  QTRY_VERIFY_WITH_TIMEOUT(m_win->heatmapShown(), 30000);
  const auto data = store->loadSession(m_first);
  QCOMPARE(data->answers.size(), size_t(2));
  QVERIFY(data->answers[1].describe);
  QCOMPARE(data->answers[1].imagePath, m_imgB);
  // The panel lists the session, marked as the current one.
  QTRY_COMPARE(m_win->historyPanel()->list()->count(), 1);
  QCOMPARE(sessionTitles(m_win->historyPanel()), QStringList{QStringLiteral("what color is the circle?")});
  QVERIFY(m_win->historyPanel()->list()->item(0)->data(ui::HistoryPanel::CurrentRole).toBool());
}

void TstHistoryUi::lastSessionComesBack() {
  const QString shownAnswer = m_win->answerList()->currentItem()->data(ui::AnswerList::AnswerRole).toString();
  m_win.reset();  // as if the app had stopped here
  // Meanwhile the second image is moved away.
  QVERIFY(QFile::rename(m_imgB, m_imgB + QStringLiteral(".moved")));
  m_win = newWindow();
  QVERIFY(m_win);
  m_win->messageBar()->dismiss();
  QVERIFY(m_win->openHistory(m_db));
  QCOMPARE(m_win->currentSession(), m_first);
  QCOMPARE(m_win->images(), (QStringList{m_imgA, m_imgB}));
  QVERIFY(!m_win->isImageMissing(m_imgA));
  QVERIFY(m_win->isImageMissing(m_imgB));
  QVERIFY(m_win->thumbnails()->item(1)->text().contains(QStringLiteral("missing")));
  QVERIFY(!m_win->thumbnails()->item(1)->icon().isNull());  // its stored thumbnail
  // Back at the last answer: the caption of the missing image, with no error.
  QCOMPARE(m_win->currentImage(), m_imgB);
  QVERIFY(m_win->messageBar()->isHidden());
  QVERIFY(!m_win->imageView()->hasImage());
  QCOMPARE(m_win->answerList()->count(), 1);
  QCOMPARE(m_win->answerList()->item(0)->data(ui::AnswerList::AnswerRole).toString(), shownAnswer);
  QVERIFY(m_win->answerList()->item(0)->data(ui::AnswerList::DescribeRole).toBool());
  QVERIFY(!m_win->findChild<QPushButton*>(QStringLiteral("askButton"))->isEnabled());
  // The first image, its answer and the heatmap it was shown with.
  QVERIFY(m_win->setCurrentImage(m_imgA));
  QVERIFY(m_win->imageView()->hasImage());
  QCOMPARE(m_win->answerList()->count(), 1);
  QCOMPARE(m_win->answerList()->item(0)->data(ui::AnswerList::QuestionRole).toString(),
           QStringLiteral("what color is the circle?"));
  QVERIFY(m_win->shownResult());
  QVERIFY(m_win->heatmapShown());
  QVERIFY(m_win->gatesPanel()->layerCount() > 0);
  // Asking more adds to the same session.
  QVERIFY(ask(m_win.get(), QStringLiteral("how many shapes are there?")));
  QCOMPARE(m_win->history()->loadSession(m_first)->answers.size(), size_t(3));
  QCOMPARE(m_win->answerList()->count(), 2);
  // The missing image is put back and opened again: shown, with its caption.
  QVERIFY(QFile::rename(m_imgB + QStringLiteral(".moved"), m_imgB));
  QCOMPARE(m_win->openFiles({m_imgB}), 1);
  QVERIFY(!m_win->isImageMissing(m_imgB));
  QCOMPARE(m_win->images(), (QStringList{m_imgA, m_imgB}));
  QCOMPARE(m_win->currentImage(), m_imgB);
  QVERIFY(m_win->imageView()->hasImage());
  QCOMPARE(m_win->answerList()->count(), 1);
  QVERIFY(m_win->findChild<QPushButton*>(QStringLiteral("askButton"))->isEnabled());
  QCOMPARE(m_win->history()->loadSession(m_first)->images.size(), size_t(2));  // the same row
}

void TstHistoryUi::historyPanel() {
  ui::HistoryPanel* panel = m_win->historyPanel();
  ui::HistoryStore* store = m_win->history();
  // A second session.
  m_win->newSession();
  QCOMPARE(m_win->thumbnails()->count(), 0);
  QCOMPARE(m_win->answerList()->count(), 0);
  QCOMPARE(m_win->openFiles({m_imgC}), 1);
  const qint64 second = m_win->currentSession();
  QVERIFY(second != m_first);
  QVERIFY(ask(m_win.get(), QStringLiteral("is there a zorblax square?")));
  panel->refresh();
  QCOMPARE(panel->list()->count(), 2);
  QCOMPARE(sessionTitles(panel).first(), QStringLiteral("is there a zorblax square?"));  // newest first

  // Search by question text (a word no random answer has), and by answer text.
  panel->searchEdit()->setText(QStringLiteral("ZORBLAX"));
  QTRY_COMPARE(panel->list()->count(), 1);
  QCOMPARE(panel->list()->item(0)->data(ui::HistoryPanel::SessionRole).toLongLong(), second);
  QVERIFY(panel->list()->item(0)->data(ui::HistoryPanel::MatchRole).toString().contains(QStringLiteral("zorblax")));
  panel->searchEdit()->setText(QStringLiteral("color is the circle"));
  QTRY_VERIFY(sessionIds(panel).contains(m_first));
  const QString answer = QString::fromStdString(m_win->shownResult()->answers.front().text);
  panel->searchEdit()->setText(answer);
  QTRY_VERIFY(panel->list()->count() >= 1);
  panel->searchEdit()->setText(QStringLiteral("nothing was ever asked like this"));
  QTRY_COMPARE(panel->list()->count(), 0);
  panel->searchEdit()->clear();
  QTRY_COMPARE(panel->list()->count(), 2);

  // Rename.
  QVERIFY(panel->renameSession(m_first, QStringLiteral("Colours")));
  QVERIFY(sessionTitles(panel).contains(QStringLiteral("Colours")));
  QCOMPARE(store->session(m_first)->title, QStringLiteral("Colours"));

  // Open the first session by double-clicking it, the second one with the
  // Open button, and the first again.
  QVERIFY(panel->selectSession(m_first));
  const QRect rect = panel->list()->visualItemRect(panel->list()->currentItem());
  // (A click first, as a real double-click starts: QTest's double-click alone
  // does not reach an item view.)
  QTest::mouseClick(panel->list()->viewport(), Qt::LeftButton, {}, rect.center());
  QTest::mouseDClick(panel->list()->viewport(), Qt::LeftButton, {}, rect.center());
  QTRY_COMPARE(m_win->currentSession(), m_first);
  QCOMPARE(m_win->thumbnails()->count(), 2);
  QVERIFY(panel->selectSession(second));
  panel->findChild<QToolButton*>(QStringLiteral("historyOpen"))->click();
  QCOMPARE(m_win->currentSession(), second);
  QCOMPARE(m_win->images(), QStringList{m_imgC});
  QVERIFY(panel->selectSession(m_first));
  auto* open = panel->findChild<QToolButton*>(QStringLiteral("historyOpen"));
  QVERIFY(open && open->isEnabled());
  open->click();
  QCOMPARE(m_win->currentSession(), m_first);
  QCOMPARE(m_win->thumbnails()->count(), 2);

  // Delete asks first: "Keep" keeps it.
  QVERIFY(panel->selectSession(second));
  answerConfirmation(panel, QMessageBox::No);
  QVERIFY(!panel->deleteSession(second));
  QVERIFY(store->session(second));
  // "Delete" deletes it.
  answerConfirmation(panel, QMessageBox::Yes);
  QVERIFY(panel->deleteSession(second));
  QVERIFY(!store->session(second));
  QCOMPARE(panel->list()->count(), 1);
  QCOMPARE(m_win->currentSession(), m_first);  // the one shown is untouched
  // Deleting the session shown leaves an empty window and a new session.
  answerConfirmation(panel, QMessageBox::Yes);
  QVERIFY(panel->deleteSession(m_first));
  QVERIFY(!store->session(m_first));
  QCOMPARE(m_win->thumbnails()->count(), 0);
  QVERIFY(m_win->currentImage().isEmpty());
  QVERIFY(m_win->currentSession() > 0 && m_win->currentSession() != m_first);
  QCOMPARE(panel->list()->count(), 0);
  QCOMPARE(store->integrityCheck(), QStringLiteral("ok"));
}

void TstHistoryUi::exportFromWindow() {
  QCOMPARE(m_win->openFiles({m_imgA}), 1);
  QVERIFY(ask(m_win.get(), QStringLiteral("what color is the circle?")));
  QTRY_VERIFY_WITH_TIMEOUT(m_win->heatmapShown(), 30000);
  const QString html = m_dir.filePath(QStringLiteral("export/report.html"));
  QDir().mkpath(QFileInfo(html).absolutePath());
  QVERIFY(m_win->exportSession(html));
  QVERIFY(QFileInfo(html).size() > 0);
  QVERIFY(QFileInfo::exists(m_dir.filePath(QStringLiteral("export/report_files/answer-1-heatmap.png"))));
  QVERIFY(QFileInfo::exists(m_dir.filePath(QStringLiteral("export/report_files/answer-1-gates.png"))));
  const QString pdf = m_dir.filePath(QStringLiteral("export/report.pdf"));
  QVERIFY(m_win->exportSession(pdf));
  QFile f(pdf);
  QVERIFY(f.open(QIODevice::ReadOnly));
  QCOMPARE(f.read(4), QByteArrayLiteral("%PDF"));
  // An empty session has nothing to export.
  m_win->newSession();
  QVERIFY(!m_win->exportSession(m_dir.filePath(QStringLiteral("export/empty.json"))));
  QVERIFY(!m_win->messageBar()->isHidden());
}

void TstHistoryUi::translated() {
  QVERIFY(ui::setLanguage(QStringLiteral("zh_CN")));
  QCOMPARE(m_win->historyDock()->windowTitle(), QStringLiteral("历史记录"));
  QCOMPARE(m_win->historyPanel()->searchEdit()->placeholderText(), QStringLiteral("搜索问题和回答"));
  QCOMPARE(m_win->historyPanel()->findChild<QToolButton*>(QStringLiteral("historyRename"))->text(),
           QStringLiteral("重命名…"));
  QVERIFY(ui::setLanguage(QStringLiteral("en")));
  QCOMPARE(m_win->historyDock()->windowTitle(), QStringLiteral("History"));
}

void TstHistoryUi::cleanupTestCase() { m_win.reset(); }

QTEST_MAIN(TstHistoryUi)
#include "tst_history_ui.moc"
