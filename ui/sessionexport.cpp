#include "core/engine/summary.h"
#include "ui/sessionexport.h"

#include <algorithm>
#include <map>

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLayout>
#include <QImageReader>
#include <QLocale>
#include <QPainter>
#include <QPrinter>
#include <QSaveFile>
#include <QStyle>
#include <QTextDocument>
#include <QUrl>

#include <nlohmann/json.hpp>

#include "ui/gatesview.h"
#include "ui/imageview.h"

namespace ui {

using nlohmann::json;

namespace {

// Gives the report's strings one translation context, "SessionExport".
class SessionExport {
  Q_DECLARE_TR_FUNCTIONS(SessionExport)

 public:
  static QString methodName(core::HeatmapMethod m) {
    switch (m) {
      case core::HeatmapMethod::LayerAttention:
        return tr("Layer attention");
      case core::HeatmapMethod::AllLayers:
        return tr("All layers");
      case core::HeatmapMethod::Rollout:
        return tr("Attention rollout");
      case core::HeatmapMethod::GradWeighted:
        return tr("Gradient-weighted");
    }
    return {};
  }
};

QString num(double v, int decimals = 2) { return QLocale().toString(v, 'f', decimals); }

std::string str(const QString& s) { return s.toStdString(); }

json parse(const QByteArray& b) { return json::parse(b.constData(), b.constData() + b.size(), nullptr, false); }

QString displayTokenText(const std::string& t) { return displayToken(t); }

// One picture of the report: a name in the assets folder and the image.
struct Asset {
  QString name;
  QImage image;
};

struct ImageAssets {
  QString image;  // asset name (empty: none)
};

struct AnswerAssets {
  QString heatmap, gates;
};

struct Prepared {
  std::vector<Asset> assets;
  std::vector<ImageAssets> images;    // per HistorySessionData::images
  std::vector<AnswerAssets> answers;  // per HistorySessionData::answers
  std::map<qint64, int> imageIndex;   // image id -> index
};

QImage loadScaled(const HistoryImage& im, int maxSide) {
  QImage img;
  if (!im.missing) {
    QImageReader reader(im.path);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (size.isValid() && std::max(size.width(), size.height()) > maxSide)
      reader.setScaledSize(size.scaled(maxSide, maxSide, Qt::KeepAspectRatio));
    img = reader.read();
  }
  if (img.isNull()) img = im.thumbnail();  // the file moved: the stored thumbnail
  return img.isNull() ? img : img.convertToFormat(QImage::Format_RGB32);
}

Prepared prepare(const HistorySessionData& s, const ExportOptions& o) {
  Prepared p;
  std::vector<QImage> bases;
  for (size_t i = 0; i < s.images.size(); ++i) {
    const HistoryImage& im = s.images[i];
    p.imageIndex[im.id] = int(i);
    QImage img = loadScaled(im, o.maxImageSide);
    ImageAssets a;
    if (!img.isNull()) {
      a.image = QStringLiteral("image-%1.png").arg(i + 1);
      p.assets.push_back({a.image, img});
    }
    bases.push_back(img);
    p.images.push_back(a);
  }
  for (size_t n = 0; n < s.answers.size(); ++n) {
    const HistoryAnswer& a = s.answers[n];
    AnswerAssets aa;
    const auto it = p.imageIndex.find(a.imageId);
    const QImage base = it == p.imageIndex.end() ? QImage() : bases[size_t(it->second)];
    const QImage overlay = exportHeatmapOverlay(a, base, o);
    if (!overlay.isNull()) {
      aa.heatmap = QStringLiteral("answer-%1-heatmap.png").arg(n + 1);
      p.assets.push_back({aa.heatmap, overlay});
    }
    const QImage gates = exportGateChart(a.result.inspection);
    if (!gates.isNull()) {
      aa.gates = QStringLiteral("answer-%1-gates.png").arg(n + 1);
      p.assets.push_back({aa.gates, gates});
    }
    p.answers.push_back(aa);
  }
  return p;
}

QString sessionTitle(const HistorySessionData& s) {
  return s.session.displayTitle().isEmpty() ? SessionExport::tr("Session") : s.session.displayTitle();
}

QString when(const QDateTime& t) { return QLocale().toString(t.toLocalTime(), QLocale::ShortFormat); }

QString candidatesText(const core::Result& r) {
  QStringList out;
  for (size_t i = 1; i < r.answers.size(); ++i)
    out << QStringLiteral("%1 %2").arg(QString::fromStdString(r.answers[i].text), num(r.answers[i].confidence));
  return out.join(QStringLiteral(", "));
}

QString tokensText(const core::Result& r) {
  if (r.answers.empty()) return {};
  QStringList out;
  for (const auto& t : r.answers.front().tokens) out << QStringLiteral("%1 %2").arg(displayTokenText(t.text), num(t.p));
  return out.join(QStringLiteral(", "));
}

QString timingsText(const core::Timings& t) {
  const double total = t.preprocess_ms + t.vision_ms + t.fusion_ms + t.decode_ms;
  return SessionExport::tr("%1 ms (preprocess %2, vision %3, fusion %4, decode %5)")
      .arg(num(total, 1), num(t.preprocess_ms, 1), num(t.vision_ms, 1), num(t.fusion_ms, 1), num(t.decode_ms, 1));
}

QString settingsText(const HistoryAnswer& a) {
  const json s = parse(a.settingsJson);
  QStringList parts;
  if (s.is_object()) {
    if (s.contains("beams") && s["beams"].is_number())
      parts << SessionExport::tr("beams %1").arg(s["beams"].get<int>());
    if (s.contains("max_new_tokens") && s["max_new_tokens"].is_number())
      parts << SessionExport::tr("at most %1 tokens").arg(s["max_new_tokens"].get<int>());
    if (s.contains("device") && s["device"].is_string())
      parts << QString::fromStdString(s["device"].get<std::string>());
  }
  return parts.join(QStringLiteral(", "));
}

QString heatmapText(const HistoryAnswer& a) {
  const auto& r = a.heatmapRequest;
  QString t = SessionExport::methodName(r.method);
  if (r.method == core::HeatmapMethod::LayerAttention && r.layer >= 0) {
    const auto& fl = a.result.inspection.fusion_layers;
    t += QStringLiteral(", ") +
         SessionExport::tr("layer %1").arg(r.layer < int(fl.size()) ? fl[size_t(r.layer)] + 1 : r.layer + 1);
  }
  if (r.head >= 0) t += QStringLiteral(", ") + SessionExport::tr("head %1").arg(r.head + 1);
  const auto& toks = a.result.inspection.question_tokens;
  if (r.token >= 0 && r.token < int(toks.size()))
    t += QStringLiteral(", ") + SessionExport::tr("word “%1”").arg(displayTokenText(toks[size_t(r.token)]));
  return t;
}

QString questionText(const HistoryAnswer& a) {
  if (!a.describe) return a.question;
  return a.question.isEmpty() ? SessionExport::tr("Caption")
                              : SessionExport::tr("Caption (prompt “%1”)").arg(a.question);
}

QStringList tags(const HistoryAnswer& a, const ExportOptions& o) {
  QStringList t;
  if (!a.result.answers.empty() && a.confidence() < o.threshold) t << SessionExport::tr("not sure");
  if (!a.result.calibrated) t << SessionExport::tr("uncalibrated");
  return t;
}

// ---------------------------------------------------------------- HTML
QString buildHtml(const HistorySessionData& s, const Prepared& p, const ExportOptions& o, const QString& prefix,
                  bool forPrint) {
  auto esc = [](const QString& t) { return t.toHtmlEscaped(); };
  auto src = [&](const QString& name) { return esc(prefix + name); };
  // Shown at most this wide, never wider than they are (a kept thumbnail is small).
  auto width = [&](const QString& name, int most) {
    for (const Asset& a : p.assets)
      if (a.name == name) return QString::number(std::min(most, a.image.width()));
    return QString::number(most);
  };
  const int imgW = forPrint ? 360 : 480, chartW = forPrint ? 300 : 420;
  QString h;
  h += QStringLiteral("<!DOCTYPE html>\n<html lang=\"%1\">\n<head>\n<meta charset=\"utf-8\">\n<title>%2</title>\n")
           .arg(QLocale().bcp47Name(), esc(sessionTitle(s)));
  h += QStringLiteral(
      "<style>\n"
      "body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }\n"
      "h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }\n"
      "h3 { margin-bottom: 0.2em; } .meta { color: #666; font-size: 0.9em; } .missing { color: #b00; }\n"
      ".answer { font-size: 1.25em; font-weight: bold; } .tag { color: #a60; font-size: 0.9em; }\n"
      "img { border: 1px solid #ddd; } td { vertical-align: top; padding: 4px 8px 4px 0; }\n"
      "</style>\n</head>\n<body>\n");
  h += QStringLiteral("<h1>%1</h1>\n").arg(esc(sessionTitle(s)));
  h += QStringLiteral("<p class=\"meta\">%1</p>\n")
           .arg(esc(SessionExport::tr("Open-AutoGLM Studio session of %1, last used %2; %n image(s)", "",
                                      int(s.images.size()))
                        .arg(when(s.session.created), when(s.session.updated)) +
                    SessionExport::tr(", %n answer(s). Exported %1.", "", int(s.answers.size()))
                        .arg(when(QDateTime::currentDateTimeUtc()))));
  for (size_t i = 0; i < s.images.size(); ++i) {
    const HistoryImage& im = s.images[i];
    h += QStringLiteral("<h2>%1</h2>\n")
             .arg(esc(SessionExport::tr("Image %1: %2").arg(i + 1).arg(QFileInfo(im.path).fileName())));
    QStringList meta;
    meta << esc(QDir::toNativeSeparators(im.path));
    if (im.size.isValid()) meta << QStringLiteral("%1 × %2").arg(im.size.width()).arg(im.size.height());
    if (!im.sha256.isEmpty()) meta << QStringLiteral("SHA-256 %1").arg(im.sha256.left(16) + QStringLiteral("…"));
    h += QStringLiteral("<p class=\"meta\">%1</p>\n").arg(meta.join(QStringLiteral(" · ")));
    if (im.missing)
      h += QStringLiteral("<p class=\"missing\">%1</p>\n")
               .arg(esc(SessionExport::tr(
                   "The file was moved or deleted; the picture below is the thumbnail kept in the history.")));
    if (!p.images[i].image.isEmpty())
      h += QStringLiteral("<p><img src=\"%1\" width=\"%2\" alt=\"%3\"></p>\n")
               .arg(src(p.images[i].image), width(p.images[i].image, imgW), esc(QFileInfo(im.path).fileName()));
    int shown = 0;
    for (size_t n = 0; n < s.answers.size(); ++n) {
      const HistoryAnswer& a = s.answers[n];
      if (a.imageId != im.id) continue;
      ++shown;
      h += QStringLiteral("<h3>%1</h3>\n").arg(esc(questionText(a)));
      const QStringList tg = tags(a, o);
      h += QStringLiteral("<p><span class=\"answer\">%1</span> &nbsp; %2 %3</p>\n")
               .arg(esc(a.answerText().isEmpty() ? SessionExport::tr("(no answer)") : a.answerText()),
                    esc(SessionExport::tr("confidence %1").arg(num(a.confidence()))),
                    tg.isEmpty()
                        ? QString()
                        : QStringLiteral("<span class=\"tag\">%1</span>").arg(esc(tg.join(QStringLiteral(", ")))));
      const QString cands = candidatesText(a.result);
      if (!cands.isEmpty())
        h += QStringLiteral("<p>%1</p>\n").arg(esc(SessionExport::tr("Other candidates: %1").arg(cands)));
      const QString toks = tokensText(a.result);
      if (!toks.isEmpty())
        h += QStringLiteral("<p class=\"meta\">%1</p>\n")
                 .arg(esc(SessionExport::tr("Token probabilities: %1").arg(toks)));
      const AnswerAssets& aa = p.answers[n];
      if (!aa.heatmap.isEmpty() || !aa.gates.isEmpty()) {
        h += QStringLiteral("<table><tr>");
        if (!aa.heatmap.isEmpty())
          h += QStringLiteral("<td><img src=\"%1\" width=\"%2\" alt=\"%3\"><br><span class=\"meta\">%4</span></td>")
                   .arg(src(aa.heatmap), width(aa.heatmap, imgW * 2 / 3), esc(SessionExport::tr("heatmap")),
                        esc(SessionExport::tr("Heatmap: %1").arg(heatmapText(a))));
        if (!aa.gates.isEmpty())
          h += QStringLiteral("<td><img src=\"%1\" width=\"%2\" alt=\"%3\"><br><span class=\"meta\">%4</span></td>")
                   .arg(src(aa.gates), width(aa.gates, chartW), esc(SessionExport::tr("gates")),
                        esc(a.result.inspection.learned_gates ? SessionExport::tr("Fusion gates (learned)")
                            : a.result.inspection.image_reliance
                                ? SessionExport::tr("Image reliance of the language model")
                                : SessionExport::tr("Effective image share (no learned gates)")));
        h += QStringLiteral("</tr></table>\n");
      }
      QStringList facts;
      if (!a.model.isEmpty()) facts << SessionExport::tr("Model %1").arg(a.model);
      const QString st = settingsText(a);
      if (!st.isEmpty()) facts << st;
      facts << timingsText(a.result.timings);
      facts << when(a.created);
      h += QStringLiteral("<p class=\"meta\">%1</p>\n").arg(esc(facts.join(QStringLiteral(" · "))));
    }
    if (shown == 0)
      h += QStringLiteral("<p class=\"meta\">%1</p>\n")
               .arg(esc(SessionExport::tr("No questions were asked about this image.")));
  }
  h += QStringLiteral("</body>\n</html>\n");
  return h;
}

// ------------------------------------------------------------- Markdown
QString mdEscape(const QString& t) {
  QString out;
  out.reserve(t.size());
  for (QChar c : t) {
    if (QStringLiteral("\\`*_[]<>#|").contains(c)) out += QLatin1Char('\\');
    out += c == QLatin1Char('\n') ? QLatin1Char(' ') : c;
  }
  return out;
}

QString buildMarkdown(const HistorySessionData& s, const Prepared& p, const ExportOptions& o, const QString& prefix) {
  auto link = [&](const QString& name) { return QString::fromUtf8(QUrl::toPercentEncoding(prefix + name, "/")); };
  QString m;
  m += QStringLiteral("# %1\n\n").arg(mdEscape(sessionTitle(s)));
  m += QStringLiteral("*%1*\n\n")
           .arg(mdEscape(SessionExport::tr("Open-AutoGLM Studio session of %1, last used %2; %n image(s)", "",
                                           int(s.images.size()))
                             .arg(when(s.session.created), when(s.session.updated)) +
                         SessionExport::tr(", %n answer(s). Exported %1.", "", int(s.answers.size()))
                             .arg(when(QDateTime::currentDateTimeUtc()))));
  for (size_t i = 0; i < s.images.size(); ++i) {
    const HistoryImage& im = s.images[i];
    m += QStringLiteral("## %1\n\n")
             .arg(mdEscape(SessionExport::tr("Image %1: %2").arg(i + 1).arg(QFileInfo(im.path).fileName())));
    QStringList meta;
    meta << QStringLiteral("`%1`").arg(QDir::toNativeSeparators(im.path).replace(QLatin1Char('`'), QLatin1Char('\'')));
    if (im.size.isValid()) meta << QStringLiteral("%1 × %2").arg(im.size.width()).arg(im.size.height());
    if (!im.sha256.isEmpty()) meta << QStringLiteral("SHA-256 `%1`").arg(im.sha256);
    m += meta.join(QStringLiteral(" · ")) + QStringLiteral("\n\n");
    if (im.missing)
      m += QStringLiteral("> %1\n\n")
               .arg(mdEscape(SessionExport::tr(
                   "The file was moved or deleted; the picture below is the thumbnail kept in the history.")));
    if (!p.images[i].image.isEmpty())
      m += QStringLiteral("![%1](%2)\n\n").arg(mdEscape(QFileInfo(im.path).fileName()), link(p.images[i].image));
    int shown = 0;
    for (size_t n = 0; n < s.answers.size(); ++n) {
      const HistoryAnswer& a = s.answers[n];
      if (a.imageId != im.id) continue;
      ++shown;
      m += QStringLiteral("### %1\n\n").arg(mdEscape(questionText(a)));
      const QStringList tg = tags(a, o);
      m += QStringLiteral("**%1** — %2%3\n\n")
               .arg(mdEscape(a.answerText().isEmpty() ? SessionExport::tr("(no answer)") : a.answerText()),
                    mdEscape(SessionExport::tr("confidence %1").arg(num(a.confidence()))),
                    tg.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(mdEscape(tg.join(QStringLiteral(", ")))));
      const QString cands = candidatesText(a.result);
      if (!cands.isEmpty())
        m += QStringLiteral("- %1\n").arg(mdEscape(SessionExport::tr("Other candidates: %1").arg(cands)));
      const QString toks = tokensText(a.result);
      if (!toks.isEmpty())
        m += QStringLiteral("- %1\n").arg(mdEscape(SessionExport::tr("Token probabilities: %1").arg(toks)));
      if (!a.model.isEmpty()) m += QStringLiteral("- %1\n").arg(mdEscape(SessionExport::tr("Model %1").arg(a.model)));
      const QString st = settingsText(a);
      if (!st.isEmpty()) m += QStringLiteral("- %1\n").arg(mdEscape(st));
      m += QStringLiteral("- %1\n").arg(mdEscape(timingsText(a.result.timings)));
      const AnswerAssets& aa = p.answers[n];
      if (a.hasHeatmap)
        m += QStringLiteral("- %1\n").arg(mdEscape(SessionExport::tr("Heatmap: %1").arg(heatmapText(a))));
      m += QLatin1Char('\n');
      if (!aa.heatmap.isEmpty())
        m += QStringLiteral("![%1](%2) ").arg(mdEscape(SessionExport::tr("heatmap")), link(aa.heatmap));
      if (!aa.gates.isEmpty())
        m += QStringLiteral("![%1](%2)").arg(mdEscape(SessionExport::tr("gates")), link(aa.gates));
      if (!aa.heatmap.isEmpty() || !aa.gates.isEmpty()) m += QStringLiteral("\n\n");
    }
    if (shown == 0)
      m += QStringLiteral("*%1*\n\n").arg(mdEscape(SessionExport::tr("No questions were asked about this image.")));
  }
  return m;
}

// ----------------------------------------------------------------- JSON
json arrayJson(const core::Array& a) { return json{{"shape", a.shape}, {"values", a.data}}; }

QByteArray buildJson(const HistorySessionData& s, const ExportOptions& o) {
  auto iso = [](const QDateTime& t) { return str(t.toUTC().toString(Qt::ISODateWithMs)); };
  json images = json::array();
  for (const HistoryImage& im : s.images) {
    json j{{"id", im.id},
           {"path", str(im.path)},
           {"file_name", str(QFileInfo(im.path).fileName())},
           {"sha256", str(im.sha256)},
           {"missing", im.missing},
           {"added_at", iso(im.added)},
           {"thumbnail_png_base64", im.thumbnailPng.toBase64().toStdString()}};
    j["width"] = im.size.isValid() ? json(im.size.width()) : json();
    j["height"] = im.size.isValid() ? json(im.size.height()) : json();
    images.push_back(j);
  }
  json answers = json::array();
  for (const HistoryAnswer& a : s.answers) {
    const auto& in = a.result.inspection;
    json gates{{"learned", in.learned_gates},       {"image_reliance", in.image_reliance},
               {"fusion_layers", in.fusion_layers}, {"question_tokens", in.question_tokens},
               {"values", arrayJson(in.gates)},     {"routing", in.routing.data}};
    // Mean per layer over the words, as charted and as the CLI prints it.
    gates["per_layer"] = core::gate_means(in);
    gates["kind"] = core::gate_kind(in);
    json settings = parse(a.settingsJson);
    json heat;
    if (a.hasHeatmap) {
      heat = parse(historyjson::heatmap(a.heatmapRequest, a.heatmap));
      heat["grid"] = a.heatmap.shape;
    }
    answers.push_back({{"id", a.id},
                       {"image_id", a.imageId},
                       {"image_path", str(a.imagePath)},
                       {"task", a.describe ? "describe" : "ask"},
                       {"question", str(a.question)},
                       {"answer", str(a.answerText())},
                       {"confidence", a.confidence()},
                       {"calibrated", a.result.calibrated},
                       {"not_sure", !a.result.answers.empty() && a.confidence() < o.threshold},
                       {"candidates", parse(historyjson::candidates(a.result))},
                       {"tokens", parse(historyjson::tokens(a.result))},
                       {"model", str(a.model)},
                       {"settings", settings.is_discarded() ? json::object() : settings},
                       {"timings_ms", parse(historyjson::timings(a.result.timings))},
                       {"gates", gates},
                       {"heatmap", heat},
                       {"created_at", iso(a.created)}});
  }
  json root{{"format", "open-autoglm-studio-session"},
            {"version", 1},
            {"exported_at", iso(QDateTime::currentDateTimeUtc())},
            {"not_sure_below", o.threshold},
            {"session",
             {{"id", s.session.id},
              {"title", str(s.session.title)},
              {"display_title", str(s.session.displayTitle())},
              {"created_at", iso(s.session.created)},
              {"updated_at", iso(s.session.updated)}}},
            {"images", images},
            {"answers", answers}};
  const std::string out = root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return QByteArray(out.data(), qsizetype(out.size()));
}

bool writeFile(const QString& path, const QByteArray& bytes, QString* error) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
    if (error)
      *error = SessionExport::tr("%1 could not be written: %2").arg(QDir::toNativeSeparators(path), f.errorString());
    return false;
  }
  return true;
}

bool writeAssets(const Prepared& p, const QString& dir, QString* error, QStringList* files) {
  if (!QDir().mkpath(dir)) {
    if (error) *error = SessionExport::tr("The folder %1 could not be created.").arg(QDir::toNativeSeparators(dir));
    return false;
  }
  for (const Asset& a : p.assets) {
    const QString path = QDir(dir).filePath(a.name);
    if (!a.image.save(path, "PNG")) {
      if (error) *error = SessionExport::tr("%1 could not be written.").arg(QDir::toNativeSeparators(path));
      return false;
    }
    if (files) *files << path;
  }
  return true;
}

}  // namespace

// ------------------------------------------------------------- public
std::optional<ExportFormat> exportFormatFor(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == QLatin1String("html") || suffix == QLatin1String("htm")) return ExportFormat::Html;
  if (suffix == QLatin1String("md") || suffix == QLatin1String("markdown")) return ExportFormat::Markdown;
  if (suffix == QLatin1String("json")) return ExportFormat::Json;
  if (suffix == QLatin1String("pdf")) return ExportFormat::Pdf;
  return std::nullopt;
}

QString exportAssetsDir(const QString& path) {
  const QFileInfo fi(path);
  return QDir(fi.absolutePath()).filePath(fi.completeBaseName() + QStringLiteral("_files"));
}

QImage exportHeatmapOverlay(const HistoryAnswer& a, const QImage& image, const ExportOptions& o) {
  if (!a.hasHeatmap || image.isNull()) return {};
  QImage out = image.convertToFormat(QImage::Format_RGB32);
  const QImage heat = ImageView::colourHeatmap(a.heatmap, out.size(), o.colormap);
  if (heat.isNull()) return {};
  QPainter p(&out);
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  p.setOpacity(std::clamp(o.opacity, 0.0, 1.0));
  p.drawImage(out.rect(), heat);
  return out;
}

QImage exportGateChart(const core::Inspection& in, int width) {
  if (in.gates.shape.size() != 2 || in.gates.numel() == 0) return {};
  // The window's own gates panel, drawn off screen on a light palette.
  GatesPanel panel;
  panel.setAttribute(Qt::WA_DontShowOnScreen);
  panel.setPalette(QApplication::style()->standardPalette());
  panel.setAutoFillBackground(true);
  panel.setInspection(in);
  panel.ensurePolished();
  const int h = std::max(panel.sizeHint().height(), panel.minimumSizeHint().height());
  panel.resize(width, std::max(h, 260));
  if (panel.layout()) panel.layout()->activate();
  return panel.grab().toImage();
}

bool exportSession(const HistorySessionData& s, const QString& path, ExportFormat format, const ExportOptions& o,
                   QString* error, QStringList* files) {
  if (files) files->clear();
  switch (format) {
    case ExportFormat::Json: {
      if (!writeFile(path, buildJson(s, o), error)) return false;
      if (files) *files << path;
      return true;
    }
    case ExportFormat::Html:
    case ExportFormat::Markdown: {
      const Prepared p = prepare(s, o);
      const QString dir = exportAssetsDir(path);
      const QString prefix = QFileInfo(dir).fileName() + QLatin1Char('/');
      const QByteArray text = format == ExportFormat::Html ? buildHtml(s, p, o, prefix, false).toUtf8()
                                                           : buildMarkdown(s, p, o, prefix).toUtf8();
      if (!writeFile(path, text, error)) return false;
      if (files) *files << path;
      return writeAssets(p, dir, error, files);
    }
    case ExportFormat::Pdf: {
      const Prepared p = prepare(s, o);
      QTextDocument doc;
      for (const Asset& a : p.assets)
        doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("assets/") + a.name), a.image);
      doc.setHtml(buildHtml(s, p, o, QStringLiteral("assets/"), true));
      QPrinter printer(QPrinter::HighResolution);
      printer.setOutputFormat(QPrinter::PdfFormat);
      printer.setOutputFileName(path);
      printer.setPageSize(
          QPageSize(QLocale().measurementSystem() == QLocale::ImperialUSSystem ? QPageSize::Letter : QPageSize::A4));
      printer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
      printer.setDocName(sessionTitle(s));
      printer.setCreator(QStringLiteral("Open-AutoGLM Studio"));
      doc.print(&printer);
      const QFileInfo fi(path);
      if (!fi.exists() || fi.size() == 0) {
        if (error) *error = SessionExport::tr("%1 could not be written.").arg(QDir::toNativeSeparators(path));
        return false;
      }
      if (files) *files << path;
      return true;
    }
  }
  return false;
}

bool exportSession(const HistorySessionData& s, const QString& path, const ExportOptions& o, QString* error,
                   QStringList* files) {
  const auto f = exportFormatFor(path);
  if (!f) {
    if (error) *error = SessionExport::tr("Choose a file ending in .html, .md, .json or .pdf.");
    return false;
  }
  return exportSession(s, path, *f, o, error, files);
}

}  // namespace ui
