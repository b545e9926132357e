#include "ui/historypanel.h"

#include <QAction>
#include <QApplication>
#include <QEvent>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/historystore.h"

namespace ui {

namespace {

// Two or three lines a session: the title (bold), date and counts, and with
// a search the question and answer that matched; each elided to the width.
class SessionDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  static QFont small(const QFont& f) {
    QFont s = f;
    s.setPointSizeF(f.pointSizeF() * 0.9);
    return s;
  }

  QSize sizeHint(const QStyleOptionViewItem& opt, const QModelIndex& index) const override {
    const QFontMetrics fm(opt.font), sm(small(opt.font));
    int h = 8 + fm.height() + 2 + sm.height();
    if (!index.data(HistoryPanel::MatchRole).toString().isEmpty()) h += 2 + sm.height();
    return {opt.rect.width() > 0 ? opt.rect.width() : 200, h};
  }

  void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    QStyleOptionViewItem opt(option);
    initStyleOption(&opt, index);
    opt.text.clear();
    const QWidget* w = opt.widget;
    QStyle* style = w ? w->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, p, w);
    p->save();
    const bool selected = opt.state & QStyle::State_Selected;
    const QPalette& pal = opt.palette;
    const QColor text = pal.color(selected ? QPalette::HighlightedText : QPalette::Text);
    QColor dim = text;
    dim.setAlphaF(0.7f);
    const QRect r = opt.rect.adjusted(8, 4, -6, -4);
    QFont tf = opt.font;
    tf.setBold(true);
    const QFontMetrics fm(tf), sm(small(opt.font));
    int y = r.top();
    QString title = index.data(HistoryPanel::TitleRole).toString();
    const bool current = index.data(HistoryPanel::CurrentRole).toBool();
    int x = r.left();
    if (current) {
      // A dot before the session the window shows.
      p->setRenderHint(QPainter::Antialiasing);
      p->setPen(Qt::NoPen);
      p->setBrush(selected ? text : pal.color(QPalette::Highlight));
      const int d = fm.height() / 2;
      p->drawEllipse(QRectF(x, y + (fm.height() - d) / 2.0, d, d));
      x += d + 5;
    }
    p->setFont(tf);
    p->setPen(text);
    p->drawText(QRect(x, y, r.right() - x, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                fm.elidedText(title, Qt::ElideRight, r.right() - x));
    y += fm.height() + 2;
    p->setFont(small(opt.font));
    p->setPen(dim);
    p->drawText(QRect(r.left(), y, r.width(), sm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                sm.elidedText(index.data(HistoryPanel::MetaRole).toString(), Qt::ElideRight, r.width()));
    const QString match = index.data(HistoryPanel::MatchRole).toString();
    if (!match.isEmpty()) {
      y += sm.height() + 2;
      QFont it = small(opt.font);
      it.setItalic(true);
      p->setFont(it);
      p->drawText(QRect(r.left(), y, r.width(), sm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                  QFontMetrics(it).elidedText(match, Qt::ElideRight, r.width()));
    }
    p->restore();
  }
};

QString shortWhen(const QDateTime& utc) {
  const QLocale loc;
  const QDateTime t = utc.toLocalTime();
  const QString time = loc.toString(t.time(), QLocale::ShortFormat);
  if (t.date() == QDate::currentDate()) return time;
  return loc.toString(t.date(), QLocale::ShortFormat) + QLatin1Char(' ') + time;
}

}  // namespace

HistoryPanel::HistoryPanel(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("historyPanel"));
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(6, 4, 6, 6);
  v->setSpacing(6);
  m_search = new QLineEdit(this);
  m_search->setObjectName(QStringLiteral("historySearch"));
  m_search->setClearButtonEnabled(true);
  v->addWidget(m_search);

  m_list = new QListWidget(this);
  m_list->setObjectName(QStringLiteral("historyList"));
  m_list->setSelectionMode(QAbstractItemView::SingleSelection);
  m_list->setItemDelegate(new SessionDelegate(m_list));
  m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  m_list->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  m_list->setSpacing(1);
  m_list->setUniformItemSizes(false);
  m_list->setContextMenuPolicy(Qt::ActionsContextMenu);
  v->addWidget(m_list, 1);
  m_empty = new QLabel(this);
  m_empty->setWordWrap(true);
  m_empty->setAlignment(Qt::AlignCenter);
  m_empty->setForegroundRole(QPalette::PlaceholderText);
  m_empty->hide();
  v->addWidget(m_empty, 1);

  m_openAct = new QAction(this);
  m_renameAct = new QAction(this);
  m_renameAct->setShortcut(QKeySequence(Qt::Key_F2));
  m_renameAct->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  m_deleteAct = new QAction(this);
  m_deleteAct->setShortcut(QKeySequence::Delete);
  m_deleteAct->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  m_exportAct = new QAction(this);
  for (QAction* a : {m_openAct, m_renameAct, m_deleteAct, m_exportAct}) m_list->addAction(a);
  connect(m_openAct, &QAction::triggered, this, [this] {
    if (const qint64 id = selectedSession()) Q_EMIT openRequested(id);
  });
  connect(m_renameAct, &QAction::triggered, this, &HistoryPanel::renameSelected);
  connect(m_deleteAct, &QAction::triggered, this, [this] {
    if (const qint64 id = selectedSession()) deleteSession(id, true);
  });
  connect(m_exportAct, &QAction::triggered, this, [this] {
    if (const qint64 id = selectedSession()) Q_EMIT exportRequested(id);
  });

  auto* buttons = new QHBoxLayout;
  buttons->setSpacing(2);
  auto button = [this, buttons](QAction* a, const char* name) {
    auto* b = new QToolButton(this);
    b->setObjectName(QLatin1String(name));
    b->setDefaultAction(a);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    b->setAutoRaise(true);
    buttons->addWidget(b);
    return b;
  };
  m_openButton = button(m_openAct, "historyOpen");
  m_renameButton = button(m_renameAct, "historyRename");
  m_deleteButton = button(m_deleteAct, "historyDelete");
  m_exportButton = button(m_exportAct, "historyExport");
  buttons->addStretch(1);
  v->addLayout(buttons);

  m_refreshTimer = new QTimer(this);
  m_refreshTimer->setSingleShot(true);
  m_refreshTimer->setInterval(150);
  connect(m_refreshTimer, &QTimer::timeout, this, &HistoryPanel::refresh);
  connect(m_search, &QLineEdit::textChanged, this, &HistoryPanel::scheduleRefresh);
  // Enter, or a double-click (the window ignores a second request for the
  // session it shows). Queued: opening refreshes this list, which must not
  // happen inside the list's own mouse or key handling.
  auto openLater = [this](QListWidgetItem* item) {
    const qint64 id = item->data(SessionRole).toLongLong();
    QTimer::singleShot(0, this, [this, id] { Q_EMIT openRequested(id); });
  };
  connect(m_list, &QListWidget::itemActivated, this, openLater);
  connect(m_list, &QListWidget::itemDoubleClicked, this, openLater);
  connect(m_list, &QListWidget::currentItemChanged, this, &HistoryPanel::updateButtons);
  retranslate();
  updateButtons();
}

void HistoryPanel::setStore(HistoryStore* store) {
  m_store = store;
  refresh();
}

void HistoryPanel::setCurrentSession(qint64 id) {
  m_current = id;
  for (int i = 0; i < m_list->count(); ++i) {
    QListWidgetItem* item = m_list->item(i);
    item->setData(CurrentRole, item->data(SessionRole).toLongLong() == id);
  }
}

void HistoryPanel::scheduleRefresh() { m_refreshTimer->start(); }

void HistoryPanel::fillItem(QListWidgetItem* item, qint64 id, const QString& title, const QString& meta,
                            const QString& match) {
  item->setData(SessionRole, id);
  item->setData(TitleRole, title);
  item->setData(MetaRole, meta);
  item->setData(MatchRole, match);
  item->setData(CurrentRole, id == m_current);
  item->setText(title);  // for accessibility and keyboard search
  item->setToolTip(QStringLiteral("<b>%1</b><br>%2%3")
                       .arg(title.toHtmlEscaped(), meta.toHtmlEscaped(),
                            match.isEmpty() ? QString() : QStringLiteral("<br><i>%1</i>").arg(match.toHtmlEscaped())));
}

void HistoryPanel::refresh() {
  m_refreshTimer->stop();
  const qint64 selected = selectedSession();
  m_list->clear();
  const bool on = m_store && m_store->isOpen();
  m_search->setEnabled(on);
  if (on) {
    for (const HistorySession& s : m_store->sessions(m_search->text())) {
      //: History panel, under a session's title: date, number of images and of answers
      const QString meta =
          tr("%1 · %n image(s)", "", s.images).arg(shortWhen(s.updated)) + tr(" · %n answer(s)", "", s.answers);
      auto* item = new QListWidgetItem(m_list);
      fillItem(item, s.id, s.displayTitle(), meta, s.match);
    }
  }
  const bool empty = m_list->count() == 0;
  m_list->setVisible(!empty);
  m_empty->setVisible(empty);
  m_empty->setText(!on ? tr("The history is not available.")
                   : m_search->text().trimmed().isEmpty()
                       ? tr("Sessions appear here once you open an image.")
                       : tr("No session has a question or answer with “%1”.").arg(m_search->text().trimmed()));
  if (!selectSession(selected) && m_current) selectSession(m_current);
  updateButtons();
}

qint64 HistoryPanel::selectedSession() const {
  const QListWidgetItem* item = m_list->currentItem();
  return item ? item->data(SessionRole).toLongLong() : 0;
}

bool HistoryPanel::selectSession(qint64 id) {
  if (id <= 0) return false;
  for (int i = 0; i < m_list->count(); ++i)
    if (m_list->item(i)->data(SessionRole).toLongLong() == id) {
      m_list->setCurrentRow(i);
      return true;
    }
  return false;
}

void HistoryPanel::updateButtons() {
  const bool has = selectedSession() > 0;
  for (QAction* a : {m_openAct, m_renameAct, m_deleteAct, m_exportAct}) a->setEnabled(has);
}

bool HistoryPanel::renameSession(qint64 id, const QString& title) {
  if (!m_store || !m_store->renameSession(id, title)) return false;
  refresh();
  Q_EMIT sessionRenamed(id);
  return true;
}

void HistoryPanel::renameSelected() {
  const qint64 id = selectedSession();
  if (!id || !m_store) return;
  const auto s = m_store->session(id);
  if (!s) return;
  bool ok = false;
  const QString title = QInputDialog::getText(this, tr("Rename Session"), tr("Name of the session:"), QLineEdit::Normal,
                                              s->displayTitle(), &ok);
  if (ok) renameSession(id, title);
}

bool HistoryPanel::deleteSession(qint64 id, bool confirm) {
  if (!m_store) return false;
  const auto s = m_store->session(id);
  if (!s) return false;
  if (confirm) {
    QMessageBox box(QMessageBox::Question, tr("Delete Session"), tr("Delete the session “%1”?").arg(s->displayTitle()),
                    QMessageBox::Yes | QMessageBox::No, this);
    box.setObjectName(QStringLiteral("confirmDeleteSession"));
    box.setInformativeText(
        tr("Its %n answer(s) and the list of its images are removed from the history. "
           "The image files stay where they are.",
           "", s->answers));
    box.setDefaultButton(QMessageBox::No);
    box.button(QMessageBox::Yes)->setText(tr("Delete"));
    box.button(QMessageBox::No)->setText(tr("Keep"));
    if (box.exec() != QMessageBox::Yes) return false;
  }
  if (!m_store->deleteSession(id)) return false;
  refresh();
  Q_EMIT sessionDeleted(id);
  return true;
}

void HistoryPanel::retranslate() {
  m_search->setPlaceholderText(tr("Search questions and answers"));
  m_openAct->setText(tr("Open"));
  m_openAct->setToolTip(tr("Show this session in the window (double-click)"));
  m_renameAct->setText(tr("Rename…"));
  m_deleteAct->setText(tr("Delete…"));
  m_exportAct->setText(tr("Export…"));
  m_exportAct->setToolTip(tr("Save this session as an HTML, Markdown, JSON or PDF report"));
  refresh();
}

void HistoryPanel::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(e);
}

}  // namespace ui
