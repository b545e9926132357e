#pragma once
// The History panel (a dock of the main window): earlier sessions, newest
// first, searchable by question or answer text; open, rename, delete (after
// asking) and export one. Reads and writes through the window's HistoryStore.
#include <QWidget>

class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QTimer;
class QToolButton;
class QAction;

namespace ui {

class HistoryStore;

class HistoryPanel : public QWidget {
  Q_OBJECT

 public:
  enum Role {
    SessionRole = Qt::UserRole + 1,  // qint64
    TitleRole,                       // QString
    MetaRole,                        // QString: date, images, answers
    MatchRole,                       // QString: what matched the search
    CurrentRole,                     // bool: the session the window shows
  };

  explicit HistoryPanel(QWidget* parent = nullptr);
  void setStore(HistoryStore* store);  // not owned; null: empty and disabled
  void setCurrentSession(qint64 id);   // the one the window shows (marked)
  qint64 currentSession() const { return m_current; }

  void refresh();          // reads the list now
  void scheduleRefresh();  // soon, once for many calls

  qint64 selectedSession() const;
  bool selectSession(qint64 id);
  // Rename; delete, after asking when confirm is set. True when done.
  bool renameSession(qint64 id, const QString& title);
  bool deleteSession(qint64 id, bool confirm = true);

  QLineEdit* searchEdit() const { return m_search; }
  QListWidget* list() const { return m_list; }

 Q_SIGNALS:
  void openRequested(qint64 id);
  void exportRequested(qint64 id);
  void sessionDeleted(qint64 id);
  void sessionRenamed(qint64 id);

 protected:
  void changeEvent(QEvent* e) override;

 private:
  void retranslate();
  void updateButtons();
  void renameSelected();
  void fillItem(QListWidgetItem* item, qint64 id, const QString& title, const QString& meta, const QString& match);

  HistoryStore* m_store = nullptr;
  qint64 m_current = 0;
  QLineEdit* m_search;
  QListWidget* m_list;
  QLabel* m_empty;
  QToolButton *m_openButton, *m_renameButton, *m_deleteButton, *m_exportButton;
  QAction *m_openAct, *m_renameAct, *m_deleteAct, *m_exportAct;
  QTimer* m_refreshTimer;
};

}  // namespace ui
