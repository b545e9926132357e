#include "ui/settingsdialog.h"

#include <algorithm>

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "core/hub/cache.h"
#include "ui/errortext.h"
#include "ui/language.h"

namespace ui {

AppSettings AppSettings::load() {
  QSettings q;
  AppSettings s;
  s.modelDir = q.value(QStringLiteral("model/dir")).toString();
  s.device = core::Device(std::clamp(q.value(QStringLiteral("model/device"), 0).toInt(), 0, 2));
  s.dtype = core::Precision(std::clamp(q.value(QStringLiteral("model/dtype"), 0).toInt(), 0, 3));
  s.threads = std::clamp(q.value(QStringLiteral("model/threads"), 0).toInt(), 0, 256);
  s.beams = std::clamp(q.value(QStringLiteral("ask/beams"), AppSettings{}.beams).toInt(), 1, 16);
  s.maxAnswerTokens =
      std::clamp(q.value(QStringLiteral("ask/maxAnswerTokens"), AppSettings{}.maxAnswerTokens).toInt(), 0, 256);
  s.threshold = std::clamp(q.value(QStringLiteral("ask/threshold"), 0.5).toDouble(), 0.0, 1.0);
  s.rerankTop = std::clamp(q.value(QStringLiteral("search/rerankTop"), AppSettings{}.rerankTop).toInt(), 0, 1000);
  s.language = q.value(QStringLiteral("ui/language")).toString();
  s.heatmapMethod = core::HeatmapMethod(
      std::clamp(q.value(QStringLiteral("heatmap/method"), int(AppSettings{}.heatmapMethod)).toInt(), 0, 3));
  s.colormap = core::Colormap(std::clamp(q.value(QStringLiteral("heatmap/colormap"), 0).toInt(), 0, 3));
  s.opacity = std::clamp(q.value(QStringLiteral("heatmap/opacity"), 50).toInt(), 0, 100);
  s.showHeatmap = q.value(QStringLiteral("heatmap/show"), true).toBool();
  return s;
}

void AppSettings::save() const {
  QSettings q;
  q.setValue(QStringLiteral("model/dir"), modelDir);
  q.setValue(QStringLiteral("model/device"), int(device));
  q.setValue(QStringLiteral("model/dtype"), int(dtype));
  q.setValue(QStringLiteral("model/threads"), threads);
  q.setValue(QStringLiteral("ask/beams"), beams);
  q.setValue(QStringLiteral("ask/maxAnswerTokens"), maxAnswerTokens);
  q.setValue(QStringLiteral("ask/threshold"), threshold);
  q.setValue(QStringLiteral("search/rerankTop"), rerankTop);
  q.setValue(QStringLiteral("ui/language"), language);
  q.setValue(QStringLiteral("heatmap/method"), int(heatmapMethod));
  q.setValue(QStringLiteral("heatmap/colormap"), int(colormap));
  q.setValue(QStringLiteral("heatmap/opacity"), opacity);
  q.setValue(QStringLiteral("heatmap/show"), showHeatmap);
}

SettingsDialog::SettingsDialog(const AppSettings& s, QWidget* parent) : QDialog(parent), m_base(s) {
  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
  m_modelDir = new QLineEdit(s.modelDir, this);
  m_modelDir->setClearButtonEnabled(true);
  m_browse = new QPushButton(this);
  auto* modelRow = new QHBoxLayout;
  modelRow->addWidget(m_modelDir, 1);
  modelRow->addWidget(m_browse);
  m_modelLabel = new QLabel(this);
  form->addRow(m_modelLabel, modelRow);
  m_device = new QComboBox(this);
  m_device->addItems({QString(), QString(), QString()});
  m_device->setCurrentIndex(int(s.device));
  m_deviceLabel = new QLabel(this);
  form->addRow(m_deviceLabel, m_device);
  m_dtype = new QComboBox(this);
  m_dtype->addItems({QString(), QStringLiteral("float32"), QStringLiteral("bfloat16"), QStringLiteral("float16")});
  m_dtype->setCurrentIndex(int(s.dtype));
  m_dtypeLabel = new QLabel(this);
  form->addRow(m_dtypeLabel, m_dtype);
  m_threads = new QSpinBox(this);
  m_threads->setRange(0, std::max(1, QThread::idealThreadCount()) * 2);
  m_threads->setValue(s.threads);
  m_threadsLabel = new QLabel(this);
  form->addRow(m_threadsLabel, m_threads);
  m_beams = new QSpinBox(this);
  m_beams->setRange(1, 16);
  m_beams->setValue(s.beams);
  m_beamsLabel = new QLabel(this);
  form->addRow(m_beamsLabel, m_beams);
  m_maxTokens = new QSpinBox(this);
  m_maxTokens->setRange(0, 256);
  m_maxTokens->setValue(s.maxAnswerTokens);
  m_lengthLabel = new QLabel(this);
  form->addRow(m_lengthLabel, m_maxTokens);
  m_rerank = new QSpinBox(this);
  m_rerank->setObjectName(QStringLiteral("rerankTop"));
  m_rerank->setRange(0, 1000);
  m_rerank->setValue(s.rerankTop);
  m_rerankLabel = new QLabel(this);
  form->addRow(m_rerankLabel, m_rerank);
  m_language = new QComboBox(this);
  m_language->addItem(QString(), QString());
  for (const QString& code : availableLanguages()) m_language->addItem(languageName(code), code);
  m_language->setCurrentIndex(std::max(0, m_language->findData(s.language)));
  m_languageLabel = new QLabel(this);
  form->addRow(m_languageLabel, m_language);
  m_savedToken = QString::fromStdString(core::hub::read_token_file());
  m_token = new QLineEdit(m_savedToken, this);
  m_token->setEchoMode(QLineEdit::Password);
  m_token->setClearButtonEnabled(true);
  m_tokenLabel = new QLabel(this);
  form->addRow(m_tokenLabel, m_token);
  m_restartNote = new QLabel(this);
  m_restartNote->setWordWrap(true);
  m_restartNote->setForegroundRole(QPalette::PlaceholderText);
  m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  auto* v = new QVBoxLayout(this);
  v->addLayout(form);
  v->addWidget(m_restartNote);
  v->addStretch(1);
  v->addWidget(m_buttons);
  connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
    saveToken();
    accept();
  });
  connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(m_browse, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Model Folder"), m_modelDir->text());
    if (!dir.isEmpty()) m_modelDir->setText(dir);
  });
  retranslate();
  resize(560, sizeHint().height());
}

void SettingsDialog::saveToken() {
  const QString token = m_token->text().trimmed();
  if (token == m_savedToken) return;
  try {
    core::hub::save_token(token.toStdString());
    m_savedToken = token;
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Hub Token"), errorText(e));
  }
}

AppSettings SettingsDialog::settings() const {
  AppSettings s = m_base;
  s.modelDir = m_modelDir->text().trimmed();
  s.device = core::Device(m_device->currentIndex());
  s.dtype = core::Precision(m_dtype->currentIndex());
  s.threads = m_threads->value();
  s.beams = m_beams->value();
  s.maxAnswerTokens = m_maxTokens->value();
  s.rerankTop = m_rerank->value();
  s.language = m_language->currentData().toString();
  return s;
}

void SettingsDialog::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslate();
  QDialog::changeEvent(e);
}

void SettingsDialog::retranslate() {
  setWindowTitle(tr("Preferences"));
  m_modelLabel->setText(tr("Model folder:"));
  m_modelDir->setPlaceholderText(tr("The embedded default model"));
  m_browse->setText(tr("Browse…"));
  m_deviceLabel->setText(tr("Device:"));
  m_device->setItemText(0, tr("Automatic (GPU if available)"));
  m_device->setItemText(1, tr("CPU"));
  m_device->setItemText(2, tr("CUDA GPU"));
  m_dtypeLabel->setText(tr("Precision:"));
  m_dtype->setItemText(0, tr("Automatic (float32 on the CPU, 16-bit on a GPU)"));
  m_dtype->setToolTip(tr("bfloat16 halves the memory the weights take; float16 needs a CUDA GPU."));
  m_threadsLabel->setText(tr("CPU threads:"));
  m_threads->setSpecialValueText(tr("Automatic"));
  m_beamsLabel->setText(tr("Beams:"));
  m_beams->setToolTip(
      tr("Beam search width for questions; 1 is greedy decoding. Descriptions use greedy decoding, "
         "as autoglm describe does."));
  m_lengthLabel->setText(tr("Maximum answer length:"));
  m_maxTokens->setSuffix(tr(" tokens"));
  m_maxTokens->setSpecialValueText(tr("The model's default"));
  m_rerankLabel->setText(tr("Re-rank search results:"));
  m_rerank->setPrefix(tr("best "));
  m_rerank->setSuffix(tr(" images"));
  m_rerank->setSpecialValueText(tr("Off"));
  m_rerank->setToolTip(
      tr("With an image-text matching model (BLIP ITM), its matching head re-scores this many of the "
         "best search results; each costs about one more pass over the image."));
  m_languageLabel->setText(tr("Language:"));
  m_language->setItemText(0, tr("System default"));
  m_tokenLabel->setText(tr("Hub token:"));
  m_token->setPlaceholderText(tr("hf_…, only for gated or private models"));
  m_token->setToolTip(tr("Kept in %1, readable only by you; HF_TOKEN, when set, comes first.")
                          .arg(QDir::toNativeSeparators(QString::fromStdString(core::hub::token_file().u8string()))));
  m_restartNote->setText(tr("A different model folder, device, precision or thread count reloads the model."));
}

}  // namespace ui
