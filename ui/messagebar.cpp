#include "ui/messagebar.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QTimer>
#include <QToolButton>

namespace ui {

MessageBar::MessageBar(QWidget* parent) : QFrame(parent), m_timer(new QTimer(this)) {
  setObjectName(QStringLiteral("messageBar"));
  auto* l = new QHBoxLayout(this);
  l->setContentsMargins(10, 6, 6, 6);
  l->setSpacing(8);
  m_icon = new QLabel(this);
  m_text = new QLabel(this);
  m_text->setObjectName(QStringLiteral("messageText"));
  m_text->setWordWrap(true);
  m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_text->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  m_close = new QToolButton(this);
  m_close->setAutoRaise(true);
  m_close->setText(QStringLiteral("✕"));
  m_close->setToolTip(tr("Close"));
  l->addWidget(m_icon, 0, Qt::AlignTop);
  l->addWidget(m_text, 1);
  l->addWidget(m_close, 0, Qt::AlignTop);
  connect(m_close, &QToolButton::clicked, this, &MessageBar::dismiss);
  m_timer->setSingleShot(true);
  connect(m_timer, &QTimer::timeout, this, &MessageBar::dismiss);
  hide();
}

void MessageBar::showMessage(const QString& text, Kind kind) {
  // Messages that come in together (a drop with bad files while a model
  // fails to load) are shown together, newest first, the worst kind wins.
  if (!isHidden() && m_timer->isActive() && !m_lines.isEmpty() && m_shown.elapsed() < 4000) {
    m_lines.removeAll(text);
    m_lines.prepend(text);
    while (m_lines.size() > 3) m_lines.removeLast();
    if (int(kind) < int(m_kind)) kind = m_kind;
  } else {
    m_lines = QStringList{text};
  }
  m_shown.start();
  m_kind = kind;
  m_text->setText(m_lines.join(QLatin1Char('\n')));
  QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
  QString bg = QStringLiteral("#e8f1fb"), border = QStringLiteral("#9cc3ea"), fg = QStringLiteral("#123a63");
  if (kind == Kind::Warning) {
    icon = QStyle::SP_MessageBoxWarning;
    bg = QStringLiteral("#fff6e0");
    border = QStringLiteral("#f0c36d");
    fg = QStringLiteral("#5c3b00");
  } else if (kind == Kind::Error) {
    icon = QStyle::SP_MessageBoxCritical;
    bg = QStringLiteral("#fdecea");
    border = QStringLiteral("#f1a9a0");
    fg = QStringLiteral("#6b1a12");
  }
  setStyleSheet(QStringLiteral("QFrame#messageBar { background: %1; border: 1px solid %2; border-radius: 6px; }"
                               "QFrame#messageBar QLabel { color: %3; background: transparent; border: none; }")
                    .arg(bg, border, fg));
  const int s = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
  m_icon->setPixmap(style()->standardIcon(icon, nullptr, this).pixmap(s, s));
  show();
  // Information goes away by itself; problems stay until closed or replaced.
  if (kind == Kind::Info)
    m_timer->start(6000);
  else
    m_timer->start(20000);
}

QString MessageBar::text() const { return isHidden() ? QString() : m_text->text(); }

void MessageBar::dismiss() {
  m_timer->stop();
  m_lines.clear();
  hide();
}

void MessageBar::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) m_close->setToolTip(tr("Close"));
  QFrame::changeEvent(e);
}

}  // namespace ui
