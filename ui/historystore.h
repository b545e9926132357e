#pragma once
// Conversation history in SQLite (Qt SQL, QSQLITE): sessions, their images
// (path, SHA-256 of the file, a PNG thumbnail) and every answer with its
// candidates, tokens, model, settings, timings, the gates and the heatmap
// last shown. WAL journal, synchronous=NORMAL, foreign keys on; each write is
// its own transaction, so an answer is on disk (in the WAL) as soon as
// addAnswer() returns and survives a crash of the program.
//
// Runs on the thread that created it (the GUI thread in the app): a commit
// in WAL mode with synchronous=NORMAL appends to the WAL without an fsync,
// well under a millisecond for one answer. Not thread-safe.
//
// Schema (PRAGMA user_version):
//   v1  sessions(id, created_at); images(...); answers(...)
//   v2  sessions.title and sessions.updated_at (filled from the answers),
//       indexes for listing sessions and loading one session's answers
#include <optional>
#include <vector>

#include <QByteArray>
#include <QDateTime>
#include <QImage>
#include <QSize>
#include <QString>

#include "core/engine/engine.h"

namespace ui {

struct HistorySession {
  qint64 id = 0;
  QString title;               // set by the user (renameSession); empty: untitled
  QString firstQuestion;       // the first question (or "" when only captions)
  QDateTime created, updated;  // UTC
  int images = 0, answers = 0;
  QString match;  // with a search: the question or answer that matched
  // The title, else the first question, else the date.
  QString displayTitle() const;
};

struct HistoryImage {
  qint64 id = 0, sessionId = 0;
  QString path;
  QString sha256;  // hex, of the file's bytes when it was added
  QSize size;      // pixels (may be invalid when unknown)
  QByteArray thumbnailPng;
  QDateTime added;
  bool missing = false;  // loadSession(): the file is gone (moved or deleted)
  QImage thumbnail() const;
};

struct HistoryAnswer {
  qint64 id = 0, sessionId = 0, imageId = 0;
  QString imagePath;
  bool describe = false;
  QString question;         // the question, or the caption prompt
  QString model;            // model name
  QByteArray settingsJson;  // {"beams":..,"max_new_tokens":..,"device":..,...}
  // The answers (with tokens), timings and the inspection without attention
  // (gates, routing, tokens, grid): what the answer list and gates panel show.
  core::Result result;
  bool hasHeatmap = false;
  core::HeatmapRequest heatmapRequest;
  core::Array heatmap;  // [gh, gw]
  QDateTime created;

  QString answerText() const;
  double confidence() const;
};

struct HistorySessionData {
  HistorySession session;
  std::vector<HistoryImage> images;    // in the order they were added
  std::vector<HistoryAnswer> answers;  // in the order they arrived
};

// JSON forms shared by the store and the JSON export.
namespace historyjson {
QByteArray candidates(const core::Result& r);  // [{text, confidence, raw_score, heuristic, ids}]
QByteArray tokens(const core::Result& r);      // per candidate: [{text, id, p, top:[{text, p}]}]
QByteArray timings(const core::Timings& t);
QByteArray inspection(const core::Inspection& in);  // without the attention arrays
QByteArray heatmap(const core::HeatmapRequest& req, const core::Array& map);
const char* methodName(core::HeatmapMethod m);  // "layer", "all_layers", "rollout", "grad"
bool parseMethod(const std::string& s, core::HeatmapMethod* out);
}  // namespace historyjson

class HistoryStore {
 public:
  static constexpr int kSchemaVersion = 2;

  HistoryStore();
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // <AppDataLocation>/history.sqlite
  static QString defaultPath();

  // Opens (creating the file and folder) and migrates to kSchemaVersion.
  // ":memory:" gives a private in-memory database. False: lastError().
  bool open(const QString& path);
  void close();
  bool isOpen() const;
  QString path() const { return m_path; }
  QString lastError() const { return m_error; }
  int schemaVersion() const;       // PRAGMA user_version
  QString journalMode() const;     // "wal" (or "memory")
  QString integrityCheck() const;  // PRAGMA integrity_check: "ok" when sound

  // The session new images and answers go to. 0 until newSession() or
  // setCurrentSession(); addImage() starts one when there is none.
  qint64 currentSession() const { return m_current; }
  qint64 newSession();  // an empty current session left behind is deleted
  bool setCurrentSession(qint64 id);
  // The most recently updated session that has images; 0 when none.
  qint64 lastSession() const;

  // Adds an image to the current session (an image already there keeps its
  // id; its hash and thumbnail are refreshed). Returns its id, 0 on error.
  qint64 addImage(const QString& path, const QImage& thumbnail, const QSize& size = {});
  bool removeImage(qint64 imageId);           // with its answers
  qint64 imageId(const QString& path) const;  // in the current session; 0: none

  // One answer (or caption) to an image of the current session, committed
  // before returning. Returns the row id, 0 on error.
  qint64 addAnswer(qint64 imageId, const QString& question, bool describe, const core::Result& result,
                   const QString& model, const QByteArray& settingsJson);
  // The heatmap shown for an answer (replaces the previous one).
  bool setHeatmap(qint64 answerId, const core::HeatmapRequest& request, const core::Array& map);

  // Sessions with images, newest first; with search text, those where a
  // question, an answer or the title contains it (case-insensitive).
  std::vector<HistorySession> sessions(const QString& search = {}) const;
  std::optional<HistorySession> session(qint64 id) const;
  bool renameSession(qint64 id, const QString& title);
  bool deleteSession(qint64 id);  // with its images and answers
  std::optional<HistorySessionData> loadSession(qint64 id) const;

  static QString sha256File(const QString& path);  // hex; empty when unreadable

 private:
  bool exec(const QString& sql);
  bool migrate();
  bool touchSession(qint64 id);
  bool fail(const QString& what, const QString& detail) const;

  QString m_connection;
  QString m_path;
  mutable QString m_error;
  qint64 m_current = 0;
};

}  // namespace ui
