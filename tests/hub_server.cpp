// A HuggingFace Hub of our own for the tests: serves model folders under
// repository ids with the Hub's API answers and headers, and sends LFS files
// from a second port (the Hub's CDN). Prints "PORTS <api> <cdn>" once
// listening, then one "REQ ..." line per request (method, path, Range,
// whether an Authorization header came).
//   hub_server --repo ORG/NAME=DIR ... [--cut-after BYTES] [--ignore-range]
//              [--corrupt FILE] [--status CODE [--fail-times N]] [--slow-ms MS]
//              [--token TOKEN]
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

#include <cstdio>
#include <map>
#include <memory>

namespace {

struct File {
  QString path;
  QByteArray data;
  QByteArray blob_id, sha256;  // sha256 only for LFS files
  bool lfs() const { return !sha256.isEmpty(); }
};

struct Repo {
  QString id, commit;
  std::map<QString, File> files;
};

QByteArray git_sha1(const QByteArray& data) {
  return QCryptographicHash::hash("blob " + QByteArray::number(data.size()) + '\0' + data, QCryptographicHash::Sha1)
      .toHex();
}

struct Config {
  std::map<QString, Repo> repos;
  std::map<QByteArray, const File*> lfs;  // by sha256
  qint64 cut_after = -1;
  bool ignore_range = false;
  QString corrupt;
  int status = 0, fail_times = -1;
  int slow_ms = 0;
  QByteArray token;
  quint16 cdn_port = 0;
};

Config cfg;

void log_line(const QByteArray& s) {
  std::fputs(s.constData(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

struct Request {
  QByteArray method, target;
  std::map<QByteArray, QByteArray> headers;  // lower-case names
  QByteArray header(const QByteArray& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? QByteArray() : it->second;
  }
};

class Connection : public QObject {
 public:
  Connection(QTcpSocket* s, bool cdn) : sock_(s), cdn_(cdn) {
    sock_->setParent(this);
    connect(sock_, &QTcpSocket::readyRead, this, [this] { read(); });
    connect(sock_, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    connect(sock_, &QTcpSocket::bytesWritten, this, [this] { pump(); });
  }

 private:
  void read() {
    buf_ += sock_->readAll();
    const int end = buf_.indexOf("\r\n\r\n");
    if (end < 0 || started_) return;
    started_ = true;
    Request r;
    const auto lines = buf_.left(end).split('\n');
    const auto first = lines.value(0).trimmed().split(' ');
    r.method = first.value(0);
    r.target = first.value(1);
    for (int i = 1; i < lines.size(); ++i) {
      const int colon = lines[i].indexOf(':');
      if (colon > 0) r.headers[lines[i].left(colon).trimmed().toLower()] = lines[i].mid(colon + 1).trimmed();
    }
    log_line("REQ " + QByteArray(cdn_ ? "cdn " : "api ") + r.method + " " + r.target +
             " range=" + (r.header("range").isEmpty() ? QByteArray("-") : r.header("range")) +
             " auth=" + (r.header("authorization").isEmpty() ? "no" : "yes"));
    handle(r);
  }

  void send_head(int status, const QByteArray& reason, const std::map<QByteArray, QByteArray>& headers, qint64 length) {
    QByteArray h = "HTTP/1.1 " + QByteArray::number(status) + " " + reason + "\r\n";
    for (const auto& [k, v] : headers) h += k + ": " + v + "\r\n";
    h += "Content-Length: " + QByteArray::number(length) + "\r\nConnection: close\r\n\r\n";
    sock_->write(h);
  }

  void finish_simple(int status, const QByteArray& reason, const QByteArray& body,
                     std::map<QByteArray, QByteArray> headers = {}) {
    if (!headers.count("Content-Type")) headers["Content-Type"] = "application/json";
    send_head(status, reason, headers, body.size());
    if (method_ != "HEAD") sock_->write(body);
    sock_->disconnectFromHost();
  }

  void error(int status, const QByteArray& code = {}) {
    static const std::map<int, QByteArray> reasons = {{401, "Unauthorized"}, {403, "Forbidden"},
                                                      {404, "Not Found"},    {500, "Internal Server Error"},
                                                      {502, "Bad Gateway"},  {503, "Service Unavailable"}};
    std::map<QByteArray, QByteArray> h;
    if (!code.isEmpty()) h["X-Error-Code"] = code;
    auto it = reasons.find(status);
    finish_simple(status, it == reasons.end() ? "Error" : it->second,
                  "{\"error\":\"" + (code.isEmpty() ? QByteArray::number(status) : code) + "\"}", h);
  }

  // Body of a file, with Range, and the switches that break it.
  void serve(const File& f, std::map<QByteArray, QByteArray> headers, const Request& r, bool lfs_cdn) {
    QByteArray data = f.data;
    if (!cfg.corrupt.isEmpty() && f.path == cfg.corrupt)
      data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x5a);
    qint64 from = 0;
    const QByteArray range = r.header("range");
    int status = 200;
    if (!range.isEmpty() && range.startsWith("bytes=") && !cfg.ignore_range) {
      from = range.mid(6, range.indexOf('-') - 6).toLongLong();
      if (from >= data.size()) {
        headers["Content-Range"] = "bytes */" + QByteArray::number(data.size());
        send_head(416, "Range Not Satisfiable", headers, 0);
        sock_->disconnectFromHost();
        return;
      }
      status = 206;
      headers["Content-Range"] = "bytes " + QByteArray::number(from) + "-" + QByteArray::number(data.size() - 1) + "/" +
                                 QByteArray::number(data.size());
    }
    headers["Accept-Ranges"] = "bytes";
    headers["Content-Type"] = "application/octet-stream";
    send_head(status, status == 206 ? "Partial Content" : "OK", headers, data.size() - from);
    if (method_ == "HEAD") {
      sock_->disconnectFromHost();
      return;
    }
    body_ = data.mid(from);
    pos_ = 0;
    limit_ = body_.size();
    static bool cut_done = false;
    if (lfs_cdn && cfg.cut_after >= 0 && !cut_done) {
      cut_done = true;
      limit_ = std::min<qint64>(cfg.cut_after, body_.size());
      cut_ = true;
    }
    slow_ = lfs_cdn && cfg.slow_ms > 0;
    sending_ = true;
    pump();
  }

  void pump() {
    if (!sending_ || waiting_) return;
    if (sock_->bytesToWrite() > (slow_ ? 0 : 1 << 20)) return;
    if (pos_ >= limit_) {
      if (cut_ && sock_->bytesToWrite() > 0) return;  // the bytes before the cut do arrive
      sending_ = false;
      if (cut_) {
        log_line("CUT at " + QByteArray::number(pos_));
        sock_->flush();
        sock_->abort();
      } else {
        sock_->disconnectFromHost();
      }
      return;
    }
    const qint64 n = std::min<qint64>(slow_ ? 32768 : 262144, limit_ - pos_);
    sock_->write(body_.constData() + pos_, n);
    pos_ += n;
    if (slow_) {
      waiting_ = true;
      QTimer::singleShot(cfg.slow_ms, this, [this] {
        waiting_ = false;
        pump();
      });
    }
  }

  void handle(const Request& r) {
    method_ = r.method;
    const QString path =
        QUrl::fromPercentEncoding(r.target.left(r.target.indexOf('?') < 0 ? r.target.size() : r.target.indexOf('?')));
    if (cdn_) {
      // /lfs/{sha256}
      const QByteArray sha = path.mid(5).toLatin1();
      auto it = cfg.lfs.find(sha);
      if (!path.startsWith("/lfs/") || it == cfg.lfs.end()) return error(404);
      return serve(*it->second, {{"ETag", "\"" + sha + "\""}}, r, true);
    }
    if (cfg.status != 0 && cfg.fail_times != 0) {
      if (cfg.fail_times > 0) --cfg.fail_times;
      return error(cfg.status, cfg.status == 401 ? "GatedRepo" : "");
    }
    if (!cfg.token.isEmpty() && r.header("authorization") != "Bearer " + cfg.token) return error(401, "GatedRepo");
    const bool api = path.startsWith("/api/models/");
    const QStringList parts = path.mid(api ? 12 : 1).split('/');
    if (parts.size() < 4) return error(404, "RepoNotFound");
    const QString id = parts[0] + "/" + parts[1];
    auto rit = cfg.repos.find(id);
    if (rit == cfg.repos.end()) return error(404, "RepoNotFound");
    const Repo& repo = rit->second;
    const QString rev = parts[3];
    if ((api && parts[2] != "revision") || (!api && parts[2] != "resolve")) return error(404);
    if (rev != "main" && rev != repo.commit) return error(404, "RevisionNotFound");
    if (api) {
      QJsonArray siblings;
      for (const auto& [p, f] : repo.files) {
        QJsonObject o{{"rfilename", p}, {"blobId", QString::fromLatin1(f.blob_id)}};
        o["size"] = static_cast<double>(f.data.size());
        if (f.lfs())
          o["lfs"] = QJsonObject{{"sha256", QString::fromLatin1(f.sha256)},
                                 {"size", static_cast<double>(f.data.size())},
                                 {"pointerSize", 134}};
        siblings.append(o);
      }
      QJsonObject o{
          {"id", repo.id}, {"modelId", repo.id}, {"sha", repo.commit}, {"private", false}, {"siblings", siblings}};
      return finish_simple(200, "OK", QJsonDocument(o).toJson(QJsonDocument::Compact),
                           {{"X-Repo-Commit", repo.commit.toLatin1()}});
    }
    const QString file = parts.mid(4).join('/');
    auto fit = repo.files.find(file);
    if (fit == repo.files.end()) return error(404, "EntryNotFound");
    const File& f = fit->second;
    if (f.lfs()) {
      const QByteArray location =
          "http://127.0.0.1:" + QByteArray::number(cfg.cdn_port) + "/lfs/" + f.sha256 + "?X-Amz-Signature=test";
      return finish_simple(302, "Found", {},
                           {{"Location", location},
                            {"X-Linked-Etag", "\"" + f.sha256 + "\""},
                            {"X-Linked-Size", QByteArray::number(f.data.size())},
                            {"X-Repo-Commit", repo.commit.toLatin1()},
                            {"ETag", "\"" + f.blob_id + "\""},
                            {"Content-Type", "text/plain"}});
    }
    serve(f, {{"ETag", "\"" + f.blob_id + "\""}, {"X-Repo-Commit", repo.commit.toLatin1()}}, r, false);
  }

  QTcpSocket* sock_;
  bool cdn_;
  QByteArray buf_, method_, body_;
  bool started_ = false, sending_ = false, waiting_ = false, slow_ = false, cut_ = false;
  qint64 pos_ = 0, limit_ = 0;
};

bool load_repo(const QString& spec) {
  const int eq = spec.indexOf('=');
  if (eq <= 0) return false;
  Repo repo;
  repo.id = spec.left(eq);
  const QDir dir(spec.mid(eq + 1));
  if (!dir.exists()) return false;
  QCryptographicHash commit(QCryptographicHash::Sha1);
  commit.addData(repo.id.toUtf8());
  QDirIterator it(dir.path(), QDir::Files, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString p = it.next();
    QFile qf(p);
    if (!qf.open(QIODevice::ReadOnly)) return false;
    File f;
    f.path = dir.relativeFilePath(p);
    f.data = qf.readAll();
    const bool lfs = f.path.endsWith(".safetensors") || f.path.endsWith(".bin") || f.data.size() > 10 * 1024 * 1024;
    if (lfs) {
      f.sha256 = QCryptographicHash::hash(f.data, QCryptographicHash::Sha256).toHex();
      f.blob_id = git_sha1("version https://git-lfs.github.com/spec/v1\noid sha256:" + f.sha256 + "\nsize " +
                           QByteArray::number(f.data.size()) + "\n");
    } else {
      f.blob_id = git_sha1(f.data);
    }
    commit.addData(f.path.toUtf8() + f.blob_id);
    repo.files[f.path] = f;
  }
  repo.commit = QString::fromLatin1(commit.result().toHex());
  cfg.repos[repo.id] = repo;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  const QStringList args = app.arguments();
  for (int i = 1; i < args.size(); ++i) {
    const QString a = args[i];
    const QString v = i + 1 < args.size() ? args[i + 1] : QString();
    if (a == "--ignore-range") {
      cfg.ignore_range = true;
      continue;
    }
    ++i;
    if (a == "--repo") {
      if (!load_repo(v)) {
        std::fprintf(stderr, "hub_server: cannot serve %s\n", qPrintable(v));
        return 2;
      }
    } else if (a == "--cut-after")
      cfg.cut_after = v.toLongLong();
    else if (a == "--corrupt")
      cfg.corrupt = v;
    else if (a == "--status")
      cfg.status = v.toInt();
    else if (a == "--fail-times")
      cfg.fail_times = v.toInt();
    else if (a == "--slow-ms")
      cfg.slow_ms = v.toInt();
    else if (a == "--token")
      cfg.token = v.toUtf8();
    else {
      std::fprintf(stderr, "hub_server: unknown option %s\n", qPrintable(a));
      return 2;
    }
  }
  for (auto& [id, repo] : cfg.repos)
    for (auto& [p, f] : repo.files)
      if (f.lfs()) cfg.lfs[f.sha256] = &f;
  QTcpServer api, cdn;
  if (!api.listen(QHostAddress::LocalHost, 0) || !cdn.listen(QHostAddress::LocalHost, 0)) {
    std::fprintf(stderr, "hub_server: cannot listen\n");
    return 1;
  }
  cfg.cdn_port = cdn.serverPort();
  for (auto* s : {&api, &cdn}) {
    const bool is_cdn = s == &cdn;
    QObject::connect(s, &QTcpServer::newConnection, s, [s, is_cdn] {
      while (QTcpSocket* sock = s->nextPendingConnection()) new Connection(sock, is_cdn);
    });
  }
  log_line("PORTS " + QByteArray::number(api.serverPort()) + " " + QByteArray::number(cdn.serverPort()));
  return app.exec();
}
