// autoglm-studio [--model DIR] [--device auto|cpu|cuda] [--threads N] [--lang zh_CN] [FILE...]
//
// Opens the window, loads the model in the worker thread (the window opens
// and says so when there is none or it fails to load) and the given images.
// --screenshot OUT.png [--ask QUESTION] [--size WxH] saves a picture of the
// window once the answer and its heatmap are shown, then quits (for docs).
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>
#include <memory>

#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/engine/paths.h"
#include "core/error.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/mainwindow.h"
#include "ui/messagebar.h"
#include "ui/settingsdialog.h"

#ifndef AUTOGLM_VERSION
#define AUTOGLM_VERSION "0.1.0"
#endif

namespace {

bool parseDevice(const QString& s, core::Device* out) {
  if (s == QLatin1String("auto"))
    *out = core::Device::Auto;
  else if (s == QLatin1String("cpu"))
    *out = core::Device::Cpu;
  else if (s == QLatin1String("cuda") || s == QLatin1String("gpu"))
    *out = core::Device::Cuda;
  else
    return false;
  return true;
}

// The command line's options.
struct StudioOptions {
  const QCommandLineOption model{QStringLiteral("model"), QStringLiteral("Model folder (default: the embedded model)."),
                                 QStringLiteral("DIR")};
  const QCommandLineOption device{
      QStringLiteral("device"), QStringLiteral("auto, cpu or cuda (default: the settings)."), QStringLiteral("DEVICE")};
  const QCommandLineOption threads{QStringLiteral("threads"), QStringLiteral("CPU threads (0: automatic)."),
                                   QStringLiteral("N")};
  const QCommandLineOption lang{QStringLiteral("lang"), QStringLiteral("Interface language: en or zh_CN."),
                                QStringLiteral("CODE")};
  const QCommandLineOption shot{QStringLiteral("screenshot"),
                                QStringLiteral("Save a screenshot of the window once the answer is shown, then quit."),
                                QStringLiteral("PNG")};
  const QCommandLineOption ask{
      QStringLiteral("ask"), QStringLiteral("With --screenshot: ask this question about the first image (repeatable)."),
      QStringLiteral("QUESTION")};
  const QCommandLineOption size{QStringLiteral("size"), QStringLiteral("Window size for --screenshot, e.g. 1360x860."),
                                QStringLiteral("WxH")};
};

void setUpParser(QCommandLineParser& parser, const StudioOptions& o) {
  parser.setApplicationDescription(QStringLiteral("Ask questions about images with a local vision-language model."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addOptions({o.model, o.device, o.threads, o.lang, o.shot, o.ask, o.size});
  parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("Images or folders of images to open."),
                               QStringLiteral("[FILE...]"));
}

// --device and --threads; false (after saying why) when either is not valid.
bool readDeviceAndThreads(const QCommandLineParser& parser, const StudioOptions& o, core::Device* device,
                          int* threads) {
  if (parser.isSet(o.device) && !parseDevice(parser.value(o.device), device)) {
    fprintf(stderr, "autoglm-studio: --device must be auto, cpu or cuda\n");
    return false;
  }
  if (parser.isSet(o.threads)) {
    bool ok = false;
    *threads = parser.value(o.threads).toInt(&ok);
    if (!ok || *threads < 0) {
      fprintf(stderr, "autoglm-studio: --threads must be a number >= 0\n");
      return false;
    }
  }
  return true;
}

void applyLanguage(const QCommandLineParser& parser, const StudioOptions& o, const ui::AppSettings& settings) {
  const QString lang = parser.isSet(o.lang) ? parser.value(o.lang) : settings.language;
  if (!lang.isEmpty() && !ui::availableLanguages().contains(lang))
    fprintf(stderr, "autoglm-studio: no translation for '%s'; using English\n", qPrintable(lang));
  ui::setLanguage(ui::availableLanguages().contains(lang) ? lang : (lang.isEmpty() ? QString() : QStringLiteral("en")));
}

// Model: --model, else the folder chosen in the settings, else the embedded default.
// Starts loading it and returns its folder ("" when there is none).
QString loadModel(ui::MainWindow& window, const QString& requested, const ui::AppSettings& settings) {
  QString modelDir = requested;
  if (!modelDir.isEmpty()) {
    try {
      modelDir = QString::fromStdString(core::model_path(modelDir.toStdString()).u8string());
    } catch (const core::Error& e) {
      window.messageBar()->showMessage(QString::fromStdString(e.what()), ui::MessageBar::Kind::Warning);
      modelDir.clear();
    }
  }
  if (modelDir.isEmpty() && QFileInfo::exists(settings.modelDir)) modelDir = settings.modelDir;
  if (modelDir.isEmpty()) modelDir = QString::fromStdString(core::default_model_dir().u8string());
  if (modelDir.isEmpty()) {
    window.messageBar()->showMessage(
        QCoreApplication::translate("main",
                                    "No model was found. Use File > Open Model Folder to choose one "
                                    "(the default model or a BLIP folder)."),
        ui::MessageBar::Kind::Warning);
  } else {
    window.loadModel(QDir(modelDir).absolutePath(), false);
  }
  return modelDir;
}

// Ask the --ask questions one after the other once the model is ready;
// save when the last answer's heatmap is on screen.
void scheduleScreenshot(ui::MainWindow& window, const QString& shot, const QStringList& asks, bool noModel) {
  auto questions = std::make_shared<QStringList>(asks);
  auto save = [&window, shot] {
    window.grab().save(shot, "PNG");
    QCoreApplication::exit(0);
  };
  auto askNext = [&window, questions] {
    if (questions->isEmpty() || window.currentImage().isEmpty()) return false;
    window.askQuestion(questions->takeFirst());
    return true;
  };
  QObject::connect(window.controller(), &ui::InferenceController::modelLoaded, &window, [askNext] { askNext(); });
  QObject::connect(window.controller(), &ui::InferenceController::modelLoadFailed, &window,
                   [save] { QTimer::singleShot(500, save); });
  QObject::connect(&window, &ui::MainWindow::heatmapUpdated, &window, [askNext, save, questions] {
    if (!askNext()) QTimer::singleShot(500, save);
  });
  // A matching model (BLIP ITM) matches the text instead: its heatmap ends the same way.
  QObject::connect(&window, &ui::MainWindow::matchShown, &window, [askNext, save] {
    if (!askNext()) QTimer::singleShot(500, save);
  });
  if (questions->isEmpty() || noModel) QTimer::singleShot(1500, save);
  QTimer::singleShot(180000, save);  // give up after three minutes
}

}  // namespace

int main(int argc, char** argv) {
  core::start_runtime(argv, /*long_running=*/true);
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("OpenAutoGLM"));
  QCoreApplication::setApplicationName(QStringLiteral("Studio"));
  QCoreApplication::setApplicationVersion(QStringLiteral(AUTOGLM_VERSION));
  QGuiApplication::setApplicationDisplayName(QStringLiteral("Open-AutoGLM Studio"));
  QGuiApplication::setDesktopFileName(QStringLiteral("autoglm-studio"));

  QCommandLineParser parser;
  const StudioOptions opts;
  setUpParser(parser, opts);
  parser.process(app);

  core::Device device = core::Device::Auto;
  int threads = -1;
  if (!readDeviceAndThreads(parser, opts, &device, &threads)) return 2;

  ui::AppSettings settings = ui::AppSettings::load();
  applyLanguage(parser, opts, settings);

  ui::MainWindow window;
  if (parser.isSet(opts.device) || parser.isSet(opts.threads))
    window.overrideDevice(parser.isSet(opts.device) ? device : settings.device, threads);
  const QString shot = parser.value(opts.shot);
  if (!shot.isEmpty()) {
    const QStringList wh = parser.value(opts.size).split(QLatin1Char('x'));
    QSize size(1360, 860);
    if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0) size = QSize(wh[0].toInt(), wh[1].toInt());
    window.resize(size);
  }
  window.show();

  const QString modelDir = loadModel(window, parser.value(opts.model), settings);

  const QStringList files = parser.positionalArguments();
  if (!files.isEmpty()) window.openFiles(files);

  if (!shot.isEmpty()) scheduleScreenshot(window, shot, parser.values(opts.ask), modelDir.isEmpty());
  return app.exec();
}
