#pragma once
// An in-window message (no modal box): errors such as a non-image file or a
// broken model folder are shown here and the window keeps working.
#include <QElapsedTimer>
#include <QFrame>
#include <QStringList>

class QLabel;
class QToolButton;
class QTimer;

namespace ui {

class MessageBar : public QFrame {
  Q_OBJECT

 public:
  enum class Kind { Info, Warning, Error };
  explicit MessageBar(QWidget* parent = nullptr);

  void showMessage(const QString& text, Kind kind = Kind::Error);
  QString text() const;
  Kind kind() const { return m_kind; }

 public Q_SLOTS:
  void dismiss();

 protected:
  void changeEvent(QEvent* e) override;

 private:
  QLabel* m_icon;
  QLabel* m_text;
  QToolButton* m_close;
  QTimer* m_timer;
  Kind m_kind = Kind::Info;
  QStringList m_lines;
  QElapsedTimer m_shown;
};

}  // namespace ui
