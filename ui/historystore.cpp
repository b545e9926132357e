// HistoryStore: opening, the schema and its migrations, and the value types;
// sessions, images and answers are in historystore_records.cpp.
#include "ui/historystore.h"

#include <atomic>
#include <iterator>

#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QVariant>

namespace ui {

namespace {

// ---- schema: each step runs in one transaction with its user_version.
const char* const kSchemaV1[] = {
    "CREATE TABLE sessions("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created_at TEXT NOT NULL)",
    "CREATE TABLE images("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " width INTEGER,"
    " height INTEGER,"
    " thumbnail BLOB,"
    " added_at TEXT NOT NULL,"
    " UNIQUE(session_id, path))",
    "CREATE TABLE answers("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK(kind IN ('ask', 'describe')),"
    " question TEXT NOT NULL,"
    " answer TEXT NOT NULL,"
    " confidence REAL,"
    " calibrated INTEGER NOT NULL DEFAULT 0,"
    " candidates TEXT NOT NULL,"
    " tokens TEXT NOT NULL,"
    " model TEXT NOT NULL,"
    " settings TEXT NOT NULL,"
    " timings TEXT NOT NULL,"
    " inspection TEXT NOT NULL,"
    " heatmap TEXT,"
    " created_at TEXT NOT NULL)",
    "CREATE INDEX answers_image ON answers(image_id)",
};

const char* const kSchemaV2[] = {
    "ALTER TABLE sessions ADD COLUMN title TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE sessions ADD COLUMN updated_at TEXT",
    // A v1 session was last used when its last answer or image came in.
    "UPDATE sessions SET updated_at = COALESCE("
    " (SELECT MAX(created_at) FROM answers WHERE answers.session_id = sessions.id),"
    " (SELECT MAX(added_at) FROM images WHERE images.session_id = sessions.id),"
    " created_at)",
    "CREATE INDEX sessions_updated ON sessions(updated_at)",
    "CREATE INDEX answers_session ON answers(session_id, id)",
};

}  // namespace

// ------------------------------------------------------------ value types
QString HistorySession::displayTitle() const {
  if (!title.isEmpty()) return title;
  if (!firstQuestion.isEmpty()) return firstQuestion;
  return QLocale().toString(updated.toLocalTime(), QLocale::ShortFormat);
}

QImage HistoryImage::thumbnail() const { return QImage::fromData(thumbnailPng, "PNG"); }

QString HistoryAnswer::answerText() const {
  return result.answers.empty() ? QString() : QString::fromStdString(result.answers.front().text);
}

double HistoryAnswer::confidence() const {
  return result.answers.empty() ? 0.0 : double(result.answers.front().confidence);
}

// ------------------------------------------------------------------ store
HistoryStore::HistoryStore() {
  static std::atomic<int> counter{0};
  m_connection = QStringLiteral("autoglm-history-%1").arg(++counter);
}

HistoryStore::~HistoryStore() { close(); }

QString HistoryStore::defaultPath() {
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
      .filePath(QStringLiteral("history.sqlite"));
}

bool HistoryStore::fail(const QString& what, const QString& detail) const {
  m_error = detail.isEmpty() ? what : what + QStringLiteral(": ") + detail;
  qWarning("history: %s", qPrintable(m_error));
  return false;
}

bool HistoryStore::exec(const QString& sql) {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  if (!q.exec(sql)) return fail(sql.left(60), q.lastError().text());
  return true;
}

bool HistoryStore::open(const QString& path) {
  close();
  m_error.clear();
  const bool memory = path == QLatin1String(":memory:");
  if (!memory) {
    const QFileInfo fi(path);
    if (!QDir().mkpath(fi.absolutePath()))
      return fail(QStringLiteral("cannot create the folder %1").arg(fi.absolutePath()), {});
  }
  if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
    return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed"), {});
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    db.setDatabaseName(path);
    // Another instance of the app writing at the same moment: wait a little.
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=2000"));
    if (!db.open()) {
      const QString err = db.lastError().text();
      db = QSqlDatabase();
      QSqlDatabase::removeDatabase(m_connection);
      return fail(QStringLiteral("cannot open %1").arg(path), err);
    }
  }
  m_path = path;
  bool ok = exec(QStringLiteral("PRAGMA foreign_keys = ON"));
  if (ok && !memory) {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    ok = q.exec(QStringLiteral("PRAGMA journal_mode = WAL")) && q.next() &&
         q.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) == 0;
    if (!ok) fail(QStringLiteral("cannot switch %1 to WAL mode").arg(path), q.lastError().text());
  }
  ok = ok && exec(QStringLiteral("PRAGMA synchronous = NORMAL"));
  ok = ok && migrate();
  // Sessions left empty (a new session that never got an image).
  ok = ok && exec(QStringLiteral("DELETE FROM sessions WHERE NOT EXISTS "
                                 "(SELECT 1 FROM images WHERE images.session_id = sessions.id)"));
  if (!ok) {
    const QString err = m_error;
    close();
    m_error = err;
    return false;
  }
  return true;
}

void HistoryStore::close() {
  m_current = 0;
  if (!QSqlDatabase::contains(m_connection)) return;
  {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    db.close();
  }
  QSqlDatabase::removeDatabase(m_connection);
  m_path.clear();
}

bool HistoryStore::isOpen() const {
  return QSqlDatabase::contains(m_connection) && QSqlDatabase::database(m_connection, false).isOpen();
}

int HistoryStore::schemaVersion() const {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) return -1;
  return q.value(0).toInt();
}

QString HistoryStore::journalMode() const {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  if (!q.exec(QStringLiteral("PRAGMA journal_mode")) || !q.next()) return {};
  return q.value(0).toString().toLower();
}

QString HistoryStore::integrityCheck() const {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  if (!q.exec(QStringLiteral("PRAGMA integrity_check"))) return q.lastError().text();
  QStringList rows;
  while (q.next()) rows << q.value(0).toString();
  return rows.join(QLatin1Char('\n'));
}

bool HistoryStore::migrate() {
  const int from = schemaVersion();
  if (from < 0) return fail(QStringLiteral("cannot read the schema version"), {});
  if (from > kSchemaVersion)
    return fail(QStringLiteral("the history was written by a newer version (schema %1; this one knows %2)")
                    .arg(from)
                    .arg(kSchemaVersion),
                {});
  struct Step {
    int version;
    const char* const* sql;
    size_t count;
  };
  const Step steps[] = {{1, kSchemaV1, std::size(kSchemaV1)}, {2, kSchemaV2, std::size(kSchemaV2)}};
  QSqlDatabase db = QSqlDatabase::database(m_connection, false);
  for (const Step& s : steps) {
    if (s.version <= from) continue;
    if (!db.transaction()) return fail(QStringLiteral("cannot begin the migration"), db.lastError().text());
    bool ok = true;
    for (size_t i = 0; ok && i < s.count; ++i) ok = exec(QString::fromLatin1(s.sql[i]));
    ok = ok && exec(QStringLiteral("PRAGMA user_version = %1").arg(s.version));
    if (!ok || !db.commit()) {
      const QString err = m_error.isEmpty() ? db.lastError().text() : m_error;
      db.rollback();
      return fail(QStringLiteral("migration to schema %1 failed").arg(s.version), err);
    }
  }
  return true;
}

}  // namespace ui
