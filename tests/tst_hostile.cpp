// Hostile inputs (issue 8) through both faces of the engine: the `autoglm`
// command line, run as a subprocess with a timeout, and the desktop app's
// worker on its own thread (InferenceController, as the window drives it).
// Image files, paths, questions and model folders of every kind of damage:
// each ends in a clear message naming the problem (or, for the images that
// should work, an answer), never in a crash or a hang, and the next ordinary
// request still works. Then the model folder vanishing or being truncated
// under a running session, a failed request in the main window, and the
// out-of-GPU-memory warning's way to the message bar.
#include <QDir>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <random>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>
extern char** environ;
#endif

#include "core/error.h"
#include "ui/answerlist.h"
#include "ui/errortext.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/mainwindow.h"
#include "ui/messagebar.h"
#include "testutil.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kCliTimeoutMs = 60000;  // one run takes about a second; a hang is a failure, not a stall
constexpr int kWorkerTimeoutMs = 60000;
constexpr long kMaxRefusedRssMb = 400;  // the CLI with the model loaded is ~170 MB; a 30000x30000 decode is 2.7 GB
// Address space of a CLI run (it needs about 1 GB): should a check regress, a
// model folder describing terabytes fails to allocate instead of filling the machine.
constexpr long kCliAddressSpaceMb = 4096;

// ---- the command line as a subprocess ---------------------------------------

struct CliRun {
  int code = -1;   // exit status; -1 when it did not exit normally
  int signal = 0;  // the signal that ended it, if one did
  bool timedOut = false;
  QByteArray out, err;
  long maxRssKb = -1;  // the child's peak resident set (POSIX only)
  QString describe() const {
    return QStringLiteral("exit %1%2%3\nstderr: %4\nstdout: %5")
        .arg(code)
        .arg(signal ? QStringLiteral(", signal %1").arg(signal) : QString())
        .arg(timedOut ? QStringLiteral(", timed out") : QString())
        .arg(QString::fromUtf8(err.left(2000)), QString::fromUtf8(out.left(2000)));
  }
};

// Runs the real autoglm binary with the arguments as bytes (so invalid UTF-8
// reaches its argv as it is), stdin empty, and a timeout. On POSIX it runs
// under tst_peak_rss (see peak_rss.cpp), which reports its peak memory: the
// test's own getrusage(RUSAGE_CHILDREN) would count the test's memory too.
CliRun runCli(const QList<QByteArray>& args, int timeoutMs = kCliTimeoutMs) {
  CliRun r;
#ifdef Q_OS_UNIX
  QTemporaryFile out, err, report;
  if (!out.open() || !err.open() || !report.open()) {
    r.err = "cannot create temporary files";
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out.handle(), 1);
  posix_spawn_file_actions_adddup2(&fa, err.handle(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group: a timeout kills the CLI too
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> storage{AUTOGLM_PEAK_RSS, report.fileName().toStdString(),
                                   std::to_string(kCliAddressSpaceMb), AUTOGLM_CLI};
  for (const auto& a : args) storage.emplace_back(a.constData(), size_t(a.size()));
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, AUTOGLM_PEAK_RSS, &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    r.err = QByteArray("posix_spawn failed: ") + strerror(rc);
    return r;
  }
  std::packaged_task<int()> task([pid] {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  });
  auto done = task.get_future();
  std::thread waiter(std::move(task));
  if (done.wait_for(std::chrono::milliseconds(timeoutMs)) != std::future_status::ready) {
    r.timedOut = true;
    kill(-pid, SIGKILL);
  }
  const int status = done.get();
  waiter.join();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code >= 128)
    r.signal = code - 128;  // tst_peak_rss: the CLI was ended by a signal
  else
    r.code = code;
  r.maxRssKb = report.readAll().trimmed().toLong();  // kilobytes on Linux; 0 when not written
  out.seek(0);
  err.seek(0);
  r.out = out.readAll();
  r.err = err.readAll();
#else
  QProcess p;
  p.setProgram(QStringLiteral(AUTOGLM_CLI));
  QStringList a;
  for (const auto& b : args) a << QString::fromUtf8(b);
  p.setArguments(a);
  p.start();
  if (!p.waitForFinished(timeoutMs)) {
    r.timedOut = true;
    p.kill();
    p.waitForFinished();
  }
  if (p.exitStatus() == QProcess::NormalExit) r.code = p.exitCode();
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
#endif
  return r;
}

QByteArray b(const QString& s) { return s.toUtf8(); }

QByteArray longQuestion() {  // 10,000 characters of an ordinary question, repeated
  QByteArray q;
  while (q.size() < 10000) q += "what color is the star? ";
  q.truncate(10000);
  return q;
}

// ---- fixtures ----------------------------------------------------------------

cv::Mat quadrants(int w, int h, int depth = CV_8U, int channels = 3) {  // TL red, TR green, BL blue, BR white
  const double top = depth == CV_16U ? 65535 : 255;
  cv::Mat m(h, w, CV_MAKETYPE(depth, channels), cv::Scalar::all(top));
  auto fill = [&](cv::Rect r, double bl, double g, double rd) {
    if (channels == 1)
      m(r).setTo(cv::Scalar(0.3 * rd + 0.59 * g + 0.11 * bl));
    else
      m(r).setTo(cv::Scalar(bl, g, rd, top * (r.x ? 0.5 : 1.0)));  // some transparency on the right
  };
  fill(cv::Rect(0, 0, w / 2, h / 2), 0, 0, top);
  fill(cv::Rect(w / 2, 0, w - w / 2, h / 2), 0, top, 0);
  fill(cv::Rect(0, h / 2, w / 2, h - h / 2), top, 0, 0);
  return m;
}

std::string encode(const cv::Mat& m, const std::string& ext, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  if (!cv::imencode(ext, m, buf, params)) return {};
  return std::string(buf.begin(), buf.end());
}

// 16x16 CMYK JPEG (Adobe APP14, inverted as Photoshop writes it; left half red,
// right half blue), made with libjpeg's JCS_CMYK: OpenCV cannot write CMYK.
const char* kCmykJpegHex =
    "ffd8ffee000e41646f626500640000000000ffdb0043000302020302020303030304030304050805050404050a07070608"
    "0c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f171816141812141514ffc0001408001000100443"
    "11004d11005911004b1100ffc400160001010100000000000000000000000000000a09ffc4001410010000000000000000"
    "0000000000000000ffda000e0443004d0059004b00003f00d5365532a9aa695715502aa04ab895715503ffd9";
// 1x1 GIF89a, one red pixel.
const char* kGifHex = "47494638396101000100800000ff000000000021f90401000000002c00000000010001000002024401003b";

core::ErrorCode codeNamed(const QString& name) {
  for (int c = 0; c <= int(core::ErrorCode::Internal); ++c)
    if (name == QLatin1String(core::error_code_name(core::ErrorCode(c)))) return core::ErrorCode(c);
  return core::ErrorCode::Internal;
}

// A "Vm...:  N kB" field of /proc/self/status (Linux); -1 if unknown.
// VmHWM: peak resident memory since the last reset; VmSize: address space.
long procStatusKb(const QByteArray& field) {
  QFile f(QStringLiteral("/proc/self/status"));
  if (!f.open(QIODevice::ReadOnly)) return -1;
  for (const QByteArray& line : f.readAll().split('\n'))
    if (line.startsWith(field + ':')) return line.mid(field.size() + 1).trimmed().split(' ').first().toLong();
  return -1;
}

// While alive, this process may map at most `extraMb` more than it has now
// (Linux): a model load that should be refused before allocating but does
// allocate fails with an error instead of taking the machine's memory.
class AddressSpaceCap {
 public:
  explicit AddressSpaceCap(long extraMb) {
#ifdef Q_OS_UNIX
    const long now = procStatusKb("VmSize");
    if (now <= 0 || getrlimit(RLIMIT_AS, &m_old) != 0) return;
    rlimit cap = m_old;
    cap.rlim_cur = rlim_t(now + extraMb * 1024) * 1024;
    if (m_old.rlim_cur != RLIM_INFINITY && cap.rlim_cur > m_old.rlim_cur) return;
    m_set = setrlimit(RLIMIT_AS, &cap) == 0;
#else
    Q_UNUSED(extraMb);
#endif
  }
  ~AddressSpaceCap() {
#ifdef Q_OS_UNIX
    if (m_set) setrlimit(RLIMIT_AS, &m_old);
#endif
  }
  AddressSpaceCap(const AddressSpaceCap&) = delete;
  AddressSpaceCap& operator=(const AddressSpaceCap&) = delete;

 private:
#ifdef Q_OS_UNIX
  rlimit m_old{};
#endif
  bool m_set = false;
};

bool resetPeakRss() {  // "5" to clear_refs resets VmHWM to the current resident set (Linux 4.0+)
  QFile f(QStringLiteral("/proc/self/clear_refs"));
  return f.open(QIODevice::WriteOnly) && f.write("5") == 1;
}

}  // namespace

class TstHostile : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void cliImages_data() { imageTable(); }
  void cliImages();
  void workerImages_data() { imageTable(); }
  void workerImages();
  void cliQuestions_data() { questionTable(); }
  void cliQuestions();
  void workerQuestions_data() { questionTable(); }
  void workerQuestions();
  void cliModels_data() { modelTable(); }
  void cliModels();
  void workerModels_data() { modelTable(); }
  void workerModels();
  void workerModelFolderVanishes_data();
  void workerModelFolderVanishes();
  void windowFailedRequestKeepsWorking();
  void windowShowsCpuFallbackWarning();
  void cleanupTestCase();

 private:
  void imageTable();
  void questionTable();
  void modelTable();
  QString img(const QString& name) const { return m_tmp.filePath(name); }
  QList<QByteArray> askArgs(const QString& image, const QByteArray& question) const {
    return {"ask", "--model", b(m_model), "--threads", "1", "--image", b(image), "--question", question};
  }
  // Waits for the answer or the failure of request `id`; returns false on timeout.
  bool waitForRequest(QSignalSpy& ready, QSignalSpy& failed, quint64 id, bool* ok, QString* message,
                      ui::ResultPtr* result = nullptr);
  ui::ResultPtr askWorker(const QString& image, const QString& question);  // null unless answered
  bool loadWorker(const QString& dir, QString* error);                     // false: failed (error set) or timeout

  QTemporaryDir m_tmp;
  QString m_model, m_good, m_chinese, m_marker;
  std::unique_ptr<ui::InferenceController> m_ctl;
  QHash<QString, json> m_batch;  // image -> line of the one CLI batch over the images that should work
  bool m_batchRan = false;
  CliRun m_batchRun;
};

void TstHostile::initTestCase() {
  QVERIFY(m_tmp.isValid());
  qputenv("XDG_CONFIG_HOME", m_tmp.filePath(QStringLiteral("config")).toUtf8());
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("OpenAutoGLM-test"));
  QCoreApplication::setApplicationName(QStringLiteral("tst_hostile"));
  ui::setLanguage(QStringLiteral("en"));
  m_model = QStringLiteral(AUTOGLM_SOURCE_DIR "/resources/models/default");
  QVERIFY(QFileInfo::exists(m_model + QStringLiteral("/model.safetensors")));
  m_marker = m_tmp.filePath(QStringLiteral("pwned"));

  auto put = [&](const QString& name, const std::string& bytes) {
    QVERIFY2(!bytes.empty() || name == QLatin1String("zero.png"), qPrintable(name));
    testutil::write_file(fs::u8path(img(name).toStdString()), bytes);
  };
  // Images that should work.
  const cv::Mat rgb = quadrants(64, 48);
  m_good = img(QStringLiteral("good.png"));
  put(QStringLiteral("good.png"), encode(rgb, ".png"));
  put(QStringLiteral("second.png"), encode(quadrants(48, 64), ".png"));
  put(QStringLiteral("deep16.png"), encode(quadrants(64, 48, CV_16U), ".png"));
  put(QStringLiteral("deep16-alpha.png"), encode(quadrants(64, 48, CV_16U, 4), ".png"));
  put(QStringLiteral("grey.png"), encode(quadrants(64, 48, CV_8U, 1), ".png"));
  put(QStringLiteral("alpha.png"), encode(quadrants(64, 48, CV_8U, 4), ".png"));
  put(QStringLiteral("image.bmp"), encode(rgb, ".bmp"));
  put(QStringLiteral("image.webp"), encode(rgb, ".webp"));
  put(QStringLiteral("image.tiff"), encode(rgb, ".tiff"));
  put(QStringLiteral("exif-rotated.jpg"),
      testutil::with_exif_orientation(encode(rgb, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95}), 6));
  put(QStringLiteral("png-named.jpg"), encode(rgb, ".png"));  // wrong extension, right content
  put(QStringLiteral("cmyk-libjpeg.jpg"), QByteArray::fromHex(kCmykJpegHex).toStdString());
  put(QStringLiteral("tiny.gif"), QByteArray::fromHex(kGifHex).toStdString());
  // Written by ImageMagick (tests/data/README.md).
  for (const char* name : {"cmyk.jpg", "im_animated.gif", "im_interlaced_transparent.gif"})
    put(QString::fromLatin1(name), testutil::read_file(fs::u8path(AUTOGLM_SOURCE_DIR "/tests/data/") / name));
  m_chinese = img(QStringLiteral("测试 图片 1.png"));
  put(QStringLiteral("测试 图片 1.png"), encode(rgb, ".png"));

  // Images that must be refused.
  put(QStringLiteral("zero.png"), "");
  const std::string big = encode(quadrants(300, 200), ".png", {cv::IMWRITE_PNG_COMPRESSION, 0});
  put(QStringLiteral("truncated.png"), big.substr(0, big.size() / 2));
  const std::string jpg = encode(quadrants(300, 200), ".jpg");
  put(QStringLiteral("truncated.jpg"), jpg.substr(0, jpg.size() * 2 / 3));
  put(QStringLiteral("notes.png"), "these are notes, not an image\n");
  std::mt19937 rng(8);
  std::string garbage(5000, '\0');
  for (auto& c : garbage) c = char(rng());
  garbage[0] = 'x';
  put(QStringLiteral("garbage.jpg"), garbage);
  put(QStringLiteral("bomb.png"), testutil::png_declaring(30000, 30000));
  QVERIFY(QDir(m_tmp.path()).mkdir(QStringLiteral("folder.png")));  // a directory with an image's name
#ifdef Q_OS_UNIX
  QCOMPARE(mkfifo(img(QStringLiteral("pipe.png")).toUtf8().constData(), 0600), 0);  // reading it would block
#endif
  if (QTest::currentTestFailed()) return;  // a fixture could not be written (put() reported which)

  // Model folders with every malformation, from the default model.
  QVERIFY(QDir(m_tmp.path()).mkdir(QStringLiteral("models")));
  for (const auto& broken : testutil::broken_models())
    testutil::break_model_folder(fs::u8path(m_model.toStdString()),
                                 fs::u8path(img(QStringLiteral("models/") + broken.kind).toStdString()), broken.kind,
                                 fs::u8path(m_marker.toStdString()));

  // The app's worker, with the default model.
  m_ctl = std::make_unique<ui::InferenceController>();
  QString error;
  QVERIFY2(loadWorker(m_model, &error), qPrintable(error));
  QCOMPARE(QString::fromStdString(m_ctl->modelInfo().name), QStringLiteral("default"));
}

bool TstHostile::waitForRequest(QSignalSpy& ready, QSignalSpy& failed, quint64 id, bool* ok, QString* message,
                                ui::ResultPtr* result) {
  if (!QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, kWorkerTimeoutMs)) return false;
  *ok = !ready.isEmpty();
  const auto& args = *ok ? ready.first() : failed.first();
  if (args.at(0).toULongLong() != id) return false;
  if (*ok && result) *result = args.at(1).value<ui::ResultPtr>();
  if (!*ok) *message = args.at(1).toString();
  return true;
}

ui::ResultPtr TstHostile::askWorker(const QString& image, const QString& question) {
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::answerReady);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::requestFailed);
  bool ok = false;
  QString message;
  ui::ResultPtr result;
  const quint64 id = m_ctl->ask(image, question, core::AskOptions{});
  if (!waitForRequest(ready, failed, id, &ok, &message, &result)) return nullptr;
  if (!ok) qWarning() << "request failed:" << message;
  return result;
}

bool TstHostile::loadWorker(const QString& dir, QString* error) {
  QSignalSpy loaded(m_ctl.get(), &ui::InferenceController::modelLoaded);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::modelLoadFailed);
  core::Options opt;
  opt.device = core::Device::Cpu;
  opt.threads = 1;
  m_ctl->loadModel(dir, opt);
  if (!QTest::qWaitFor([&] { return !loaded.isEmpty() || !failed.isEmpty(); }, kWorkerTimeoutMs)) {
    *error = QStringLiteral("timeout");
    return false;
  }
  if (!failed.isEmpty()) *error = failed.first().at(0).toString();
  return failed.isEmpty();
}

// ---- images and paths ----------------------------------------------------------

void TstHostile::imageTable() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<bool>("works");
  QTest::addColumn<QString>("code");     // error code name when refused
  QTest::addColumn<QString>("message");  // part of the message when refused
  QTest::addColumn<bool>("checkMemory");
  // Refused, each with a message that names the problem.
  QTest::newRow("zero bytes") << "zero.png" << false << "bad_image"
                              << "empty file (0 bytes)" << false;
  QTest::newRow("truncated png") << "truncated.png" << false << "bad_image"
                                 << "not an image or corrupt" << false;
  QTest::newRow("truncated jpeg") << "truncated.jpg" << false << "bad_image"
                                  << "truncated JPEG" << false;
  QTest::newRow("text with an image name") << "notes.png" << false << "bad_image"
                                           << "unrecognised format" << false;
  QTest::newRow("garbage") << "garbage.jpg" << false << "bad_image"
                           << "not an image or corrupt" << false;
  QTest::newRow("decompression bomb 30000x30000") << "bomb.png" << false << "image_too_large"
                                                  << "30000x30000 pixels" << true;
  QTest::newRow("directory") << "folder.png" << false << "io"
                             << "is a directory" << false;
  QTest::newRow("missing, Chinese name") << "不存在 的 图片.png" << false << "io"
                                         << "no such file" << false;
#ifdef Q_OS_UNIX
  QTest::newRow("named pipe") << "pipe.png" << false << "io"
                              << "not a regular file" << false;
#endif
  // Answered.
  QTest::newRow("16-bit png") << "deep16.png" << true << ""
                              << "" << false;
  QTest::newRow("16-bit png with alpha") << "deep16-alpha.png" << true << ""
                                         << "" << false;
  QTest::newRow("grey png") << "grey.png" << true << ""
                            << "" << false;
  QTest::newRow("alpha png") << "alpha.png" << true << ""
                             << "" << false;
  QTest::newRow("cmyk jpeg (ImageMagick)") << "cmyk.jpg" << true << ""
                                           << "" << false;
  QTest::newRow("cmyk jpeg (libjpeg)") << "cmyk-libjpeg.jpg" << true << ""
                                       << "" << false;
  QTest::newRow("exif-rotated jpeg") << "exif-rotated.jpg" << true << ""
                                     << "" << false;
  QTest::newRow("bmp") << "image.bmp" << true << ""
                       << "" << false;
  QTest::newRow("gif 1x1") << "tiny.gif" << true << ""
                           << "" << false;
  QTest::newRow("gif animated") << "im_animated.gif" << true << ""
                                << "" << false;
  QTest::newRow("gif interlaced, transparent") << "im_interlaced_transparent.gif" << true << ""
                                               << "" << false;
  QTest::newRow("webp") << "image.webp" << true << ""
                        << "" << false;
  QTest::newRow("tiff") << "image.tiff" << true << ""
                        << "" << false;
  QTest::newRow("png named .jpg") << "png-named.jpg" << true << ""
                                  << "" << false;
  QTest::newRow("spaces and Chinese in the name") << "测试 图片 1.png" << true << ""
                                                  << "" << false;
}

void TstHostile::cliImages() {
  QFETCH(QString, file);
  QFETCH(bool, works);
  QFETCH(QString, message);
  QFETCH(bool, checkMemory);
  const QString path = img(file);
  if (works) {
    // One batch over every image that should work (a process each would cost
    // a model load each); each row checks its own line.
    if (!m_batchRan) {
      m_batchRan = true;
      QFile f(img(QStringLiteral("good.jsonl")));
      QVERIFY(f.open(QIODevice::WriteOnly));
      for (const QString& name :
           {"deep16.png", "deep16-alpha.png", "grey.png", "alpha.png", "cmyk.jpg", "cmyk-libjpeg.jpg",
            "exif-rotated.jpg", "image.bmp", "tiny.gif", "im_animated.gif", "im_interlaced_transparent.gif",
            "image.webp", "image.tiff", "png-named.jpg", "测试 图片 1.png"})
        f.write(json{{"image", img(name).toStdString()}, {"question", "what color is the star?"}}.dump().c_str() +
                QByteArray("\n"));
      f.close();
      m_batchRun = runCli({"ask", "--model", b(m_model), "--threads", "1", "--batch", b(f.fileName())});
      for (const QByteArray& line : m_batchRun.out.split('\n')) {
        if (line.trimmed().isEmpty()) continue;
        const json j = json::parse(line.toStdString(), nullptr, false);
        if (j.is_object() && j.contains("image")) m_batch.insert(QString::fromStdString(j["image"]), j);
      }
    }
    QVERIFY2(!m_batchRun.timedOut && m_batchRun.signal == 0, qPrintable(m_batchRun.describe()));
    QVERIFY2(m_batch.contains(path), qPrintable(m_batchRun.describe()));
    const json& j = m_batch[path];
    QVERIFY2(j["error"].is_null(), j.dump().c_str());
    QVERIFY(!j["answer"].get<std::string>().empty());
    return;
  }
  const CliRun r = runCli(askArgs(path, "what color is the star?"));
  QVERIFY2(!r.timedOut && r.signal == 0, qPrintable(r.describe()));
  QVERIFY2(r.code == 1, qPrintable(r.describe()));  // a failed request, not a usage error
  // The request's error line (libpng may print its own complaint before it).
  QString line;
  for (const QString& l : QString::fromUtf8(r.err).split(QLatin1Char('\n')))
    if (l.startsWith(QStringLiteral("error: "))) line = l;
  QVERIFY2(line.contains(message), qPrintable(r.describe()));
  QVERIFY2(line.contains(file), qPrintable(r.describe()));  // names the file, Chinese included
  QVERIFY(r.out.isEmpty());
#ifdef Q_OS_UNIX
  QVERIFY(r.maxRssKb > 0);
  if (checkMemory) qInfo("peak memory of the CLI refusing %s: %.1f MB", qPrintable(file), r.maxRssKb / 1024.0);
  QVERIFY2(r.maxRssKb < kMaxRefusedRssMb * 1024, qPrintable(QStringLiteral("peak %1 MB").arg(r.maxRssKb / 1024)));
#endif
}

void TstHostile::workerImages() {
  QFETCH(QString, file);
  QFETCH(bool, works);
  QFETCH(QString, code);
  QFETCH(QString, message);
  QFETCH(bool, checkMemory);
  const QString path = img(file);
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::answerReady);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::requestFailed);
  const bool measure = checkMemory && resetPeakRss();
  const long before = measure ? procStatusKb("VmHWM") : -1;
  bool ok = false;
  QString text;
  ui::ResultPtr result;
  const quint64 id = m_ctl->ask(path, QStringLiteral("what color is the star?"), core::AskOptions{});
  QVERIFY2(waitForRequest(ready, failed, id, &ok, &text, &result), "no answer and no error");
  if (works) {
    QVERIFY2(ok, qPrintable(text));
    QVERIFY(result && !result->answers.empty());
    QVERIFY(!result->answers.front().text.empty());
  } else {
    QVERIFY2(!ok, "answered a file that should be refused");
    QVERIFY2(text.startsWith(ui::errorSummary(codeNamed(code)) + QStringLiteral(": ")), qPrintable(text));
    QVERIFY2(text.contains(message), qPrintable(text));
    QVERIFY2(text.contains(file), qPrintable(text));
    if (measure) {
      const long grown = procStatusKb("VmHWM") - before;
      qInfo("peak memory growth of the app refusing %s: %.1f MB", qPrintable(file), grown / 1024.0);
      QVERIFY2(grown < 100 * 1024, qPrintable(QStringLiteral("%1 MB").arg(grown / 1024)));
    }
  }
  QVERIFY(!m_ctl->busy());
  // The same worker answers the next ordinary request.
  QVERIFY(askWorker(m_good, QStringLiteral("how many shapes are there?")));
}

// ---- questions -------------------------------------------------------------------

void TstHostile::questionTable() {
  QTest::addColumn<QByteArray>("cliQuestion");  // bytes for argv; empty row name skip below
  QTest::addColumn<bool>("viaCli");
  QTest::addColumn<QString>("cliMessage");  // empty: answered
  QTest::addColumn<QString>("workerQuestion");
  QTest::addColumn<QString>("workerMessage");  // empty: answered
  const QByteArray longQ = longQuestion();
  QString cjk;
  for (int i = 0; i < 10000; ++i) cjk += QChar(0x4E00 + i % 100);  // 10,000 characters, 30,000 bytes
  const QByteArray badUtf8("what \xff\xfe color is the star?");
  QTest::newRow("empty") << QByteArray() << true << "the question is empty" << QString() << "the question is empty";
  QTest::newRow("whitespace") << QByteArray(" \t \n ") << true << "the question is empty" << QStringLiteral(" \t \n ")
                              << "the question is empty";
  QTest::newRow("unicode spaces") << b(QStringLiteral("\u3000\u00a0\u2003")) << true << "the question is empty"
                                  << QStringLiteral("\u3000\u00a0\u2003") << "the question is empty";
  QTest::newRow("control characters only") << QByteArray("\x01\x02\x1b\x7f") << true << "the question is empty"
                                           << QString::fromLatin1("\x01\x02\x1b\x7f") << "the question is empty";
  QTest::newRow("control characters inside")
      << QByteArray("what\x07 color\x1b[31m is the star?\x7f") << true << QString()
      << QString::fromLatin1("what\x07 color\x1b[31m is the star?\x7f") << QString();
  QTest::newRow("line breaks inside") << QByteArray("what color\nis the\r\nstar?") << true << QString()
                                      << QStringLiteral("what color\nis the\r\nstar?") << QString();
  QTest::newRow("10000 characters") << longQ << true << "the question is too long" << QString::fromLatin1(longQ)
                                    << "the question is too long";
  QTest::newRow("10000 Chinese characters")
      << b(cjk) << true << "the question is too long" << cjk << "the question is too long";
  // QString cannot hold invalid UTF-8: text reaching the worker was decoded
  // with U+FFFD in place of the bad bytes, which the tokenizer drops.
  QTest::newRow("invalid UTF-8 inside") << badUtf8 << true << "not valid UTF-8" << QString::fromUtf8(badUtf8)
                                        << QString();
  QTest::newRow("invalid UTF-8 only") << QByteArray("\xff\xfe\xc0\x80") << true << "not valid UTF-8"
                                      << QString::fromUtf8("\xff\xfe\xc0\x80") << "the question is empty";
  QTest::newRow("UTF-16 surrogate") << QByteArray("what \xed\xa0\x80 color?") << true << "not valid UTF-8"
                                    << QStringLiteral("what ") + QChar(0xD800) + QStringLiteral(" color?") << QString();
  // argv cannot carry a NUL byte; the worker's QString can.
  QTest::newRow("NUL inside") << QByteArray() << false << QString()
                              << QStringLiteral("what color") + QChar(0) + QStringLiteral(" is the star?") << QString();
}

void TstHostile::cliQuestions() {
  QFETCH(QByteArray, cliQuestion);
  QFETCH(bool, viaCli);
  QFETCH(QString, cliMessage);
  if (!viaCli) QSKIP("not expressible as a command-line argument");
  // The image's path has spaces and Chinese characters, through argv.
  const CliRun r = runCli(askArgs(m_chinese, cliQuestion));
  QVERIFY2(!r.timedOut && r.signal == 0, qPrintable(r.describe()));
  if (cliMessage.isEmpty()) {
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(!r.out.trimmed().isEmpty() && r.out.contains("confidence"), qPrintable(r.describe()));
    return;
  }
  QVERIFY2(r.code == 1, qPrintable(r.describe()));
  QVERIFY2(QString::fromUtf8(r.err).contains(cliMessage), qPrintable(r.describe()));
}

void TstHostile::workerQuestions() {
  QFETCH(QString, workerQuestion);
  QFETCH(QString, workerMessage);
  QSignalSpy ready(m_ctl.get(), &ui::InferenceController::answerReady);
  QSignalSpy failed(m_ctl.get(), &ui::InferenceController::requestFailed);
  bool ok = false;
  QString text;
  ui::ResultPtr result;
  const quint64 id = m_ctl->ask(m_chinese, workerQuestion, core::AskOptions{});
  QVERIFY2(waitForRequest(ready, failed, id, &ok, &text, &result), "no answer and no error");
  if (workerMessage.isEmpty()) {
    QVERIFY2(ok, qPrintable(text));
    QVERIFY(result && !result->answers.empty());
    // The question's words reached the model; the debris did not.
    QVERIFY(result->inspection.question_tokens.size() > 2);
    for (const auto& t : result->inspection.question_tokens) {
      QVERIFY2(QString::fromStdString(t) != QStringLiteral("\uFFFD"), t.c_str());
      for (unsigned char c : t) QVERIFY2(c >= 0x20, "a control character reached the model");
    }
  } else {
    QVERIFY2(!ok, "answered a question that should be refused");
    QVERIFY2(text.startsWith(ui::errorSummary(core::ErrorCode::BadQuestion)), qPrintable(text));
    QVERIFY2(text.contains(workerMessage), qPrintable(text));
  }
  QVERIFY(askWorker(m_good, QStringLiteral("what color is the circle?")));
}

// ---- model folders -------------------------------------------------------------

void TstHostile::modelTable() {
  QTest::addColumn<QString>("kind");
  QTest::addColumn<QString>("message");
  QTest::addColumn<QString>("code");
  for (const auto& broken : testutil::broken_models())
    QTest::newRow(broken.kind) << broken.kind << broken.message << broken.code;
}

void TstHostile::cliModels() {
  QFETCH(QString, kind);
  QFETCH(QString, message);
  SKIP_ROW_WITHOUT_GOLDEN(kind.toStdString());
  const QString dir = img(QStringLiteral("models/") + kind);
  const CliRun r = runCli({"info", "--model", b(dir), "--threads", "1"});
  QVERIFY2(!r.timedOut && r.signal == 0, qPrintable(r.describe()));
  QVERIFY2(r.code == 1, qPrintable(r.describe()));
  const QString err = QString::fromUtf8(r.err);
  QVERIFY2(err.startsWith(QStringLiteral("autoglm: ")) && err.contains(message), qPrintable(r.describe()));
  QVERIFY2(err.contains(dir), qPrintable(r.describe()));  // names the folder or the file in it
  QVERIFY2(!err.contains(QStringLiteral("internal error")), qPrintable(r.describe()));
  QVERIFY(!QFileInfo::exists(m_marker));  // the pickle was never unpickled
  QVERIFY(!QFileInfo::exists(QString::fromLatin1(testutil::kGoldenPickleMarker)));
#ifdef Q_OS_UNIX
  QVERIFY2(r.maxRssKb > 0 && r.maxRssKb < kMaxRefusedRssMb * 1024,
           qPrintable(QStringLiteral("peak %1 MB").arg(r.maxRssKb / 1024)));
#endif
}

void TstHostile::workerModels() {
  QFETCH(QString, kind);
  QFETCH(QString, message);
  QFETCH(QString, code);
  SKIP_ROW_WITHOUT_GOLDEN(kind.toStdString());
  const QString dir = img(QStringLiteral("models/") + kind);
  QString error;
  {
    const AddressSpaceCap cap(2048);
    QVERIFY2(!loadWorker(dir, &error), "a broken model folder loaded");
  }
  QVERIFY2(error != QLatin1String("timeout"), "no answer to the load request");
  QVERIFY2(error.startsWith(ui::errorSummary(codeNamed(code)) + QStringLiteral(": ")), qPrintable(error));
  QVERIFY2(error.contains(message), qPrintable(error));
  QVERIFY(!QFileInfo::exists(m_marker));
  // What the user sees: the previous model stays loaded and answers.
  QVERIFY(m_ctl->hasModel());
  QVERIFY(!m_ctl->loading());
  QCOMPARE(QString::fromStdString(m_ctl->modelInfo().name), QStringLiteral("default"));
  QVERIFY(askWorker(m_good, QStringLiteral("what color is the square?")));
}

void TstHostile::workerModelFolderVanishes_data() {
  QTest::addColumn<QString>("how");
  QTest::newRow("folder deleted") << "delete";
  // In place (same inode): a mapping still used for the weights would SIGBUS.
  QTest::newRow("weights truncated in place") << "truncate";
  QTest::newRow("weights overwritten with garbage") << "garbage";
}

void TstHostile::workerModelFolderVanishes() {
  QFETCH(QString, how);
  const fs::path dir = fs::u8path(img(QStringLiteral("session-") + how).toStdString());
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(fs::u8path(m_model.toStdString())))
    fs::copy_file(e.path(), dir / e.path().filename());
  const QString qdir = QString::fromStdString(dir.u8string());
  QString error;
  QVERIFY2(loadWorker(qdir, &error), qPrintable(error));
  QVERIFY(askWorker(m_good, QStringLiteral("what color is the star?")));
  if (how == QLatin1String("delete")) {
    fs::remove_all(dir);
    QVERIFY(!fs::exists(dir));
  } else if (how == QLatin1String("truncate")) {
    fs::resize_file(dir / "model.safetensors", 64);
  } else {
    const auto size = fs::file_size(dir / "model.safetensors");
    std::fstream f(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.write(std::string(size_t(size), '\xA5').data(), std::streamsize(size));
  }
  // A new image runs the vision encoder and the whole model again: the weights
  // were copied at load, so the session goes on.
  auto r = askWorker(img(QStringLiteral("second.png")), QStringLiteral("how many shapes are there?"));
  QVERIFY(r);
  QVERIFY(!r->answers.empty());
  QVERIFY(askWorker(img(QStringLiteral("grey.png")), QStringLiteral("what color is the circle?")));
  // Loading the folder again now fails with a message, and the loaded model stays.
  QVERIFY(!loadWorker(qdir, &error));
  QVERIFY2(error.contains(qdir), qPrintable(error));
  QVERIFY(m_ctl->hasModel());
  QVERIFY(askWorker(img(QStringLiteral("alpha.png")), QStringLiteral("what color is the star?")));
  QVERIFY2(loadWorker(m_model, &error), qPrintable(error));
}

// ---- the main window -------------------------------------------------------------

void TstHostile::windowFailedRequestKeepsWorking() {
  ui::MainWindow win;
  win.resize(1200, 800);
  win.show();
  QVERIFY(QTest::qWaitForWindowExposed(&win));
  QSignalSpy loaded(win.controller(), &ui::InferenceController::modelLoaded);
  win.overrideDevice(core::Device::Cpu, 1);
  win.loadModel(m_model);
  QVERIFY(loaded.wait(kWorkerTimeoutMs));
  const QString picture = img(QStringLiteral("window.png"));
  QVERIFY(QFile::copy(m_good, picture));
  QCOMPARE(win.openFiles({picture}), 1);

  QSignalSpy failed(win.controller(), &ui::InferenceController::requestFailed);
  QSignalSpy shown(&win, &ui::MainWindow::answerShown);
  auto state = [&](int row) {
    return ui::RowState(win.answerList()->item(row)->data(ui::AnswerList::StateRole).toInt());
  };

  // 1. A question the engine refuses (the window passes it on).
  const int rows = win.answerList()->count();
  win.askQuestion(QString::fromLatin1(longQuestion()));
  QVERIFY(failed.wait(kWorkerTimeoutMs));
  QCOMPARE(win.answerList()->count(), rows + 1);
  QCOMPARE(state(rows), ui::RowState::Failed);
  QVERIFY(!win.messageBar()->isHidden());
  QVERIFY2(win.messageBar()->text().contains(QStringLiteral("too long")), qPrintable(win.messageBar()->text()));
  QVERIFY(win.questionEdit()->isEnabled());
  QVERIFY(!win.controller()->busy());
  // The next question is answered.
  win.askQuestion(QStringLiteral("what color is the circle?"));
  QVERIFY(shown.wait(kWorkerTimeoutMs));
  QCOMPARE(state(rows + 1), ui::RowState::Answered);

  // 2. The open image's file turned into garbage on disk, then repaired.
  const std::string original = testutil::read_file(fs::u8path(picture.toStdString()));
  testutil::write_file(fs::u8path(picture.toStdString()), "no longer an image, and longer than it was before");
  win.messageBar()->dismiss();
  win.askQuestion(QStringLiteral("what color is the star?"));
  QVERIFY(failed.wait(kWorkerTimeoutMs));
  QCOMPARE(state(rows + 2), ui::RowState::Failed);
  QVERIFY2(win.messageBar()->text().contains(QStringLiteral("window.png")), qPrintable(win.messageBar()->text()));
  testutil::write_file(fs::u8path(picture.toStdString()), original);
  win.askQuestion(QStringLiteral("how many shapes are there?"));
  QVERIFY(shown.wait(kWorkerTimeoutMs));
  QCOMPARE(state(rows + 3), ui::RowState::Answered);
  QVERIFY(win.isEnabled());
}

void TstHostile::windowShowsCpuFallbackWarning() {
  // The engine's fallback itself needs a CUDA device (tst_engine checks that
  // the out-of-memory errors are recognised); here its warning goes from the
  // worker to the message bar, translated, and the device in the model info follows.
  ui::MainWindow win;
  win.show();
  QVERIFY(QTest::qWaitForWindowExposed(&win));
  QSignalSpy loaded(win.controller(), &ui::InferenceController::modelLoaded);
  win.overrideDevice(core::Device::Cpu, 1);
  win.loadModel(m_model);
  QVERIFY(loaded.wait(kWorkerTimeoutMs));
  QSignalSpy changed(win.controller(), &ui::InferenceController::modelInfoChanged);
  core::ModelInfo info = win.controller()->modelInfo();
  info.device = "cpu (after cuda:0 ran out of memory)";
  Q_EMIT win.controller()->worker()->warning(ui::cpuFallbackText());
  Q_EMIT win.controller()->worker()->modelInfoChanged(info);
  QTRY_VERIFY(!changed.isEmpty());
  QVERIFY(!win.messageBar()->isHidden());
  QCOMPARE(win.messageBar()->kind(), ui::MessageBar::Kind::Warning);
  QCOMPARE(win.messageBar()->text(), QStringLiteral("Out of GPU memory: running on the CPU"));
  QCOMPARE(win.controller()->modelInfo().device, info.device);
  QVERIFY(ui::setLanguage(QStringLiteral("zh_CN")));
  QCOMPARE(ui::cpuFallbackText(), QStringLiteral("GPU 显存不足：改为在 CPU 上运行"));
  QVERIFY(ui::setLanguage(QStringLiteral("en")));
}

void TstHostile::cleanupTestCase() {
  m_ctl.reset();
  QVERIFY(!QFileInfo::exists(m_marker));
}

QTEST_MAIN(TstHostile)
#include "tst_hostile.moc"
