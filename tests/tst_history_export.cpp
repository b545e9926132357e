// Exports of a history session: the JSON parses and holds everything; the
// HTML report and the Markdown reference image files that exist (images,
// heatmap overlays, gate charts); the PDF is a PDF; a moved image falls back
// to its stored thumbnail; the overlay puts the heatmap's peak where it is.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "ui/historystore.h"
#include "ui/sessionexport.h"

using nlohmann::json;

namespace {

QImage scene(QColor bg, QColor fg, QSize size = QSize(320, 240)) {
  QImage img(size, QImage::Format_RGB32);
  img.fill(bg);
  QPainter p(&img);
  p.setRenderHint(QPainter::Antialiasing);
  p.setBrush(fg);
  p.setPen(Qt::NoPen);
  p.drawEllipse(QRect(size.width() / 4, size.height() / 4, size.width() / 3, size.height() / 3));
  return img;
}

core::Result result(const std::string& answer, float conf, bool describe = false) {
  core::Result r;
  r.task = describe ? core::Task::Describe : core::Task::Ask;
  r.calibrated = !describe;
  core::Answer a;
  a.text = answer;
  a.confidence = conf;
  a.raw_score = conf;
  core::TokenInfo t;
  t.text = answer;
  t.id = 42;
  t.p = conf;
  t.top = {{answer, conf}, {"blue", 0.02f}};
  a.tokens = {t};
  core::Answer b;
  b.text = "blue";
  b.confidence = 0.02f;
  r.answers = {a, b};
  auto& in = r.inspection;
  in.question_tokens = {"[CLS]", "what", "color", "is", "the", "circle", "?", "[SEP]"};
  in.gates.shape = {2, 8};
  for (int i = 0; i < 16; ++i) in.gates.data.push_back(0.1f + 0.05f * float(i % 8));
  in.routing.shape = {2};
  in.routing.data = {0.35f, 0.65f};
  in.fusion_layers = {3, 5};
  in.grid_h = in.grid_w = 4;
  in.learned_gates = true;
  r.timings.vision_ms = 10;
  r.timings.decode_ms = 4;
  return r;
}

// A heatmap with all its weight in one cell of a 4 x 4 grid.
core::Array peak(int row, int col) {
  core::Array m;
  m.shape = {4, 4};
  m.data.assign(16, 0.f);
  m.data[size_t(row * 4 + col)] = 1.f;
  return m;
}

QString readText(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

}  // namespace

class TstHistoryExport : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void formatsBySuffix();
  void json_();
  void html();
  void markdown();
  void pdf();
  void sampleForDocs();
  void refusesUnknownSuffix();
  void overlayMarksThePeak();
  void gateChart();

 private:
  QTemporaryDir m_dir;
  ui::HistorySessionData m_data;
  QString m_imgA, m_imgB;
};

void TstHistoryExport::initTestCase() {
  QVERIFY(m_dir.isValid());
  QStandardPaths::setTestModeEnabled(true);
  m_imgA = m_dir.filePath(QStringLiteral("red circle.png"));  // a space in the name
  m_imgB = m_dir.filePath(QStringLiteral("green.png"));
  QVERIFY(scene(Qt::white, Qt::red).save(m_imgA));
  QVERIFY(scene(Qt::gray, Qt::green, QSize(200, 200)).save(m_imgB));
  ui::HistoryStore store;
  QVERIFY(store.open(m_dir.filePath(QStringLiteral("history.sqlite"))));
  const qint64 s = store.newSession();
  const qint64 a = store.addImage(m_imgA, scene(Qt::white, Qt::red).scaled(112, 84), QSize(320, 240));
  const qint64 b = store.addImage(m_imgB, scene(Qt::gray, Qt::green).scaled(84, 84), QSize(200, 200));
  const QByteArray settings = QByteArrayLiteral("{\"beams\":3,\"max_new_tokens\":20,\"device\":\"cpu\"}");
  const qint64 x = store.addAnswer(a, QStringLiteral("what color is the circle?"), false, result("red", 0.91f),
                                   QStringLiteral("shapes-v1"), settings);
  QVERIFY(store.setHeatmap(x, core::HeatmapRequest{}, peak(1, 1)));
  store.addAnswer(a, QStringLiteral("is it <big> & round?"), false, result("yes", 0.3f), QStringLiteral("shapes-v1"),
                  settings);  // below the threshold, HTML-special characters, no heatmap
  const qint64 z =
      store.addAnswer(b, QString(), true, result("a green circle", 0.6f, true), QStringLiteral("blip"), settings);
  QVERIFY(store.setHeatmap(z, core::HeatmapRequest{core::HeatmapMethod::Rollout}, peak(2, 2)));
  QVERIFY(store.renameSession(s, QStringLiteral("Circles & colours")));
  // The second image moves away: the export uses its thumbnail.
  QVERIFY(QFile::rename(m_imgB, m_imgB + QStringLiteral(".moved")));
  const auto data = store.loadSession(s);
  QVERIFY(data);
  m_data = *data;
  QVERIFY(m_data.images[1].missing);
}

void TstHistoryExport::formatsBySuffix() {
  QCOMPARE(ui::exportFormatFor(QStringLiteral("a/b.HTML")), ui::ExportFormat::Html);
  QCOMPARE(ui::exportFormatFor(QStringLiteral("b.md")), ui::ExportFormat::Markdown);
  QCOMPARE(ui::exportFormatFor(QStringLiteral("b.json")), ui::ExportFormat::Json);
  QCOMPARE(ui::exportFormatFor(QStringLiteral("b.pdf")), ui::ExportFormat::Pdf);
  QVERIFY(!ui::exportFormatFor(QStringLiteral("b.txt")));
  QCOMPARE(ui::exportAssetsDir(QStringLiteral("/x/report.html")), QStringLiteral("/x/report_files"));
}

void TstHistoryExport::json_() {
  const QString path = m_dir.filePath(QStringLiteral("out/session.json"));
  QDir().mkpath(QFileInfo(path).absolutePath());
  QString error;
  QStringList files;
  ui::ExportOptions o;
  o.threshold = 0.5;
  QVERIFY2(ui::exportSession(m_data, path, o, &error, &files), qPrintable(error));
  QCOMPARE(files, QStringList{path});
  QFile f(path);
  QVERIFY(f.open(QIODevice::ReadOnly));
  const QByteArray bytes = f.readAll();
  const json j = json::parse(bytes.constData(), bytes.constData() + bytes.size(), nullptr, false);
  QVERIFY(!j.is_discarded());
  QCOMPARE(j["format"].get<std::string>(), std::string("open-autoglm-studio-session"));
  QCOMPARE(j["session"]["title"].get<std::string>(), std::string("Circles & colours"));
  QCOMPARE(j["images"].size(), size_t(2));
  QCOMPARE(j["images"][0]["path"].get<std::string>(), m_imgA.toStdString());
  QCOMPARE(j["images"][0]["width"].get<int>(), 320);
  QCOMPARE(j["images"][0]["sha256"].get<std::string>().size(), size_t(64));
  QVERIFY(!j["images"][0]["missing"].get<bool>());
  QVERIFY(j["images"][1]["missing"].get<bool>());
  const QByteArray thumb =
      QByteArray::fromBase64(QByteArray::fromStdString(j["images"][1]["thumbnail_png_base64"].get<std::string>()));
  QCOMPARE(QImage::fromData(thumb, "PNG").size(), QSize(84, 84));
  const json& answers = j["answers"];
  QCOMPARE(answers.size(), size_t(3));
  const json& a = answers[0];
  QCOMPARE(a["question"].get<std::string>(), std::string("what color is the circle?"));
  QCOMPARE(a["answer"].get<std::string>(), std::string("red"));
  QCOMPARE(a["task"].get<std::string>(), std::string("ask"));
  QVERIFY(std::abs(a["confidence"].get<double>() - 0.91) < 1e-6);
  QVERIFY(!a["not_sure"].get<bool>());
  QVERIFY(answers[1]["not_sure"].get<bool>());
  QCOMPARE(a["candidates"].size(), size_t(2));
  QCOMPARE(a["candidates"][1]["text"].get<std::string>(), std::string("blue"));
  QCOMPARE(a["tokens"][0][0]["top"][1]["text"].get<std::string>(), std::string("blue"));
  QCOMPARE(a["model"].get<std::string>(), std::string("shapes-v1"));
  QCOMPARE(a["settings"]["beams"].get<int>(), 3);
  QCOMPARE(a["timings_ms"]["vision"].get<double>(), 10.0);
  QCOMPARE(a["gates"]["per_layer"].size(), size_t(2));
  // Over the words only ([CLS] and [SEP] left out), as the CLI prints it (core::gate_means):
  // row values 0.1 + 0.05 t, words t = 1..6 -> mean 0.275.
  QVERIFY(std::abs(a["gates"]["per_layer"][0].get<double>() - 0.275) < 1e-6);
  QCOMPARE(a["gates"]["kind"].get<std::string>(), std::string("learned"));
  QCOMPARE(a["gates"]["routing"].size(), size_t(2));
  QCOMPARE(a["gates"]["values"]["shape"], json({2, 8}));
  QVERIFY(a["gates"]["learned"].get<bool>());
  QCOMPARE(a["heatmap"]["method"].get<std::string>(), std::string("all_layers"));
  QCOMPARE(a["heatmap"]["grid"], json({4, 4}));
  QCOMPARE(a["heatmap"]["values"].size(), size_t(16));
  QCOMPARE(a["heatmap"]["values"][5].get<double>(), 1.0);
  QVERIFY(answers[1]["heatmap"].is_null());
  QCOMPARE(answers[2]["task"].get<std::string>(), std::string("describe"));
  QCOMPARE(answers[2]["heatmap"]["method"].get<std::string>(), std::string("rollout"));
}

void TstHistoryExport::html() {
  const QString path = m_dir.filePath(QStringLiteral("out/report.html"));
  QString error;
  QStringList files;
  QVERIFY2(ui::exportSession(m_data, path, ui::ExportOptions{}, &error, &files), qPrintable(error));
  QCOMPARE(files.first(), path);
  const QString html = readText(path);
  QVERIFY(html.startsWith(QStringLiteral("<!DOCTYPE html>")));
  QVERIFY(html.contains(QStringLiteral("Circles &amp; colours")));
  QVERIFY(html.contains(QStringLiteral("what color is the circle?")));
  QVERIFY(html.contains(QStringLiteral("is it &lt;big&gt; &amp; round?")));  // escaped
  QVERIFY(html.contains(QStringLiteral(">red<")));
  QVERIFY(html.contains(QStringLiteral("0.91")));
  QVERIFY(html.contains(QStringLiteral("not sure")));
  QVERIFY(html.contains(QStringLiteral("moved or deleted")));
  // Every image it references exists beside it and is a picture.
  const QRegularExpression src(QStringLiteral("<img src=\"([^\"]+)\""));
  QStringList refs;
  for (auto it = src.globalMatch(html); it.hasNext();) refs << it.next().captured(1);
  // 2 images, 2 heatmaps (the answers that had one), 3 gate charts.
  QCOMPARE(refs.size(), 7);
  QCOMPARE(refs.filter(QStringLiteral("-heatmap.png")).size(), 2);
  QCOMPARE(refs.filter(QStringLiteral("-gates.png")).size(), 3);
  for (const QString& r : refs) {
    QVERIFY2(r.startsWith(QStringLiteral("report_files/")), qPrintable(r));
    const QString file = QFileInfo(path).dir().filePath(r);
    QVERIFY2(QFileInfo::exists(file), qPrintable(file));
    QVERIFY2(!QImage(file).isNull(), qPrintable(file));
    QVERIFY(files.contains(file));
  }
  // The moved image is its thumbnail; the other at full size.
  QCOMPARE(QImage(QFileInfo(path).dir().filePath(QStringLiteral("report_files/image-1.png"))).size(), QSize(320, 240));
  QCOMPARE(QImage(QFileInfo(path).dir().filePath(QStringLiteral("report_files/image-2.png"))).size(), QSize(84, 84));
}

void TstHistoryExport::markdown() {
  const QString path = m_dir.filePath(QStringLiteral("out/notes.md"));
  QString error;
  QVERIFY2(ui::exportSession(m_data, path, ui::ExportOptions{}, &error), qPrintable(error));
  const QString md = readText(path);
  QVERIFY(md.startsWith(QStringLiteral("# Circles & colours")));
  QVERIFY(md.contains(QStringLiteral("### what color is the circle?")));
  QVERIFY(md.contains(QStringLiteral("**red**")));
  QVERIFY(md.contains(QStringLiteral("is it \\<big\\> & round?")));
  const QRegularExpression link(QStringLiteral("!\\[[^\\]]*\\]\\(([^)]+)\\)"));
  int n = 0;
  for (auto it = link.globalMatch(md); it.hasNext();) {
    const QString target = QUrl::fromPercentEncoding(it.next().captured(1).toUtf8());
    QVERIFY2(target.startsWith(QStringLiteral("notes_files/")), qPrintable(target));
    QVERIFY2(!QImage(QFileInfo(path).dir().filePath(target)).isNull(), qPrintable(target));
    ++n;
  }
  QCOMPARE(n, 7);
}

void TstHistoryExport::pdf() {
  const QString path = m_dir.filePath(QStringLiteral("out/printed.pdf"));
  QString error;
  QVERIFY2(ui::exportSession(m_data, path, ui::ExportOptions{}, &error), qPrintable(error));
  QFile f(path);
  QVERIFY(f.open(QIODevice::ReadOnly));
  QVERIFY(f.size() > 10000);  // with the pictures
  QCOMPARE(f.read(5), QByteArrayLiteral("%PDF-"));
  const QByteArray all = f.readAll();
  QVERIFY(all.contains("/Image"));
  QVERIFY(!QFileInfo::exists(ui::exportAssetsDir(path)));  // everything is inside the PDF
}

void TstHistoryExport::sampleForDocs() {
  // With AUTOGLM_EXPORT_SAMPLE_DIR set, leaves one export of each kind there.
  const QString dir = qEnvironmentVariable("AUTOGLM_EXPORT_SAMPLE_DIR");
  if (dir.isEmpty()) QSKIP("AUTOGLM_EXPORT_SAMPLE_DIR is not set");
  QVERIFY(QDir().mkpath(dir));
  for (const char* name : {"session.html", "session.md", "session.json", "session.pdf"}) {
    QString error;
    QVERIFY2(ui::exportSession(m_data, QDir(dir).filePath(QLatin1String(name)), ui::ExportOptions{}, &error),
             qPrintable(error));
  }
}

void TstHistoryExport::refusesUnknownSuffix() {
  QString error;
  QVERIFY(!ui::exportSession(m_data, m_dir.filePath(QStringLiteral("x.txt")), ui::ExportOptions{}, &error));
  QVERIFY(error.contains(QStringLiteral(".html")));
  QVERIFY(
      !ui::exportSession(m_data, m_dir.filePath(QStringLiteral("no/such/dir/x.json")), ui::ExportOptions{}, &error));
  QVERIFY(!error.isEmpty());
}

void TstHistoryExport::overlayMarksThePeak() {
  QImage grey(400, 400, QImage::Format_RGB32);
  grey.fill(QColor(128, 128, 128));
  ui::HistoryAnswer a;
  a.hasHeatmap = true;
  a.heatmap = peak(0, 3);  // top right
  ui::ExportOptions o;
  o.opacity = 0.6;
  const QImage out = ui::exportHeatmapOverlay(a, grey, o);
  QCOMPARE(out.size(), grey.size());
  const QColor hot = out.pixelColor(350, 50), cold = out.pixelColor(50, 350);
  QVERIFY2(hot != cold, qPrintable(hot.name() + cold.name()));
  // Turbo: the peak is red, the rest blue.
  QVERIFY(hot.red() > hot.blue());
  QVERIFY(cold.blue() > cold.red());
  a.hasHeatmap = false;
  QVERIFY(ui::exportHeatmapOverlay(a, grey, o).isNull());
}

void TstHistoryExport::gateChart() {
  const QImage chart = ui::exportGateChart(m_data.answers[0].result.inspection, 520);
  QVERIFY(!chart.isNull());
  QVERIFY(chart.width() >= 500);
  QVERIFY(chart.height() >= 200);
  // Not a blank picture.
  QSet<QRgb> colours;
  for (int y = 0; y < chart.height(); y += 7)
    for (int x = 0; x < chart.width(); x += 7) colours.insert(chart.pixel(x, y));
  QVERIFY(colours.size() > 5);
  QVERIFY(ui::exportGateChart(core::Inspection{}).isNull());
}

QTEST_MAIN(TstHistoryExport)
#include "tst_history_export.moc"
