#include "ui/alignpanel.h"

#include <algorithm>
#include <numeric>

#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace ui {

namespace {
constexpr int kBarHeight = 18, kBarGap = 6;
}

LabelChart::LabelChart(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Minimum);
}

void LabelChart::setDistribution(const QStringList& labels, const QList<float>& probabilities,
                                 const QList<float>& matching) {
  std::vector<int> order(size_t(std::min(labels.size(), probabilities.size())));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return probabilities[a] > probabilities[b]; });
  m_labels.clear();
  m_probs.clear();
  m_match.clear();
  for (int i : order) {
    m_labels << labels[i];
    m_probs << probabilities[i];
    if (matching.size() == labels.size()) m_match << matching[i];
  }
  setToolTip(m_match.isEmpty() ? QString()
                               : tr("Bars: the label distribution by similarity. Right: the matching head's "
                                    "probability that the label matches the image. Click a label to see "
                                    "where it matches."));
  setCursor(m_match.isEmpty() ? Qt::ArrowCursor : Qt::PointingHandCursor);
  updateGeometry();
  update();
  Q_EMIT distributionChanged();
}

void LabelChart::mousePressEvent(QMouseEvent* e) {
  const int row = int(e->position().y() - kBarGap / 2) / (kBarHeight + kBarGap);
  if (e->button() == Qt::LeftButton && row >= 0 && row < m_labels.size()) Q_EMIT labelClicked(m_labels[row]);
  QWidget::mousePressEvent(e);
}

QSize LabelChart::sizeHint() const {
  return {240, std::max(1, int(m_labels.size())) * (kBarHeight + kBarGap) + kBarGap};
}
QSize LabelChart::minimumSizeHint() const { return {120, sizeHint().height()}; }

void LabelChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QFontMetrics fm(font());
  int labelW = 0;
  for (const QString& l : m_labels) labelW = std::max(labelW, fm.horizontalAdvance(l));
  labelW = std::min(labelW + 8, width() / 2);
  const int pctW =
      fm.horizontalAdvance(m_match.isEmpty() ? QStringLiteral("100.0%") : QStringLiteral("100.0%  ✓100%")) + 8;
  const int barX = labelW, barW = std::max(10, width() - labelW - pctW);
  for (int i = 0; i < m_labels.size(); ++i) {
    const int y = kBarGap + i * (kBarHeight + kBarGap);
    const QRect textRect(0, y, labelW - 6, kBarHeight);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(textRect, Qt::AlignRight | Qt::AlignVCenter,
               fm.elidedText(m_labels[i], Qt::ElideRight, textRect.width()));
    const QRectF track(barX, y + 2, barW, kBarHeight - 4);
    p.setPen(Qt::NoPen);
    p.setBrush(palette().color(QPalette::AlternateBase));
    p.drawRoundedRect(track, 3, 3);
    QColor c = palette().color(QPalette::Highlight);
    if (i > 0) c.setAlphaF(0.55f);
    p.setBrush(c);
    p.drawRoundedRect(QRectF(track.x(), track.y(), std::max(2.0, track.width() * double(m_probs[i])), track.height()),
                      3, 3);
    p.setPen(palette().color(QPalette::WindowText));
    QString value = QString::number(100.0 * double(m_probs[i]), 'f', 1) + QLatin1Char('%');
    //: after a label's share: the matching head's probability (✓ marks it)
    if (i < m_match.size()) value += tr("  ✓%1%").arg(QString::number(100.0 * double(m_match[i]), 'f', 0));
    p.drawText(QRect(barX + barW + 4, y, pctW - 4, kBarHeight), Qt::AlignLeft | Qt::AlignVCenter, value);
  }
}

AlignPanel::AlignPanel(QWidget* parent) : QWidget(parent) {
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(6, 6, 6, 6);
  v->setSpacing(6);
  m_searchTitle = new QLabel(this);
  QFont titleFont = m_searchTitle->font();
  titleFont.setBold(true);
  m_searchTitle->setFont(titleFont);
  m_search = new QLineEdit(this);
  m_search->setObjectName(QStringLiteral("searchText"));
  m_search->setClearButtonEnabled(true);
  m_search->setMaxLength(2000);
  m_searchButton = new QPushButton(this);
  m_searchButton->setObjectName(QStringLiteral("searchButton"));
  m_clearButton = new QPushButton(this);
  m_clearButton->setObjectName(QStringLiteral("clearSearchButton"));
  auto* sr = new QHBoxLayout;
  sr->addStretch(1);
  sr->addWidget(m_clearButton);
  sr->addWidget(m_searchButton);
  v->addWidget(m_searchTitle);
  v->addWidget(m_search);
  v->addLayout(sr);

  m_labelsTitle = new QLabel(this);
  m_labelsTitle->setFont(titleFont);
  m_labels = new QLineEdit(this);
  m_labels->setObjectName(QStringLiteral("labelsText"));
  m_labels->setClearButtonEnabled(true);
  m_labels->setMaxLength(4000);
  m_labelButton = new QPushButton(this);
  m_labelButton->setObjectName(QStringLiteral("labelButton"));
  auto* lr = new QHBoxLayout;
  lr->addStretch(1);
  lr->addWidget(m_labelButton);
  v->addSpacing(4);
  v->addWidget(m_labelsTitle);
  v->addWidget(m_labels);
  v->addLayout(lr);

  m_progress = new QProgressBar(this);
  m_progress->setObjectName(QStringLiteral("alignProgress"));
  m_progress->setTextVisible(true);
  m_cancel = new QPushButton(this);
  m_cancel->setObjectName(QStringLiteral("alignCancel"));
  auto* pr = new QHBoxLayout;
  pr->addWidget(m_progress, 1);
  pr->addWidget(m_cancel);
  v->addLayout(pr);
  m_status = new QLabel(this);
  m_status->setObjectName(QStringLiteral("alignStatus"));
  m_status->setWordWrap(true);
  m_status->setForegroundRole(QPalette::PlaceholderText);
  v->addWidget(m_status);
  m_chartTitle = new QLabel(this);
  m_chartTitle->setFont(titleFont);
  v->addWidget(m_chartTitle);
  m_chart = new LabelChart(this);
  m_chart->setObjectName(QStringLiteral("labelChart"));
  v->addWidget(m_chart);
  // The chart and its title only show once the selected image has labels.
  auto showChart = [this] {
    const bool any = !m_chart->labels().isEmpty();
    m_chartTitle->setVisible(any);
    m_chart->setVisible(any);
  };
  connect(m_chart, &LabelChart::distributionChanged, this, showChart);
  showChart();
  v->addStretch(1);

  connect(m_search, &QLineEdit::returnPressed, m_searchButton, &QPushButton::click);
  connect(m_labels, &QLineEdit::returnPressed, m_labelButton, &QPushButton::click);
  connect(m_search, &QLineEdit::textChanged, this, [this] { updateEnabled(); });
  connect(m_labels, &QLineEdit::textChanged, this, [this] { updateEnabled(); });
  connect(m_searchButton, &QPushButton::clicked, this, [this] {
    if (!m_search->text().trimmed().isEmpty()) Q_EMIT searchRequested(m_search->text().trimmed());
  });
  connect(m_labelButton, &QPushButton::clicked, this, [this] {
    const QStringList l = splitLabels(m_labels->text());
    if (l.size() >= 2)
      Q_EMIT labelsRequested(l);
    else
      setStatus(tr("Type at least two labels, separated by commas."));
  });
  connect(m_clearButton, &QPushButton::clicked, this, &AlignPanel::clearRequested);
  connect(m_cancel, &QPushButton::clicked, this, &AlignPanel::cancelRequested);
  retranslateUi();
  setRunning(false);
}

QStringList AlignPanel::splitLabels(const QString& text) {
  QStringList out;
  for (const QString& part : text.split(QLatin1Char(','))) {
    const QString t = part.trimmed();
    if (!t.isEmpty() && !out.contains(t)) out << t;
  }
  return out;
}

void AlignPanel::setAvailable(bool available, const QString& reason) {
  m_available = available;
  if (!available) setStatus(reason);
  updateEnabled();
}

void AlignPanel::setRunning(bool running) {
  m_running = running;
  m_progress->setVisible(running);
  m_cancel->setVisible(running);
  if (running) m_progress->setRange(0, 0);
  updateEnabled();
}

void AlignPanel::setProgress(int done, int total) {
  m_progress->setRange(0, std::max(1, total));
  m_progress->setValue(done);
  m_progress->setFormat(tr("%1 of %2 images").arg(done).arg(total));
}

void AlignPanel::setStatus(const QString& text) { m_status->setText(text); }

void AlignPanel::updateEnabled() {
  m_search->setEnabled(m_available);
  m_labels->setEnabled(m_available);
  m_searchButton->setEnabled(m_available && !m_search->text().trimmed().isEmpty());
  m_labelButton->setEnabled(m_available && !m_labels->text().trimmed().isEmpty());
}

void AlignPanel::retranslateUi() {
  m_searchTitle->setText(tr("Search the images by text"));
  m_search->setPlaceholderText(tr("e.g. a red star left of a circle"));
  m_searchButton->setText(tr("Search"));
  m_clearButton->setText(tr("Clear"));
  m_clearButton->setToolTip(tr("Put the images back in the order they were added"));
  m_labelsTitle->setText(tr("Zero-shot labels"));
  m_labels->setPlaceholderText(tr("e.g. a red circle, a blue square, a green star"));
  m_labelButton->setText(tr("Label"));
  m_labelButton->setToolTip(tr("Score every image against these labels"));
  m_cancel->setText(tr("Cancel"));
  m_chartTitle->setText(tr("Labels of this image"));
}

void AlignPanel::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslateUi();
  QWidget::changeEvent(e);
}

}  // namespace ui
