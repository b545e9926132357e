// MainWindow: asking, the answers as they arrive, and their heatmaps.
#include "ui/mainwindow.h"

#include <algorithm>
#include <functional>
#include <cmath>

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QScrollArea>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "core/engine/summary.h"
#include "core/engine/paths.h"
#include "core/vision/image.h"
#include "ui/alignpanel.h"
#include "ui/answerlist.h"
#include "ui/gatesview.h"
#include "ui/heatmapcontrols.h"
#include "ui/getmodelsdialog.h"
#include "ui/historypanel.h"
#include "ui/historystore.h"
#include "ui/imageview.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/messagebar.h"
#include "ui/sessionexport.h"

namespace ui {

namespace {
QString ms(double v) { return QLocale().toString(v, 'f', v < 10 ? 1 : 0); }
}  // namespace

// Answers and heatmaps as they arrive, failed and cancelled requests.
void MainWindow::connectAnswerSignals() {
  connect(m_ctl, &InferenceController::answerReady, this,
          [this](quint64 id, const ResultPtr& r, const AnswerHeatmapPtr& heatmap) {
            const int idx = m_requestEntry.contains(id) ? m_requestEntry.take(id) : -1;
            if (idx < 0 || idx >= int(m_entries.size())) return;
            Entry& e = m_entries[size_t(idx)];
            e.result = r;
            e.state = RowState::Answered;
            if (heatmap) {
              e.heatmap = heatmap->map;
              e.heatmapRequest = heatmap->request;
              e.hasHeatmap = true;
            }
            recordAnswer(e);
            if (e.hasHeatmap && e.historyId && !m_store->setHeatmap(e.historyId, e.heatmapRequest, e.heatmap))
              historyFailed();
            updateTimings(*r);
            if (auto* item = m_answers->itemForEntry(idx)) {
              AnswerList::setResult(item, *r);
              m_answers->doItemsLayout();
              if (e.imagePath == m_currentImage) {
                m_shownEntry = -1;
                m_answers->setCurrentItem(item);
                if (m_shownEntry != idx) showEntry(idx);
                m_answers->scrollToItem(item);
              }
            }
            Q_EMIT answerShown();
          });
  connect(m_ctl, &InferenceController::answerPartial, this, [this](quint64 id, const QString& text) {
    const int idx = m_requestEntry.value(id, -1);
    if (auto* item = idx >= 0 ? m_answers->itemForEntry(idx) : nullptr) {
      AnswerList::setPartial(item, text);
      m_answers->viewport()->update();
    }
  });
  connect(m_ctl, &InferenceController::requestFailed, this, [this](quint64 id, const QString& error) {
    const int idx = m_requestEntry.contains(id) ? m_requestEntry.take(id) : -1;
    if (idx >= 0 && idx < int(m_entries.size())) {
      m_entries[size_t(idx)].state = RowState::Failed;
      m_entries[size_t(idx)].error = error;
      if (auto* item = m_answers->itemForEntry(idx)) {
        AnswerList::setFailed(item, error);
        m_answers->doItemsLayout();
      }
    }
    showMessage(error, int(MessageBar::Kind::Error));
  });
  connect(m_ctl, &InferenceController::requestCancelled, this, [this](quint64 id) {
    const int idx = m_requestEntry.contains(id) ? m_requestEntry.take(id) : -1;
    if (idx >= 0 && idx < int(m_entries.size())) {
      m_entries[size_t(idx)].state = RowState::Cancelled;
      if (auto* item = m_answers->itemForEntry(idx)) {
        AnswerList::setCancelled(item);
        m_answers->viewport()->update();
      }
    }
  });
  connect(m_ctl, &InferenceController::heatmapReady, this, [this](quint64 id, const core::Array& map) {
    if (id != m_heatmapRequestId || m_heatmapEntry < 0 || m_heatmapEntry >= int(m_entries.size())) return;
    Entry& e = m_entries[size_t(m_heatmapEntry)];
    e.heatmap = map;
    e.hasHeatmap = true;
    e.heatmapRequest = m_heatmapControls->request();
    if (e.historyId && !m_store->setHeatmap(e.historyId, e.heatmapRequest, map)) historyFailed();
    if (m_heatmapEntry == m_shownEntry && e.imagePath == m_currentImage) m_view->setHeatmap(map);
    statusBar()->clearMessage();
    Q_EMIT heatmapUpdated();
  });
  connect(m_ctl, &InferenceController::heatmapFailed, this, [this](quint64 id, const QString& error) {
    if (id != m_heatmapRequestId) return;
    statusBar()->clearMessage();
    m_view->clearHeatmap();
    showMessage(tr("The heatmap could not be made. %1").arg(error), int(MessageBar::Kind::Warning));
  });
}

void MainWindow::updateTimings(const core::Result& r) {
  const auto& t = r.timings;
  const double total = t.preprocess_ms + t.vision_ms + t.fusion_ms + t.decode_ms;
  //: status bar: latency of the last answer, split by stage (milliseconds)
  m_timingStatus->setText(tr("Last answer %1 ms: preprocess %2 · vision %3 · fusion %4 · decode %5")
                              .arg(ms(total), ms(t.preprocess_ms), ms(t.vision_ms), ms(t.fusion_ms), ms(t.decode_ms)));
  m_timingStatus->setToolTip(
      t.vision_cached ? tr("The image was encoded once; later questions about it reuse its features.") : QString());
}

void MainWindow::askFromInput() { askQuestion(m_question->text()); }

// Says why a request about the current image cannot start, if it cannot.
bool MainWindow::imageReady() {
  if (m_currentImage.isEmpty()) {
    showMessage(tr("Open an image first: drop one on the window, paste it, or use File > Open."),
                int(MessageBar::Kind::Warning));
    return false;
  }
  if (m_missingImages.contains(m_currentImage)) {
    showMessage(tr("%1 was moved or deleted, so it cannot be asked about. Open it again from its new place.")
                    .arg(QDir::toNativeSeparators(m_currentImage)),
                int(MessageBar::Kind::Warning));
    return false;
  }
  return true;
}

bool MainWindow::modelReady() {
  if (!m_ctl->hasModel() && !m_ctl->loading()) {
    showMessage(tr("No model is loaded. Use File > Open Model Folder to choose one."), int(MessageBar::Kind::Error));
    return false;
  }
  return true;
}

// Records a new answer entry with a pending row, sends its request, and
// remembers which entry the request's result belongs to.
void MainWindow::startEntry(Entry e, const QString& question, const std::function<quint64()>& send) {
  e.model = QString::fromStdString(m_ctl->modelInfo().name);
  m_entries.push_back(e);
  const int idx = int(m_entries.size()) - 1;
  auto* item = m_answers->addPending(idx, question, e.describe);
  const quint64 id = send();
  m_entries.back().requestId = id;
  m_requestEntry.insert(id, idx);
  m_answers->scrollToItem(item);
}

void MainWindow::askQuestion(const QString& question) {
  const QString q = question.trimmed();
  if (!imageReady()) return;
  if (q.isEmpty()) {
    showMessage(tr("Type a question first."), int(MessageBar::Kind::Warning));
    m_question->setFocus();
    return;
  }
  if (!modelReady()) return;
  if (m_ctl->hasModel() && m_ctl->modelInfo().task == core::ModelTask::Match) {
    // It answers no questions: the open images are searched with the text, and the
    // heatmap shows where it matches this one.
    m_alignDock->show();
    m_alignPanel->searchEdit()->setText(q);
    if (!searchImages(q)) requestMatchHeatmap(q);
    return;
  }
  if (m_history.isEmpty() || m_history.last() != q) m_history << q;
  m_historyPos = int(m_history.size());
  m_historyDraft.clear();
  core::AskOptions opt;
  opt.beams = m_settings.beams;
  opt.max_new_tokens = m_settings.maxAnswerTokens;
  Entry e;
  e.imagePath = m_currentImage;
  e.question = q;
  e.settingsJson = requestSettingsJson(false);
  startEntry(e, q, [&] { return m_ctl->ask(m_currentImage, q, opt, answerHeatmapRequest()); });
  m_question->clear();
  if (m_message->kind() != MessageBar::Kind::Info) m_message->dismiss();
  updateActions();
}

void MainWindow::describeImage() {
  if (!imageReady() || !modelReady()) return;
  core::DescribeOptions opt;  // its beams are the engine's describe default, as in `autoglm describe`
  opt.max_new_tokens = describeTokens();
  Entry e;
  e.imagePath = m_currentImage;
  e.describe = true;
  e.settingsJson = requestSettingsJson(true);
  startEntry(e, QString(), [&] { return m_ctl->describe(m_currentImage, opt, answerHeatmapRequest()); });
  updateActions();
}

void MainWindow::cancelRequest() {
  if (!m_ctl->busy()) return;
  m_ctl->cancel();
  statusBar()->showMessage(tr("Cancelling…"), 3000);
}

void MainWindow::setThreshold(double t) { m_threshold->setValue(t); }

bool MainWindow::eventFilter(QObject* obj, QEvent* e) {
  if (obj == m_question) {
    if (e->type() == QEvent::ShortcutOverride) {
      // Ctrl+V with an image (or files) on the clipboard adds the image even
      // while the question box has the focus.
      auto* ke = static_cast<QKeyEvent*>(e);
      if (ke->matches(QKeySequence::Paste)) {
        const QMimeData* m = QGuiApplication::clipboard()->mimeData();
        const bool localFiles =
            m && m->hasUrls() &&
            std::any_of(m->urls().cbegin(), m->urls().cend(), [](const QUrl& u) { return u.isLocalFile(); });
        if (m && (m->hasImage() || localFiles)) {
          e->ignore();
          return true;
        }
      }
    } else if (e->type() == QEvent::KeyPress) {
      auto* ke = static_cast<QKeyEvent*>(e);
      if (ke->key() == Qt::Key_Up && !m_history.isEmpty()) {
        if (m_historyPos == int(m_history.size())) m_historyDraft = m_question->text();
        if (m_historyPos > 0) --m_historyPos;
        m_question->setText(m_history[m_historyPos]);
        return true;
      }
      if (ke->key() == Qt::Key_Down && !m_history.isEmpty()) {
        if (m_historyPos < int(m_history.size())) ++m_historyPos;
        m_question->setText(m_historyPos == int(m_history.size()) ? m_historyDraft : m_history[m_historyPos]);
        return true;
      }
    }
  }
  return QMainWindow::eventFilter(obj, e);
}

int MainWindow::entryIndexOf(QListWidgetItem* item) const {
  if (!item) return -1;
  const int idx = item->data(AnswerList::EntryRole).toInt();
  return idx >= 0 && idx < int(m_entries.size()) ? idx : -1;
}

void MainWindow::rebuildAnswerList() {
  QSignalBlocker block(m_answers);
  m_answers->clear();
  for (int i = 0; i < int(m_entries.size()); ++i) {
    const Entry& e = m_entries[size_t(i)];
    if (e.imagePath != m_currentImage) continue;
    auto* item = m_answers->addPending(i, e.question, e.describe);
    if (e.state == RowState::Answered && e.result)
      AnswerList::setResult(item, *e.result);
    else if (e.state == RowState::Failed)
      AnswerList::setFailed(item, e.error);
    else if (e.state == RowState::Cancelled)
      AnswerList::setCancelled(item);
  }
}

ResultPtr MainWindow::shownResult() const {
  if (m_shownEntry < 0 || m_shownEntry >= int(m_entries.size())) return nullptr;
  return m_entries[size_t(m_shownEntry)].result;
}

bool MainWindow::heatmapShown() const {
  if (m_shownEntry < 0 || m_shownEntry >= int(m_entries.size())) return false;
  return m_entries[size_t(m_shownEntry)].hasHeatmap && m_view->hasHeatmap();
}

void MainWindow::showEntry(int index) {
  if (index < 0 || index >= int(m_entries.size())) return;
  const Entry& e = m_entries[size_t(index)];
  if (!e.result) return;
  m_shownEntry = index;
  const core::Inspection& in = e.result->inspection;
  m_gates->setInspection(in);
  m_heatmapControls->populate(in, !in.tokens_are_answer               ? HeatmapControls::Whole::Question
                                  : e.result->task == core::Task::Ask ? HeatmapControls::Whole::Answer
                                                                      : HeatmapControls::Whole::Caption);
  if (e.hasHeatmap) {
    // An earlier answer: its own heatmap, with the settings it was made with.
    m_heatmapControls->apply(e.heatmapRequest);
    m_view->setHeatmap(e.heatmap);
    Q_EMIT heatmapUpdated();
  } else if (e.restored) {
    m_view->clearHeatmap();  // from the history, stored without one
  } else {
    m_view->clearHeatmap();
    requestHeatmap();
  }
}

QComboBox* MainWindow::heatmapMethodBox() const { return m_heatmapControls->methodBox(); }

OptionalHeatmapRequest MainWindow::answerHeatmapRequest() const {
  core::HeatmapRequest r = m_heatmapControls->request();
  r.token = -1;  // a new answer shows its whole question or answer first
  return r;
}

void MainWindow::requestHeatmap() {
  const ResultPtr r = shownResult();
  if (!r) return;
  if (m_entries[size_t(m_shownEntry)].restored) {
    // The history keeps the heatmap that was shown, not the attention.
    statusBar()->showMessage(tr("This answer comes from the history: it keeps the heatmap it was shown with. "
                                "Ask again to try other heatmaps."),
                             6000);
    return;
  }
  const core::HeatmapRequest req = m_heatmapControls->request();
  m_heatmapEntry = m_shownEntry;
  m_heatmapRequestId = m_ctl->heatmap(r, req);
  if (req.method == core::HeatmapMethod::GradWeighted) statusBar()->showMessage(tr("Computing the heatmap…"));
}

bool MainWindow::saveOverlay(const QString& path) {
  const QImage img = m_view->composedImage();
  if (img.isNull()) {
    showMessage(tr("There is no image to save."), int(MessageBar::Kind::Warning));
    return false;
  }
  if (!img.save(path, "PNG")) {
    showMessage(tr("%1 could not be written.").arg(QDir::toNativeSeparators(path)), int(MessageBar::Kind::Error));
    return false;
  }
  statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
  return true;
}

void MainWindow::saveOverlayDialog() {
  if (!m_view->hasImage()) return;
  const QFileInfo fi(m_currentImage);
  QString dir = fi.absolutePath();
  if (m_currentImage.startsWith(m_pasteDir.path())) dir = QDir::homePath();
  const QString suggested = QDir(dir).filePath(fi.completeBaseName() + QStringLiteral("-heatmap.png"));
  QString path = QFileDialog::getSaveFileName(this, tr("Save Heatmap Overlay"), suggested, tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive)) path += QStringLiteral(".png");
  saveOverlay(path);
}

}  // namespace ui
