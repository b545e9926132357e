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

namespace {
constexpr int kMaxRecent = 10;

QString ms(double v) { return QLocale().toString(v, 'f', v < 10 ? 1 : 0); }

bool isSpecialToken(const std::string& t) { return core::is_special_token(t); }

QIcon icon(const char* name) { return QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(name))); }

QStringList imageSuffixes() {
  QStringList out;
  for (const QByteArray& f : QImageReader::supportedImageFormats()) out << QString::fromLatin1(f).toLower();
  return out;
}

QLabel* fieldLabel(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setForegroundRole(QPalette::WindowText);
  return l;
}

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
  setWindowIcon(icon("autoglm-studio"));
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
void MainWindow::buildActions() {
  m_openAct = new QAction(icon("open"), QString(), this);
  m_openAct->setShortcut(QKeySequence::Open);
  connect(m_openAct, &QAction::triggered, this, &MainWindow::openDialog);

  m_openModelAct = new QAction(icon("model"), QString(), this);
  m_openModelAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  connect(m_openModelAct, &QAction::triggered, this, &MainWindow::openModelDialog);

  m_pasteAct = new QAction(icon("paste"), QString(), this);
  m_pasteAct->setShortcut(QKeySequence::Paste);
  connect(m_pasteAct, &QAction::triggered, this, [this] { pasteFromClipboard(); });

  m_saveOverlayAct = new QAction(icon("save"), QString(), this);
  m_saveOverlayAct->setShortcut(QKeySequence::Save);
  connect(m_saveOverlayAct, &QAction::triggered, this, &MainWindow::saveOverlayDialog);

  m_removeImageAct = new QAction(this);
  m_removeImageAct->setShortcut(QKeySequence::Delete);
  m_removeImageAct->setShortcutContext(Qt::WidgetShortcut);
  connect(m_removeImageAct, &QAction::triggered, this, [this] {
    auto* item = m_thumbs->currentItem();
    if (!item) return;
    const int row = m_thumbs->row(item);
    const QString path = item->data(Qt::UserRole).toString();
    if (const qint64 id = m_imageIds.take(path)) m_store->removeImage(id);
    m_missingImages.remove(path);
    delete m_thumbs->takeItem(row);
    if (m_historyPanel) m_historyPanel->scheduleRefresh();
    if (m_thumbs->count() == 0) {
      m_thumbs->hide();
      setCurrentImage(QString());
    }
  });

  m_newSessionAct = new QAction(this);
  m_newSessionAct->setShortcut(QKeySequence::New);
  connect(m_newSessionAct, &QAction::triggered, this, &MainWindow::newSession);
  m_exportAct = new QAction(icon("save"), QString(), this);
  m_exportAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  connect(m_exportAct, &QAction::triggered, this, [this] { exportDialog(0); });

  m_quitAct = new QAction(this);
  m_quitAct->setShortcut(QKeySequence::Quit);
  m_quitAct->setMenuRole(QAction::QuitRole);
  connect(m_quitAct, &QAction::triggered, this, &QWidget::close);

  m_clearRecentAct = new QAction(this);
  connect(m_clearRecentAct, &QAction::triggered, this, [] { QSettings().remove(QStringLiteral("recentFiles")); });

  m_zoomInAct = new QAction(icon("zoom-in"), QString(), this);
  m_zoomInAct->setShortcut(QKeySequence::ZoomIn);
  m_zoomOutAct = new QAction(icon("zoom-out"), QString(), this);
  m_zoomOutAct->setShortcut(QKeySequence::ZoomOut);
  m_fitAct = new QAction(icon("zoom-fit"), QString(), this);
  m_fitAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  m_actualSizeAct = new QAction(this);
  m_actualSizeAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));

  m_toggleHeatmapAct = new QAction(this);
  m_toggleHeatmapAct->setCheckable(true);
  m_toggleHeatmapAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_H));

  m_askAct = new QAction(this);
  m_askAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  connect(m_askAct, &QAction::triggered, this, &MainWindow::askFromInput);
  m_describeAct = new QAction(icon("describe"), QString(), this);
  m_describeAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
  connect(m_describeAct, &QAction::triggered, this, &MainWindow::describeImage);
  m_cancelAct = new QAction(icon("cancel"), QString(), this);
  m_cancelAct->setShortcut(QKeySequence(Qt::Key_Escape));
  connect(m_cancelAct, &QAction::triggered, this, &MainWindow::cancelRequest);
  m_focusQuestionAct = new QAction(this);
  m_focusQuestionAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));

  m_prefsAct = new QAction(this);
  m_prefsAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
  m_prefsAct->setMenuRole(QAction::PreferencesRole);
  connect(m_prefsAct, &QAction::triggered, this, &MainWindow::preferences);
  m_panelsHelpAct = new QAction(this);
  m_panelsHelpAct->setObjectName(QStringLiteral("panelsHelp"));
  m_panelsHelpAct->setShortcut(QKeySequence::HelpContents);
  connect(m_panelsHelpAct, &QAction::triggered, this, &MainWindow::panelsHelp);
  m_aboutAct = new QAction(this);
  m_aboutAct->setMenuRole(QAction::AboutRole);
  connect(m_aboutAct, &QAction::triggered, this, &MainWindow::about);

  m_langGroup = new QActionGroup(this);
  m_langGroup->setExclusive(true);
  m_langSystemAct = new QAction(this);
  m_langSystemAct->setCheckable(true);
  m_langSystemAct->setData(QString());
  m_langGroup->addAction(m_langSystemAct);
  for (const QString& code : availableLanguages()) {
    auto* a = new QAction(languageName(code), this);
    a->setCheckable(true);
    a->setData(code);
    m_langGroup->addAction(a);
  }
  for (QAction* a : m_langGroup->actions()) a->setChecked(a->data().toString() == m_settings.language);
  connect(m_langGroup, &QActionGroup::triggered, this, [this](QAction* a) { setLanguageCode(a->data().toString()); });
}

void MainWindow::buildMenus() {
  m_fileMenu = menuBar()->addMenu(QString());
  m_fileMenu->addAction(m_newSessionAct);
  m_fileMenu->addAction(m_openAct);
  m_recentMenu = m_fileMenu->addMenu(QString());
  connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
  m_fileMenu->addAction(m_pasteAct);
  m_fileMenu->addSeparator();
  m_fileMenu->addAction(m_openModelAct);
  m_fileMenu->addSeparator();
  m_fileMenu->addAction(m_saveOverlayAct);
  m_fileMenu->addAction(m_exportAct);
  m_fileMenu->addSeparator();
  m_fileMenu->addAction(m_quitAct);

  m_viewMenu = menuBar()->addMenu(QString());
  m_viewMenu->addAction(m_zoomInAct);
  m_viewMenu->addAction(m_zoomOutAct);
  m_viewMenu->addAction(m_fitAct);
  m_viewMenu->addAction(m_actualSizeAct);
  m_viewMenu->addSeparator();
  m_viewMenu->addAction(m_toggleHeatmapAct);

  m_hubMenu = menuBar()->addMenu(QString());
  m_getModelsAct = m_hubMenu->addAction(QString(), this, [this] {
    if (!m_getModels) {
      m_getModels = new GetModelsDialog(this);
      connect(m_getModels, &GetModelsDialog::openModelRequested, this,
              [this](const QString& dir) { loadModel(dir, true); });
    }
    m_getModels->show();
    m_getModels->raise();
    m_getModels->activateWindow();
  });
  m_hubMenu->addAction(m_openModelAct);

  m_modelMenu = menuBar()->addMenu(QString());
  m_modelMenu->addAction(m_focusQuestionAct);
  m_modelMenu->addAction(m_askAct);
  m_modelMenu->addAction(m_describeAct);
  m_modelMenu->addAction(m_cancelAct);

  m_settingsMenu = menuBar()->addMenu(QString());
  m_languageMenu = m_settingsMenu->addMenu(QString());
  m_languageMenu->addActions(m_langGroup->actions());
  m_settingsMenu->addSeparator();
  m_settingsMenu->addAction(m_prefsAct);

  m_helpMenu = menuBar()->addMenu(QString());
  m_helpMenu->addAction(m_panelsHelpAct);
  m_helpMenu->addAction(m_aboutAct);

  m_toolbar = addToolBar(QString());
  m_toolbar->setObjectName(QStringLiteral("mainToolbar"));
  m_toolbar->setMovable(false);
  m_toolbar->setIconSize(QSize(20, 20));
  m_toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  m_toolbar->addAction(m_openAct);
  m_toolbar->addAction(m_pasteAct);
  m_toolbar->addAction(m_openModelAct);
  m_toolbar->addSeparator();
  m_toolbar->addAction(m_describeAct);
  m_toolbar->addAction(m_cancelAct);
  m_toolbar->addSeparator();
  m_toolbar->addAction(m_saveOverlayAct);
  m_toolbar->addSeparator();
  for (QAction* a : {m_zoomOutAct, m_zoomInAct, m_fitAct}) {
    m_toolbar->addAction(a);
    if (auto* b = qobject_cast<QToolButton*>(m_toolbar->widgetForAction(a)))
      b->setToolButtonStyle(Qt::ToolButtonIconOnly);
  }
}

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

  // ---- left: image, heatmap controls, thumbnails
  auto* left = new QWidget(m_mainSplitter);
  auto* lv = new QVBoxLayout(left);
  lv->setContentsMargins(0, 0, 0, 0);
  lv->setSpacing(6);
  QWidget* viewBox = left;
  QVBoxLayout* vb = lv;
  m_view = new ImageView(viewBox);
  m_view->setFrameShape(QFrame::StyledPanel);
  vb->addWidget(m_view, 1);

  auto* controls = new QWidget(viewBox);
  controls->setObjectName(QStringLiteral("heatmapControls"));
  auto* grid = new QGridLayout(controls);
  grid->setContentsMargins(2, 0, 2, 0);
  grid->setHorizontalSpacing(8);
  grid->setVerticalSpacing(6);
  m_showHeatmap = new QCheckBox(controls);
  m_showHeatmap->setChecked(m_settings.showHeatmap);
  QFont bold = m_showHeatmap->font();
  bold.setBold(true);
  m_showHeatmap->setFont(bold);
  m_methodLabel = fieldLabel(controls);
  m_method = new QComboBox(controls);
  m_method->setObjectName(QStringLiteral("heatmapMethod"));
  for (int i = 0; i < 4; ++i) m_method->addItem(QString(), i);
  m_method->setCurrentIndex(int(m_settings.heatmapMethod));
  m_layerLabel = fieldLabel(controls);
  m_layer = new QComboBox(controls);
  m_headLabel = fieldLabel(controls);
  m_head = new QComboBox(controls);
  m_tokenLabel = fieldLabel(controls);
  m_token = new QComboBox(controls);
  m_token->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_token->setMinimumContentsLength(10);
  m_cmapLabel = fieldLabel(controls);
  m_cmap = new QComboBox(controls);
  for (auto c : {core::Colormap::Turbo, core::Colormap::Jet, core::Colormap::Viridis, core::Colormap::Inferno}) {
    QString name = QString::fromLatin1(core::colormap_name(c));
    if (!name.isEmpty()) name[0] = name[0].toUpper();
    m_cmap->addItem(name, int(c));
  }
  m_cmap->setCurrentIndex(std::max(0, m_cmap->findData(int(m_settings.colormap))));
  m_opacityLabel = fieldLabel(controls);
  m_opacity = new QSlider(Qt::Horizontal, controls);
  m_opacity->setRange(0, 100);
  m_opacity->setValue(m_settings.opacity);
  m_opacity->setMinimumWidth(90);
  m_opacityValue = new QLabel(controls);
  m_opacityValue->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("100%")) + 4);
  // row 0: show, method, layer, head; row 1: token, colours, opacity
  grid->addWidget(m_showHeatmap, 0, 0);
  grid->addWidget(m_methodLabel, 0, 1, Qt::AlignRight);
  grid->addWidget(m_method, 0, 2);
  grid->addWidget(m_layerLabel, 0, 3, Qt::AlignRight);
  grid->addWidget(m_layer, 0, 4);
  grid->addWidget(m_headLabel, 0, 5, Qt::AlignRight);
  grid->addWidget(m_head, 0, 6, 1, 2);
  grid->addWidget(m_tokenLabel, 1, 1, Qt::AlignRight);
  grid->addWidget(m_token, 1, 2);
  grid->addWidget(m_cmapLabel, 1, 3, Qt::AlignRight);
  grid->addWidget(m_cmap, 1, 4);
  grid->addWidget(m_opacityLabel, 1, 5, Qt::AlignRight);
  grid->addWidget(m_opacity, 1, 6);
  grid->addWidget(m_opacityValue, 1, 7);
  grid->setColumnStretch(2, 2);
  grid->setColumnStretch(4, 1);
  grid->setColumnStretch(6, 1);
  vb->addWidget(controls);

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

  // ---- right: question, answers, gates
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

  m_mainSplitter->addWidget(left);
  m_mainSplitter->addWidget(m_rightSplitter);
  m_mainSplitter->setStretchFactor(0, 3);
  m_mainSplitter->setStretchFactor(1, 2);
  setCentralWidget(central);

  // heatmap controls
  auto changed = [this] {
    updateHeatmapControlsEnabled();
    requestHeatmap();
  };
  connect(m_method, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, changed](int) {
    m_settings.heatmapMethod = core::HeatmapMethod(m_method->currentData().toInt());
    changed();
  });
  connect(m_layer, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_head, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_token, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_cmap, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int) {
    m_settings.colormap = core::Colormap(m_cmap->currentData().toInt());
    m_view->setColormap(m_settings.colormap);
  });
  connect(m_opacity, &QSlider::valueChanged, this, [this](int v) {
    m_settings.opacity = v;
    m_view->setOverlayOpacity(v / 100.0);
    m_opacityValue->setText(QStringLiteral("%1%").arg(v));
  });
  connect(m_showHeatmap, &QCheckBox::toggled, this, [this](bool on) {
    m_settings.showHeatmap = on;
    m_view->setOverlayVisible(on);
    m_toggleHeatmapAct->setChecked(on);
    updateHeatmapControlsEnabled();
  });
  m_toggleHeatmapAct->setChecked(m_settings.showHeatmap);
  connect(m_toggleHeatmapAct, &QAction::toggled, m_showHeatmap, &QCheckBox::setChecked);
  m_view->setColormap(m_settings.colormap);
  m_view->setOverlayOpacity(m_settings.opacity / 100.0);
  m_view->setOverlayVisible(m_settings.showHeatmap);
  m_opacityValue->setText(QStringLiteral("%1%").arg(m_settings.opacity));
  connect(m_zoomInAct, &QAction::triggered, m_view, &ImageView::zoomIn);
  connect(m_zoomOutAct, &QAction::triggered, m_view, &ImageView::zoomOut);
  connect(m_fitAct, &QAction::triggered, m_view, &ImageView::zoomToFit);
  connect(m_actualSizeAct, &QAction::triggered, m_view, &ImageView::zoomActualSize);
  connect(m_focusQuestionAct, &QAction::triggered, this, [this] {
    m_question->setFocus();
    m_question->selectAll();
  });
  updateHeatmapControlsEnabled();

  // ---- the History dock
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
  connect(m_ctl, &InferenceController::answerReady, this, [this](quint64 id, const ResultPtr& r) {
    const int idx = m_requestEntry.contains(id) ? m_requestEntry.take(id) : -1;
    if (idx < 0 || idx >= int(m_entries.size())) return;
    Entry& e = m_entries[size_t(idx)];
    e.result = r;
    e.state = RowState::Answered;
    recordAnswer(e);
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
    e.heatmapRequest = currentHeatmapRequest();
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
  m_showHeatmap->setText(tr("Heatmap"));
  m_showHeatmap->setToolTip(tr("Overlay where the model looked (Ctrl+H)"));
  m_methodLabel->setText(tr("Method"));
  m_method->setItemText(0, tr("Layer attention"));
  m_method->setItemText(1, tr("All layers"));
  m_method->setItemText(2, tr("Attention rollout"));
  m_method->setItemText(3, tr("Gradient-weighted"));
  m_method->setToolTip(
      tr("Layer attention: one fusion layer's cross-attention. All layers: their mean. "
         "Rollout: carried through the text self-attention. Gradient-weighted: "
         "the parts that raised this answer's probability."));
  m_layerLabel->setText(tr("Layer"));
  m_headLabel->setText(tr("Head"));
  m_tokenLabel->setText(tr("Word"));
  m_cmapLabel->setText(tr("Colours"));
  m_opacityLabel->setText(tr("Opacity"));
  if (m_head->count() > 0) m_head->setItemText(0, tr("Mean of heads"));
  if (m_token->count() > 0) {
    const ResultPtr r = shownResult();
    m_token->setItemText(0, !r || !r->inspection.tokens_are_answer ? tr("Whole question")
                            : r->task == core::Task::Ask           ? tr("Whole answer")
                                                                   : tr("Whole caption"));
  }
  for (int i = 0; i < m_layer->count(); ++i)
    m_layer->setItemText(i, tr("Layer %1").arg(m_layer->itemData(i, Qt::UserRole + 1).toInt()));
  for (int i = 1; i < m_head->count(); ++i) m_head->setItemText(i, tr("Head %1").arg(i));

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

void MainWindow::updateTimings(const core::Result& r) {
  const auto& t = r.timings;
  const double total = t.preprocess_ms + t.vision_ms + t.fusion_ms + t.decode_ms;
  //: status bar: latency of the last answer, split by stage (milliseconds)
  m_timingStatus->setText(tr("Last answer %1 ms: preprocess %2 · vision %3 · fusion %4 · decode %5")
                              .arg(ms(total), ms(t.preprocess_ms), ms(t.vision_ms), ms(t.fusion_ms), ms(t.decode_ms)));
  m_timingStatus->setToolTip(
      t.vision_cached ? tr("The image was encoded once; later questions about it reuse its features.") : QString());
}

void MainWindow::updateActions() {
  const bool hasImage = !m_currentImage.isEmpty() && !m_missingImages.contains(m_currentImage);
  const bool canRun = hasImage && (m_ctl->hasModel() || m_ctl->loading());
  m_askButton->setEnabled(canRun);
  m_askAct->setEnabled(canRun);
  m_describeAct->setEnabled(canRun);
  m_describeButton->setEnabled(canRun);
  m_cancelAct->setEnabled(m_ctl->busy());
  m_saveOverlayAct->setEnabled(m_view->hasImage());
  m_exportAct->setEnabled(m_store && m_store->isOpen() && m_thumbs->count() > 0);
  for (QAction* a : {m_zoomInAct, m_zoomOutAct, m_fitAct, m_actualSizeAct}) a->setEnabled(m_view->hasImage());
  updateModelStatus();
}

// ---------------------------------------------------------------- images in
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

// ---------------------------------------------------------------- model
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

// ---------------------------------------------------------------- asking
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
  startEntry(e, q, [&] { return m_ctl->ask(m_currentImage, q, opt); });
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
  startEntry(e, QString(), [&] { return m_ctl->describe(m_currentImage, opt); });
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

// ---------------------------------------------------------------- answers
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
  populateHeatmapControls(in);
  if (e.hasHeatmap) {
    // An earlier answer: its own heatmap, with the settings it was made with.
    applyHeatmapRequestToControls(e.heatmapRequest);
    m_view->setHeatmap(e.heatmap);
    Q_EMIT heatmapUpdated();
  } else if (e.restored) {
    m_view->clearHeatmap();  // from the history, stored without one
  } else {
    m_view->clearHeatmap();
    requestHeatmap();
  }
}

void MainWindow::populateHeatmapControls(const core::Inspection& in) {
  QSignalBlocker b1(m_layer), b2(m_head), b3(m_token);
  const int L = in.cross_attention.shape.size() == 4 ? int(in.cross_attention.shape[0]) : 0;
  const int H = in.cross_attention.shape.size() == 4 ? int(in.cross_attention.shape[1]) : 0;
  const int prevLayer = m_layer->currentIndex(), prevHead = m_head->currentIndex();
  m_layer->clear();
  for (int l = 0; l < L; ++l) {
    const int num = l < int(in.fusion_layers.size()) ? in.fusion_layers[size_t(l)] + 1 : l + 1;
    m_layer->addItem(tr("Layer %1").arg(num), l);
    m_layer->setItemData(l, num, Qt::UserRole + 1);
  }
  m_layer->setCurrentIndex(prevLayer >= 0 && prevLayer < L ? prevLayer : L - 1);
  m_head->clear();
  m_head->addItem(tr("Mean of heads"), -1);
  for (int h = 0; h < H; ++h) m_head->addItem(tr("Head %1").arg(h + 1), h);
  m_head->setCurrentIndex(prevHead >= 0 && prevHead <= H ? prevHead : 0);
  m_token->clear();
  // Rows are the generated words for captions and for language models that answer (BLIP-2).
  const ResultPtr shown = shownResult();
  m_token->addItem(!in.tokens_are_answer                     ? tr("Whole question")
                   : shown && shown->task == core::Task::Ask ? tr("Whole answer")
                                                             : tr("Whole caption"),
                   -1);
  for (int t = 0; t < int(in.question_tokens.size()); ++t) {
    const std::string& tok = in.question_tokens[size_t(t)];
    if (isSpecialToken(tok)) continue;
    m_token->addItem(displayToken(tok), t);
  }
  m_token->setCurrentIndex(0);
  updateHeatmapControlsEnabled();
}

core::HeatmapRequest MainWindow::currentHeatmapRequest() const {
  core::HeatmapRequest r;
  r.method = core::HeatmapMethod(m_method->currentData().toInt());
  r.layer = m_layer->currentIndex() >= 0 ? m_layer->currentData().toInt() : -1;
  r.head =
      r.method == core::HeatmapMethod::GradWeighted || m_head->currentIndex() < 0 ? -1 : m_head->currentData().toInt();
  r.token = m_token->currentIndex() >= 0 ? m_token->currentData().toInt() : -1;
  r.answer = 0;
  return r;
}

void MainWindow::applyHeatmapRequestToControls(const core::HeatmapRequest& r) {
  QSignalBlocker b0(m_method), b1(m_layer), b2(m_head), b3(m_token);
  m_method->setCurrentIndex(std::max(0, m_method->findData(int(r.method))));
  if (r.layer >= 0) m_layer->setCurrentIndex(std::max(0, m_layer->findData(r.layer)));
  m_head->setCurrentIndex(std::max(0, m_head->findData(r.head)));
  m_token->setCurrentIndex(std::max(0, m_token->findData(r.token)));
  updateHeatmapControlsEnabled();
}

void MainWindow::updateHeatmapControlsEnabled() {
  const auto method = core::HeatmapMethod(m_method->currentData().toInt());
  const bool on = m_showHeatmap->isChecked();
  m_method->setEnabled(on);
  m_layer->setEnabled(on && method == core::HeatmapMethod::LayerAttention && m_layer->count() > 0);
  m_head->setEnabled(on && method != core::HeatmapMethod::GradWeighted && m_head->count() > 1);
  m_token->setEnabled(on && m_token->count() > 1);
  m_cmap->setEnabled(on);
  m_opacity->setEnabled(on);
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
  const core::HeatmapRequest req = currentHeatmapRequest();
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
