#pragma once
// The main window: images in (drop, paste, open, recent), the image view with
// the heatmap, the question box and the answers, the gates, the status bar.
// All inference goes through InferenceController (a worker thread). Every
// image and answer goes to the history database as it arrives; the last
// session comes back on start; the History dock lists the earlier ones.
#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include <QHash>
#include <QMainWindow>
#include <QSet>
#include <QStringList>
#include <QTemporaryDir>

#include "core/engine/engine.h"
#include "ui/answerlist.h"
#include "ui/metatypes.h"
#include "ui/settingsdialog.h"

class QAction;
class QActionGroup;
class QComboBox;
class QDockWidget;
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

class AlignPanel;
class AnswerList;
class GatesPanel;
class GetModelsDialog;
class HeatmapControls;
class HistoryPanel;
class HistoryStore;
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
  QComboBox* heatmapMethodBox() const;
  QLabel* modelStatusLabel() const { return m_modelStatus; }
  QLabel* timingStatusLabel() const { return m_timingStatus; }

  // History. The window opens <AppDataLocation>/history.sqlite itself and
  // brings back its last session (under QStandardPaths' test mode it starts
  // with a private in-memory history instead, so test runs do not leak into
  // each other; tests call openHistory()).
  bool openHistory(const QString& path);
  HistoryStore* history() const { return m_store.get(); }
  HistoryPanel* historyPanel() const { return m_historyPanel; }
  QDockWidget* historyDock() const { return m_historyDock; }
  AlignPanel* alignPanel() const { return m_alignPanel; }
  QDockWidget* alignDock() const { return m_alignDock; }
  // Orders the thumbnails by how well each image matches `text` (alignment
  // heads), or scores every image against `labels`; runs in the worker.
  bool searchImages(const QString& text);
  bool labelImages(const QStringList& labels);
  void clearSearch();  // the order the images were added in, names without scores
  qint64 currentSession() const;
  // Shows a stored session (its images, missing ones marked, and answers);
  // new answers go to it.
  bool loadSession(qint64 id);
  void newSession();
  // An image of the session whose file was moved or deleted.
  bool isImageMissing(const QString& path) const { return m_missingImages.contains(path); }
  // HTML, Markdown, JSON or PDF by the suffix; id 0: the current session.
  bool exportSession(const QString& path, qint64 id = 0);
  // The result of the answer now shown (selected), or null.
  ResultPtr shownResult() const;
  // True once the shown answer's heatmap is on screen.
  bool heatmapShown() const;

 Q_SIGNALS:
  void answerShown();     // an answer arrived and was shown
  void heatmapUpdated();  // a heatmap arrived and is drawn
  void matchShown();      // a matching head's "where does this text match" heatmap is drawn

 protected:
  void changeEvent(QEvent* e) override;
  void closeEvent(QCloseEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dragMoveEvent(QDragMoveEvent* e) override;
  void dropEvent(QDropEvent* e) override;
  bool eventFilter(QObject* obj, QEvent* e) override;

 private:
  // Describe's length: the model's default, or the user's maximum but never under a
  // caption's 30 tokens.
  int describeTokens() const { return m_settings.maxAnswerTokens == 0 ? 0 : std::max(30, m_settings.maxAnswerTokens); }
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
    qint64 historyId = 0;     // its row in the history (0: not stored)
    QString model;            // at the time of asking
    QByteArray settingsJson;  // the options it was asked with
    bool restored = false;    // from the history: no attention kept, no new heatmaps
  };

  bool imageReady();
  bool modelReady();
  void startEntry(Entry e, const QString& question, const std::function<quint64()>& send);

  void buildActions();
  void buildViewActions();
  void buildMenus();
  void buildCentral();
  QWidget* buildImageSide();
  void buildConversationSide();
  void connectHeatmapControls();
  void buildDocks();
  void buildStatusBar();
  void retranslateUi();
  void updateTitle();
  void connectController();
  void connectModelSignals();
  void connectAnswerSignals();
  void connectSearchSignals();
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
  void requestHeatmap();
  // The heatmap a new answer comes with: the controls' method, layer and head, all words.
  OptionalHeatmapRequest answerHeatmapRequest() const;
  void askFromInput();
  void openDialog();
  void openModelDialog();
  void saveOverlayDialog();
  void preferences();
  void about();
  void panelsHelp();  // how to read the heatmap, the gates or image reliance, and the scores
  void setLanguageCode(const QString& code);
  int entryIndexOf(QListWidgetItem* item) const;
  bool checkImageFile(const QString& path, QString* reason, QImage* thumb) const;
  QListWidgetItem* addThumbnail(const QString& path, const QImage& thumb, bool missing);
  void clearSession();
  void recordAnswer(Entry& e);
  QByteArray requestSettingsJson(bool describe) const;
  void historyFailed();
  void updateViewPlaceholder();
  void exportDialog(qint64 id);
  bool startAlign(const QString& text, const QStringList& labels);
  void applyAlign(const AlignResultPtr& r);
  void updateLabelChart();
  void updateAlignAvailability();

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
  std::unique_ptr<HistoryStore> m_store;
  QHash<QString, qint64> m_imageIds;  // image path -> history row
  QSet<QString> m_missingImages;
  bool m_historyWarned = false;

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
  HeatmapControls* m_heatmapControls = nullptr;
  QLabel* m_modelStatus = nullptr;
  QLabel* m_deviceStatus = nullptr;
  QLabel* m_timingStatus = nullptr;
  QLabel* m_zoomStatus = nullptr;
  QProgressBar* m_progress = nullptr;
  QToolBar* m_toolbar = nullptr;
  QDockWidget* m_historyDock = nullptr;
  HistoryPanel* m_historyPanel = nullptr;
  QDockWidget* m_alignDock = nullptr;
  AlignPanel* m_alignPanel = nullptr;
  static constexpr int kThumbW = 112, kThumbH = 78;  // thumbnail icons, px
  AlignResultPtr m_labelResult;                      // latest zero-shot labels
  AlignResultPtr m_searchResult;                     // latest search (its text is what a matching head explains)
  QString m_matchText;                               // the text whose match heatmap the current image shows or awaits
  void requestMatchHeatmap(const QString& text);     // a matching head's "where does this text match"
  void connectLabelClicks();                         // a label in the chart shows where it matches
  int m_thumbSeq = 0;                                // order the thumbnails were added in

  // actions and menus
  QMenu* m_hubMenu = nullptr;  // Model: Get Models…, Open Model Folder…
  QAction* m_getModelsAct = nullptr;
  GetModelsDialog* m_getModels = nullptr;  // made on first use, kept: its downloads run while hidden
  QMenu *m_fileMenu = nullptr, *m_recentMenu = nullptr, *m_viewMenu = nullptr, *m_modelMenu = nullptr,
        *m_settingsMenu = nullptr, *m_languageMenu = nullptr, *m_helpMenu = nullptr;
  QAction *m_openAct = nullptr, *m_openModelAct = nullptr, *m_pasteAct = nullptr, *m_saveOverlayAct = nullptr,
          *m_removeImageAct = nullptr, *m_quitAct = nullptr, *m_clearRecentAct = nullptr, *m_zoomInAct = nullptr,
          *m_zoomOutAct = nullptr, *m_fitAct = nullptr, *m_actualSizeAct = nullptr, *m_toggleHeatmapAct = nullptr,
          *m_askAct = nullptr, *m_describeAct = nullptr, *m_cancelAct = nullptr, *m_focusQuestionAct = nullptr,
          *m_prefsAct = nullptr, *m_aboutAct = nullptr, *m_panelsHelpAct = nullptr, *m_langSystemAct = nullptr,
          *m_newSessionAct = nullptr, *m_exportAct = nullptr;
  QActionGroup* m_langGroup = nullptr;
};

}  // namespace ui
