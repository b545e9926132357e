// MainWindow: loading a model, its status, preferences and the help boxes.
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

// Loading, warnings and the device the model runs on.
void MainWindow::connectModelSignals() {
  connect(m_ctl, &InferenceController::loadProgress, this, [this](float f, const QString& stage) {
    m_progress->show();
    m_progress->setValue(int(std::lround(f * 100)));
    statusBar()->showMessage(stage);
  });
  connect(m_ctl, &InferenceController::modelLoaded, this, [this](const core::ModelInfo& info) {
    m_progress->hide();
    m_modelError.clear();
    if (m_rememberLoading) {
      m_settings.modelDir = m_loadingDir;
      m_settings.save();
    }
    statusBar()->showMessage(
        tr("Model %1 loaded in %2 s")
            .arg(QString::fromStdString(info.name), QLocale().toString(info.load_ms / 1000.0, 'f', 1)),
        6000);
    if (m_message->kind() != MessageBar::Kind::Error || m_message->isHidden()) m_message->dismiss();
    updateModelStatus();
    updateActions();
    // Scores of the previous model mean nothing for this one.
    clearSearch();
    m_labelResult.reset();
    updateLabelChart();
    updateAlignAvailability();
    retranslateUi();  // the question box says what this model does
  });
  connect(m_ctl, &InferenceController::modelLoadFailed, this, [this](const QString& error) {
    m_progress->hide();
    statusBar()->clearMessage();
    m_modelError = error;
    if (m_ctl->hasModel())
      showMessage(tr("The model folder %1 could not be loaded; the previous model stays in use.")
                          .arg(QDir::toNativeSeparators(m_loadingDir)) +
                      QLatin1Char('\n') + error,
                  int(MessageBar::Kind::Error));
    else
      showMessage(tr("No model could be loaded from %1. Use File > Open Model Folder to choose one.")
                          .arg(QDir::toNativeSeparators(m_loadingDir)) +
                      QLatin1Char('\n') + error,
                  int(MessageBar::Kind::Error));
    updateModelStatus();
    updateActions();
  });
  connect(m_ctl, &InferenceController::busyChanged, this, [this](bool) { updateActions(); });
  connect(m_ctl, &InferenceController::warning, this,
          [this](const QString& text) { showMessage(text, int(MessageBar::Kind::Warning)); });
  connect(m_ctl, &InferenceController::modelInfoChanged, this, [this](const core::ModelInfo&) { updateModelStatus(); });
}

void MainWindow::updateModelStatus() {
  if (m_ctl->loading()) {
    m_modelStatus->setText(tr("Loading model…"));
    m_modelStatus->setToolTip(QDir::toNativeSeparators(m_loadingDir));
    m_deviceStatus->clear();
    return;
  }
  if (!m_ctl->hasModel()) {
    m_modelStatus->setText(tr("No model"));
    m_modelStatus->setToolTip(m_modelError);
    m_deviceStatus->clear();
    return;
  }
  const core::ModelInfo& info = m_ctl->modelInfo();
  QString family = QStringLiteral("Open-AutoGLM");
  switch (info.family) {
    case core::ModelFamily::AutoGLM:
      break;
    case core::ModelFamily::Blip:
      family = QStringLiteral("BLIP");
      break;
    case core::ModelFamily::BlipItm:
      family = QStringLiteral("BLIP ITM");
      break;
    case core::ModelFamily::Blip2:
      family = QStringLiteral("BLIP-2");
      break;
  }
  const QString task = info.task == core::ModelTask::Caption ? tr("captioning")
                       : info.task == core::ModelTask::Match ? tr("image-text matching")
                                                             : tr("question answering");
  m_modelStatus->setText(tr("Model: %1").arg(QString::fromStdString(info.name)));
  QStringList fusion;
  for (int l : info.fusion_layers) fusion << QString::number(l + 1);
  m_modelStatus->setToolTip(tr("%1 (%2), %3 million parameters\nImage %4 px, patch %5, grid %6\nFusion layers: %7; "
                               "learned gates: %8; routing: %9\n"
                               "Confidence: %10\nlibtorch %11")
                                .arg(family, task, QLocale().toString(info.parameters / 1e6, 'f', 2))
                                .arg(info.image_size)
                                .arg(info.patch_size)
                                .arg(info.keep_aspect ? tr("shaped like each picture, about %1 × %1").arg(info.grid)
                                                      : QStringLiteral("%1 × %1").arg(info.grid))
                                .arg(fusion.isEmpty() ? tr("none") : fusion.join(QStringLiteral(", ")),
                                     info.learned_gates ? tr("yes") : tr("no"), info.routing ? tr("yes") : tr("no"),
                                     info.calibrated ? tr("calibrated (temperature %1, length exponent %2)")
                                                           .arg(QLocale().toString(info.temperature, 'f', 2),
                                                                QLocale().toString(info.length_exponent, 'f', 2))
                                                     : tr("uncalibrated"),
                                     QString::fromStdString(info.torch_version)));
  const QString dev = QString::fromStdString(info.device);
  if (dev.startsWith(QLatin1String("cuda")))
    m_deviceStatus->setText(tr("GPU %1 (%2)").arg(dev, QString::fromStdString(info.dtype)));
  else
    m_deviceStatus->setText(tr("CPU, %n thread(s)", "", info.threads));
}

void MainWindow::loadModel(const QString& dir, bool remember) {
  m_loadingDir = dir;
  m_rememberLoading = remember;
  core::Options o;
  o.device = m_deviceOverridden ? m_sessionDevice : m_settings.device;
  o.dtype = m_settings.dtype;
  o.threads = m_sessionThreads >= 0 ? m_sessionThreads : m_settings.threads;
  m_ctl->loadModel(dir, o);
  m_progress->setValue(0);
  m_progress->show();
  statusBar()->showMessage(tr("Loading model from %1…").arg(QDir::toNativeSeparators(dir)));
  updateActions();
}

void MainWindow::overrideDevice(core::Device device, int threads) {
  m_deviceOverridden = true;
  m_sessionDevice = device;
  m_sessionThreads = threads;
}

void MainWindow::openModelDialog() {
  const QString start = m_loadingDir.isEmpty() ? QDir::homePath() : m_loadingDir;
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"), start);
  if (!dir.isEmpty()) loadModel(dir, true);
}

void MainWindow::preferences() {
  SettingsDialog dlg(m_settings, this);
  if (dlg.exec() != QDialog::Accepted) return;
  const AppSettings s = dlg.settings();
  const bool reload = s.modelDir != m_settings.modelDir || s.device != m_settings.device ||
                      s.dtype != m_settings.dtype || s.threads != m_settings.threads;
  const bool lang = s.language != m_settings.language;
  if (reload) {
    m_deviceOverridden = false;
    m_sessionThreads = -1;
  }
  m_settings.modelDir = s.modelDir;
  m_settings.device = s.device;
  m_settings.dtype = s.dtype;
  m_settings.threads = s.threads;
  m_settings.beams = s.beams;
  m_settings.maxAnswerTokens = s.maxAnswerTokens;
  m_settings.rerankTop = s.rerankTop;
  m_settings.save();
  if (lang) setLanguageCode(s.language);
  if (reload) {
    QString dir = s.modelDir;
    if (dir.isEmpty()) dir = QString::fromStdString(core::default_model_dir().u8string());
    if (dir.isEmpty())
      showMessage(tr("No default model was found. Choose a model folder."), int(MessageBar::Kind::Warning));
    else
      loadModel(dir, false);
  }
}

void MainWindow::about() {
  QString model = tr("No model is loaded.");
  if (m_ctl->hasModel()) {
    const auto& info = m_ctl->modelInfo();
    model = tr("Model: %1, %2 million parameters, on %3. libtorch %4.")
                .arg(QString::fromStdString(info.name), QLocale().toString(info.parameters / 1e6, 'f', 2),
                     QString::fromStdString(info.device), QString::fromStdString(info.torch_version));
  }
  QMessageBox::about(this, tr("About Open-AutoGLM Studio"),
                     tr("<h3>Open-AutoGLM Studio %1</h3><p>Ask questions about images with a local "
                        "vision-language model, and see why it answered as it did: confidence, "
                        "attention heatmaps and fusion gates.</p><p>%2</p>")
                         .arg(QCoreApplication::applicationVersion(), model.toHtmlEscaped()));
}

void MainWindow::panelsHelp() {
  QMessageBox box(this);
  box.setWindowTitle(tr("Reading the panels"));
  box.setTextFormat(Qt::RichText);
  box.setText(
      tr("<h3>Answers</h3><p>Each answer comes with its confidence: calibrated where the model folder has a "
         "calibration file, else the answer's own probability (marked “uncalibrated”). Hover over an answer "
         "for each word's probability and its alternatives.</p>"
         "<h3>Heatmap</h3><p>Where the model looked. <i>All layers</i> and <i>Layer</i> average the "
         "cross-attention of its fusion layers over the image patches; <i>Rollout</i> carries it through the "
         "text's self-attention; <i>Grad-weighted</i> weights each map by the gradient of the answer's "
         "probability. <i>Word</i> shows one word's map. For BLIP-2 the fusion layers are the Q-Former's "
         "cross-attention layers: each query's map is weighted by how much the answer's words attended to "
         "that query in the language model.</p>"
         "<h3>Fusion gates</h3><p>How much each layer and word took from the image: the learned gates of "
         "our own models, or for BLIP the image's share |c| / (|c| + |s|) of each layer's update. BLIP-2 has "
         "no gates: its panel shows <i>image reliance</i>, the share of the language model's attention that "
         "went to the 32 image queries rather than to the text, per layer and answer word.</p>"
         "<h3>Search and labels</h3><p>Images are ranked by the similarity of their vectors with the text's. "
         "A matching model (BLIP ITM) re-ranks the best ones by its matching head, the probability that "
         "image and text match, and its heatmap shows where the text matches.</p>"));
  box.exec();
}

}  // namespace ui
