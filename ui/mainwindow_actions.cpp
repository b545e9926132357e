// MainWindow: its actions, menus and toolbar, and when each is enabled.
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
QIcon icon(const char* name) { return QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(name))); }
}  // namespace

// File and session actions; buildViewActions makes the rest.
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
  buildViewActions();
}

// Zoom, heatmap, asking, settings, help and languages.
void MainWindow::buildViewActions() {
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

}  // namespace ui
