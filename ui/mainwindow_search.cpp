// MainWindow: search and zero-shot labels over the open images, and a matching
// head's "where does this text match".
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

// ---------------------------------------------------------------- search and labels
void MainWindow::updateAlignAvailability() {
  if (!m_ctl->hasModel()) {
    m_alignPanel->setAvailable(false, tr("Load a model to search the images."));
  } else if (m_ctl->modelInfo().align_dim <= 0) {
    m_alignPanel->setAvailable(false, tr("This model has no alignment heads, so it cannot search images by text or "
                                         "label them. The built-in model has them."));
  } else {
    m_alignPanel->setAvailable(true, QString());
    m_alignPanel->setStatus(QString());
  }
}

bool MainWindow::startAlign(const QString& text, const QStringList& labels) {
  if (!m_ctl->hasModel() || m_ctl->modelInfo().align_dim <= 0) {
    updateAlignAvailability();
    return false;
  }
  QStringList paths;
  for (int i = 0; i < m_thumbs->count(); ++i) {
    const QString p = m_thumbs->item(i)->data(Qt::UserRole).toString();
    if (!m_missingImages.contains(p)) paths << p;
  }
  if (paths.isEmpty()) {
    m_alignPanel->setStatus(tr("Add some images first: drop them on the window or use File > Open."));
    return false;
  }
  m_alignPanel->setStatus(QString());
  m_alignPanel->setRunning(true);
  m_alignPanel->setProgress(0, int(paths.size()));
  m_ctl->align(paths, text, labels, m_settings.rerankTop);
  return true;
}

bool MainWindow::searchImages(const QString& text) {
  if (text.trimmed().isEmpty()) return false;
  return startAlign(text.trimmed(), {});
}

bool MainWindow::labelImages(const QStringList& labels) {
  if (labels.size() < 2) {
    m_alignPanel->setStatus(tr("Type at least two labels, separated by commas."));
    return false;
  }
  return startAlign(QString(), labels);
}

namespace {
void reorder(QListWidget* list, const std::function<bool(QListWidgetItem*, QListWidgetItem*)>& before) {
  QListWidgetItem* current = list->currentItem();
  QSignalBlocker block(list);
  std::vector<QListWidgetItem*> items;
  while (list->count() > 0) items.push_back(list->takeItem(0));
  std::stable_sort(items.begin(), items.end(), before);
  for (QListWidgetItem* it : items) list->addItem(it);
  if (current) list->setCurrentItem(current);
  if (list->count() > 0) list->scrollToItem(list->item(0));
}
}  // namespace

void MainWindow::applyAlign(const AlignResultPtr& r) {
  QStringList notes;
  if (!r->text.isEmpty()) {
    for (int i = 0; i < m_thumbs->count(); ++i) {
      QListWidgetItem* it = m_thumbs->item(i);
      const QString path = it->data(Qt::UserRole).toString();
      const QString name = it->data(Qt::UserRole + 2).toString();
      const QString tip = it->data(Qt::UserRole + 3).toString();
      if (r->searchMatch.contains(path)) {
        const core::Match m = r->search.value(path);
        const double p = r->searchMatch.value(path);
        //: a thumbnail's caption after a search re-ranked by a matching head: its probability, then the file name
        it->setText(tr("%1% · %2").arg(QLocale().toString(100.0 * p, 'f', 0), name));
        it->setToolTip(
            tip + QLatin1Char('\n') +
            tr("Match with “%1”: the matching head gives %2%; similarity %3")
                .arg(r->text, QLocale().toString(100.0 * p, 'f', 1), QLocale().toString(double(m.similarity), 'f', 3)));
      } else if (r->search.contains(path)) {
        const core::Match m = r->search.value(path);
        //: a thumbnail's caption after a search: the match score, then the file name
        it->setText(tr("%1 · %2").arg(QLocale().toString(double(m.similarity), 'f', 2), name));
        it->setToolTip(tip + QLatin1Char('\n') +
                       tr("Match with “%1”: similarity %2, %3% of the probability over these images")
                           .arg(r->text, QLocale().toString(double(m.similarity), 'f', 3),
                                QLocale().toString(100.0 * double(m.probability), 'f', 1)));
      } else {
        it->setText(name);
        it->setToolTip(tip);
      }
    }
    // Re-ranked images first, by the matching head; the rest by similarity.
    const auto score = [&](QListWidgetItem* it) {
      const QString p = it->data(Qt::UserRole).toString();
      if (r->searchMatch.contains(p)) return 10.0 + double(r->searchMatch.value(p));
      return r->search.contains(p) ? double(r->search.value(p).similarity) : -2.0;
    };
    reorder(m_thumbs, [&](QListWidgetItem* a, QListWidgetItem* b) { return score(a) > score(b); });
    notes << tr("%n image(s) ordered by how well they match “%1”.", "", int(r->search.size())).arg(r->text);
    if (!r->searchMatch.isEmpty())
      notes << tr("The best %n were re-ranked by the matching head; select one to see where the text matches.", "",
                  int(r->searchMatch.size()));
    m_searchResult = r;
    if (!r->searchMatch.isEmpty() && m_shownEntry < 0) requestMatchHeatmap(r->text);
  }
  if (!r->labels.isEmpty()) {
    m_labelResult = r;
    updateLabelChart();
    notes << tr("%n image(s) labelled; select an image to see its labels.", "", int(r->labelScores.size()));
  }
  if (!r->failed.isEmpty()) {
    QStringList names;
    for (auto it = r->failed.cbegin(); it != r->failed.cend(); ++it)
      names << QFileInfo(it.key()).fileName() + QStringLiteral(": ") + it.value();
    notes << tr("%n image(s) could not be read:", "", int(r->failed.size())) + QLatin1Char('\n') + names.join('\n');
  }
  m_alignPanel->setStatus(notes.join('\n'));
}

void MainWindow::clearSearch() {
  for (int i = 0; i < m_thumbs->count(); ++i) {
    QListWidgetItem* it = m_thumbs->item(i);
    it->setText(it->data(Qt::UserRole + 2).toString());
    it->setToolTip(it->data(Qt::UserRole + 3).toString());
  }
  reorder(m_thumbs, [](QListWidgetItem* a, QListWidgetItem* b) {
    return a->data(Qt::UserRole + 1).toInt() < b->data(Qt::UserRole + 1).toInt();
  });
  m_searchResult.reset();
  m_matchText.clear();
  m_alignPanel->setStatus(QString());
}

void MainWindow::updateLabelChart() {
  if (!m_labelResult || !m_labelResult->labelScores.contains(m_currentImage)) {
    m_alignPanel->chart()->clear();
    return;
  }
  QList<float> probs;
  for (const core::Match& m : m_labelResult->labelScores.value(m_currentImage)) probs << m.probability;
  m_alignPanel->chart()->setDistribution(m_labelResult->labels, probs, m_labelResult->labelMatch.value(m_currentImage));
}

void MainWindow::connectLabelClicks() {
  connect(m_alignPanel->chart(), &LabelChart::labelClicked, this, [this](const QString& label) {
    if (!m_labelResult || m_labelResult->labelMatch.isEmpty()) return;
    m_shownEntry = -1;  // the heatmap now answers "where does this label match", not an answer
    m_answers->clearSelection();
    requestMatchHeatmap(label);
  });
}

void MainWindow::requestMatchHeatmap(const QString& text) {
  if (m_currentImage.isEmpty() || m_missingImages.contains(m_currentImage) || !m_ctl->hasModel() ||
      !m_ctl->modelInfo().matching_head || text.trimmed().isEmpty())
    return;
  m_matchText = text.trimmed();
  m_ctl->matchText(m_currentImage, m_matchText);
}

// Search, labels and where a text matches.
void MainWindow::connectSearchSignals() {
  connect(m_ctl, &InferenceController::alignProgress, this,
          [this](quint64, int done, int total) { m_alignPanel->setProgress(done, total); });
  connect(m_ctl, &InferenceController::alignReady, this, [this](quint64, const AlignResultPtr& r) {
    m_alignPanel->setRunning(false);
    applyAlign(r);
  });
  connect(m_ctl, &InferenceController::alignFailed, this, [this](quint64, const QString& error) {
    m_alignPanel->setRunning(false);
    m_alignPanel->setStatus(error);
  });
  connect(m_ctl, &InferenceController::matchReady, this, [this](quint64, const TextMatchPtr& r) {
    if (r->image != m_currentImage || r->text != m_matchText || m_shownEntry >= 0) return;
    m_gates->clear();
    m_view->setHeatmap(r->match.heatmap);
    m_alignPanel->setStatus(tr("The heatmap shows where “%1” matches this image: the matching head gives %2%, "
                               "similarity %3.")
                                .arg(r->text, QLocale().toString(100.0 * double(r->match.probability), 'f', 1),
                                     QLocale().toString(double(r->match.similarity), 'f', 3)));
    Q_EMIT matchShown();
  });
  connect(m_ctl, &InferenceController::matchFailed, this,
          [this](quint64, const QString& error) { m_alignPanel->setStatus(error); });
  connect(m_ctl, &InferenceController::alignCancelled, this, [this](quint64) {
    m_alignPanel->setRunning(false);
    m_alignPanel->setStatus(tr("Cancelled."));
  });
}

}  // namespace ui
