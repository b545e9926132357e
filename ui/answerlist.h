#pragma once
// The answers to the current image: one row per question asked (or caption
// made), with the answer, its confidence as a number and a coloured bar,
// "not sure" below the user's threshold, "uncalibrated" where the model has
// no calibration, the other candidates, and per-token probabilities on hover.
#include <QListWidget>
#include <QStyledItemDelegate>

#include "ui/metatypes.h"

namespace ui {

enum class RowState { Pending, Answered, Failed, Cancelled };

class AnswerDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void setThreshold(double t) { m_threshold = t; }
  double threshold() const { return m_threshold; }
  void paint(QPainter* p, const QStyleOptionViewItem& opt, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& opt, const QModelIndex& index) const override;

  static QColor confidenceColor(double c);

 private:
  // "not sure", "uncalibrated" and the other candidates, under an answer.
  void paintTags(QPainter* p, const QStyleOptionViewItem& opt, const QModelIndex& index, int x, int right, int y,
                 bool unsure) const;
  double m_threshold = 0.5;
};

class AnswerList : public QListWidget {
  Q_OBJECT

 public:
  enum Role {
    EntryRole = Qt::UserRole + 1,  // int: index into the window's entries
    StateRole,                     // RowState as int
    QuestionRole,                  // QString (or the caption prompt)
    AnswerRole,                    // QString
    ConfidenceRole,                // double
    CalibratedRole,                // bool
    CandidatesRole,                // QString, already formatted
    DescribeRole,                  // bool
    MessageRole,                   // QString: error or status text
  };

  explicit AnswerList(QWidget* parent = nullptr);
  AnswerDelegate* delegate() const { return m_delegate; }
  void setThreshold(double t);
  double threshold() const { return m_delegate->threshold(); }

  QListWidgetItem* addPending(int entry, const QString& question, bool describe);
  // Fills a row from a result (candidates, tooltip with token probabilities).
  static void setResult(QListWidgetItem* item, const core::Result& r);
  static void setPartial(QListWidgetItem* item, const QString& text);  // a pending answer so far
  static void setFailed(QListWidgetItem* item, const QString& message);
  static void setCancelled(QListWidgetItem* item);
  QListWidgetItem* itemForEntry(int entry) const;
  // Whether the answer in this row counts as "not sure" at the current threshold.
  bool notSure(const QListWidgetItem* item) const;

  void setPlaceholderText(const QString& t);

 protected:
  void paintEvent(QPaintEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

 private:
  AnswerDelegate* m_delegate;
  QString m_placeholder;
};

}  // namespace ui
