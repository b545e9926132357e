// MainWindow: the thumbnails of a session, the history store (sessions, answers,
// exports).
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
#include "ui/getmodelsdialog.h"
#include "ui/historypanel.h"
#include "ui/historystore.h"
#include "ui/imageview.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/messagebar.h"
#include "ui/sessionexport.h"

namespace ui {

// ---------------------------------------------------------------- history
QListWidgetItem* MainWindow::addThumbnail(const QString& path, const QImage& thumb, bool missing) {
  QPixmap pm(QSize(kThumbW, kThumbH));
  pm.fill(Qt::transparent);
  {
    QPainter painter(&pm);
    painter.setRenderHint(QPainter::SmoothPixmapTransform);
    painter.setRenderHint(QPainter::Antialiasing);
    if (!thumb.isNull()) {
      QImage scaled = thumb.scaled(QSize(kThumbW, kThumbH), Qt::KeepAspectRatio, Qt::SmoothTransformation);
      if (missing) {
        scaled = scaled.convertToFormat(QImage::Format_Grayscale8);
        painter.setOpacity(0.45);
      }
      painter.drawImage((kThumbW - scaled.width()) / 2, (kThumbH - scaled.height()) / 2, scaled);
      painter.setOpacity(1.0);
    }
    if (missing) {
      // The file is gone: a dashed frame and a "?" badge over the kept thumbnail.
      painter.setPen(QPen(palette().color(QPalette::Mid), 1.5, Qt::DashLine));
      painter.setBrush(Qt::NoBrush);
      painter.drawRoundedRect(QRectF(1, 1, kThumbW - 2, kThumbH - 2), 4, 4);
      const QRectF badge(kThumbW - 24, 4, 20, 20);
      painter.setPen(Qt::NoPen);
      painter.setBrush(QColor(196, 64, 52));
      painter.drawEllipse(badge);
      QFont f = font();
      f.setBold(true);
      painter.setFont(f);
      painter.setPen(Qt::white);
      painter.drawText(badge, Qt::AlignCenter, QStringLiteral("?"));
    }
  }
  const QString name = QFileInfo(path).fileName();
  //: a thumbnail's caption when the image file was moved or deleted
  auto* item = new QListWidgetItem(QIcon(pm), missing ? tr("%1 (missing)").arg(name) : name);
  item->setData(Qt::UserRole, path);
  item->setToolTip(missing ? tr("%1\nNot found: the file was moved or deleted. Its answers are kept.")
                                 .arg(QDir::toNativeSeparators(path))
                           : QDir::toNativeSeparators(path));
  item->setData(Qt::UserRole + 1, m_thumbSeq++);
  item->setData(Qt::UserRole + 2, item->text());
  item->setData(Qt::UserRole + 3, item->toolTip());
  item->setSizeHint(m_thumbs->gridSize());
  if (missing) item->setForeground(palette().color(QPalette::PlaceholderText));
  m_thumbs->addItem(item);
  m_thumbs->show();
  return item;
}

void MainWindow::clearSession() {
  if (m_ctl->busy()) m_ctl->cancel();  // its answer would belong to the session left
  m_requestEntry.clear();
  m_entries.clear();
  m_heatmapEntry = -1;
  m_heatmapRequestId = 0;
  m_shownEntry = -1;
  m_imageIds.clear();
  m_missingImages.clear();
  {
    QSignalBlocker block(m_thumbs);
    m_thumbs->clear();
  }
  m_thumbs->hide();
  setCurrentImage(QString());
}

qint64 MainWindow::currentSession() const { return m_store ? m_store->currentSession() : 0; }

bool MainWindow::openHistory(const QString& path) {
  clearSession();
  m_historyWarned = false;
  if (!m_store->open(path)) {
    m_historyWarned = true;
    showMessage(tr("The history in %1 could not be opened, so this session will not be saved. %2")
                    .arg(QDir::toNativeSeparators(path), m_store->lastError()),
                int(MessageBar::Kind::Warning));
    m_historyPanel->setStore(nullptr);
    updateActions();
    return false;
  }
  m_historyPanel->setStore(m_store.get());
  const qint64 last = m_store->lastSession();
  if (!last || !loadSession(last)) newSession();
  return true;
}

bool MainWindow::loadSession(qint64 id) {
  const auto data = m_store->loadSession(id);
  if (!data) {
    showMessage(tr("The session could not be loaded. %1").arg(m_store->lastError()), int(MessageBar::Kind::Error));
    return false;
  }
  clearSession();
  m_store->setCurrentSession(id);
  for (const HistoryImage& im : data->images) {
    if (im.missing) m_missingImages.insert(im.path);
    QImage thumb = im.thumbnail();
    QString reason;
    if (thumb.isNull() && !im.missing) checkImageFile(im.path, &reason, &thumb);  // none stored
    addThumbnail(im.path, thumb, im.missing);
    m_imageIds.insert(im.path, im.id);
  }
  for (const HistoryAnswer& a : data->answers) {
    Entry e;
    e.imagePath = a.imagePath;
    e.question = a.question;
    e.describe = a.describe;
    e.result = std::make_shared<const core::Result>(a.result);
    e.state = RowState::Answered;
    e.historyId = a.id;
    e.model = a.model;
    e.settingsJson = a.settingsJson;
    e.restored = true;
    if (a.hasHeatmap) {
      e.heatmap = a.heatmap;
      e.heatmapRequest = a.heatmapRequest;
      e.hasHeatmap = true;
    }
    m_entries.push_back(std::move(e));
  }
  // Back where it was left: the image of the last answer (else the last image).
  QString show = m_entries.empty() ? QString() : m_entries.back().imagePath;
  if (show.isEmpty() && !data->images.empty()) show = data->images.back().path;
  if (!show.isEmpty()) setCurrentImage(show);
  m_historyPanel->setCurrentSession(id);
  m_historyPanel->refresh();
  updateActions();
  return true;
}

void MainWindow::newSession() {
  clearSession();
  if (m_store->isOpen()) m_store->newSession();
  m_historyPanel->setCurrentSession(m_store->currentSession());
  m_historyPanel->refresh();
  updateActions();
}

void MainWindow::recordAnswer(Entry& e) {
  if (!m_store->isOpen() || !e.result) return;
  const qint64 imageId = m_imageIds.value(e.imagePath);
  if (!imageId) return;  // removed from the list while it was asked about
  e.historyId = m_store->addAnswer(imageId, e.question, e.describe, *e.result, e.model, e.settingsJson);
  if (!e.historyId)
    historyFailed();
  else
    m_historyPanel->scheduleRefresh();
}

QByteArray MainWindow::requestSettingsJson(bool describe) const {
  QJsonObject o;
  o[QStringLiteral("task")] = describe ? QStringLiteral("describe") : QStringLiteral("ask");
  o[QStringLiteral("beams")] = describe ? core::DescribeOptions{}.beams : m_settings.beams;
  o[QStringLiteral("max_new_tokens")] = describe ? describeTokens() : m_settings.maxAnswerTokens;
  o[QStringLiteral("confidence")] = QStringLiteral("auto");
  if (m_ctl->hasModel()) {
    const core::ModelInfo& info = m_ctl->modelInfo();
    o[QStringLiteral("model_family")] = QString::fromLatin1(core::family_name(info.family));
    o[QStringLiteral("device")] = QString::fromStdString(info.device);
    o[QStringLiteral("dtype")] = QString::fromStdString(info.dtype);
    o[QStringLiteral("threads")] = info.threads;
    o[QStringLiteral("calibrated")] = info.calibrated;
    o[QStringLiteral("temperature")] = double(info.temperature);
  }
  return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

void MainWindow::historyFailed() {
  if (m_historyWarned) return;  // once: the reason does not change from one answer to the next
  m_historyWarned = true;
  showMessage(tr("The history could not be saved. %1").arg(m_store->lastError()), int(MessageBar::Kind::Error));
}

void MainWindow::updateViewPlaceholder() {
  if (!m_currentImage.isEmpty() && m_missingImages.contains(m_currentImage))
    m_view->setPlaceholderText(tr("%1 was moved or deleted.\n\nIts answers from this session are listed with the "
                                  "questions. Open the file from its new place to ask more.")
                                   .arg(QDir::toNativeSeparators(m_currentImage)));
  else
    m_view->setPlaceholderText(tr("Drop images or a folder here, paste with Ctrl+V, or use File > Open (Ctrl+O)."));
}

bool MainWindow::exportSession(const QString& path, qint64 id) {
  if (!m_store->isOpen()) {
    showMessage(tr("The history is not available, so there is nothing to export."), int(MessageBar::Kind::Warning));
    return false;
  }
  if (id == 0) id = m_store->currentSession();
  const auto data = m_store->loadSession(id);
  if (!data || data->images.empty()) {
    showMessage(tr("This session is empty: open an image and ask about it first."), int(MessageBar::Kind::Warning));
    return false;
  }
  ExportOptions o;
  o.colormap = m_settings.colormap;
  o.opacity = m_settings.opacity / 100.0;
  o.threshold = m_settings.threshold;
  QString error;
  QApplication::setOverrideCursor(Qt::WaitCursor);
  const bool ok = ui::exportSession(*data, path, o, &error);
  QApplication::restoreOverrideCursor();
  if (!ok) {
    showMessage(error, int(MessageBar::Kind::Error));
    return false;
  }
  statusBar()->showMessage(tr("Exported the session to %1").arg(QDir::toNativeSeparators(path)), 6000);
  return true;
}

void MainWindow::exportDialog(qint64 id) {
  if (!m_store->isOpen()) return;
  const qint64 sid = id ? id : m_store->currentSession();
  const auto s = m_store->session(sid);
  if (!s || s->images == 0) {
    showMessage(tr("This session is empty: open an image and ask about it first."), int(MessageBar::Kind::Warning));
    return;
  }
  QSettings q;
  const QString dir =
      q.value(QStringLiteral("lastExportDir"), QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
          .toString();
  QString base;
  for (QChar c : s->displayTitle()) base += c.isLetterOrNumber() ? c : QLatin1Char('-');
  base = base.split(QLatin1Char('-'), Qt::SkipEmptyParts).join(QLatin1Char('-')).left(60);
  if (base.isEmpty()) base = QStringLiteral("session");
  const QStringList filters = {tr("HTML report (*.html)"), tr("Markdown (*.md)"), tr("JSON data (*.json)"),
                               tr("PDF document (*.pdf)")};
  const QStringList suffixes = {QStringLiteral(".html"), QStringLiteral(".md"), QStringLiteral(".json"),
                                QStringLiteral(".pdf")};
  int last = std::clamp(q.value(QStringLiteral("lastExportFormat"), 0).toInt(), 0, 3);
  QString selected = filters[last];
  QString path = QFileDialog::getSaveFileName(this, tr("Export Session"), QDir(dir).filePath(base + suffixes[last]),
                                              filters.join(QStringLiteral(";;")), &selected);
  if (path.isEmpty()) return;
  last = std::max(0, int(filters.indexOf(selected)));
  if (!exportFormatFor(path)) path += suffixes[last];
  q.setValue(QStringLiteral("lastExportDir"), QFileInfo(path).absolutePath());
  q.setValue(QStringLiteral("lastExportFormat"), last);
  exportSession(path, sid);
}

}  // namespace ui
