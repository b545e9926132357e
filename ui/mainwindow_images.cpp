// MainWindow: images in (open, paste, drop, recent files) and the checks on them.
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
constexpr int kMaxRecent = 10;

QStringList imageSuffixes() {
  QStringList out;
  for (const QByteArray& f : QImageReader::supportedImageFormats()) out << QString::fromLatin1(f).toLower();
  return out;
}
}  // namespace

bool MainWindow::checkImageFile(const QString& path, QString* reason, QImage* thumb) const {
  const QFileInfo fi(path);
  if (!fi.exists()) {
    *reason = tr("file not found");
    return false;
  }
  if (!fi.isFile() || !fi.isReadable()) {
    *reason = tr("not a readable file");
    return false;
  }
  const core::DecodeLimits limits;
  if (uint64_t(fi.size()) > limits.max_file_bytes) {
    *reason = tr("the file is too large (%1)").arg(QLocale().formattedDataSize(fi.size()));
    return false;
  }
  QImageReader reader(path);
  reader.setAutoTransform(true);
  if (!reader.canRead()) {
    *reason = tr("not an image");
    return false;
  }
  const QSize size = reader.size();
  if (size.isValid() && int64_t(size.width()) * size.height() > limits.max_pixels) {
    *reason = tr("too large (%1 × %2 pixels; the limit is %3 megapixels)")
                  .arg(size.width())
                  .arg(size.height())
                  .arg(limits.max_pixels / 1000000);
    return false;
  }
  if (thumb) {
    if (size.isValid()) {
      const QSize s = size.scaled(QSize(kThumbW, kThumbH) * 2, Qt::KeepAspectRatio);
      if (s.width() < size.width()) reader.setScaledSize(s);
    }
    *thumb = reader.read();
    if (thumb->isNull()) {
      *reason = tr("the image could not be decoded (%1)").arg(reader.errorString());
      return false;
    }
  }
  return true;
}

QStringList MainWindow::images() const {
  QStringList out;
  for (int i = 0; i < m_thumbs->count(); ++i) out << m_thumbs->item(i)->data(Qt::UserRole).toString();
  return out;
}

int MainWindow::openFiles(const QStringList& paths) {
  QStringList files, problems;
  const QStringList suffixes = imageSuffixes();
  for (const QString& p : paths) {
    const QFileInfo fi(p);
    if (fi.isDir()) {
      QStringList filters;
      for (const QString& s : suffixes) filters << QStringLiteral("*.") + s;
      const auto entries = QDir(p).entryInfoList(filters, QDir::Files | QDir::Readable, QDir::Name | QDir::IgnoreCase);
      if (entries.isEmpty()) problems << tr("%1: no images in this folder").arg(QDir::toNativeSeparators(p));
      for (const QFileInfo& e : entries) files << e.absoluteFilePath();
    } else {
      files << (fi.exists() ? fi.absoluteFilePath() : p);
    }
  }
  int added = 0;
  QListWidgetItem* firstNew = nullptr;
  QStringList existing = images();
  for (const QString& f : files) {
    if (m_missingImages.contains(f) && QFileInfo(f).isFile()) {
      // A missing image of the session is back in its place: shown again
      // (its answers stay; addImage() below keeps its history row).
      m_missingImages.remove(f);
      existing.removeAll(f);
      for (int i = m_thumbs->count() - 1; i >= 0; --i)
        if (m_thumbs->item(i)->data(Qt::UserRole).toString() == f) delete m_thumbs->takeItem(i);
      if (m_currentImage == f) m_currentImage.clear();
    }
    if (existing.contains(f)) {
      if (!firstNew)
        for (int i = 0; i < m_thumbs->count(); ++i)
          if (m_thumbs->item(i)->data(Qt::UserRole).toString() == f) firstNew = m_thumbs->item(i);
      continue;
    }
    QString reason;
    QImage thumb;
    if (!checkImageFile(f, &reason, &thumb)) {
      problems << tr("%1: %2").arg(QFileInfo(f).fileName(), reason);
      continue;
    }
    auto* item = addThumbnail(f, thumb, false);
    // Into the history: path, content hash, thumbnail.
    const qint64 imageId = m_store->addImage(f, thumb, QImageReader(f).size());
    if (imageId)
      m_imageIds.insert(f, imageId);
    else
      historyFailed();
    if (!f.startsWith(m_pasteDir.path())) addRecent(f);
    if (!firstNew) firstNew = item;
    ++added;
  }
  if (firstNew) {
    m_thumbs->setCurrentItem(firstNew);
    m_thumbs->scrollToItem(firstNew);
    if (firstNew->data(Qt::UserRole).toString() != m_currentImage)
      setCurrentImage(firstNew->data(Qt::UserRole).toString());
  }
  if (!problems.isEmpty()) {
    const int n = problems.size();
    const QStringList shown = problems.mid(0, 6);
    QString text = n == 1 ? tr("Not added: %1").arg(shown.first())
                          : tr("%n file(s) not added: %1", "", n).arg(shown.join(QStringLiteral("; ")));
    if (n > shown.size()) text += tr(" (and %n more)", "", n - int(shown.size()));
    showMessage(text, int(MessageBar::Kind::Warning));
  } else if (added > 0 && m_message->kind() == MessageBar::Kind::Warning) {
    m_message->dismiss();
  }
  updateActions();
  return added;
}

bool MainWindow::setCurrentImage(const QString& path) {
  if (path.isEmpty()) {
    m_currentImage.clear();
    m_view->clear();
    updateViewPlaceholder();
    m_gates->clear();
    m_shownEntry = -1;
    rebuildAnswerList();
    updateTitle();
    updateActions();
    return true;
  }
  QImage img;
  if (!m_missingImages.contains(path)) {
    QImageReader reader(path);
    reader.setAutoTransform(true);
    img = reader.read();
    if (img.isNull()) {
      showMessage(tr("%1: the image could not be decoded (%2)").arg(QFileInfo(path).fileName(), reader.errorString()),
                  int(MessageBar::Kind::Error));
      return false;
    }
  }
  // A missing image (moved or deleted since its session): no picture, but
  // its answers from the history.
  m_currentImage = path;
  m_view->setImage(img);
  updateViewPlaceholder();
  m_shownEntry = -1;
  m_gates->clear();
  for (int i = 0; i < m_thumbs->count(); ++i)
    if (m_thumbs->item(i)->data(Qt::UserRole).toString() == path && m_thumbs->currentRow() != i) {
      QSignalBlocker b(m_thumbs);
      m_thumbs->setCurrentRow(i);
    }
  rebuildAnswerList();
  updateLabelChart();
  // Bring back the latest answer to this image.
  for (int i = m_answers->count() - 1; i >= 0; --i) {
    const int idx = entryIndexOf(m_answers->item(i));
    if (idx >= 0 && m_entries[size_t(idx)].result) {
      m_answers->setCurrentRow(i);
      break;
    }
  }
  // Without an answer to show, a matching head shows where the searched text matches.
  if (m_shownEntry < 0 && m_searchResult && m_searchResult->searchMatch.contains(path))
    requestMatchHeatmap(m_searchResult->text);
  updateTitle();
  updateActions();
  return true;
}

bool MainWindow::handleMimeData(const QMimeData* mime) {
  if (!mime) return false;
  if (mime->hasUrls()) {
    QStringList paths, remote;
    for (const QUrl& u : mime->urls()) {
      if (u.isLocalFile())
        paths << u.toLocalFile();
      else
        remote << u.toDisplayString();
    }
    if (!remote.isEmpty() && paths.isEmpty()) {
      showMessage(tr("Only local files can be opened: %1").arg(remote.join(QStringLiteral(", "))),
                  int(MessageBar::Kind::Warning));
      return false;
    }
    if (!paths.isEmpty()) return openFiles(paths) > 0;
  }
  if (mime->hasImage()) {
    const QImage img = qvariant_cast<QImage>(mime->imageData());
    if (img.isNull()) {
      showMessage(tr("The pasted image could not be read."), int(MessageBar::Kind::Warning));
      return false;
    }
    if (!m_pasteDir.isValid()) {
      showMessage(tr("No temporary folder for pasted images."), int(MessageBar::Kind::Error));
      return false;
    }
    const QString path = m_pasteDir.filePath(QStringLiteral("pasted-%1.png").arg(++m_pasteCount));
    if (!img.save(path, "PNG")) {
      showMessage(tr("The pasted image could not be stored."), int(MessageBar::Kind::Error));
      return false;
    }
    return openFiles({path}) > 0;
  }
  showMessage(tr("There is no image or image file to add."), int(MessageBar::Kind::Warning));
  return false;
}

bool MainWindow::pasteFromClipboard() { return handleMimeData(QGuiApplication::clipboard()->mimeData()); }

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls() || e->mimeData()->hasImage()) e->acceptProposedAction();
}

void MainWindow::dragMoveEvent(QDragMoveEvent* e) {
  if (e->mimeData()->hasUrls() || e->mimeData()->hasImage()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  e->acceptProposedAction();
  handleMimeData(e->mimeData());
}

void MainWindow::openDialog() {
  QSettings q;
  const QString dir = q.value(QStringLiteral("lastOpenDir"), QDir::homePath()).toString();
  QStringList patterns;
  for (const QString& s : imageSuffixes()) patterns << QStringLiteral("*.") + s;
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Open Images"), dir,
      tr("Images (%1)").arg(patterns.join(QLatin1Char(' '))) + QStringLiteral(";;") + tr("All files (*)"));
  if (files.isEmpty()) return;
  q.setValue(QStringLiteral("lastOpenDir"), QFileInfo(files.first()).absolutePath());
  openFiles(files);
}

void MainWindow::addRecent(const QString& path) {
  QSettings q;
  QStringList recent = q.value(QStringLiteral("recentFiles")).toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  q.setValue(QStringLiteral("recentFiles"), recent);
}

void MainWindow::rebuildRecentMenu() {
  m_recentMenu->clear();
  const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
  int n = 0;
  for (const QString& f : recent) {
    if (!QFileInfo::exists(f)) continue;
    ++n;
    QAction* a = m_recentMenu->addAction(QStringLiteral("&%1  %2").arg(n % 10).arg(
        QFontMetrics(font()).elidedText(QDir::toNativeSeparators(f), Qt::ElideMiddle, 480)));
    connect(a, &QAction::triggered, this, [this, f] { openFiles({f}); });
  }
  if (n == 0) m_recentMenu->addAction(tr("No recent files"))->setEnabled(false);
  m_recentMenu->addSeparator();
  m_recentMenu->addAction(m_clearRecentAct);
}

}  // namespace ui
