#pragma once
// One pull of one repository for the app: core::hub::pull runs on a thread of
// its own (it spins its own event loop, so never on the GUI thread) and every
// report comes back to this object's thread. Pause stops the pull and keeps
// the partial blob (blobs/{etag}.incomplete), which the next start continues
// with a Range request; cancel deletes it.
#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

#include "core/error.h"

class QThread;

namespace ui {

class HubDownload : public QObject {
  Q_OBJECT

 public:
  enum class State { Idle, Running, Paused, Cancelled, Finished, Failed };
  Q_ENUM(State)

  // `repoRef` is "org/name[@revision]".
  explicit HubDownload(const QString& repoRef, QObject* parent = nullptr);
  ~HubDownload() override;  // stops a running pull (its partial file stays) and waits for it

  QString repoRef() const { return m_ref; }
  QString repo() const;
  State state() const { return m_state; }
  bool active() const { return m_state == State::Running; }

  quint64 done() const { return m_done; }
  quint64 total() const { return m_total; }
  double bytesPerSecond() const;  // over this run; 0 until known
  double secondsLeft() const;     // negative while unknown
  bool resumed() const { return m_resumed; }

  QString snapshot() const { return m_snapshot; }            // once Finished
  core::ErrorCode errorCode() const { return m_errorCode; }  // once Failed
  QString errorDetail() const { return m_errorDetail; }

  // Partial blobs of `repo` in the cache, deleted (what cancel leaves behind).
  static void removePartialFiles(const QString& repo);

 public Q_SLOTS:
  void start();  // also resumes after pause or failure
  void pause();
  void cancel();

 Q_SIGNALS:
  void progress(quint64 done, quint64 total, const QString& file);
  void stateChanged(ui::HubDownload::State state);

 private:
  void setState(State s);
  void ended(State s);

  QString m_ref;
  State m_state = State::Idle;
  QThread* m_thread = nullptr;
  std::shared_ptr<std::atomic_bool> m_stop;
  bool m_cancelAsked = false;
  quint64 m_done = 0, m_total = 0, m_firstDone = 0;
  bool m_haveFirst = false, m_resumed = false;
  QElapsedTimer m_clock;
  QString m_snapshot;
  core::ErrorCode m_errorCode = core::ErrorCode::Internal;
  QString m_errorDetail;
};

}  // namespace ui
