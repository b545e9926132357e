#pragma once
// The fusion gates of one result: a bar chart of the mean gate per fusion
// layer, a bar chart of the routing weights, and a layer x token grid of the
// gate values. Plain QPainter widgets (no Qt Charts needed).
#include <vector>

#include <QLabel>
#include <QStringList>
#include <QWidget>

#include "core/engine/engine.h"

namespace ui {

class BarChart : public QWidget {
  Q_OBJECT

 public:
  explicit BarChart(QWidget* parent = nullptr);
  void setTitle(const QString& title);
  void setData(const std::vector<double>& values, const QStringList& labels, double maxValue = 1.0);
  void setColor(const QColor& c);
  const std::vector<double>& values() const { return m_values; }
  const QStringList& labels() const { return m_labels; }
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent*) override;
  bool event(QEvent* e) override;  // tooltips

 private:
  QRectF barRect(int i) const;
  QRectF plotRect() const;
  QString m_title;
  std::vector<double> m_values;
  QStringList m_labels;
  double m_max = 1.0;
  QColor m_color;
};

class GateGrid : public QWidget {
  Q_OBJECT

 public:
  explicit GateGrid(QWidget* parent = nullptr);
  // values: rows x cols, row-major, in [0, 1]
  void setData(const std::vector<double>& values, int rows, int cols, const QStringList& rowLabels,
               const QStringList& colLabels);
  int rows() const { return m_rows; }
  int columns() const { return m_cols; }
  double value(int row, int col) const;
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;
  static QColor colorFor(double v);

 protected:
  void paintEvent(QPaintEvent*) override;
  bool event(QEvent* e) override;

 private:
  QRectF cellRect(int r, int c) const;
  int labelWidth() const;
  int rowHeight() const;
  std::vector<double> m_values;
  int m_rows = 0, m_cols = 0;
  QStringList m_rowLabels, m_colLabels;
};

// The colour scale of the grid.
class GateLegend : public QWidget {
  Q_OBJECT

 public:
  explicit GateLegend(QWidget* parent = nullptr);
  void setCaption(const QString& c);
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  QString m_caption;
};

class GatesPanel : public QWidget {
  Q_OBJECT

 public:
  explicit GatesPanel(QWidget* parent = nullptr);
  void setInspection(const core::Inspection& in);
  void clear();
  void retranslate();

  int layerCount() const { return m_layers; }
  bool learnedGates() const { return m_learned; }
  const std::vector<double>& meanGates() const { return m_meanChart->values(); }
  const std::vector<double>& routing() const { return m_routingChart->values(); }
  const GateGrid* grid() const { return m_grid; }
  QString kindText() const { return m_kind->text(); }

 protected:
  void changeEvent(QEvent* e) override;

 private:
  void updateTexts();
  QLabel* m_kind;
  QLabel* m_hint;
  BarChart* m_meanChart;
  BarChart* m_routingChart;
  GateGrid* m_grid;
  GateLegend* m_legend;
  QLabel* m_empty;
  QWidget* m_content;
  core::Inspection m_inspection;  // what is shown (for retranslation)
  int m_layers = 0;
  bool m_learned = true;
  bool m_hasData = false;
  bool m_answerRows = false;
  bool m_reliance = false;  // gates are the language model's image reliance (BLIP-2)
};

// Display form of a WordPiece token ("##s" -> "-s").
QString displayToken(const std::string& piece);

}  // namespace ui
