// The history database: where it lives, a full round trip of a session
// (images, answers with candidates, tokens, settings, timings, gates and the
// heatmap) through a closed and reopened file, images that moved, search,
// rename and delete, and the migration of a first-schema (v1) database.
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "ui/historystore.h"

namespace {

core::Result sampleResult() {
  core::Result r;
  r.task = core::Task::Ask;
  r.question = "what color is the circle?";
  r.calibrated = true;
  core::Answer a;
  a.text = "red";
  a.confidence = 0.87f;
  a.raw_score = 0.8f;
  a.heuristic = 0.6f;
  a.ids = {2417};
  core::TokenInfo t;
  t.text = "red";
  t.id = 2417;
  t.p = 0.91f;
  t.top = {{"red", 0.91f}, {"orange", 0.05f}, {"##s", 0.01f}};
  a.tokens = {t};
  core::Answer b;
  b.text = "红色";  // not ASCII
  b.confidence = 0.09f;
  b.raw_score = 0.1f;
  b.ids = {5, 6};
  r.answers = {a, b};
  auto& in = r.inspection;
  in.question_tokens = {"[CLS]", "what", "color", "is", "the", "circle", "?", "[SEP]"};
  in.gates.shape = {2, 8};
  for (int i = 0; i < 16; ++i) in.gates.data.push_back(0.05f * float(i));
  in.routing.shape = {2};
  in.routing.data = {0.3f, 0.7f};
  in.fusion_layers = {3, 5};
  in.grid_h = 4;
  in.grid_w = 6;
  in.learned_gates = true;
  in.cross_attention.shape = {2, 1, 8, 25};  // not stored
  in.cross_attention.data.assign(400, 0.04f);
  r.timings.preprocess_ms = 0.5;
  r.timings.vision_ms = 12.25;
  r.timings.fusion_ms = 1.5;
  r.timings.decode_ms = 3.75;
  r.timings.vision_cached = true;
  r.timings.step_ms = {1.0, 2.75};
  return r;
}

QString writeImage(const QString& path, QColor c, QSize size = QSize(64, 48)) {
  QImage img(size, QImage::Format_RGB32);
  img.fill(c);
  img.save(path, "PNG");
  return path;
}

QImage thumb(QColor c) {
  QImage t(32, 24, QImage::Format_RGB32);
  t.fill(c);
  return t;
}

// The first schema, as the first release wrote it.
const char* const kV1[] = {
    "CREATE TABLE sessions(id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL)",
    "CREATE TABLE images(id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL REFERENCES sessions(id) ON "
    "DELETE "
    "CASCADE, path TEXT NOT NULL, sha256 TEXT NOT NULL, width INTEGER, height INTEGER, thumbnail BLOB, added_at "
    "TEXT NOT NULL, UNIQUE(session_id, path))",
    "CREATE TABLE answers(id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL REFERENCES sessions(id) ON "
    "DELETE "
    "CASCADE, image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE, kind TEXT NOT NULL CHECK(kind IN "
    "('ask', 'describe')), question TEXT NOT NULL, answer TEXT NOT NULL, confidence REAL, calibrated INTEGER NOT "
    "NULL DEFAULT 0, candidates TEXT NOT NULL, tokens TEXT NOT NULL, model TEXT NOT NULL, settings TEXT NOT NULL, "
    "timings TEXT NOT NULL, inspection TEXT NOT NULL, heatmap TEXT, created_at TEXT NOT NULL)",
    "CREATE INDEX answers_image ON answers(image_id)",
    "PRAGMA user_version = 1",
};

}  // namespace

class TstHistoryStore : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void defaultPathInAppData();
  void roundTrip();
  void missingImages();
  void searchRenameDelete();
  void emptySessionsAreDropped();
  void migratesFromV1();
  void refusesNewerSchema();
  void commitCost();

 private:
  QTemporaryDir m_dir;
};

void TstHistoryStore::initTestCase() {
  QVERIFY(m_dir.isValid());
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("OpenAutoGLM-test"));
  QCoreApplication::setApplicationName(QStringLiteral("tst_history_store"));
}

void TstHistoryStore::defaultPathInAppData() {
  const QString data = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  QVERIFY(data.contains(QStringLiteral(".qttest")));  // test mode: never the user's own history
  const QString path = ui::HistoryStore::defaultPath();
  QCOMPARE(path, QDir(data).filePath(QStringLiteral("history.sqlite")));
  QFile::remove(path);
  {
    ui::HistoryStore store;
    QVERIFY2(store.open(path), qPrintable(store.lastError()));
    QCOMPARE(store.journalMode(), QStringLiteral("wal"));
    QCOMPARE(store.schemaVersion(), ui::HistoryStore::kSchemaVersion);
    QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
  }
  QVERIFY(QFile::exists(path));
  QFile::remove(path);
  QFile::remove(path + QStringLiteral("-wal"));
  QFile::remove(path + QStringLiteral("-shm"));
}

void TstHistoryStore::roundTrip() {
  const QString db = m_dir.filePath(QStringLiteral("roundtrip.sqlite"));
  const QString imgA = writeImage(m_dir.filePath(QStringLiteral("a.png")), Qt::red, QSize(320, 240));
  const QString imgB = writeImage(m_dir.filePath(QStringLiteral("b.png")), Qt::blue);
  const core::Result r = sampleResult();
  core::Result caption = sampleResult();
  caption.task = core::Task::Describe;
  caption.answers.resize(1);
  caption.answers[0].text = "a red circle next to a blue square";
  caption.inspection.tokens_are_answer = true;
  caption.calibrated = false;
  core::HeatmapRequest req;
  req.method = core::HeatmapMethod::LayerAttention;
  req.layer = 1;
  req.head = 2;
  req.token = 5;
  core::Array map;
  map.shape = {4, 6};
  for (int i = 0; i < 24; ++i) map.data.push_back(float(i) / 276.f);
  qint64 session = 0, idA = 0, idB = 0, ans1 = 0, ans2 = 0;
  {
    ui::HistoryStore store;
    QVERIFY2(store.open(db), qPrintable(store.lastError()));
    QCOMPARE(store.currentSession(), 0);
    session = store.newSession();
    QVERIFY(session > 0);
    idA = store.addImage(imgA, thumb(Qt::red), QSize(320, 240));
    idB = store.addImage(imgB, thumb(Qt::blue), QSize(64, 48));
    QVERIFY(idA > 0 && idB > 0 && idA != idB);
    QCOMPARE(store.addImage(imgA, thumb(Qt::red), QSize(320, 240)), idA);  // once per session
    QCOMPARE(store.imageId(imgB), idB);
    ans1 = store.addAnswer(idA, QStringLiteral("what color is the circle?"), false, r, QStringLiteral("shapes-v1"),
                           QByteArrayLiteral("{\"beams\":3,\"max_new_tokens\":20}"));
    QVERIFY2(ans1 > 0, qPrintable(store.lastError()));
    QVERIFY(store.setHeatmap(ans1, req, map));
    ans2 = store.addAnswer(idB, QString(), true, caption, QStringLiteral("blip"), QByteArrayLiteral("{}"));
    QVERIFY(ans2 > ans1);
    QCOMPARE(store.addAnswer(9999, QStringLiteral("?"), false, r, QStringLiteral("m"), {}), 0);  // no such image
  }
  ui::HistoryStore store;
  QVERIFY(store.open(db));
  QCOMPARE(store.lastSession(), session);
  const auto data = store.loadSession(session);
  QVERIFY(data);
  QCOMPARE(data->session.id, session);
  QCOMPARE(data->session.images, 2);
  QCOMPARE(data->session.answers, 2);
  QCOMPARE(data->session.firstQuestion, QStringLiteral("what color is the circle?"));
  QCOMPARE(data->session.displayTitle(), QStringLiteral("what color is the circle?"));
  QVERIFY(data->session.created.isValid() && data->session.updated >= data->session.created);
  QCOMPARE(int(data->images.size()), 2);
  const ui::HistoryImage& a = data->images[0];
  QCOMPARE(a.id, idA);
  QCOMPARE(a.path, imgA);
  QCOMPARE(a.size, QSize(320, 240));
  QCOMPARE(a.sha256, ui::HistoryStore::sha256File(imgA));
  QCOMPARE(a.sha256.size(), 64);
  QVERIFY(!a.missing);
  QCOMPARE(a.thumbnail().size(), QSize(32, 24));
  QCOMPARE(a.thumbnail().pixelColor(3, 3), QColor(Qt::red));
  QCOMPARE(data->images[1].path, imgB);

  QCOMPARE(int(data->answers.size()), 2);
  const ui::HistoryAnswer& x = data->answers[0];
  QCOMPARE(x.id, ans1);
  QCOMPARE(x.imageId, idA);
  QCOMPARE(x.imagePath, imgA);
  QVERIFY(!x.describe);
  QCOMPARE(x.question, QStringLiteral("what color is the circle?"));
  QCOMPARE(x.model, QStringLiteral("shapes-v1"));
  QCOMPARE(x.settingsJson, QByteArrayLiteral("{\"beams\":3,\"max_new_tokens\":20}"));
  QCOMPARE(x.answerText(), QStringLiteral("red"));
  QCOMPARE(x.confidence(), double(0.87f));
  QVERIFY(x.result.calibrated);
  QCOMPARE(x.result.task, core::Task::Ask);
  QCOMPARE(x.result.answers.size(), size_t(2));
  QCOMPARE(x.result.answers[1].text, std::string("红色"));
  QCOMPARE(x.result.answers[1].ids, (std::vector<int64_t>{5, 6}));
  QCOMPARE(x.result.answers[0].raw_score, 0.8f);
  QCOMPARE(x.result.answers[0].heuristic, 0.6f);
  QCOMPARE(x.result.answers[0].tokens.size(), size_t(1));
  QCOMPARE(x.result.answers[0].tokens[0].p, 0.91f);
  QCOMPARE(x.result.answers[0].tokens[0].id, int64_t(2417));
  QCOMPARE(x.result.answers[0].tokens[0].top.size(), size_t(3));
  QCOMPARE(x.result.answers[0].tokens[0].top[1].text, std::string("orange"));
  QCOMPARE(x.result.answers[0].tokens[0].top[1].p, 0.05f);
  QCOMPARE(x.result.timings.vision_ms, 12.25);
  QVERIFY(x.result.timings.vision_cached);
  QCOMPARE(x.result.timings.step_ms, (std::vector<double>{1.0, 2.75}));
  const auto& in = x.result.inspection;
  QCOMPARE(in.question_tokens, r.inspection.question_tokens);
  QCOMPARE(in.gates.shape, r.inspection.gates.shape);
  QCOMPARE(in.gates.data, r.inspection.gates.data);
  QCOMPARE(in.routing.data, r.inspection.routing.data);
  QCOMPARE(in.fusion_layers, r.inspection.fusion_layers);
  QCOMPARE(in.grid_h, 4);
  QCOMPARE(in.grid_w, 6);
  QVERIFY(in.learned_gates);
  QVERIFY(in.cross_attention.data.empty());  // attention is not kept
  QVERIFY(x.hasHeatmap);
  QCOMPARE(x.heatmap.shape, map.shape);
  QCOMPARE(x.heatmap.data, map.data);
  QCOMPARE(x.heatmapRequest.method, core::HeatmapMethod::LayerAttention);
  QCOMPARE(x.heatmapRequest.layer, 1);
  QCOMPARE(x.heatmapRequest.head, 2);
  QCOMPARE(x.heatmapRequest.token, 5);
  const ui::HistoryAnswer& y = data->answers[1];
  QVERIFY(y.describe);
  QCOMPARE(y.result.task, core::Task::Describe);
  QVERIFY(!y.result.calibrated);
  QVERIFY(!y.hasHeatmap);
  QVERIFY(y.result.inspection.tokens_are_answer);
  QCOMPARE(y.answerText(), QStringLiteral("a red circle next to a blue square"));
  QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));

  // New answers to an image of a restored session go to that session.
  QVERIFY(store.setCurrentSession(session));
  QVERIFY(store.addAnswer(idA, QStringLiteral("is it big?"), false, r, QStringLiteral("m"), {}) > 0);
  QCOMPARE(store.loadSession(session)->answers.size(), size_t(3));
  // Removing an image removes its answers.
  QVERIFY(store.removeImage(idB));
  const auto after = store.loadSession(session);
  QCOMPARE(after->images.size(), size_t(1));
  QCOMPARE(after->answers.size(), size_t(2));
}

void TstHistoryStore::missingImages() {
  const QString db = m_dir.filePath(QStringLiteral("missing.sqlite"));
  const QString img = writeImage(m_dir.filePath(QStringLiteral("moving.png")), Qt::green);
  ui::HistoryStore store;
  QVERIFY(store.open(db));
  const qint64 s = store.newSession();
  const qint64 id = store.addImage(img, thumb(Qt::green));
  QVERIFY(store.addAnswer(id, QStringLiteral("what is it?"), false, sampleResult(), QStringLiteral("m"), {}));
  QVERIFY(QFile::rename(img, img + QStringLiteral(".moved")));
  const auto data = store.loadSession(s);
  QVERIFY(data);
  QVERIFY(data->images[0].missing);                                           // reported, not an error
  QCOMPARE(data->images[0].thumbnail().pixelColor(1, 1), QColor(Qt::green));  // the thumbnail remains
  QCOMPARE(data->answers.size(), size_t(1));
}

void TstHistoryStore::searchRenameDelete() {
  const QString db = m_dir.filePath(QStringLiteral("search.sqlite"));
  const QString img = writeImage(m_dir.filePath(QStringLiteral("s.png")), Qt::yellow);
  ui::HistoryStore store;
  QVERIFY(store.open(db));
  auto addSession = [&](const QString& question, const std::string& answer) {
    const qint64 s = store.newSession();
    const qint64 im = store.addImage(img, thumb(Qt::yellow));
    core::Result r = sampleResult();
    r.answers[0].text = answer;
    store.addAnswer(im, question, false, r, QStringLiteral("m"), {});
    const QDateTime stamp = store.session(s)->updated;
    while (QDateTime::currentDateTimeUtc() <= stamp) QThread::yieldCurrentThread();  // the next one is later
    return s;
  };
  const qint64 s1 = addSession(QStringLiteral("what color is the circle?"), "red");
  const qint64 s2 = addSession(QStringLiteral("how many squares?"), "three");
  const qint64 s3 = addSession(QStringLiteral("where is the 100% triangle?"), "left");
  auto ids = [](const std::vector<ui::HistorySession>& v) {
    QList<qint64> out;
    for (const auto& s : v) out << s.id;
    return out;
  };
  QCOMPARE(ids(store.sessions()), (QList<qint64>{s3, s2, s1}));  // newest first
  QCOMPARE(ids(store.sessions(QStringLiteral("circle"))), QList<qint64>{s1});
  QCOMPARE(ids(store.sessions(QStringLiteral("CIRCLE"))), QList<qint64>{s1});  // case-insensitive
  QCOMPARE(ids(store.sessions(QStringLiteral("three"))), QList<qint64>{s2});   // answer text
  QCOMPARE(ids(store.sessions(QStringLiteral("100%"))), QList<qint64>{s3});    // % is literal
  QCOMPARE(ids(store.sessions(QStringLiteral("_"))), QList<qint64>{});
  QCOMPARE(store.sessions(QStringLiteral("three")).front().match, QStringLiteral("how many squares? → three"));
  QVERIFY(store.sessions(QStringLiteral("nothing like this")).empty());

  QVERIFY(store.renameSession(s2, QStringLiteral("  Counting   squares ")));
  QCOMPARE(store.session(s2)->title, QStringLiteral("Counting squares"));
  QCOMPARE(store.session(s2)->displayTitle(), QStringLiteral("Counting squares"));
  QCOMPARE(ids(store.sessions(QStringLiteral("counting"))), QList<qint64>{s2});  // titles are searched too
  QVERIFY(!store.renameSession(4242, QStringLiteral("x")));

  QVERIFY(store.deleteSession(s1));
  QVERIFY(!store.session(s1));
  QVERIFY(!store.loadSession(s1));
  QCOMPARE(ids(store.sessions()), (QList<qint64>{s3, s2}));
  QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw-search"));
  raw.setDatabaseName(db);
  QVERIFY(raw.open());
  {
    QSqlQuery q(raw);
    QVERIFY(q.exec(QStringLiteral("SELECT (SELECT COUNT(*) FROM images), (SELECT COUNT(*) FROM answers)")) && q.next());
    QCOMPARE(q.value(0).toInt(), 2);  // the deleted session's image and answer are gone
    QCOMPARE(q.value(1).toInt(), 2);
  }
  raw.close();
  raw = QSqlDatabase();
  QSqlDatabase::removeDatabase(QStringLiteral("raw-search"));
}

void TstHistoryStore::emptySessionsAreDropped() {
  const QString db = m_dir.filePath(QStringLiteral("empty.sqlite"));
  ui::HistoryStore store;
  QVERIFY(store.open(db));
  const qint64 a = store.newSession();
  const qint64 b = store.newSession();  // a had no image: gone
  QVERIFY(b > 0);
  QVERIFY(!store.session(a));
  QVERIFY(store.sessions().empty());
  QCOMPARE(store.lastSession(), 0);
  store.close();
  QVERIFY(store.open(db));  // b is dropped when reopening
  QVERIFY(!store.session(b));
}

void TstHistoryStore::migratesFromV1() {
  const QString db = m_dir.filePath(QStringLiteral("v1.sqlite"));
  const QString img = writeImage(m_dir.filePath(QStringLiteral("v1.png")), Qt::magenta);
  {
    QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
    raw.setDatabaseName(db);
    QVERIFY(raw.open());
    QSqlQuery q(raw);
    for (const char* sql : kV1) QVERIFY2(q.exec(QString::fromLatin1(sql)), sql);
    QVERIFY(q.exec(QStringLiteral("INSERT INTO sessions(id, created_at) VALUES (7, '2024-03-01T09:00:00.000Z')")));
    QVERIFY(q.exec(QStringLiteral("INSERT INTO sessions(id, created_at) VALUES (8, '2024-03-02T09:00:00.000Z')")));
    q.prepare(
        QStringLiteral("INSERT INTO images(id, session_id, path, sha256, width, height, thumbnail, added_at) "
                       "VALUES (?, ?, ?, 'abc', 64, 48, NULL, ?)"));
    for (auto [id, s, when] :
         {std::tuple{1, 7, "2024-03-01T09:00:01.000Z"}, std::tuple{2, 8, "2024-03-02T09:00:01.000Z"}}) {
      q.addBindValue(id);
      q.addBindValue(s);
      q.addBindValue(img);
      q.addBindValue(QString::fromLatin1(when));
      QVERIFY(q.exec());
    }
    q.prepare(QStringLiteral(
        "INSERT INTO answers(session_id, image_id, kind, question, answer, confidence, calibrated, candidates, tokens,"
        " model, settings, timings, inspection, heatmap, created_at) VALUES (?, ?, 'ask', ?, ?, ?, 1, ?, ?, 'shapes',"
        " '{\"beams\":3}', '{\"vision_ms\":4.5}', ?, ?, ?)"));
    struct Row {
      int session, image;
      const char *question, *answer, *when;
    };
    for (const Row& r : {Row{7, 1, "what color is the circle?", "red", "2024-03-05T10:00:00.000Z"},
                         Row{7, 1, "how many shapes?", "two", "2024-03-05T10:01:00.000Z"},
                         Row{8, 2, "is there a square?", "yes", "2024-03-02T09:05:00.000Z"}}) {
      q.addBindValue(r.session);
      q.addBindValue(r.image);
      q.addBindValue(QString::fromUtf8(r.question));
      q.addBindValue(QString::fromUtf8(r.answer));
      q.addBindValue(0.75);
      q.addBindValue(
          QStringLiteral("[{\"text\":\"%1\",\"confidence\":0.75,\"raw_score\":0.7,\"heuristic\":0.5,\"ids\":[9]}]")
              .arg(QString::fromUtf8(r.answer)));
      q.addBindValue(
          QStringLiteral("[[{\"text\":\"%1\",\"id\":9,\"p\":0.8,\"top\":[]}]]").arg(QString::fromUtf8(r.answer)));
      q.addBindValue(
          QStringLiteral("{\"question_tokens\":[\"[CLS]\",\"x\",\"[SEP]\"],\"gates\":{\"shape\":[1,3],"
                         "\"values\":[0.1,0.2,0.3]},\"routing\":{\"shape\":[1],\"values\":[1]},"
                         "\"fusion_layers\":[2],\"grid\":[2,2],\"learned_gates\":true}"));
      q.addBindValue(
          QStringLiteral("{\"method\":\"rollout\",\"layer\":-1,\"head\":-1,\"token\":-1,\"answer\":0,"
                         "\"shape\":[2,2],\"values\":[0.1,0.2,0.3,0.4]}"));
      q.addBindValue(QString::fromUtf8(r.when));
      QVERIFY(q.exec());
    }
    QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
    QCOMPARE(q.value(0).toInt(), 1);
    raw.close();
  }
  QSqlDatabase::removeDatabase(QStringLiteral("v1"));

  ui::HistoryStore store;
  QVERIFY2(store.open(db), qPrintable(store.lastError()));
  QCOMPARE(store.schemaVersion(), 2);
  QCOMPARE(store.journalMode(), QStringLiteral("wal"));
  QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
  // updated_at was filled from the last answer: session 7 (answered on the
  // 5th) is more recent than session 8, though created earlier.
  const auto list = store.sessions();
  QCOMPARE(list.size(), size_t(2));
  QCOMPARE(list[0].id, 7);
  QCOMPARE(list[0].updated, QDateTime(QDate(2024, 3, 5), QTime(10, 1), Qt::UTC));
  QCOMPARE(list[0].title, QString());
  QCOMPARE(list[0].answers, 2);
  QCOMPARE(list[1].id, 8);
  QCOMPARE(store.lastSession(), 7);
  const auto data = store.loadSession(7);
  QVERIFY(data);
  QCOMPARE(data->answers.size(), size_t(2));
  QCOMPARE(data->answers[1].answerText(), QStringLiteral("two"));
  QCOMPARE(data->answers[1].result.timings.vision_ms, 4.5);
  QCOMPARE(data->answers[0].result.inspection.gates.data, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  QVERIFY(data->answers[0].hasHeatmap);
  QCOMPARE(data->answers[0].heatmapRequest.method, core::HeatmapMethod::Rollout);
  // v2 features work on the migrated file.
  QVERIFY(store.renameSession(8, QStringLiteral("Squares")));
  QCOMPARE(store.sessions(QStringLiteral("squares")).size(), size_t(1));
  QVERIFY(store.setCurrentSession(7));
  QVERIFY(store.addAnswer(1, QStringLiteral("and now?"), false, sampleResult(), QStringLiteral("m"), {}) > 0);
  store.close();
  // The indexes of v2 are there; reopening does not migrate again.
  QVERIFY(store.open(db));
  QCOMPARE(store.schemaVersion(), 2);
  QCOMPARE(store.loadSession(7)->answers.size(), size_t(3));
  store.close();
  QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v2check"));
  raw.setDatabaseName(db);
  QVERIFY(raw.open());
  {
    QSqlQuery q(raw);
    QVERIFY(
        q.exec(QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN "
                              "('sessions_updated', 'answers_session') ORDER BY name")));
    QStringList names;
    while (q.next()) names << q.value(0).toString();
    QCOMPARE(names, (QStringList{QStringLiteral("answers_session"), QStringLiteral("sessions_updated")}));
  }
  raw.close();
  raw = QSqlDatabase();
  QSqlDatabase::removeDatabase(QStringLiteral("v2check"));
}

void TstHistoryStore::refusesNewerSchema() {
  const QString db = m_dir.filePath(QStringLiteral("future.sqlite"));
  {
    QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("future"));
    raw.setDatabaseName(db);
    QVERIFY(raw.open());
    QSqlQuery q(raw);
    QVERIFY(q.exec(QStringLiteral("CREATE TABLE sessions(id INTEGER PRIMARY KEY AUTOINCREMENT, something_new TEXT)")));
    QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = 9")));
    raw.close();
  }
  QSqlDatabase::removeDatabase(QStringLiteral("future"));
  ui::HistoryStore store;
  QVERIFY(!store.open(db));
  QVERIFY2(store.lastError().contains(QStringLiteral("newer")), qPrintable(store.lastError()));
  QVERIFY(!store.isOpen());
}

void TstHistoryStore::commitCost() {
  // Informational: what one answer costs on the GUI thread.
  const QString db = m_dir.filePath(QStringLiteral("cost.sqlite"));
  const QString img = writeImage(m_dir.filePath(QStringLiteral("cost.png")), Qt::gray);
  ui::HistoryStore store;
  QVERIFY(store.open(db));
  store.newSession();
  const qint64 im = store.addImage(img, thumb(Qt::gray));
  const core::Result r = sampleResult();
  constexpr int n = 200;
  QElapsedTimer t;
  t.start();
  for (int i = 0; i < n; ++i)
    QVERIFY(store.addAnswer(im, QStringLiteral("q %1").arg(i), false, r, QStringLiteral("m"), {}));
  const double each = double(t.nsecsElapsed()) / 1e6 / n;
  qInfo("one answer committed in %.3f ms on average (%d answers)", each, n);
  t.restart();
  const auto data = store.loadSession(store.currentSession());
  qInfo("a session of %d answers loads in %.1f ms", int(data->answers.size()), double(t.nsecsElapsed()) / 1e6);
  QCOMPARE(int(data->answers.size()), n);
}

QTEST_GUILESS_MAIN(TstHistoryStore)
#include "tst_history_store.moc"
