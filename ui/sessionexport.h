#pragma once
// Export of one history session:
//  - HTML report: REPORT.html and a folder REPORT_files/ beside it with the
//    images, each answer's heatmap overlay and gate chart as PNG files (the
//    HTML links them by relative path, so the two move together);
//  - Markdown: the same text and the same assets folder;
//  - JSON: everything structured (candidates, tokens, settings, timings,
//    gates, heatmap values, thumbnails as base64 PNG);
//  - PDF: the HTML report laid out by QTextDocument and printed through
//    QPrinter (PDF output), images embedded.
// Needs a QApplication (the gate charts are drawn by the app's GatesPanel).
#include <optional>

#include <QImage>
#include <QString>
#include <QStringList>

#include "core/vision/image.h"
#include "ui/historystore.h"

namespace ui {

enum class ExportFormat { Html, Markdown, Json, Pdf };

struct ExportOptions {
  core::Colormap colormap = core::Colormap::Turbo;
  double opacity = 0.5;    // of the heatmap over the image
  double threshold = 0.5;  // answers below are marked "not sure"
  int maxImageSide = 900;  // images in the report are scaled down to this
};

// By the file's suffix (.html/.htm, .md/.markdown, .json, .pdf).
std::optional<ExportFormat> exportFormatFor(const QString& path);
// The assets folder of an HTML or Markdown export: "<dir>/<name>_files".
QString exportAssetsDir(const QString& path);

// Writes the export; false with a message in *error. files (optional) gets
// every file written, the report first.
bool exportSession(const HistorySessionData& session, const QString& path, ExportFormat format,
                   const ExportOptions& options, QString* error, QStringList* files = nullptr);
bool exportSession(const HistorySessionData& session, const QString& path, const ExportOptions& options, QString* error,
                   QStringList* files = nullptr);

// The pictures of one answer, as they appear in the reports.
QImage exportHeatmapOverlay(const HistoryAnswer& a, const QImage& image, const ExportOptions& options);
QImage exportGateChart(const core::Inspection& in, int width = 520);

}  // namespace ui
