#include "ui/answerlist.h"

#include <algorithm>
#include <cmath>

#include <QApplication>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QTextLayout>

#include "ui/gatesview.h"

namespace ui {

namespace {
constexpr int kPad = 10;
constexpr int kBarWidth = 84;
constexpr int kBarHeight = 8;

QString pct(double v) { return QLocale().toString(v, 'f', 2); }

QFont answerFont(const QFont& base) {
  QFont f = base;
  f.setBold(true);
  f.setPointSizeF(base.pointSizeF() * 1.15);
  return f;
}
QFont smallFont(const QFont& base) {
  QFont f = base;
  f.setPointSizeF(base.pointSizeF() * 0.9);
  return f;
}

// Word-wrapped lines of text, at most maxLines, the last one elided.
QStringList wrapLines(const QString& text, const QFont& font, int width, int maxLines) {
  QStringList out;
  QTextLayout layout(text, font);
  layout.beginLayout();
  while (true) {
    QTextLine line = layout.createLine();
    if (!line.isValid()) break;
    line.setLineWidth(width);
    if (out.size() == maxLines - 1) {
      const QString rest = text.mid(line.textStart());
      out << QFontMetrics(font).elidedText(rest.simplified(), Qt::ElideRight, width);
      break;
    }
    out << text.mid(line.textStart(), line.textLength()).trimmed();
  }
  layout.endLayout();
  if (out.isEmpty()) out << QString();
  return out;
}

// A small rounded tag ("not sure", "uncalibrated"); returns its width.
int drawTag(QPainter* p, const QPointF& leftCenter, const QString& text, const QColor& fg, const QColor& bg,
            const QFont& font) {
  const QFontMetrics fm(font);
  const int w = fm.horizontalAdvance(text) + 12;
  const int h = fm.height() + 2;
  const QRectF r(leftCenter.x(), leftCenter.y() - h / 2.0, w, h);
  p->setPen(Qt::NoPen);
  p->setBrush(bg);
  p->drawRoundedRect(r, h / 2.0, h / 2.0);
  p->setPen(fg);
  p->setFont(font);
  p->drawText(r, Qt::AlignCenter, text);
  return w;
}
}  // namespace

QColor AnswerDelegate::confidenceColor(double c) {
  c = std::clamp(c, 0.0, 1.0);
  // red (0) -> amber (0.5) -> green (1)
  return QColor::fromHsvF(float(c * 0.33), 0.72f, 0.82f);
}

namespace {
// Geometry of one row, shared by sizeHint() and paint().
// The row's rounded card, tinted and marked at its left edge when selected.
void drawCard(QPainter* p, const QRect& rect, const QPalette& pal, bool selected, bool hover) {
  QColor card = pal.color(QPalette::Base);
  if (selected) {
    const QColor h = pal.color(QPalette::Highlight);
    card = QColor::fromRgbF(h.redF(), h.greenF(), h.blueF(), 0.10f);
  } else if (hover) {
    card = pal.color(QPalette::AlternateBase);
  }
  p->setPen(QPen(selected ? pal.color(QPalette::Highlight) : pal.color(QPalette::Midlight), 1));
  p->setBrush(card);
  p->drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6);
  if (selected) {
    p->setPen(Qt::NoPen);
    p->setBrush(pal.color(QPalette::Highlight));
    p->drawRoundedRect(QRectF(rect.left() + 1, rect.top() + 6, 3, rect.height() - 12), 1.5, 1.5);
  }
}

struct RowLayout {
  int width = 0;    // inner width (text area)
  int answerW = 0;  // width of the answer text (left of the confidence)
  int questionH = 0;
  int answerH = 0;  // the answer (wrapped, up to 3 lines) or the status text
  int extraH = 0;   // tags and other candidates
  int height = 0;
};

constexpr int kConfWidth = kBarWidth + 56;  // number and bar at the right of the answer

bool hasExtraLine(const QModelIndex& index, double threshold) {
  if (RowState(index.data(AnswerList::StateRole).toInt()) != RowState::Answered) return false;
  return !index.data(AnswerList::CandidatesRole).toString().isEmpty() ||
         !index.data(AnswerList::CalibratedRole).toBool() ||
         index.data(AnswerList::ConfidenceRole).toDouble() < threshold;
}

RowLayout layoutRow(const QFont& base, const QModelIndex& index, int rowWidth, double threshold) {
  RowLayout l;
  const QFontMetrics afm(answerFont(base)), sfm(smallFont(base)), fm(base);
  l.width = std::max(120, rowWidth - 2 * kPad - 6);
  l.questionH = sfm.height();
  const auto state = RowState(index.data(AnswerList::StateRole).toInt());
  if (state == RowState::Answered) {
    const QString answer = index.data(AnswerList::AnswerRole).toString();
    l.answerW = std::max(60, l.width - kConfWidth);
    const int lines = int(wrapLines(answer, answerFont(base), l.answerW, 3).size());
    l.answerH = afm.height() + (lines - 1) * afm.lineSpacing();
    if (hasExtraLine(index, threshold)) l.extraH = sfm.height() + 6;
  } else if (state == RowState::Failed) {
    const QRect br =
        sfm.boundingRect(QRect(0, 0, l.width, 10000), Qt::TextWordWrap, index.data(AnswerList::MessageRole).toString());
    l.answerH = std::min(br.height(), 4 * sfm.lineSpacing());
  } else {
    l.answerH = fm.height();
  }
  l.height = kPad + l.questionH + 4 + l.answerH + l.extraH + kPad;
  return l;
}

int rowWidthFor(const QStyleOptionViewItem& opt) {
  // QListView gives each row the viewport's width less the spacing on both sides.
  if (const auto* view = qobject_cast<const QListView*>(opt.widget))
    return view->viewport()->width() - 2 * view->spacing();
  return opt.rect.width() > 0 ? opt.rect.width() : 320;
}
}  // namespace

QSize AnswerDelegate::sizeHint(const QStyleOptionViewItem& opt, const QModelIndex& index) const {
  const RowLayout l = layoutRow(opt.font, index, rowWidthFor(opt), m_threshold);
  return {rowWidthFor(opt), l.height + 4};
}

void AnswerDelegate::paintTags(QPainter* p, const QStyleOptionViewItem& opt, const QModelIndex& index, int x, int right,
                               int y, bool unsure) const {
  const QPalette& pal = opt.palette;
  const QFont sf = smallFont(opt.font);
  const QFontMetrics sfm(sf);
  const QColor muted = pal.color(QPalette::PlaceholderText);
  const bool calibrated = index.data(AnswerList::CalibratedRole).toBool();
  const double cy = y + sfm.height() / 2.0;
  const QString notSure = tr("not sure"), uncal = tr("uncalibrated");
  auto tagWidth = [&](const QString& t) { return sfm.horizontalAdvance(t) + 12; };
  int tx = right;
  if (!calibrated) {
    tx -= tagWidth(uncal);
    drawTag(p, QPointF(tx, cy), uncal, pal.color(QPalette::WindowText), pal.color(QPalette::Midlight), sf);
    tx -= 6;
  }
  if (unsure) {
    tx -= tagWidth(notSure);
    drawTag(p, QPointF(tx, cy), notSure, QColor(0x8a, 0x4b, 0x00), QColor(0xfd, 0xe6, 0xb3), sf);
    tx -= 6;
  }
  const QString cands = index.data(AnswerList::CandidatesRole).toString();
  if (!cands.isEmpty() && tx - x > 40) {
    p->setFont(sf);
    p->setPen(muted);
    p->drawText(QRect(x, y, tx - 8 - x, sfm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                sfm.elidedText(tr("Also: %1").arg(cands), Qt::ElideRight, tx - 8 - x));
  }
}

void AnswerDelegate::paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QStyleOptionViewItem opt(option);
  initStyleOption(&opt, index);
  p->save();
  p->setRenderHint(QPainter::Antialiasing);
  const QRect rect = opt.rect.adjusted(2, 2, -2, -2);
  const QPalette& pal = opt.palette;
  const bool selected = opt.state & QStyle::State_Selected;
  const bool hover = opt.state & QStyle::State_MouseOver;
  drawCard(p, rect, pal, selected, hover);

  const QFont base = opt.font, af = answerFont(base), sf = smallFont(base);
  const QFontMetrics afm(af), sfm(sf), fm(base);
  const QColor text = pal.color(QPalette::Text), muted = pal.color(QPalette::PlaceholderText);
  const auto state = RowState(index.data(AnswerList::StateRole).toInt());
  const bool describe = index.data(AnswerList::DescribeRole).toBool();
  const RowLayout l = layoutRow(base, index, opt.rect.width(), m_threshold);
  const int x = rect.left() + kPad + 2;
  const int right = rect.right() - kPad;
  int y = rect.top() + kPad;

  // the question
  QString q = index.data(AnswerList::QuestionRole).toString();
  if (describe) q = q.isEmpty() ? tr("Describe the image") : tr("Describe: %1").arg(q);
  p->setFont(sf);
  p->setPen(muted);
  p->drawText(QRect(x, y, right - x, l.questionH), Qt::AlignLeft | Qt::AlignVCenter,
              sfm.elidedText(q, Qt::ElideRight, right - x));
  y += l.questionH + 4;

  if (state == RowState::Pending || state == RowState::Cancelled) {
    p->setFont(base);
    p->setPen(muted);
    const QString partial = index.data(AnswerList::AnswerRole).toString();
    const QString t = state == RowState::Cancelled ? tr("Cancelled")
                      : !partial.isEmpty()         ? partial + QStringLiteral(" …")
                                                   : (describe ? tr("Describing…") : tr("Thinking…"));
    p->drawText(QRect(x, y, right - x, l.answerH), Qt::AlignLeft | Qt::AlignVCenter, t);
  } else if (state == RowState::Failed) {
    p->setFont(sf);
    p->setPen(QColor(0xc0, 0x39, 0x2b));
    p->drawText(QRect(x, y, right - x, l.answerH), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
                index.data(AnswerList::MessageRole).toString());
  } else {
    const double conf = index.data(AnswerList::ConfidenceRole).toDouble();
    const bool unsure = conf < m_threshold;
    // right: the number and the bar, centred on the first line of the answer
    const int lineH = afm.height();
    const int barX = right - kBarWidth;
    const QRectF bar(barX, y + (lineH - kBarHeight) / 2.0, kBarWidth, kBarHeight);
    p->setPen(Qt::NoPen);
    p->setBrush(pal.color(QPalette::Midlight));
    p->drawRoundedRect(bar, kBarHeight / 2.0, kBarHeight / 2.0);
    QRectF fill = bar;
    fill.setWidth(std::max(double(kBarHeight), kBarWidth * std::clamp(conf, 0.0, 1.0)));
    p->setBrush(confidenceColor(conf));
    p->drawRoundedRect(fill, kBarHeight / 2.0, kBarHeight / 2.0);
    QFont numFont = base;
    numFont.setBold(true);
    p->setFont(numFont);
    p->setPen(text);
    p->drawText(QRect(barX - kConfWidth + kBarWidth, y, kConfWidth - kBarWidth - 8, lineH),
                Qt::AlignRight | Qt::AlignVCenter, pct(conf));
    // left: the answer, wrapped
    const QString answer = index.data(AnswerList::AnswerRole).toString();
    p->setFont(af);
    p->setPen(unsure ? muted : text);
    const int answerW = l.answerW;
    const QStringList lines = wrapLines(answer.isEmpty() ? tr("(empty answer)") : answer, af, answerW, 3);
    for (int i = 0; i < lines.size(); ++i)
      p->drawText(QRect(x, y + i * afm.lineSpacing(), answerW, afm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                  lines[i]);
    y += l.answerH + 6;
    // the other candidates (left) and the tags, under the confidence (right)
    if (l.extraH > 0) paintTags(p, opt, index, x, right, y, unsure);
  }
  p->restore();
}

AnswerList::AnswerList(QWidget* parent) : QListWidget(parent), m_delegate(new AnswerDelegate(this)) {
  setItemDelegate(m_delegate);
  setSelectionMode(QAbstractItemView::SingleSelection);
  setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setUniformItemSizes(false);
  setMouseTracking(true);
  setSpacing(2);
  setFrameShape(QFrame::NoFrame);
  setWordWrap(true);
}

void AnswerList::setThreshold(double t) {
  m_delegate->setThreshold(t);
  viewport()->update();
}

QListWidgetItem* AnswerList::addPending(int entry, const QString& question, bool describe) {
  auto* item = new QListWidgetItem;
  item->setData(EntryRole, entry);
  item->setData(StateRole, int(RowState::Pending));
  item->setData(QuestionRole, question);
  item->setData(DescribeRole, describe);
  addItem(item);
  return item;
}

void AnswerList::setResult(QListWidgetItem* item, const core::Result& r) {
  item->setData(StateRole, int(RowState::Answered));
  item->setData(CalibratedRole, r.calibrated);
  if (r.answers.empty()) {
    item->setData(AnswerRole, QString());
    item->setData(ConfidenceRole, 0.0);
    return;
  }
  const auto& best = r.answers.front();
  item->setData(AnswerRole, QString::fromStdString(best.text));
  item->setData(ConfidenceRole, double(best.confidence));
  QStringList cands;
  for (size_t i = 1; i < r.answers.size(); ++i)
    cands << QStringLiteral("%1 %2").arg(QString::fromStdString(r.answers[i].text), pct(r.answers[i].confidence));
  item->setData(CandidatesRole, cands.join(QStringLiteral("  ·  ")));
  // Tooltip: each answer token with its probability and alternatives.
  QString tip = QStringLiteral("<b>%1</b><table cellspacing=4>").arg(tr("Token probabilities"));
  for (const auto& t : best.tokens) {
    QStringList alts;
    for (const auto& a : t.top) {
      if (a.text == t.text) continue;
      alts << QStringLiteral("%1 %2").arg(displayToken(a.text).toHtmlEscaped(), pct(a.p));
      if (alts.size() == 3) break;
    }
    tip += QStringLiteral("<tr><td><b>%1</b></td><td align=right>%2</td><td style='color:gray'>%3</td></tr>")
               .arg(displayToken(t.text).toHtmlEscaped(), pct(t.p), alts.join(QStringLiteral(", ")));
  }
  tip += QStringLiteral("</table>");
  tip += QStringLiteral("<p>%1</p>")
             .arg(tr("Confidence %1 (sequence score %2, heuristic %3)")
                      .arg(pct(best.confidence), pct(best.raw_score), pct(best.heuristic)));
  if (!r.calibrated)
    tip += QStringLiteral("<p>%1</p>").arg(tr("This model has no calibration; the confidence is not calibrated."));
  item->setToolTip(tip);
}

void AnswerList::setPartial(QListWidgetItem* item, const QString& text) {
  if (RowState(item->data(StateRole).toInt()) == RowState::Pending) item->setData(AnswerRole, text);
}

void AnswerList::setFailed(QListWidgetItem* item, const QString& message) {
  item->setData(StateRole, int(RowState::Failed));
  item->setData(MessageRole, message);
  item->setToolTip(message);
}

void AnswerList::setCancelled(QListWidgetItem* item) { item->setData(StateRole, int(RowState::Cancelled)); }

QListWidgetItem* AnswerList::itemForEntry(int entry) const {
  for (int i = 0; i < count(); ++i)
    if (item(i)->data(EntryRole).toInt() == entry) return item(i);
  return nullptr;
}

bool AnswerList::notSure(const QListWidgetItem* item) const {
  return item && RowState(item->data(StateRole).toInt()) == RowState::Answered &&
         item->data(ConfidenceRole).toDouble() < threshold();
}

void AnswerList::setPlaceholderText(const QString& t) {
  m_placeholder = t;
  viewport()->update();
}

void AnswerList::paintEvent(QPaintEvent* e) {
  QListWidget::paintEvent(e);
  if (count() == 0 && !m_placeholder.isEmpty()) {
    QPainter p(viewport());
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(viewport()->rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
  }
}

void AnswerList::resizeEvent(QResizeEvent* e) {
  QListWidget::resizeEvent(e);
  doItemsLayout();  // rows re-wrap to the new width
}

}  // namespace ui
