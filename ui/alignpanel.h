#pragma once
// Search the images by text and zero-shot labels (the model's alignment heads):
// the inputs, the progress of embedding the images, and a bar chart of the
// current image's label distribution. The window does the work.
#include <QWidget>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace ui {

class LabelChart : public QWidget {
  Q_OBJECT
 public:
  explicit LabelChart(QWidget* parent = nullptr);
  // matching: a matching head's P(match) per label, in the labels' order (may be empty).
  void setDistribution(const QStringList& labels, const QList<float>& probabilities, const QList<float>& matching = {});
  void clear() { setDistribution({}, {}); }
  QList<float> matching() const { return m_match; }
  QStringList labels() const { return m_labels; }
  QList<float> probabilities() const { return m_probs; }
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 Q_SIGNALS:
  void distributionChanged();
  void labelClicked(const QString& label);  // where does this label match (a model with a matching head)

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;

 private:
  QStringList m_labels;  // sorted by probability, highest first
  QList<float> m_probs;
  QList<float> m_match;  // empty, or one per label in the sorted order
};

class AlignPanel : public QWidget {
  Q_OBJECT
 public:
  explicit AlignPanel(QWidget* parent = nullptr);

  void setAvailable(bool available, const QString& reason);  // reason shown when not
  void setRunning(bool running);
  void setProgress(int done, int total);
  void setStatus(const QString& text);
  void retranslateUi();

  QLineEdit* searchEdit() const { return m_search; }
  QLineEdit* labelsEdit() const { return m_labels; }
  QPushButton* searchButton() const { return m_searchButton; }
  QPushButton* labelButton() const { return m_labelButton; }
  QPushButton* clearButton() const { return m_clearButton; }
  QPushButton* cancelButton() const { return m_cancel; }
  QProgressBar* progressBar() const { return m_progress; }
  QLabel* statusLabel() const { return m_status; }
  LabelChart* chart() const { return m_chart; }

  static QStringList splitLabels(const QString& text);  // by commas, trimmed, empties dropped

 Q_SIGNALS:
  void searchRequested(const QString& text);
  void labelsRequested(const QStringList& labels);
  void clearRequested();
  void cancelRequested();

 protected:
  void changeEvent(QEvent* e) override;

 private:
  QLabel *m_searchTitle, *m_labelsTitle, *m_status, *m_chartTitle;
  QLineEdit *m_search, *m_labels;
  QPushButton *m_searchButton, *m_clearButton, *m_labelButton, *m_cancel;
  QProgressBar* m_progress;
  LabelChart* m_chart;
  bool m_available = true, m_running = false;
  void updateEnabled();
};

}  // namespace ui
