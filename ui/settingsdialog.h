#pragma once
// Preferences persisted with QSettings, and the dialog that edits them.
#include <QDialog>
#include <QString>

#include "core/engine/engine.h"
#include "core/vision/image.h"

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QPushButton;

namespace ui {

struct AppSettings {
  QString modelDir;  // empty: the embedded default model
  core::Device device = core::Device::Auto;
  core::Precision dtype = core::Precision::Auto;
  int threads = 0;                       // 0: automatic
  int beams = core::AskOptions{}.beams;  // questions; descriptions use DescribeOptions' default
  int maxAnswerTokens = 0;               // 0: the model's default
  int rerankTop = 16;                    // search: the best N by similarity re-ranked by a matching head (0: off)
  double threshold = 0.5;
  QString language;  // empty: the system's
  core::HeatmapMethod heatmapMethod = core::HeatmapRequest{}.method;
  core::Colormap colormap = core::Colormap::Turbo;
  int opacity = 50;  // percent
  bool showHeatmap = true;

  static AppSettings load();
  void save() const;
};

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SettingsDialog(const AppSettings& s, QWidget* parent = nullptr);
  AppSettings settings() const;

 protected:
  void changeEvent(QEvent* e) override;

 private:
  void retranslate();
  void saveToken();
  AppSettings m_base;
  QLabel *m_modelLabel, *m_deviceLabel, *m_dtypeLabel, *m_threadsLabel, *m_beamsLabel, *m_lengthLabel, *m_languageLabel,
      *m_restartNote, *m_tokenLabel, *m_rerankLabel;
  QLineEdit* m_modelDir;
  QLineEdit* m_token;  // the Hub token: saved to $HF_HOME/token (0600), never to QSettings
  QString m_savedToken;
  QPushButton* m_browse;
  QComboBox* m_device;
  QComboBox* m_dtype;
  QSpinBox* m_threads;
  QSpinBox* m_beams;
  QSpinBox* m_maxTokens;
  QSpinBox* m_rerank;
  QComboBox* m_language;
  QDialogButtonBox* m_buttons;
};

}  // namespace ui
