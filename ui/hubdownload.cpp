#include "ui/hubdownload.h"

#include <QThread>

#include <filesystem>
#include <system_error>

#include "core/hub/cache.h"
#include "core/hub/client.h"

namespace ui {

namespace fs = std::filesystem;

HubDownload::HubDownload(const QString& repoRef, QObject* parent) : QObject(parent), m_ref(repoRef.trimmed()) {}

HubDownload::~HubDownload() {
  if (m_thread) {
    m_stop->store(true);
    m_thread->wait();
    delete m_thread;
  }
}

QString HubDownload::repo() const { return m_ref.section(QLatin1Char('@'), 0, 0); }

double HubDownload::bytesPerSecond() const {
  if (!m_haveFirst || !m_clock.isValid()) return 0;
  const double secs = m_clock.elapsed() / 1000.0;
  return secs > 0.2 ? double(m_done - m_firstDone) / secs : 0;
}

double HubDownload::secondsLeft() const {
  const double rate = bytesPerSecond();
  return rate > 0 && m_total >= m_done ? double(m_total - m_done) / rate : -1;
}

void HubDownload::removePartialFiles(const QString& repo) {
  const fs::path blobs = core::hub::repo_dir(core::hub::cache_dir(), repo.toStdString()) / "blobs";
  std::error_code ec;
  for (fs::directory_iterator it(blobs, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".incomplete") fs::remove(it->path(), ec);
}

void HubDownload::start() {
  if (m_thread) return;  // running, or a pause not yet taken effect
  const auto ref = core::hub::parse_repo_ref(m_ref.toStdString());
  if (!ref) {
    m_errorCode = core::ErrorCode::BadArgument;
    m_errorDetail = m_ref + QStringLiteral(": not a repository id (ORG/NAME[@REVISION])");
    setState(State::Failed);
    return;
  }
  m_stop = std::make_shared<std::atomic_bool>(false);
  m_cancelAsked = false;
  m_haveFirst = false;
  m_resumed = false;
  m_clock.start();
  auto stop = m_stop;
  m_thread = QThread::create([this, stop, ref = *ref] {
    core::hub::PullOptions o;
    o.cancel = stop.get();
    o.on_progress = [this](const core::hub::Progress& p) {
      const QString file = QString::fromStdString(p.file);
      const quint64 done = p.done, total = p.total;
      const bool resumed = p.resumed;
      QMetaObject::invokeMethod(
          this,
          [this, done, total, file, resumed] {
            if (!m_haveFirst) {
              m_haveFirst = true;
              m_firstDone = done;  // bytes already on disk do not count towards the rate
              m_clock.start();
            }
            m_resumed = m_resumed || resumed;
            m_done = done;
            m_total = total;
            Q_EMIT progress(done, total, file);
          },
          Qt::QueuedConnection);
    };
    State end = State::Finished;
    QString snapshot, detail;
    core::ErrorCode code = core::ErrorCode::Internal;
    try {
      snapshot = QString::fromStdString(core::hub::pull(ref, o).snapshot.u8string());
    } catch (const core::Error& e) {
      end = e.code() == core::ErrorCode::Cancelled ? State::Paused : State::Failed;
      code = e.code();
      detail = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
      end = State::Failed;
      detail = QString::fromLocal8Bit(e.what());
    }
    QMetaObject::invokeMethod(
        this,
        [this, end, snapshot, code, detail] {
          m_snapshot = snapshot;
          m_errorCode = code;
          m_errorDetail = detail;
          ended(end);
        },
        Qt::QueuedConnection);
  });
  setState(State::Running);
  m_thread->start();
}

void HubDownload::pause() {
  if (m_thread) m_stop->store(true);
}

void HubDownload::cancel() {
  m_cancelAsked = true;
  if (m_thread)
    m_stop->store(true);
  else if (m_state != State::Finished)
    ended(State::Paused);  // nothing runs: drop the partial files now
}

void HubDownload::ended(State s) {
  if (m_thread) {
    m_thread->wait();  // it has posted its last report: only its return is left
    delete m_thread;
    m_thread = nullptr;
  }
  if (s == State::Paused && m_cancelAsked) {
    removePartialFiles(repo());
    s = State::Cancelled;
  }
  if (s == State::Finished) m_done = m_total;
  setState(s);
}

void HubDownload::setState(State s) {
  m_state = s;
  Q_EMIT stateChanged(s);
}

}  // namespace ui
