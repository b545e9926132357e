// A crash in the middle of a burst of answer writes loses nothing that was
// committed: tst_history_writer writes answers as fast as it can and prints
// each id after its commit; it is killed with SIGKILL mid-burst, several
// times against the same database; every id it reported must be there and
// PRAGMA integrity_check must say "ok".
#include <QFileInfo>
#include <QProcess>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "ui/historystore.h"

class TstHistoryCrash : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void killedMidBurstKeepsCommittedAnswers();
};

void TstHistoryCrash::initTestCase() { QStandardPaths::setTestModeEnabled(true); }

void TstHistoryCrash::killedMidBurstKeepsCommittedAnswers() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString db = dir.filePath(QStringLiteral("history.sqlite"));
  QSet<qint64> reported;
  QList<qint64> sessions;
  // Kill after a different number of answers each round.
  for (const int killAfter : {5, 40, 97, 180, 333}) {
    QProcess writer;
    writer.setProgram(QStringLiteral(AUTOGLM_HISTORY_WRITER));
    writer.setArguments({db, QStringLiteral("1000000")});
    writer.setProcessChannelMode(QProcess::SeparateChannels);
    writer.start();
    QVERIFY2(writer.waitForStarted(10000), qPrintable(writer.errorString()));
    int seen = 0;
    QByteArray pending;
    auto takeLines = [&] {
      pending += writer.readAllStandardOutput();
      int nl;
      while ((nl = int(pending.indexOf('\n'))) >= 0) {
        const QByteArray line = pending.left(nl).trimmed();
        pending.remove(0, nl + 1);
        if (line.startsWith("session ")) {
          sessions << line.mid(8).toLongLong();
          continue;
        }
        bool ok = false;
        const qint64 id = line.toLongLong(&ok);
        QVERIFY2(ok && id > 0, line.constData());
        reported.insert(id);
        ++seen;
      }
    };
    while (seen < killAfter) {
      if (!writer.waitForReadyRead(30000)) {
        QFAIL(qPrintable(QStringLiteral("the writer stopped: %1 %2")
                             .arg(writer.errorString(), QString::fromLocal8Bit(writer.readAllStandardError()))));
      }
      takeLines();
    }
    writer.kill();  // SIGKILL, wherever it is (most likely inside a transaction)
    QVERIFY(writer.waitForFinished(10000));
    QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
    takeLines();  // ids it printed before it died; a partial last line is not an id
    // It died with its write-ahead log not checkpointed: the next open recovers from it.
    QVERIFY(QFileInfo(db + QStringLiteral("-wal")).size() > 0);
    qInfo("round: killed after %d reported answers (%d in all)", seen, int(reported.size()));
  }
  QCOMPARE(sessions.size(), 5);

  // Every reported answer is there, and the database is sound.
  ui::HistoryStore store;
  QVERIFY2(store.open(db), qPrintable(store.lastError()));
  QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
  QCOMPARE(store.schemaVersion(), ui::HistoryStore::kSchemaVersion);
  QSet<qint64> stored;
  int answers = 0;
  for (qint64 s : sessions) {
    const auto data = store.loadSession(s);
    QVERIFY(data);
    QCOMPARE(int(data->images.size()), 1);
    for (const auto& a : data->answers) {
      stored.insert(a.id);
      ++answers;
      QCOMPARE(a.result.answers.size(), size_t(3));  // whole rows, never half of one
      QCOMPARE(a.result.answers.front().tokens.size(), size_t(4));
    }
  }
  for (qint64 id : reported) QVERIFY2(stored.contains(id), qPrintable(QStringLiteral("answer %1 was lost").arg(id)));
  // At most one answer per round was committed and not yet reported.
  QVERIFY(answers >= reported.size());
  QVERIFY(answers <= reported.size() + 5);
  store.close();

  // Also through a plain connection, as any SQLite tool would see it.
  {
    QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw"));
    raw.setDatabaseName(db);
    QVERIFY(raw.open());
    QSqlQuery q(raw);
    QVERIFY(q.exec(QStringLiteral("PRAGMA integrity_check")) && q.next());
    QCOMPARE(q.value(0).toString(), QStringLiteral("ok"));
    QVERIFY(q.exec(QStringLiteral("PRAGMA foreign_key_check")));
    QVERIFY(!q.next());
    QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM answers")) && q.next());
    QCOMPARE(q.value(0).toInt(), answers);
  }
  QSqlDatabase::removeDatabase(QStringLiteral("raw"));
}

QTEST_GUILESS_MAIN(TstHistoryCrash)
#include "tst_history_crash.moc"
