#include "ui/gatesview.h"

#include "core/engine/summary.h"

#include <algorithm>
#include <cmath>

#include <QEvent>
#include <QHelpEvent>
#include <QLocale>
#include <QPainter>
#include <QToolTip>
#include <QVBoxLayout>

namespace ui {

namespace {
QString fmt(double v, int digits = 2) { return QLocale().toString(v, 'f', digits); }
}  // namespace

QString displayToken(const std::string& piece) {
  QString s = QString::fromStdString(piece);
  if (s.startsWith(QLatin1String("##"))) s = QStringLiteral("-") + s.mid(2);
  return s;
}

// ---------------------------------------------------------------- BarChart
BarChart::BarChart(QWidget* parent) : QWidget(parent), m_color(QColor(0x3b, 0x82, 0xc4)) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void BarChart::setTitle(const QString& title) {
  m_title = title;
  update();
}

void BarChart::setData(const std::vector<double>& values, const QStringList& labels, double maxValue) {
  m_values = values;
  m_labels = labels;
  m_max = maxValue > 0 ? maxValue : 1.0;
  update();
}

void BarChart::setColor(const QColor& c) {
  m_color = c;
  update();
}

QSize BarChart::sizeHint() const { return {220, 160}; }
QSize BarChart::minimumSizeHint() const { return {120, 100}; }

QRectF BarChart::plotRect() const {
  const QFontMetrics fm(font());
  const double top = fm.height() + 8 + fm.height();  // title, value labels
  const double bottom = fm.height() + 6;             // axis labels
  return QRectF(4, top, width() - 8, height() - top - bottom);
}

QRectF BarChart::barRect(int i) const {
  const QRectF p = plotRect();
  const int n = int(m_values.size());
  const double slot = p.width() / std::max(1, n);
  const double bw = std::min(44.0, slot * 0.55);
  const double v = std::clamp(m_values[size_t(i)] / m_max, 0.0, 1.0);
  const double h = std::max(1.0, v * p.height());
  return QRectF(p.left() + slot * i + (slot - bw) / 2, p.bottom() - h, bw, h);
}

void BarChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QFontMetrics fm(font());
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRectF(0, 0, width(), fm.height() + 4), Qt::AlignLeft | Qt::AlignVCenter,
             QFontMetrics(bold).elidedText(m_title, Qt::ElideRight, width()));
  p.setFont(font());
  const QRectF pr = plotRect();
  // grid lines at 0, 0.5, 1 of the maximum
  p.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DotLine));
  for (double f : {0.5, 1.0})
    p.drawLine(QPointF(pr.left(), pr.bottom() - f * pr.height()), QPointF(pr.right(), pr.bottom() - f * pr.height()));
  p.setPen(QPen(palette().color(QPalette::Mid), 1));
  p.drawLine(pr.bottomLeft(), pr.bottomRight());
  const int n = int(m_values.size());
  const double slot = pr.width() / std::max(1, n);
  for (int i = 0; i < n; ++i) {
    const QRectF b = barRect(i);
    p.setPen(Qt::NoPen);
    p.setBrush(m_color);
    p.drawRoundedRect(b, 2, 2);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRectF(b.left() - 10, b.top() - fm.height() - 2, b.width() + 20, fm.height()), Qt::AlignCenter,
               fmt(m_values[size_t(i)]));
    const QString label = i < m_labels.size() ? m_labels[i] : QString::number(i + 1);
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRectF(pr.left() + slot * i, pr.bottom() + 3, slot, fm.height()), Qt::AlignCenter,
               fm.elidedText(label, Qt::ElideRight, int(slot)));
  }
}

bool BarChart::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    for (int i = 0; i < int(m_values.size()); ++i) {
      const QRectF pr = plotRect();
      const double slot = pr.width() / std::max<size_t>(1, m_values.size());
      if (QRectF(pr.left() + slot * i, 0, slot, height()).contains(he->pos())) {
        const QString label = i < m_labels.size() ? m_labels[i] : QString::number(i + 1);
        QToolTip::showText(he->globalPos(), QStringLiteral("%1: %2").arg(label, fmt(m_values[size_t(i)], 3)), this);
        return true;
      }
    }
    QToolTip::hideText();
    e->ignore();
    return true;
  }
  return QWidget::event(e);
}

// ---------------------------------------------------------------- GateGrid
GateGrid::GateGrid(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void GateGrid::setData(const std::vector<double>& values, int rows, int cols, const QStringList& rowLabels,
                       const QStringList& colLabels) {
  m_values = values;
  m_rows = rows;
  m_cols = cols;
  m_rowLabels = rowLabels;
  m_colLabels = colLabels;
  updateGeometry();
  update();
}

double GateGrid::value(int r, int c) const {
  if (r < 0 || c < 0 || r >= m_rows || c >= m_cols) return 0;
  return m_values[size_t(r) * size_t(m_cols) + size_t(c)];
}

QColor GateGrid::colorFor(double v) {
  // light to deep blue-green (a sequential scale that reads well on light and dark)
  v = std::clamp(v, 0.0, 1.0);
  const QColor lo(0xf1, 0xf5, 0xf9), mid(0x5e, 0xa8, 0xd6), hi(0x1e, 0x3a, 0x8a);
  auto mix = [](const QColor& a, const QColor& b, double t) {
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t),
                            float(a.greenF() + (b.greenF() - a.greenF()) * t),
                            float(a.blueF() + (b.blueF() - a.blueF()) * t));
  };
  return v < 0.5 ? mix(lo, mid, v * 2) : mix(mid, hi, (v - 0.5) * 2);
}

int GateGrid::labelWidth() const {
  const QFontMetrics fm(font());
  int w = 0;
  for (const auto& l : m_rowLabels) w = std::max(w, fm.horizontalAdvance(l));
  return w + 10;
}

int GateGrid::rowHeight() const { return std::max(24, QFontMetrics(font()).height() + 10); }

QSize GateGrid::sizeHint() const {
  const QFontMetrics fm(font());
  return {labelWidth() + std::max(1, m_cols) * 52, fm.height() + 8 + std::max(1, m_rows) * rowHeight() + 2};
}

QSize GateGrid::minimumSizeHint() const {
  const QFontMetrics fm(font());
  return {labelWidth() + std::max(1, m_cols) * 18, fm.height() + 8 + std::max(1, m_rows) * rowHeight() + 2};
}

QRectF GateGrid::cellRect(int r, int c) const {
  const QFontMetrics fm(font());
  const double left = labelWidth();
  const double top = fm.height() + 8;
  const double cw = std::min(96.0, (width() - left - 2) / std::max(1, m_cols));
  const double ch = rowHeight();
  return QRectF(left + c * cw, top + r * ch, cw, ch);
}

void GateGrid::paintEvent(QPaintEvent*) {
  if (m_rows <= 0 || m_cols <= 0) return;
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QFontMetrics fm(font());
  // column labels (tokens)
  for (int c = 0; c < m_cols; ++c) {
    const QRectF cr = cellRect(0, c);
    const QString label = c < m_colLabels.size() ? m_colLabels[c] : QString();
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRectF(cr.left(), 0, cr.width(), fm.height() + 4), Qt::AlignCenter,
               fm.elidedText(label, Qt::ElideRight, int(cr.width()) - 2));
  }
  QFont small = font();
  small.setPointSizeF(small.pointSizeF() * 0.85);
  const QFontMetrics sfm(small);
  for (int r = 0; r < m_rows; ++r) {
    const QRectF rr = cellRect(r, 0);
    p.setPen(palette().color(QPalette::WindowText));
    p.setFont(font());
    p.drawText(QRectF(0, rr.top(), labelWidth() - 6, rr.height()), Qt::AlignRight | Qt::AlignVCenter,
               r < m_rowLabels.size() ? m_rowLabels[r] : QString());
    p.setFont(small);
    for (int c = 0; c < m_cols; ++c) {
      const QRectF cr = cellRect(r, c).adjusted(1, 1, -1, -1);
      const double v = value(r, c);
      const QColor col = colorFor(v);
      p.setPen(Qt::NoPen);
      p.setBrush(col);
      p.drawRoundedRect(cr, 3, 3);
      const QString t = fmt(v);
      if (sfm.horizontalAdvance(t) + 4 < cr.width() && sfm.height() < cr.height()) {
        p.setPen(col.lightnessF() > 0.6 ? QColor(0x1f, 0x29, 0x37) : QColor(Qt::white));
        p.drawText(cr, Qt::AlignCenter, t);
      }
    }
  }
}

bool GateGrid::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    for (int r = 0; r < m_rows; ++r)
      for (int c = 0; c < m_cols; ++c)
        if (cellRect(r, c).contains(he->pos())) {
          QToolTip::showText(he->globalPos(),
                             QStringLiteral("%1 · %2: %3")
                                 .arg(r < m_rowLabels.size() ? m_rowLabels[r] : QString(),
                                      c < m_colLabels.size() ? m_colLabels[c] : QString(), fmt(value(r, c), 3)),
                             this);
          return true;
        }
    QToolTip::hideText();
    e->ignore();
    return true;
  }
  return QWidget::event(e);
}

// ---------------------------------------------------------------- GateLegend
GateLegend::GateLegend(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed); }

QSize GateLegend::sizeHint() const { return {200, QFontMetrics(font()).height() + 4}; }

void GateLegend::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QFontMetrics fm(font());
  const QString lo = fmt(0.0, 1), hi = fmt(1.0, 1);
  const int barW = std::min(160, width() / 3);
  int x = width() - barW - fm.horizontalAdvance(hi) - 6;
  const int h = fm.height();
  p.setPen(palette().color(QPalette::PlaceholderText));
  p.drawText(QRect(0, 0, x - fm.horizontalAdvance(lo) - 12, h), Qt::AlignLeft | Qt::AlignVCenter,
             fm.elidedText(m_caption, Qt::ElideRight, x - fm.horizontalAdvance(lo) - 12));
  p.drawText(QRect(x - fm.horizontalAdvance(lo) - 6, 0, fm.horizontalAdvance(lo), h), Qt::AlignRight | Qt::AlignVCenter,
             lo);
  QLinearGradient g(x, 0, x + barW, 0);
  for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) g.setColorAt(t, GateGrid::colorFor(t));
  p.setPen(Qt::NoPen);
  p.setBrush(g);
  p.setRenderHint(QPainter::Antialiasing);
  p.drawRoundedRect(QRectF(x, h / 2.0 - 5, barW, 10), 3, 3);
  p.setPen(palette().color(QPalette::PlaceholderText));
  p.drawText(QRect(x + barW + 6, 0, fm.horizontalAdvance(hi) + 2, h), Qt::AlignLeft | Qt::AlignVCenter, hi);
}

void GateLegend::setCaption(const QString& c) {
  m_caption = c;
  update();
}

// ---------------------------------------------------------------- GatesPanel
GatesPanel::GatesPanel(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->setSpacing(6);
  m_kind = new QLabel(this);
  m_kind->setObjectName(QStringLiteral("gatesKind"));
  QFont f = m_kind->font();
  f.setBold(true);
  m_kind->setFont(f);
  m_hint = new QLabel(this);
  m_hint->setWordWrap(true);
  m_hint->setForegroundRole(QPalette::PlaceholderText);
  outer->addWidget(m_kind);
  outer->addWidget(m_hint);

  m_empty = new QLabel(this);
  m_empty->setAlignment(Qt::AlignCenter);
  m_empty->setForegroundRole(QPalette::PlaceholderText);
  m_empty->setWordWrap(true);
  outer->addWidget(m_empty, 1);

  m_content = new QWidget(this);
  auto* v = new QVBoxLayout(m_content);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(10);
  m_grid = new GateGrid(m_content);
  v->addWidget(m_grid);
  m_legend = new GateLegend(m_content);
  v->addWidget(m_legend);
  v->addSpacing(4);
  auto* charts = new QHBoxLayout;
  charts->setSpacing(16);
  m_meanChart = new BarChart(m_content);
  m_meanChart->setObjectName(QStringLiteral("meanGateChart"));
  m_meanChart->setColor(QColor(0x2b, 0x7b, 0xb9));
  m_routingChart = new BarChart(m_content);
  m_routingChart->setObjectName(QStringLiteral("routingChart"));
  m_routingChart->setColor(QColor(0xe0, 0x8a, 0x1e));
  charts->addWidget(m_meanChart);
  charts->addWidget(m_routingChart);
  v->addLayout(charts, 1);
  outer->addWidget(m_content, 1);
  clear();
}

void GatesPanel::clear() {
  m_hasData = false;
  m_inspection = {};
  m_layers = 0;
  m_grid->setData({}, 0, 0, {}, {});
  m_meanChart->setData({}, {});
  m_routingChart->setData({}, {});
  m_content->hide();
  m_empty->show();
  updateTexts();
}

void GatesPanel::setInspection(const core::Inspection& in) {
  m_inspection = in;
  m_inspection.cross_attention = {};  // only the gates, routing and tokens are kept
  m_inspection.self_attention = {};
  const auto& g = in.gates;
  if (g.shape.size() != 2 || g.numel() == 0 || int64_t(g.data.size()) != g.numel()) {
    clear();
    return;
  }
  const int L = int(g.shape[0]), T = int(g.shape[1]);
  m_layers = L;
  m_learned = in.learned_gates;
  m_answerRows = in.tokens_are_answer;
  m_reliance = in.image_reliance;
  m_hasData = true;
  // Columns: the question's words (special tokens left out).
  std::vector<int> cols;
  QStringList colLabels;
  const auto special = in.special.size() == size_t(T) ? in.special : core::special_rows(in.question_tokens);
  for (int t = 0; t < T; ++t) {
    const std::string tok = t < int(in.question_tokens.size()) ? in.question_tokens[size_t(t)] : std::string();
    if (t < int(special.size()) && special[size_t(t)]) continue;
    cols.push_back(t);
    colLabels << displayToken(tok);
  }
  if (cols.empty())
    for (int t = 0; t < T; ++t) {
      cols.push_back(t);
      colLabels << QString::number(t);
    }
  QStringList rowLabels;
  for (int l = 0; l < L; ++l) {
    // Image reliance has a row per language-model layer; gates one per fusion layer.
    const int layer = !m_reliance && l < int(in.fusion_layers.size()) ? in.fusion_layers[size_t(l)] + 1 : l + 1;
    //: a row of the gate grid / bar label: encoder layer number
    rowLabels << tr("Layer %1").arg(layer);
  }
  std::vector<double> grid(size_t(L) * cols.size()), mean(size_t(L), 0.0);
  for (int l = 0; l < L; ++l) {
    for (size_t c = 0; c < cols.size(); ++c) {
      const double v = g.data[size_t(l) * size_t(T) + size_t(cols[c])];
      grid[size_t(l) * cols.size() + c] = v;
      mean[size_t(l)] += v;
    }
    mean[size_t(l)] /= double(cols.size());
  }
  m_grid->setData(grid, L, int(cols.size()), rowLabels, colLabels);
  m_meanChart->setData(mean, rowLabels, 1.0);
  std::vector<double> routing;
  for (float b : in.routing.data) routing.push_back(b);
  m_routingChart->setData(routing, rowLabels, 1.0);
  m_routingChart->setVisible(!m_reliance);
  m_empty->hide();
  m_content->show();
  updateTexts();
}

void GatesPanel::retranslate() {
  if (m_hasData) {
    const core::Inspection in = m_inspection;
    setInspection(in);  // row labels too
  } else {
    updateTexts();
  }
}

void GatesPanel::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(e);
}

void GatesPanel::updateTexts() {
  m_empty->setText(tr("Ask a question to see how much each layer and word relied on the image."));
  m_meanChart->setTitle(m_learned    ? tr("Mean gate per layer")
                        : m_reliance ? tr("Mean image reliance per layer")
                                     : tr("Mean image share per layer"));
  m_routingChart->setTitle(tr("Routing weights"));
  m_legend->setCaption(m_reliance     ? tr("Rows: language-model layers; columns: words of the answer.")
                       : m_answerRows ? tr("Rows: decoder layers; columns: words of the caption.")
                                      : tr("Rows: fusion layers; columns: words of the question."));
  if (!m_hasData) {
    m_kind->setText(tr("Fusion gates"));
    m_hint->clear();
    m_hint->hide();
    return;
  }
  m_hint->show();
  if (m_reliance) {
    m_kind->setText(tr("Image reliance (no learned gates)"));
    m_hint->setText(
        tr("The language model's share of attention on the image queries rather than the text, "
           "per layer and generated word."));
  } else if (m_learned) {
    m_kind->setText(tr("Learned gates"));
    m_hint->setText(tr("Mean gate value over channels: how much each word took from the image in each fusion layer."));
  } else {
    m_kind->setText(tr("Effective image share (no learned gates)"));
    m_hint->setText(
        m_answerRows
            ? tr("This model has no learned gates; shown is |c| / (|c| + |s|) per generated word and decoder layer.")
            : tr("This model has no learned gates; shown is |c| / (|c| + |s|) per word and fusion layer."));
  }
}

}  // namespace ui
