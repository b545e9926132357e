#pragma once
// The current image with the heatmap overlaid: fits the window until the
// user zooms (Ctrl+wheel, or the zoom actions), pans by dragging, and reports
// the heatmap value under the cursor.
#include <QGraphicsView>
#include <QImage>

#include "core/engine/engine.h"
#include "core/vision/image.h"

class QGraphicsPixmapItem;
class QLabel;

namespace ui {

class ImageView : public QGraphicsView {
  Q_OBJECT

 public:
  explicit ImageView(QWidget* parent = nullptr);

  void setImage(const QImage& image);  // clears the heatmap and fits the window
  void clear();
  const QImage& image() const { return m_image; }
  bool hasImage() const { return !m_image.isNull(); }

  // map: [gh, gw] (sums to 1); an empty array removes the overlay.
  void setHeatmap(const core::Array& map);
  void clearHeatmap() { setHeatmap({}); }
  const core::Array& heatmap() const { return m_map; }
  bool hasHeatmap() const { return !m_map.data.empty(); }
  void setColormap(core::Colormap c);
  core::Colormap colormap() const { return m_cmap; }
  void setOverlayOpacity(double opacity);  // 0..1
  double overlayOpacity() const { return m_opacity; }
  void setOverlayVisible(bool visible);
  bool overlayVisible() const { return m_overlayVisible; }

  // The image at full resolution with the overlay as shown (for saving).
  QImage composedImage() const;
  // The heatmap value (share of the attention) at an image pixel; -1 outside.
  double valueAt(const QPointF& imagePos) const;

  void setPlaceholderText(const QString& text);
  // The colour-mapped map at `size` (bilinear upsampling). Scaled from its
  // minimum to its maximum, but never over less than half the uniform share,
  // so a nearly flat map does not look like a sharp one.
  static QImage colourHeatmap(const core::Array& map, const QSize& size, core::Colormap cmap);
  double zoomFactor() const;
  bool fitsWindow() const { return m_fit; }

 public Q_SLOTS:
  void zoomIn();
  void zoomOut();
  void zoomToFit();
  void zoomActualSize();

 Q_SIGNALS:
  void zoomChanged(double factor);
  // Hovering over the image: the pixel and the heatmap value there (-1: none).
  void hovered(const QPoint& pixel, double value);
  void hoverLeft();

 protected:
  void resizeEvent(QResizeEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void leaveEvent(QEvent* e) override;
  void drawBackground(QPainter* p, const QRectF& rect) override;
  void drawForeground(QPainter* p, const QRectF& rect) override;

 private:
  void rebuildOverlay();
  void applyZoom(double factor);

  QGraphicsScene* m_scene;
  QGraphicsPixmapItem* m_imageItem;
  QGraphicsPixmapItem* m_overlayItem;
  QLabel* m_hoverLabel;
  QImage m_image;
  QImage m_overlay;  // colour-mapped heatmap (at most 1024 px on the long side)
  core::Array m_map;
  core::Colormap m_cmap = core::Colormap::Turbo;
  double m_opacity = 0.5;
  bool m_overlayVisible = true;
  bool m_fit = true;
  QString m_placeholder;
};

}  // namespace ui
