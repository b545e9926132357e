#include "ui/imageview.h"

#include <algorithm>
#include <cmath>

#include <QGraphicsPixmapItem>
#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QWheelEvent>

#include "ui/imageconvert.h"

namespace ui {

namespace {
constexpr double kMinZoom = 0.02, kMaxZoom = 32.0, kStep = 1.25;
constexpr int kMaxOverlaySide = 1024;
}  // namespace

ImageView::ImageView(QWidget* parent) : QGraphicsView(parent), m_scene(new QGraphicsScene(this)) {
  setScene(m_scene);
  m_imageItem = m_scene->addPixmap(QPixmap());
  m_imageItem->setTransformationMode(Qt::SmoothTransformation);
  m_overlayItem = m_scene->addPixmap(QPixmap());
  m_overlayItem->setTransformationMode(Qt::SmoothTransformation);
  m_overlayItem->setZValue(1);
  m_overlayItem->setOpacity(m_opacity);
  setRenderHints(QPainter::Antialiasing | QPainter::SmoothPixmapTransform);
  setDragMode(QGraphicsView::ScrollHandDrag);
  setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
  setResizeAnchor(QGraphicsView::AnchorViewCenter);
  setFrameShape(QFrame::NoFrame);
  setMouseTracking(true);
  viewport()->setMouseTracking(true);
  // Drops go to the main window, which knows what to do with files.
  setAcceptDrops(false);
  viewport()->setAcceptDrops(false);
  setMinimumSize(240, 180);

  m_hoverLabel = new QLabel(this);
  m_hoverLabel->setObjectName(QStringLiteral("hoverLabel"));
  m_hoverLabel->setStyleSheet(QStringLiteral(
      "QLabel#hoverLabel { background: rgba(20, 22, 26, 200); color: white; border-radius: 4px; padding: 3px 7px; }"));
  m_hoverLabel->setAttribute(Qt::WA_TransparentForMouseEvents);
  m_hoverLabel->hide();
}

void ImageView::setImage(const QImage& image) {
  m_image = image;
  m_imageItem->setPixmap(QPixmap::fromImage(image));
  m_scene->setSceneRect(QRectF(QPointF(0, 0), QSizeF(image.size())));
  m_map = {};
  rebuildOverlay();
  zoomToFit();
  viewport()->update();
}

void ImageView::clear() { setImage(QImage()); }

void ImageView::setHeatmap(const core::Array& map) {
  m_map = map;
  rebuildOverlay();
}

void ImageView::setColormap(core::Colormap c) {
  if (c == m_cmap) return;
  m_cmap = c;
  rebuildOverlay();
}

void ImageView::setOverlayOpacity(double opacity) {
  m_opacity = std::clamp(opacity, 0.0, 1.0);
  m_overlayItem->setOpacity(m_opacity);
}

void ImageView::setOverlayVisible(bool visible) {
  m_overlayVisible = visible;
  m_overlayItem->setVisible(visible && !m_overlay.isNull());
}

namespace {
// The colour map as 256 RGB entries, from core's renderer (a 0..1 ramp).
const std::vector<QRgb>& colormapLut(core::Colormap c) {
  static std::vector<QRgb> luts[4];
  auto& lut = luts[std::clamp(int(c), 0, 3)];
  if (lut.empty()) {
    core::Array ramp;
    ramp.shape = {1, 256};
    for (int i = 0; i < 256; ++i) ramp.data.push_back(float(i) / 255.f);
    const core::Image img = core::render_heatmap(ramp, 256, 1, c);
    for (int i = 0; i < 256; ++i) {
      const uint8_t* px = img.rgb.data() + 3 * i;
      lut.push_back(qRgb(px[0], px[1], px[2]));
    }
  }
  return lut;
}
}  // namespace

QImage ImageView::colourHeatmap(const core::Array& map, const QSize& size, core::Colormap cmap) {
  if (map.shape.size() != 2 || map.numel() <= 0 || int64_t(map.data.size()) != map.numel() || size.isEmpty()) return {};
  const int gh = int(map.shape[0]), gw = int(map.shape[1]);
  const auto [mn, mx] = std::minmax_element(map.data.begin(), map.data.end());
  const double mean = 1.0 / double(map.numel());  // the map sums to 1
  // Min-max scaling, except that differences much smaller than the uniform
  // share do not get the whole colour range: a flat map stays flat (low).
  const double span = std::max(double(*mx - *mn), 0.5 * mean);
  QImage grid(gw, gh, QImage::Format_Grayscale8);
  for (int y = 0; y < gh; ++y) {
    uchar* row = grid.scanLine(y);
    for (int x = 0; x < gw; ++x) {
      const double t = (map.data[size_t(y) * size_t(gw) + size_t(x)] - *mn) / span;
      row[x] = uchar(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
    }
  }
  const QImage up = grid.scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  const auto& lut = colormapLut(cmap);
  QImage out(size, QImage::Format_RGB32);
  for (int y = 0; y < out.height(); ++y) {
    const uchar* src = up.constScanLine(y);
    auto* dst = reinterpret_cast<QRgb*>(out.scanLine(y));
    for (int x = 0; x < out.width(); ++x) dst[x] = lut[src[x]];
  }
  return out;
}

void ImageView::rebuildOverlay() {
  m_overlay = QImage();
  if (!m_image.isNull() && m_map.shape.size() == 2 && m_map.numel() > 0 &&
      static_cast<int64_t>(m_map.data.size()) == m_map.numel()) {
    const double s = std::min(1.0, double(kMaxOverlaySide) / std::max(m_image.width(), m_image.height()));
    const int w = std::max(1, int(std::lround(m_image.width() * s)));
    const int h = std::max(1, int(std::lround(m_image.height() * s)));
    try {
      m_overlay = colourHeatmap(m_map, QSize(w, h), m_cmap);
    } catch (const std::exception&) {
      m_overlay = QImage();
    }
  }
  m_overlayItem->setPixmap(QPixmap::fromImage(m_overlay));
  if (!m_overlay.isNull())
    m_overlayItem->setTransform(QTransform::fromScale(double(m_image.width()) / m_overlay.width(),
                                                      double(m_image.height()) / m_overlay.height()));
  m_overlayItem->setVisible(m_overlayVisible && !m_overlay.isNull());
}

QImage ImageView::composedImage() const {
  if (m_image.isNull()) return {};
  QImage out = m_image.convertToFormat(QImage::Format_RGB32);
  if (!m_overlay.isNull() && m_overlayVisible) {
    QPainter p(&out);
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    p.setOpacity(m_opacity);
    p.drawImage(out.rect(), m_overlay);
  }
  return out;
}

double ImageView::valueAt(const QPointF& pos) const {
  if (m_image.isNull() || m_map.shape.size() != 2 || m_map.data.empty()) return -1;
  if (pos.x() < 0 || pos.y() < 0 || pos.x() >= m_image.width() || pos.y() >= m_image.height()) return -1;
  const int gh = int(m_map.shape[0]), gw = int(m_map.shape[1]);
  const int gx = std::clamp(int(pos.x() * gw / m_image.width()), 0, gw - 1);
  const int gy = std::clamp(int(pos.y() * gh / m_image.height()), 0, gh - 1);
  return m_map.data[size_t(gy) * size_t(gw) + size_t(gx)];
}

void ImageView::setPlaceholderText(const QString& text) {
  m_placeholder = text;
  viewport()->update();
}

double ImageView::zoomFactor() const { return transform().m11(); }

void ImageView::applyZoom(double factor) {
  const double current = zoomFactor();
  const double target = std::clamp(current * factor, kMinZoom, kMaxZoom);
  if (current <= 0) return;
  scale(target / current, target / current);
  Q_EMIT zoomChanged(zoomFactor());
}

void ImageView::zoomIn() {
  m_fit = false;
  applyZoom(kStep);
}

void ImageView::zoomOut() {
  m_fit = false;
  applyZoom(1 / kStep);
}

void ImageView::zoomActualSize() {
  m_fit = false;
  resetTransform();
  Q_EMIT zoomChanged(1.0);
}

void ImageView::zoomToFit() {
  m_fit = true;
  resetTransform();
  if (!m_image.isNull()) {
    const QRectF r = m_scene->sceneRect();
    const QSizeF avail = QSizeF(viewport()->size()) - QSizeF(16, 16);
    if (avail.width() > 0 && avail.height() > 0) {
      const double s = std::min(avail.width() / r.width(), avail.height() / r.height());
      scale(s, s);
    }
    centerOn(r.center());
  }
  Q_EMIT zoomChanged(zoomFactor());
}

void ImageView::resizeEvent(QResizeEvent* e) {
  QGraphicsView::resizeEvent(e);
  if (m_fit) zoomToFit();
}

void ImageView::wheelEvent(QWheelEvent* e) {
  if (m_image.isNull()) return;
  // Plain wheel zooms when the whole image is visible; otherwise it scrolls
  // unless Ctrl is held.
  const bool scrollable = horizontalScrollBar()->maximum() > 0 || verticalScrollBar()->maximum() > 0;
  if ((e->modifiers() & Qt::ControlModifier) || !scrollable) {
    const double steps = e->angleDelta().y() / 120.0;
    if (steps != 0) {
      m_fit = false;
      applyZoom(std::pow(kStep, steps));
    }
    e->accept();
    return;
  }
  QGraphicsView::wheelEvent(e);
}

void ImageView::mouseMoveEvent(QMouseEvent* e) {
  QGraphicsView::mouseMoveEvent(e);
  if (m_image.isNull()) return;
  const QPointF sp = mapToScene(e->position().toPoint());
  if (sp.x() < 0 || sp.y() < 0 || sp.x() >= m_image.width() || sp.y() >= m_image.height()) {
    m_hoverLabel->hide();
    Q_EMIT hoverLeft();
    return;
  }
  const QPoint px(int(sp.x()), int(sp.y()));
  const double v = valueAt(sp);
  Q_EMIT hovered(px, v);
  if (v >= 0 && m_overlayItem->isVisible()) {
    const int cells = int(m_map.shape[0] * m_map.shape[1]);
    //: hover read-out over the heatmap: share of the attention in that cell, and the uniform share
    m_hoverLabel->setText(tr("Attention %1% (uniform %2%)")
                              .arg(QLocale().toString(v * 100.0, 'f', 2), QLocale().toString(100.0 / cells, 'f', 2)));
    m_hoverLabel->adjustSize();
    m_hoverLabel->move(8, 8);
    m_hoverLabel->show();
  } else {
    m_hoverLabel->hide();
  }
}

void ImageView::leaveEvent(QEvent* e) {
  QGraphicsView::leaveEvent(e);
  m_hoverLabel->hide();
  Q_EMIT hoverLeft();
}

void ImageView::drawBackground(QPainter* p, const QRectF& rect) {
  p->fillRect(rect, palette().color(QPalette::Base).darker(104));
}

void ImageView::drawForeground(QPainter* p, const QRectF& rect) {
  Q_UNUSED(rect);
  if (!m_image.isNull() || m_placeholder.isEmpty()) return;
  p->save();
  p->resetTransform();
  const QRectF r = QRectF(viewport()->rect()).adjusted(24, 24, -24, -24);
  QPen pen(palette().color(QPalette::Mid), 2, Qt::DashLine);
  p->setPen(pen);
  p->setBrush(Qt::NoBrush);
  p->setRenderHint(QPainter::Antialiasing);
  p->drawRoundedRect(r, 12, 12);
  p->setPen(palette().color(QPalette::PlaceholderText));
  QFont f = font();
  f.setPointSizeF(f.pointSizeF() * 1.15);
  p->setFont(f);
  p->drawText(r.adjusted(24, 24, -24, -24), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
  p->restore();
}

}  // namespace ui
