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
QLabel* sectionLabel(QWidget* parent) {
  auto* l = new QLabel(parent);
  QFont f = l->font();
  f.setBold(true);
  f.setPointSizeF(f.pointSizeF() * 1.05);
  l->setFont(f);
  return l;
}
}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_ctl(new InferenceController(this)), m_settings(AppSettings::load()) {
  setObjectName(QStringLiteral("MainWindow"));
  setAcceptDrops(true);
  setWindowIcon(QIcon(QStringLiteral(":/icons/autoglm-studio.svg")));
  buildActions();
  buildMenus();
  buildCentral();
  buildStatusBar();
  connectController();
  retranslateUi();
  restoreState();
  m_store = std::make_unique<HistoryStore>();
  openHistory(QStandardPaths::isTestModeEnabled() ? QStringLiteral(":memory:") : HistoryStore::defaultPath());
  updateActions();
}

MainWindow::~MainWindow() {
  // Stop the worker thread first, while everything it might report to exists.
  delete m_ctl;
  m_ctl = nullptr;
}

// ------------------------------------------------------------------ building
void MainWindow::buildCentral() {
  auto* central = new QWidget(this);
  auto* outer = new QVBoxLayout(central);
  outer->setContentsMargins(8, 6, 8, 4);
  outer->setSpacing(6);
  m_message = new MessageBar(central);
  outer->addWidget(m_message);

  m_mainSplitter = new QSplitter(Qt::Horizontal, central);
  m_mainSplitter->setObjectName(QStringLiteral("mainSplitter"));
  m_mainSplitter->setChildrenCollapsible(false);
  m_mainSplitter->setHandleWidth(8);
  outer->addWidget(m_mainSplitter, 1);

  QWidget* left = buildImageSide();
  buildConversationSide();
  m_mainSplitter->addWidget(left);
  m_mainSplitter->addWidget(m_rightSplitter);
  m_mainSplitter->setStretchFactor(0, 3);
  m_mainSplitter->setStretchFactor(1, 2);
  setCentralWidget(central);

  connectHeatmapControls();
  buildDocks();
}

// The image with its heatmap controls, and the thumbnails under it.
QWidget* MainWindow::buildImageSide() {
  auto* left = new QWidget(m_mainSplitter);
  auto* lv = new QVBoxLayout(left);
  lv->setContentsMargins(0, 0, 0, 0);
  lv->setSpacing(6);
  QWidget* viewBox = left;
  QVBoxLayout* vb = lv;
  m_view = new ImageView(viewBox);
  m_view->setFrameShape(QFrame::StyledPanel);
  vb->addWidget(m_view, 1);

  m_heatmapControls = new HeatmapControls(m_settings.showHeatmap, m_settings.heatmapMethod, m_settings.colormap,
                                          m_settings.opacity, viewBox);
  vb->addWidget(m_heatmapControls);

  m_thumbs = new QListWidget(left);
  m_thumbs->setObjectName(QStringLiteral("thumbnails"));
  m_thumbs->setViewMode(QListView::IconMode);
  m_thumbs->setFlow(QListView::LeftToRight);
  m_thumbs->setWrapping(false);
  m_thumbs->setMovement(QListView::Static);
  m_thumbs->setResizeMode(QListView::Adjust);
  m_thumbs->setIconSize(QSize(kThumbW, kThumbH));
  m_thumbs->setGridSize(QSize(kThumbW + 18, kThumbH + QFontMetrics(font()).height() + 14));
  m_thumbs->setUniformItemSizes(true);
  m_thumbs->setTextElideMode(Qt::ElideMiddle);
  m_thumbs->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  m_thumbs->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  m_thumbs->setSelectionMode(QAbstractItemView::SingleSelection);
  m_thumbs->setFixedHeight(m_thumbs->gridSize().height() + 22);
  m_thumbs->hide();  // until there are images
  m_thumbs->addAction(m_removeImageAct);
  m_thumbs->setContextMenuPolicy(Qt::ActionsContextMenu);
  m_thumbs->setAcceptDrops(false);
  connect(m_thumbs, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* cur, QListWidgetItem*) {
    const QString path = cur ? cur->data(Qt::UserRole).toString() : QString();
    if (path != m_currentImage) setCurrentImage(path);
  });
  lv->addWidget(m_thumbs);

  return left;
}

// The question, the answers and the gates.
void MainWindow::buildConversationSide() {
  m_rightSplitter = new QSplitter(Qt::Vertical, m_mainSplitter);
  m_rightSplitter->setObjectName(QStringLiteral("rightSplitter"));
  m_rightSplitter->setChildrenCollapsible(false);
  m_rightSplitter->setHandleWidth(8);

  auto* conv = new QWidget(m_rightSplitter);
  auto* cv = new QVBoxLayout(conv);
  cv->setContentsMargins(4, 0, 0, 0);
  cv->setSpacing(6);
  m_questionLabel = sectionLabel(conv);
  cv->addWidget(m_questionLabel);
  auto* askRow = new QHBoxLayout;
  askRow->setSpacing(6);
  m_question = new QLineEdit(conv);
  m_question->setObjectName(QStringLiteral("question"));
  m_question->setClearButtonEnabled(true);
  m_question->setMinimumHeight(30);
  m_question->installEventFilter(this);
  m_question->setMaxLength(2000);
  connect(m_question, &QLineEdit::returnPressed, this, &MainWindow::askFromInput);
  m_askButton = new QPushButton(conv);
  m_askButton->setObjectName(QStringLiteral("askButton"));
  m_askButton->setDefault(true);
  m_askButton->setMinimumHeight(30);
  connect(m_askButton, &QPushButton::clicked, this, &MainWindow::askFromInput);
  m_describeButton = new QPushButton(conv);
  m_describeButton->setMinimumHeight(30);
  connect(m_describeButton, &QPushButton::clicked, this, &MainWindow::describeImage);
  askRow->addWidget(m_question, 1);
  askRow->addWidget(m_askButton);
  askRow->addWidget(m_describeButton);
  cv->addLayout(askRow);
  cv->addSpacing(4);
  auto* answersHeader = new QHBoxLayout;
  m_answersLabel = sectionLabel(conv);
  m_thresholdLabel = new QLabel(conv);
  m_thresholdLabel->setForegroundRole(QPalette::PlaceholderText);
  m_threshold = new QDoubleSpinBox(conv);
  m_threshold->setObjectName(QStringLiteral("threshold"));
  m_threshold->setRange(0.0, 1.0);
  m_threshold->setSingleStep(0.05);
  m_threshold->setDecimals(2);
  m_threshold->setValue(m_settings.threshold);
  m_thresholdLabel->setBuddy(m_threshold);
  answersHeader->addWidget(m_answersLabel);
  answersHeader->addStretch(1);
  answersHeader->addWidget(m_thresholdLabel);
  answersHeader->addWidget(m_threshold);
  cv->addLayout(answersHeader);
  m_answers = new AnswerList(conv);
  m_answers->setObjectName(QStringLiteral("answers"));
  m_answers->setThreshold(m_settings.threshold);
  m_answers->setFrameShape(QFrame::StyledPanel);
  cv->addWidget(m_answers, 1);
  connect(m_threshold, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double t) {
    m_answers->setThreshold(t);
    m_settings.threshold = t;
  });
  connect(m_answers, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* cur, QListWidgetItem*) {
    const int idx = entryIndexOf(cur);
    if (idx >= 0 && idx != m_shownEntry) showEntry(idx);
  });

  auto* gatesBox = new QWidget(m_rightSplitter);
  auto* gv = new QVBoxLayout(gatesBox);
  gv->setContentsMargins(4, 4, 0, 0);
  gv->setSpacing(4);
  m_gates = new GatesPanel(gatesBox);
  m_gates->setObjectName(QStringLiteral("gates"));
  gv->addWidget(m_gates, 1);
  m_rightSplitter->addWidget(conv);
  m_rightSplitter->addWidget(gatesBox);
  m_rightSplitter->setStretchFactor(0, 1);
  m_rightSplitter->setStretchFactor(1, 1);
}

void MainWindow::connectHeatmapControls() {
  connect(m_heatmapControls, &HeatmapControls::requestChanged, this, &MainWindow::requestHeatmap);
  connect(m_heatmapControls, &HeatmapControls::methodChanged, this,
          [this](core::HeatmapMethod m) { m_settings.heatmapMethod = m; });
  connect(m_heatmapControls, &HeatmapControls::colormapChanged, this, [this](core::Colormap c) {
    m_settings.colormap = c;
    m_view->setColormap(c);
  });
  connect(m_heatmapControls, &HeatmapControls::opacityChanged, this, [this](int v) {
    m_settings.opacity = v;
    m_view->setOverlayOpacity(v / 100.0);
  });
  connect(m_heatmapControls, &HeatmapControls::visibilityChanged, this, [this](bool on) {
    m_settings.showHeatmap = on;
    m_view->setOverlayVisible(on);
    m_toggleHeatmapAct->setChecked(on);
  });
  m_toggleHeatmapAct->setChecked(m_settings.showHeatmap);
  connect(m_toggleHeatmapAct, &QAction::toggled, m_heatmapControls, &HeatmapControls::setOverlayVisible);
  m_view->setColormap(m_settings.colormap);
  m_view->setOverlayOpacity(m_settings.opacity / 100.0);
  m_view->setOverlayVisible(m_settings.showHeatmap);
  connect(m_zoomInAct, &QAction::triggered, m_view, &ImageView::zoomIn);
  connect(m_zoomOutAct, &QAction::triggered, m_view, &ImageView::zoomOut);
  connect(m_fitAct, &QAction::triggered, m_view, &ImageView::zoomToFit);
  connect(m_actualSizeAct, &QAction::triggered, m_view, &ImageView::zoomActualSize);
  connect(m_focusQuestionAct, &QAction::triggered, this, [this] {
    m_question->setFocus();
    m_question->selectAll();
  });
}

// History, and Search and Labels under it.
void MainWindow::buildDocks() {
  // History
  m_historyDock = new QDockWidget(this);
  m_historyDock->setObjectName(QStringLiteral("historyDock"));
  m_historyDock->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable |
                             QDockWidget::DockWidgetFloatable);
  m_historyPanel = new HistoryPanel(m_historyDock);
  m_historyDock->setWidget(m_historyPanel);
  addDockWidget(Qt::LeftDockWidgetArea, m_historyDock);
  m_historyDock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_H));
  m_viewMenu->addSeparator();
  m_viewMenu->addAction(m_historyDock->toggleViewAction());
  connect(m_historyPanel, &HistoryPanel::openRequested, this, [this](qint64 id) {
    if (id != currentSession()) loadSession(id);
  });
  connect(m_historyPanel, &HistoryPanel::exportRequested, this, &MainWindow::exportDialog);

  // ---- the Search & Labels dock, under the History
  m_alignDock = new QDockWidget(this);
  m_alignDock->setObjectName(QStringLiteral("alignDock"));
  m_alignDock->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable |
                           QDockWidget::DockWidgetFloatable);
  m_alignPanel = new AlignPanel(m_alignDock);
  connectLabelClicks();
  auto* alignScroll = new QScrollArea(m_alignDock);
  alignScroll->setWidget(m_alignPanel);
  alignScroll->setWidgetResizable(true);
  alignScroll->setFrameShape(QFrame::NoFrame);
  m_alignDock->setWidget(alignScroll);
  addDockWidget(Qt::LeftDockWidgetArea, m_alignDock);
  splitDockWidget(m_historyDock, m_alignDock, Qt::Vertical);
  m_alignDock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
  m_viewMenu->addAction(m_alignDock->toggleViewAction());
  connect(m_alignPanel, &AlignPanel::searchRequested, this, &MainWindow::searchImages);
  connect(m_alignPanel, &AlignPanel::labelsRequested, this, &MainWindow::labelImages);
  connect(m_alignPanel, &AlignPanel::clearRequested, this, &MainWindow::clearSearch);
  connect(m_alignPanel, &AlignPanel::cancelRequested, m_ctl, &InferenceController::cancelAlign);
  updateAlignAvailability();
  connect(m_historyPanel, &HistoryPanel::sessionDeleted, this, [this](qint64) {
    // The session shown was deleted: start a fresh one.
    if (m_store->currentSession() == 0) newSession();
  });
}

void MainWindow::buildStatusBar() {
  m_progress = new QProgressBar(this);
  m_progress->setRange(0, 100);
  m_progress->setMaximumWidth(180);
  m_progress->setMaximumHeight(16);
  m_progress->setTextVisible(false);
  m_progress->hide();
  m_modelStatus = new QLabel(this);
  m_modelStatus->setObjectName(QStringLiteral("modelStatus"));
  m_deviceStatus = new QLabel(this);
  m_timingStatus = new QLabel(this);
  m_timingStatus->setObjectName(QStringLiteral("timingStatus"));
  m_zoomStatus = new QLabel(this);
  m_zoomStatus->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("1000%")) + 6);
  m_zoomStatus->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
  for (QLabel* l : {m_timingStatus, m_deviceStatus, m_modelStatus}) l->setContentsMargins(8, 0, 8, 0);
  statusBar()->addPermanentWidget(m_progress);
  statusBar()->addPermanentWidget(m_timingStatus);
  statusBar()->addPermanentWidget(m_deviceStatus);
  statusBar()->addPermanentWidget(m_modelStatus);
  statusBar()->addPermanentWidget(m_zoomStatus);
  connect(m_view, &ImageView::zoomChanged, this, [this](double f) {
    m_zoomStatus->setText(m_view->hasImage() ? QStringLiteral("%1%").arg(qRound(f * 100)) : QString());
  });
}

void MainWindow::connectController() {
  connectModelSignals();
  connectAnswerSignals();
  connectSearchSignals();
}

// ------------------------------------------------------------- translation
void MainWindow::updateTitle() {
  setWindowTitle(m_currentImage.isEmpty() ? tr("Open-AutoGLM Studio")
                                          : tr("%1 — Open-AutoGLM Studio").arg(QFileInfo(m_currentImage).fileName()));
}

void MainWindow::retranslateUi() {
  updateTitle();
  m_fileMenu->setTitle(tr("&File"));
  m_recentMenu->setTitle(tr("Open &Recent"));
  m_viewMenu->setTitle(tr("&View"));
  m_hubMenu->setTitle(tr("&Model"));
  m_getModelsAct->setText(tr("&Get Models…"));
  m_getModelsAct->setToolTip(tr("Download models from the HuggingFace Hub and open them"));
  m_modelMenu->setTitle(tr("&Ask"));
  m_settingsMenu->setTitle(tr("&Settings"));
  m_languageMenu->setTitle(tr("&Language"));
  m_helpMenu->setTitle(tr("&Help"));
  m_toolbar->setWindowTitle(tr("Main Toolbar"));

  m_openAct->setText(tr("&Open Images…"));
  m_openAct->setIconText(tr("Open"));
  m_openAct->setToolTip(tr("Open images or a folder of images (Ctrl+O)"));
  m_openModelAct->setText(tr("Open &Model Folder…"));
  m_openModelAct->setIconText(tr("Model"));
  m_openModelAct->setToolTip(tr("Load another model folder, e.g. a BLIP checkpoint (Ctrl+Shift+O)"));
  m_pasteAct->setText(tr("&Paste Image"));
  m_pasteAct->setIconText(tr("Paste"));
  m_pasteAct->setToolTip(tr("Paste an image or image files from the clipboard (Ctrl+V)"));
  m_saveOverlayAct->setText(tr("&Save Heatmap Overlay as PNG…"));
  m_saveOverlayAct->setIconText(tr("Save overlay"));
  m_saveOverlayAct->setToolTip(tr("Save the image with the heatmap as shown (Ctrl+S)"));
  m_removeImageAct->setText(tr("Remove from List"));
  m_quitAct->setText(tr("&Quit"));
  m_newSessionAct->setText(tr("&New Session"));
  m_newSessionAct->setToolTip(tr("Start a new session; the current one stays in the history (Ctrl+N)"));
  m_exportAct->setText(tr("&Export Session…"));
  m_exportAct->setToolTip(tr("Save this session as an HTML, Markdown, JSON or PDF report (Ctrl+Shift+E)"));
  m_historyDock->setWindowTitle(tr("History"));
  m_alignDock->setWindowTitle(tr("Search and Labels"));
  m_clearRecentAct->setText(tr("Clear List"));
  m_zoomInAct->setText(tr("Zoom &In"));
  m_zoomOutAct->setText(tr("Zoom &Out"));
  m_fitAct->setText(tr("&Fit to Window"));
  m_actualSizeAct->setText(tr("&Actual Size"));
  m_toggleHeatmapAct->setText(tr("Show &Heatmap"));
  m_focusQuestionAct->setText(tr("&Type a Question"));
  m_askAct->setText(tr("As&k"));
  m_describeAct->setText(tr("&Describe Image"));
  m_describeAct->setIconText(tr("Describe"));
  m_describeAct->setToolTip(tr("Write a caption for the current image (Ctrl+D)"));
  m_cancelAct->setText(tr("&Cancel Request"));
  m_cancelAct->setIconText(tr("Cancel"));
  m_cancelAct->setToolTip(tr("Stop the running request (Esc)"));
  m_prefsAct->setText(tr("&Preferences…"));
  m_aboutAct->setText(tr("&About Open-AutoGLM Studio"));
  m_panelsHelpAct->setText(tr("&Reading the Panels"));
  m_langSystemAct->setText(tr("System Default"));

  updateViewPlaceholder();
  m_questionLabel->setText(tr("Question"));
  const bool matchOnly = m_ctl->hasModel() && m_ctl->modelInfo().task == core::ModelTask::Match;
  m_question->setPlaceholderText(matchOnly
                                     ? tr("This model matches text with images: type a text to see where it matches")
                                     : tr("Ask about the image, e.g. “what colour is the circle?”"));
  m_askButton->setToolTip(matchOnly ? tr("This model answers no questions; Match shows how well and where the text "
                                         "matches the image (Search and Labels has more)")
                                    : QString());
  m_question->setToolTip(tr("Enter asks; Up and Down recall earlier questions."));
  m_askButton->setText(matchOnly ? tr("Match") : tr("Ask"));
  m_describeButton->setText(tr("Describe"));
  m_describeButton->setToolTip(m_describeAct->toolTip());
  m_answersLabel->setText(tr("Answers"));
  m_thresholdLabel->setText(tr("Not sure below"));
  m_threshold->setToolTip(tr("Answers with a lower confidence are marked “not sure”."));
  m_answers->setPlaceholderText(
      tr("Answers to the current image appear here, with their confidence. "
         "Hover over an answer to see each word's probability."));
  m_answers->viewport()->update();
  m_zoomStatus->setToolTip(tr("Zoom"));
  updateModelStatus();
  if (!m_timingStatus->text().isEmpty() && m_shownEntry >= 0 && m_entries[size_t(m_shownEntry)].result)
    updateTimings(*m_entries[size_t(m_shownEntry)].result);
}

void MainWindow::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslateUi();
  QMainWindow::changeEvent(e);
}

void MainWindow::setLanguageCode(const QString& code) {
  m_settings.language = code;
  m_settings.save();
  setLanguage(code);
  for (QAction* a : m_langGroup->actions()) a->setChecked(a->data().toString() == code);
}

// ---------------------------------------------------------------- state
void MainWindow::restoreState() {
  QSettings q;
  if (!restoreGeometry(q.value(QStringLiteral("window/geometry")).toByteArray())) resize(1360, 860);
  if (!m_mainSplitter->restoreState(q.value(QStringLiteral("window/mainSplitter")).toByteArray()))
    m_mainSplitter->setSizes({800, 540});
  if (!m_rightSplitter->restoreState(q.value(QStringLiteral("window/rightSplitter")).toByteArray()))
    m_rightSplitter->setSizes({380, 360});
  if (!QMainWindow::restoreState(q.value(QStringLiteral("window/docks")).toByteArray())) {
    resizeDocks({m_historyDock}, {290}, Qt::Horizontal);
    resizeDocks({m_historyDock, m_alignDock}, {330, 470}, Qt::Vertical);
  }
}

void MainWindow::saveState() {
  QSettings q;
  q.setValue(QStringLiteral("window/geometry"), saveGeometry());
  q.setValue(QStringLiteral("window/mainSplitter"), m_mainSplitter->saveState());
  q.setValue(QStringLiteral("window/rightSplitter"), m_rightSplitter->saveState());
  q.setValue(QStringLiteral("window/docks"), QMainWindow::saveState());
  m_settings.save();
}

void MainWindow::closeEvent(QCloseEvent* e) {
  m_ctl->cancel();
  saveState();
  QMainWindow::closeEvent(e);
}

// ---------------------------------------------------------------- messages
void MainWindow::showMessage(const QString& text, int kind) {
  m_lastMessage = text;
  m_message->showMessage(text, MessageBar::Kind(kind));
}

// ---------------------------------------------------------------- answers
}  // namespace ui
