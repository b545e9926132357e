#include "ui/imageconvert.h"

#include <cstring>

#include <QPainter>

namespace ui {

QImage toQImage(const core::Image& img) {
  if (img.empty() || img.rgb.size() < static_cast<size_t>(img.width) * static_cast<size_t>(img.height) * 3) return {};
  QImage out(img.width, img.height, QImage::Format_RGB888);
  const size_t row = static_cast<size_t>(img.width) * 3;
  for (int y = 0; y < img.height; ++y) std::memcpy(out.scanLine(y), img.rgb.data() + static_cast<size_t>(y) * row, row);
  return out;
}

core::Image fromQImage(const QImage& in) {
  core::Image out;
  if (in.isNull()) return out;
  QImage rgb;
  if (in.hasAlphaChannel()) {
    rgb = QImage(in.size(), QImage::Format_RGB888);
    rgb.fill(Qt::white);
    QPainter p(&rgb);
    p.drawImage(0, 0, in);
  } else {
    rgb = in.convertToFormat(QImage::Format_RGB888);
  }
  out.width = rgb.width();
  out.height = rgb.height();
  const size_t row = static_cast<size_t>(out.width) * 3;
  out.rgb.resize(row * static_cast<size_t>(out.height));
  for (int y = 0; y < out.height; ++y)
    std::memcpy(out.rgb.data() + static_cast<size_t>(y) * row, rgb.constScanLine(y), row);
  return out;
}

}  // namespace ui
