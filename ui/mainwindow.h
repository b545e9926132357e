#pragma once
// The main window: images in (drop, paste, open, recent), the image view with
// the heatmap, the question box and the answers, the gates, the status bar.
// All inference goes through InferenceController (a worker thread).
#include <vector>

#include <QHash>
#include <QMainWindow>
#include <QStringList>
#include <QTemporaryDir>

#include "core/engine/engine.h"
#include "ui/answerlist.h"
#include "ui/metatypes.h"
#include "ui/settingsdialog.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QMenu;
class QMimeData;
class QProgressBar;
class QPushButton;
class QSlider;
class QCheckBox;
class QSplitter;
class QToolBar;

namespace ui {

class AnswerList;
class GatesPanel;
class ImageView;
class InferenceController;
class MessageBar;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loads a model folder in the worker (progress in the status bar). With
  // remember, a successful load becomes the model folder in the settings.
  void loadModel(const QString& dir, bool remember = false);
  // Device and threads for this session only (command line), not saved.
  void overrideDevice(core::Device device, int threads = -1);
  // Adds images (files, or folders of images); returns how many were added.
  // Files that are not images, are missing or too large give one message.
  int openFiles(const QStringList& paths);
  // Dropped or pasted data: file URLs or image data.
  bool handleMimeData(const QMimeData* mime);
  bool pasteFromClipboard();
  bool setCurrentImage(const QString& path);
  QString currentImage() const { return m_currentImage; }
  QStringList images() const;

  void askQuestion(const QString& question);
  void describeImage();
  void cancelRequest();
  bool saveOverlay(const QString& path);
  void setThreshold(double t);

  QString lastMessage() const { return m_lastMessage; }
  InferenceController* controller() const { return m_ctl; }
  ImageView* imageView() const { return m_view; }
  AnswerList* answerList() const { return m_answers; }
  GatesPanel* gatesPanel() const { return m_gates; }
  QListWidget* thumbnails() const { return m_thumbs; }
  MessageBar* messageBar() const { return m_message; }
  QLineEdit* questionEdit() const { return m_question; }
  QComboBox* heatmapMethodBox() const { return m_method; }
  QLabel* modelStatusLabel() const { return m_modelStatus; }
  QLabel* timingStatusLabel() const { return m_timingStatus; }
  // The result of the answer now shown (selected), or null.
  ResultPtr shownResult() const;
  // True once the shown answer's heatmap is on screen.
  bool heatmapShown() const;

 Q_SIGNALS:
  void answerShown();    // an answer arrived and was shown
  void heatmapUpdated(); // a heatmap arrived and is drawn

 protected:
  void changeEvent(QEvent* e) override;
  void closeEvent(QCloseEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dragMoveEvent(QDragMoveEvent* e) override;
  void dropEvent(QDropEvent* e) override;
  bool eventFilter(QObject* obj, QEvent* e) override;

 private:
  struct Entry {
    QString imagePath;
    QString question;
    bool describe = false;
    quint64 requestId = 0;
    ResultPtr result;  // null until answered
    core::Array heatmap;
    core::HeatmapRequest heatmapRequest;
    bool hasHeatmap = false;
    RowState state = RowState::Pending;
    QString error;
  };

  void buildActions();
  void buildMenus();
  void buildCentral();
  void buildStatusBar();
  void retranslateUi();
  void updateTitle();
  void connectController();
  void restoreState();
  void saveState();

  void showMessage(const QString& text, int kind);  // MessageBar::Kind
  void updateModelStatus();
  void updateTimings(const core::Result& r);
  void updateActions();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  void rebuildAnswerList();
  void showEntry(int index);
  void populateHeatmapControls(const core::Inspection& in);
  void requestHeatmap();
  core::HeatmapRequest currentHeatmapRequest() const;
  void applyHeatmapRequestToControls(const core::HeatmapRequest& r);
  void updateHeatmapControlsEnabled();
  void askFromInput();
  void openDialog();
  void openModelDialog();
  void saveOverlayDialog();
  void preferences();
  void about();
  void setLanguageCode(const QString& code);
  int entryIndexOf(QListWidgetItem* item) const;
  bool checkImageFile(const QString& path, QString* reason, QImage* thumb) const;

  InferenceController* m_ctl;
  AppSettings m_settings;
  std::vector<Entry> m_entries;
  QHash<quint64, int> m_requestEntry;
  quint64 m_heatmapRequestId = 0;
  int m_heatmapEntry = -1;
  int m_shownEntry = -1;
  QString m_currentImage;
  QStringList m_history;
  int m_historyPos = 0;
  QString m_historyDraft;
  QTemporaryDir m_pasteDir;
  int m_pasteCount = 0;
  QString m_lastMessage;
  QString m_loadingDir;
  bool m_rememberLoading = false;
  bool m_deviceOverridden = false;
  core::Device m_sessionDevice = core::Device::Auto;
  int m_sessionThreads = -1;
  QString m_modelError;

  // widgets
  MessageBar* m_message = nullptr;
  QSplitter* m_mainSplitter = nullptr;
  QSplitter* m_rightSplitter = nullptr;
  ImageView* m_view = nullptr;
  QListWidget* m_thumbs = nullptr;
  AnswerList* m_answers = nullptr;
  GatesPanel* m_gates = nullptr;
  QLabel* m_questionLabel = nullptr;
  QLineEdit* m_question = nullptr;
  QPushButton* m_askButton = nullptr;
  QPushButton* m_describeButton = nullptr;
  QLabel* m_answersLabel = nullptr;
  QLabel* m_thresholdLabel = nullptr;
  QDoubleSpinBox* m_threshold = nullptr;
  QLabel* m_gatesLabel = nullptr;
  QLabel* m_heatmapLabel = nullptr;
  QCheckBox* m_showHeatmap = nullptr;
  QLabel *m_methodLabel = nullptr, *m_layerLabel = nullptr, *m_headLabel = nullptr, *m_tokenLabel = nullptr,
         *m_cmapLabel = nullptr, *m_opacityLabel = nullptr, *m_opacityValue = nullptr;
  QComboBox *m_method = nullptr, *m_layer = nullptr, *m_head = nullptr, *m_token = nullptr, *m_cmap = nullptr;
  QSlider* m_opacity = nullptr;
  QLabel* m_modelStatus = nullptr;
  QLabel* m_deviceStatus = nullptr;
  QLabel* m_timingStatus = nullptr;
  QLabel* m_zoomStatus = nullptr;
  QProgressBar* m_progress = nullptr;
  QToolBar* m_toolbar = nullptr;

  // actions and menus
  QMenu *m_fileMenu = nullptr, *m_recentMenu = nullptr, *m_viewMenu = nullptr, *m_modelMenu = nullptr,
        *m_settingsMenu = nullptr, *m_languageMenu = nullptr, *m_helpMenu = nullptr;
  QAction *m_openAct = nullptr, *m_openModelAct = nullptr, *m_pasteAct = nullptr, *m_saveOverlayAct = nullptr,
          *m_removeImageAct = nullptr, *m_quitAct = nullptr, *m_clearRecentAct = nullptr, *m_zoomInAct = nullptr,
          *m_zoomOutAct = nullptr, *m_fitAct = nullptr, *m_actualSizeAct = nullptr, *m_toggleHeatmapAct = nullptr,
          *m_askAct = nullptr, *m_describeAct = nullptr, *m_cancelAct = nullptr, *m_focusQuestionAct = nullptr,
          *m_prefsAct = nullptr, *m_aboutAct = nullptr, *m_langSystemAct = nullptr;
  QActionGroup* m_langGroup = nullptr;
};

}  // namespace ui
