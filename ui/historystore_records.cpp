// HistoryStore's sessions, images and answers: the queries and writes, and the
// JSON forms of the answers' columns. Opening and migrating: historystore.cpp.
#include "ui/historystore.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <nlohmann/json.hpp>

#include "core/engine/summary.h"

namespace ui {

using nlohmann::json;

namespace {

QString now() { return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs); }

QDateTime parseTime(const QVariant& v) {
  QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
  if (!t.isValid()) t = QDateTime::fromString(v.toString(), Qt::ISODate);
  return t.toUTC();
}

QByteArray dump(const json& j) {
  // Replace invalid UTF-8 rather than throwing: a token piece may be a byte.
  const std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return QByteArray(s.data(), qsizetype(s.size()));
}

json parse(const QVariant& v) {
  const QByteArray b = v.toByteArray();
  if (b.isEmpty()) return json();
  return json::parse(b.constData(), b.constData() + b.size(), nullptr, false);  // discarded on error
}

json arrayJson(const core::Array& a) { return json{{"shape", a.shape}, {"values", a.data}}; }

core::Array arrayFrom(const json& j) {
  core::Array a;
  if (!j.is_object()) return a;
  if (j.contains("shape") && j["shape"].is_array())
    for (const auto& d : j["shape"])
      if (d.is_number_integer()) a.shape.push_back(d.get<int64_t>());
  if (j.contains("values") && j["values"].is_array())
    for (const auto& v : j["values"]) a.data.push_back(v.is_number() ? v.get<float>() : 0.f);
  if (int64_t(a.data.size()) != a.numel()) return {};
  return a;
}

template <class T>
T get(const json& j, const char* key, T fallback) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    return fallback;
  }
}

// A null QString binds as SQL NULL; the text columns are NOT NULL.
QString text(const QString& s) { return s.isNull() ? QString::fromLatin1("") : s; }

QString likePattern(const QString& text) {
  QString t = text;
  t.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
  t.replace(QLatin1Char('%'), QLatin1String("\\%"));
  t.replace(QLatin1Char('_'), QLatin1String("\\_"));
  return QLatin1Char('%') + t + QLatin1Char('%');
}

}  // namespace

// ------------------------------------------------------------------ JSON
namespace historyjson {

const char* methodName(core::HeatmapMethod m) {
  switch (m) {
    case core::HeatmapMethod::LayerAttention:
      return "layer";
    case core::HeatmapMethod::AllLayers:
      return "all_layers";
    case core::HeatmapMethod::Rollout:
      return "rollout";
    case core::HeatmapMethod::GradWeighted:
      return "grad";
  }
  return "all_layers";
}

bool parseMethod(const std::string& s, core::HeatmapMethod* out) {
  for (auto m : {core::HeatmapMethod::LayerAttention, core::HeatmapMethod::AllLayers, core::HeatmapMethod::Rollout,
                 core::HeatmapMethod::GradWeighted})
    if (s == methodName(m)) {
      *out = m;
      return true;
    }
  return false;
}

QByteArray candidates(const core::Result& r) {
  json out = json::array();
  for (const auto& a : r.answers)
    out.push_back({{"text", a.text},
                   {"confidence", a.confidence},
                   {"raw_score", a.raw_score},
                   {"heuristic", a.heuristic},
                   {"ids", a.ids}});
  return dump(out);
}

QByteArray tokens(const core::Result& r) {
  json out = json::array();
  for (const auto& a : r.answers) {
    json toks = json::array();
    for (const auto& t : a.tokens) {
      json top = json::array();
      for (const auto& alt : t.top) top.push_back({{"text", alt.text}, {"p", alt.p}});
      toks.push_back({{"text", t.text}, {"id", t.id}, {"p", t.p}, {"top", top}});
    }
    out.push_back(toks);
  }
  return dump(out);
}

QByteArray timings(const core::Timings& t) { return dump(core::timings_json(t)); }

QByteArray inspection(const core::Inspection& in) {
  return dump({{"question_tokens", in.question_tokens},
               {"gates", arrayJson(in.gates)},
               {"routing", arrayJson(in.routing)},
               {"fusion_layers", in.fusion_layers},
               {"grid", {in.grid_h, in.grid_w}},
               {"learned_gates", in.learned_gates},
               {"has_class_token", in.has_class_token},
               {"tokens_are_answer", in.tokens_are_answer},
               {"special", in.special},
               {"image_reliance", in.image_reliance}});
}

QByteArray heatmap(const core::HeatmapRequest& req, const core::Array& map) {
  json j = arrayJson(map);
  j["method"] = methodName(req.method);
  j["layer"] = req.layer;
  j["head"] = req.head;
  j["token"] = req.token;
  j["answer"] = req.answer;
  return dump(j);
}

}  // namespace historyjson

// ---------------------------------------------------------------- sessions
qint64 HistoryStore::newSession() {
  QSqlDatabase db = QSqlDatabase::database(m_connection, false);
  QSqlQuery q(db);
  if (m_current > 0) {
    // The session being left behind is dropped if it never got an image.
    q.prepare(
        QStringLiteral("DELETE FROM sessions WHERE id = ? AND NOT EXISTS "
                       "(SELECT 1 FROM images WHERE images.session_id = sessions.id)"));
    q.addBindValue(m_current);
    if (!q.exec()) fail(QStringLiteral("cannot drop the empty session"), q.lastError().text());
  }
  const QString t = now();
  q.prepare(QStringLiteral("INSERT INTO sessions(created_at, updated_at, title) VALUES (?, ?, '')"));
  q.addBindValue(t);
  q.addBindValue(t);
  if (!q.exec()) {
    fail(QStringLiteral("cannot start a session"), q.lastError().text());
    m_current = 0;
    return 0;
  }
  m_current = q.lastInsertId().toLongLong();
  return m_current;
}

bool HistoryStore::setCurrentSession(qint64 id) {
  if (!session(id)) return fail(QStringLiteral("no session %1").arg(id), {});
  m_current = id;
  return true;
}

qint64 HistoryStore::lastSession() const {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  if (!q.exec(QStringLiteral("SELECT id FROM sessions WHERE EXISTS "
                             "(SELECT 1 FROM images WHERE images.session_id = sessions.id) "
                             "ORDER BY updated_at DESC, id DESC LIMIT 1")) ||
      !q.next())
    return 0;
  return q.value(0).toLongLong();
}

bool HistoryStore::touchSession(qint64 id) {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QStringLiteral("UPDATE sessions SET updated_at = ? WHERE id = ?"));
  q.addBindValue(now());
  q.addBindValue(id);
  if (!q.exec()) return fail(QStringLiteral("cannot update the session"), q.lastError().text());
  return true;
}

namespace {
const char* const kSessionColumns =
    "SELECT s.id, s.title, s.created_at, s.updated_at,"
    " (SELECT COUNT(*) FROM images i WHERE i.session_id = s.id),"
    " (SELECT COUNT(*) FROM answers a WHERE a.session_id = s.id),"
    " (SELECT a.question FROM answers a WHERE a.session_id = s.id AND a.kind = 'ask' ORDER BY a.id LIMIT 1)";

HistorySession sessionFrom(const QSqlQuery& q) {
  HistorySession s;
  s.id = q.value(0).toLongLong();
  s.title = q.value(1).toString();
  s.created = parseTime(q.value(2));
  s.updated = parseTime(q.value(3));
  s.images = q.value(4).toInt();
  s.answers = q.value(5).toInt();
  s.firstQuestion = q.value(6).toString();
  return s;
}
}  // namespace

std::vector<HistorySession> HistoryStore::sessions(const QString& search) const {
  std::vector<HistorySession> out;
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  const QString text = search.trimmed();
  QString sql = QString::fromLatin1(kSessionColumns);
  if (text.isEmpty()) {
    sql += QStringLiteral(", NULL FROM sessions s WHERE EXISTS (SELECT 1 FROM images i WHERE i.session_id = s.id)");
  } else {
    // The first answer whose question or answer matches, for the list.
    sql += QStringLiteral(
        ", (SELECT a.question || ' → ' || a.answer FROM answers a WHERE a.session_id = s.id AND"
        "   (a.question LIKE ? ESCAPE '\\' OR a.answer LIKE ? ESCAPE '\\') ORDER BY a.id LIMIT 1)"
        " FROM sessions s WHERE EXISTS (SELECT 1 FROM images i WHERE i.session_id = s.id) AND"
        " (s.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM answers a WHERE a.session_id = s.id AND"
        "   (a.question LIKE ? ESCAPE '\\' OR a.answer LIKE ? ESCAPE '\\')))");
  }
  sql += QStringLiteral(" ORDER BY s.updated_at DESC, s.id DESC");
  q.prepare(sql);
  if (!text.isEmpty())
    for (int i = 0; i < 5; ++i) q.addBindValue(likePattern(text));
  if (!q.exec()) {
    fail(QStringLiteral("cannot list the sessions"), q.lastError().text());
    return out;
  }
  while (q.next()) {
    HistorySession s = sessionFrom(q);
    s.match = q.value(7).toString();
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<HistorySession> HistoryStore::session(qint64 id) const {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QString::fromLatin1(kSessionColumns) + QStringLiteral(" FROM sessions s WHERE s.id = ?"));
  q.addBindValue(id);
  if (!q.exec() || !q.next()) return std::nullopt;
  return sessionFrom(q);
}

bool HistoryStore::renameSession(qint64 id, const QString& title) {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QStringLiteral("UPDATE sessions SET title = ? WHERE id = ?"));
  q.addBindValue(text(title.simplified()));
  q.addBindValue(id);
  if (!q.exec()) return fail(QStringLiteral("cannot rename the session"), q.lastError().text());
  if (q.numRowsAffected() != 1) return fail(QStringLiteral("no session %1").arg(id), {});
  return true;
}

bool HistoryStore::deleteSession(qint64 id) {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QStringLiteral("DELETE FROM sessions WHERE id = ?"));  // images and answers cascade
  q.addBindValue(id);
  if (!q.exec()) return fail(QStringLiteral("cannot delete the session"), q.lastError().text());
  if (id == m_current) m_current = 0;
  return q.numRowsAffected() == 1 || fail(QStringLiteral("no session %1").arg(id), {});
}

// ------------------------------------------------------------------ images
QString HistoryStore::sha256File(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QCryptographicHash h(QCryptographicHash::Sha256);
  if (!h.addData(&f)) return {};
  return QString::fromLatin1(h.result().toHex());
}

qint64 HistoryStore::imageId(const QString& path) const {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QStringLiteral("SELECT id FROM images WHERE session_id = ? AND path = ?"));
  q.addBindValue(m_current);
  q.addBindValue(path);
  if (!q.exec() || !q.next()) return 0;
  return q.value(0).toLongLong();
}

qint64 HistoryStore::addImage(const QString& path, const QImage& thumbnail, const QSize& size) {
  if (!isOpen()) return 0;
  if (m_current <= 0 || !session(m_current)) newSession();
  if (m_current <= 0) return 0;
  QByteArray png;
  if (!thumbnail.isNull()) {
    QBuffer buf(&png);
    buf.open(QIODevice::WriteOnly);
    thumbnail.save(&buf, "PNG");
  }
  const QString sha = sha256File(path);
  QSqlDatabase db = QSqlDatabase::database(m_connection, false);
  if (!db.transaction()) {
    fail(QStringLiteral("cannot begin a transaction"), db.lastError().text());
    return 0;
  }
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO images(session_id, path, sha256, width, height, thumbnail, added_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT(session_id, path) DO UPDATE SET sha256 = excluded.sha256, width = excluded.width,"
      " height = excluded.height, thumbnail = excluded.thumbnail"));
  q.addBindValue(m_current);
  q.addBindValue(path);
  q.addBindValue(text(sha));
  q.addBindValue(size.isValid() ? QVariant(size.width()) : QVariant());
  q.addBindValue(size.isValid() ? QVariant(size.height()) : QVariant());
  q.addBindValue(png.isEmpty() ? QVariant(QMetaType::fromType<QByteArray>()) : QVariant(png));
  q.addBindValue(now());
  bool ok = q.exec();
  if (!ok) fail(QStringLiteral("cannot store the image %1").arg(path), q.lastError().text());
  qint64 id = 0;
  if (ok) {
    q.prepare(QStringLiteral("SELECT id FROM images WHERE session_id = ? AND path = ?"));
    q.addBindValue(m_current);
    q.addBindValue(path);
    ok = q.exec() && q.next();
    if (ok) id = q.value(0).toLongLong();
  }
  ok = ok && touchSession(m_current);
  if (!ok || !db.commit()) {
    if (ok) fail(QStringLiteral("cannot commit the image"), db.lastError().text());
    db.rollback();
    return 0;
  }
  return id;
}

bool HistoryStore::removeImage(qint64 imageId) {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QStringLiteral("DELETE FROM images WHERE id = ?"));  // its answers cascade
  q.addBindValue(imageId);
  if (!q.exec()) return fail(QStringLiteral("cannot remove the image"), q.lastError().text());
  return true;
}

// ------------------------------------------------------------------ answers
qint64 HistoryStore::addAnswer(qint64 imageId, const QString& question, bool describe, const core::Result& r,
                               const QString& model, const QByteArray& settingsJson) {
  if (!isOpen()) return 0;
  QSqlDatabase db = QSqlDatabase::database(m_connection, false);
  if (!db.transaction()) {
    fail(QStringLiteral("cannot begin a transaction"), db.lastError().text());
    return 0;
  }
  QSqlQuery q(db);
  // The session is the image's (the image may belong to an earlier session).
  q.prepare(QStringLiteral(
      "INSERT INTO answers(session_id, image_id, kind, question, answer, confidence, calibrated, candidates, tokens,"
      " model, settings, timings, inspection, heatmap, created_at)"
      " SELECT session_id, id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ? FROM images WHERE id = ?"));
  q.addBindValue(describe ? QStringLiteral("describe") : QStringLiteral("ask"));
  q.addBindValue(text(question));
  q.addBindValue(r.answers.empty() ? QString() : QString::fromStdString(r.answers.front().text));
  q.addBindValue(r.answers.empty() ? QVariant(QMetaType::fromType<double>())
                                   : QVariant(double(r.answers.front().confidence)));
  q.addBindValue(r.calibrated ? 1 : 0);
  q.addBindValue(QString::fromUtf8(historyjson::candidates(r)));
  q.addBindValue(QString::fromUtf8(historyjson::tokens(r)));
  q.addBindValue(text(model));
  q.addBindValue(QString::fromUtf8(settingsJson.isEmpty() ? QByteArray("{}") : settingsJson));
  q.addBindValue(QString::fromUtf8(historyjson::timings(r.timings)));
  q.addBindValue(QString::fromUtf8(historyjson::inspection(r.inspection)));
  q.addBindValue(now());
  q.addBindValue(imageId);
  bool ok = q.exec() && q.numRowsAffected() == 1;
  if (!ok)
    fail(QStringLiteral("cannot store the answer"),
         q.lastError().text().isEmpty() ? QStringLiteral("no image %1").arg(imageId) : q.lastError().text());
  const qint64 id = ok ? q.lastInsertId().toLongLong() : 0;
  if (ok) {
    q.prepare(
        QStringLiteral("UPDATE sessions SET updated_at = ? WHERE id = (SELECT session_id FROM images WHERE id = ?)"));
    q.addBindValue(now());
    q.addBindValue(imageId);
    ok = q.exec();
    if (!ok) fail(QStringLiteral("cannot update the session"), q.lastError().text());
  }
  if (!ok || !db.commit()) {
    if (ok) fail(QStringLiteral("cannot commit the answer"), db.lastError().text());
    db.rollback();
    return 0;
  }
  return id;
}

bool HistoryStore::setHeatmap(qint64 answerId, const core::HeatmapRequest& request, const core::Array& map) {
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.prepare(QStringLiteral("UPDATE answers SET heatmap = ? WHERE id = ?"));
  q.addBindValue(QString::fromUtf8(historyjson::heatmap(request, map)));
  q.addBindValue(answerId);
  if (!q.exec()) return fail(QStringLiteral("cannot store the heatmap"), q.lastError().text());
  return q.numRowsAffected() == 1;
}

// ------------------------------------------------------------------ loading
namespace {

void fillResult(HistoryAnswer& a, const json& cands, const json& toks, const json& tim, const json& insp) {
  core::Result& r = a.result;
  r.task = a.describe ? core::Task::Describe : core::Task::Ask;
  r.question = a.question.toStdString();
  if (cands.is_array())
    for (size_t i = 0; i < cands.size(); ++i) {
      const json& c = cands[i];
      core::Answer ans;
      ans.text = get<std::string>(c, "text", "");
      ans.confidence = get<float>(c, "confidence", 0.f);
      ans.raw_score = get<float>(c, "raw_score", 0.f);
      ans.heuristic = get<float>(c, "heuristic", 0.f);
      ans.ids = get<std::vector<int64_t>>(c, "ids", {});
      if (toks.is_array() && i < toks.size() && toks[i].is_array())
        for (const json& t : toks[i]) {
          core::TokenInfo ti;
          ti.text = get<std::string>(t, "text", "");
          ti.id = get<int64_t>(t, "id", 0);
          ti.p = get<float>(t, "p", 0.f);
          if (t.contains("top") && t["top"].is_array())
            for (const json& alt : t["top"])
              ti.top.push_back({get<std::string>(alt, "text", ""), get<float>(alt, "p", 0.f)});
          ans.tokens.push_back(std::move(ti));
        }
      r.answers.push_back(std::move(ans));
    }
  r.timings = core::timings_from_json(tim);  // the older *_ms keys too
  core::Inspection& in = r.inspection;
  in.question_tokens = get<std::vector<std::string>>(insp, "question_tokens", {});
  if (insp.is_object() && insp.contains("gates")) in.gates = arrayFrom(insp["gates"]);
  if (insp.is_object() && insp.contains("routing")) in.routing = arrayFrom(insp["routing"]);
  in.fusion_layers = get<std::vector<int>>(insp, "fusion_layers", {});
  const auto grid = get<std::vector<int>>(insp, "grid", {});
  if (grid.size() == 2) {
    in.grid_h = grid[0];
    in.grid_w = grid[1];
  }
  in.learned_gates = get<bool>(insp, "learned_gates", false);
  in.has_class_token = get<bool>(insp, "has_class_token", true);
  in.tokens_are_answer = get<bool>(insp, "tokens_are_answer", false);
  in.image_reliance = get<bool>(insp, "image_reliance", false);
  in.special = get<std::vector<uint8_t>>(insp, "special", {});
  if (in.special.size() != in.question_tokens.size()) in.special = core::special_rows(in.question_tokens);
}

}  // namespace

std::optional<HistorySessionData> HistoryStore::loadSession(qint64 id) const {
  const auto s = session(id);
  if (!s) {
    fail(QStringLiteral("no session %1").arg(id), {});
    return std::nullopt;
  }
  HistorySessionData data;
  data.session = *s;
  QSqlQuery q(QSqlDatabase::database(m_connection, false));
  q.setForwardOnly(true);
  q.prepare(
      QStringLiteral("SELECT id, path, sha256, width, height, thumbnail, added_at FROM images "
                     "WHERE session_id = ? ORDER BY id"));
  q.addBindValue(id);
  if (!q.exec()) {
    fail(QStringLiteral("cannot load the images"), q.lastError().text());
    return std::nullopt;
  }
  QHash<qint64, QString> paths;
  while (q.next()) {
    HistoryImage im;
    im.id = q.value(0).toLongLong();
    im.sessionId = id;
    im.path = q.value(1).toString();
    im.sha256 = q.value(2).toString();
    if (!q.value(3).isNull()) im.size = QSize(q.value(3).toInt(), q.value(4).toInt());
    im.thumbnailPng = q.value(5).toByteArray();
    im.added = parseTime(q.value(6));
    im.missing = !QFileInfo(im.path).isFile();
    paths.insert(im.id, im.path);
    data.images.push_back(std::move(im));
  }
  q.prepare(
      QStringLiteral("SELECT id, image_id, kind, question, calibrated, candidates, tokens, model, settings,"
                     " timings, inspection, heatmap, created_at FROM answers WHERE session_id = ? ORDER BY id"));
  q.addBindValue(id);
  if (!q.exec()) {
    fail(QStringLiteral("cannot load the answers"), q.lastError().text());
    return std::nullopt;
  }
  while (q.next()) {
    HistoryAnswer a;
    a.id = q.value(0).toLongLong();
    a.sessionId = id;
    a.imageId = q.value(1).toLongLong();
    a.imagePath = paths.value(a.imageId);
    a.describe = q.value(2).toString() == QLatin1String("describe");
    a.question = q.value(3).toString();
    a.result.calibrated = q.value(4).toInt() != 0;
    a.model = q.value(7).toString();
    a.settingsJson = q.value(8).toString().toUtf8();
    fillResult(a, parse(q.value(5)), parse(q.value(6)), parse(q.value(9)), parse(q.value(10)));
    const json hm = parse(q.value(11));
    if (hm.is_object()) {
      a.heatmap = arrayFrom(hm);
      a.hasHeatmap = a.heatmap.shape.size() == 2 && a.heatmap.numel() > 0;
      historyjson::parseMethod(get<std::string>(hm, "method", ""), &a.heatmapRequest.method);
      a.heatmapRequest.layer = get<int>(hm, "layer", -1);
      a.heatmapRequest.head = get<int>(hm, "head", -1);
      a.heatmapRequest.token = get<int>(hm, "token", -1);
      a.heatmapRequest.answer = get<int>(hm, "answer", 0);
    }
    a.created = parseTime(q.value(12));
    data.answers.push_back(std::move(a));
  }
  return data;
}

}  // namespace ui