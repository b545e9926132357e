#include "core/hub/client.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QNetworkAccessManager>
#include <QNetworkProxyFactory>
#include <QNetworkReply>
#include <QStorageInfo>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <system_error>

#include "core/error.h"
#include "core/io/config.h"
#include "core/hub/files.h"

namespace core::hub {

namespace fs = std::filesystem;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string ss(const QString& s) { return s.toStdString(); }
QString qpath(const fs::path& p) { return QString::fromStdString(p.u8string()); }

std::string getenv_str(const char* n) {
  const char* v = std::getenv(n);
  return v ? std::string(v) : std::string();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// https_proxy / HTTPS_PROXY for https URLs (Qt's system configuration on
// Unix reads only http_proxy), honouring no_proxy; the system's otherwise.
class ProxyFactory : public QNetworkProxyFactory {
 public:
  QList<QNetworkProxy> queryProxy(const QNetworkProxyQuery& q) override {
    std::string https = getenv_str("https_proxy");
    if (https.empty()) https = getenv_str("HTTPS_PROXY");
    if (q.url().scheme() == "https" && !https.empty() && !excluded(q.url().host())) {
      QUrl p = QUrl::fromUserInput(qs(https));
      return {QNetworkProxy(QNetworkProxy::HttpProxy, p.host(), static_cast<quint16>(p.port(8080)), p.userName(),
                            p.password())};
    }
    return systemProxyForQuery(q);
  }

 private:
  static bool excluded(const QString& host) {
    std::string np = getenv_str("no_proxy");
    if (np.empty()) np = getenv_str("NO_PROXY");
    for (const QString& e : qs(np).split(',', Qt::SkipEmptyParts)) {
      const QString entry = e.trimmed();
      if (entry == "*" || host == entry || (entry.startsWith('.') && host.endsWith(entry)) ||
          host.endsWith("." + entry))
        return true;
    }
    return false;
  }
};

struct Answer {
  int status = 0;
  QNetworkReply::NetworkError error = QNetworkReply::NoError;
  QString error_text;
  QList<QNetworkReply::RawHeaderPair> headers;
  QByteArray body;
  QUrl url;
  QByteArray header(const QByteArray& name) const {
    for (const auto& h : headers)
      if (h.first.compare(name, Qt::CaseInsensitive) == 0) return h.second;
    return {};
  }
};

// A failure worth another try: a dropped connection, a timeout, a 5xx.
struct Transient {
  std::string what;
};

class Session {
 public:
  Session(const RepoRef& ref, const PullOptions& o) : ref_(ref), opt_(o) {
    endpoint_ = QUrl(qs(opt_.endpoint.empty() ? default_endpoint() : opt_.endpoint));
    token_ = QByteArray::fromStdString(opt_.token.empty() ? default_token() : opt_.token);
    nam_.setProxyFactory(new ProxyFactory);  // the manager owns it
    nam_.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
  }

  const RepoRef& ref() const { return ref_; }
  const PullOptions& options() const { return opt_; }
  QString endpoint() const { return endpoint_.toString(); }

  QUrl api_url() const {
    return QUrl(endpoint() + "/api/models/" + qs(ref_.repo) + "/revision/" +
                QString::fromUtf8(QUrl::toPercentEncoding(qs(ref_.revision))) + "?blobs=true");
  }
  QUrl resolve_url(const std::string& commit, const std::string& path) const {
    return QUrl(endpoint() + "/" + qs(ref_.repo) + "/resolve/" + qs(commit) + "/" +
                QString::fromUtf8(QUrl::toPercentEncoding(qs(path), "/")));
  }

  bool same_origin(const QUrl& u) const {
    return u.scheme() == endpoint_.scheme() && u.host() == endpoint_.host() && u.port() == endpoint_.port();
  }

  // One request, following redirects when `follow` (Authorization only to the
  // endpoint's own host). `on_status` sees the final answer's status before its
  // body; `sink` takes the body (else it is kept in Answer::body).
  Answer request(const QByteArray& verb, QUrl url, const QByteArray& range, bool follow,
                 const std::function<void(const Answer&)>& on_status = {},
                 const std::function<void(const QByteArray&)>& sink = {}) {
    for (int hop = 0; hop < 10; ++hop) {
      QNetworkRequest rq(url);
      rq.setRawHeader("User-Agent", "open-autoglm-studio/hub");
      rq.setRawHeader("Accept-Encoding", "identity");
      if (!token_.isEmpty() && same_origin(url)) rq.setRawHeader("Authorization", "Bearer " + token_);
      if (!range.isEmpty()) rq.setRawHeader("Range", range);
      rq.setTransferTimeout(opt_.timeout_ms);
      // HEAD through head(): a custom verb would wait for the Content-Length body.
      QNetworkReply* reply = verb == "HEAD" ? nam_.head(rq) : nam_.get(rq);
      Answer a;
      a.url = url;
      auto take_meta = [&] {
        a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        a.headers = reply->rawHeaderPairs();
      };
      QObject::connect(reply, &QNetworkReply::metaDataChanged, reply, [&] {
        take_meta();
        if (on_status && a.status >= 200 && a.status < 300) on_status(a);
      });
      QObject::connect(reply, &QNetworkReply::readyRead, reply, [&] {
        if (opt_.cancel && opt_.cancel->load()) {
          reply->abort();
          return;
        }
        const QByteArray chunk = reply->readAll();
        if (sink && a.status >= 200 && a.status < 300)
          sink(chunk);
        else
          a.body += chunk;
      });
      QEventLoop loop;
      QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
      // A stalled server sends no readyRead: cancel (the app's pause) is polled too.
      QTimer poll;
      if (opt_.cancel) {
        QObject::connect(&poll, &QTimer::timeout, reply, [&] {
          if (opt_.cancel->load()) reply->abort();
        });
        poll.start(100);
      }
      if (!reply->isFinished()) loop.exec();
      take_meta();
      const QByteArray rest = reply->isOpen() ? reply->readAll() : QByteArray();  // closed once aborted
      if (sink && a.status >= 200 && a.status < 300)
        sink(rest);
      else
        a.body += rest;
      a.error = reply->error();
      a.error_text = reply->errorString();
      reply->deleteLater();
      if (opt_.cancel && opt_.cancel->load()) throw Error(ErrorCode::Cancelled, ref_.repo + ": download cancelled");
      if (follow && a.status >= 300 && a.status < 400 && !a.header("Location").isEmpty()) {
        url = url.resolved(QUrl::fromEncoded(a.header("Location")));
        continue;
      }
      return a;
    }
    throw Error(ErrorCode::Network, ref_.repo + ": too many redirects from " + ss(url.toString()));
  }

  // Maps an answer to an error; returns when it is a success.
  void check(const Answer& a, const std::string& what) const {
    const std::string repo = ref_.repo;
    const std::string ep = ss(endpoint());
    if (a.error == QNetworkReply::NoError && a.status >= 200 && a.status < 400) return;
    if (a.status == 401 || a.status == 403)
      throw Error(ErrorCode::Unauthorized,
                  repo + ": the Hub at " + ep + " refused " + what + " (HTTP " + std::to_string(a.status) +
                      "): the repository is private or gated, or does not exist. Set a token with read access in "
                      "HF_TOKEN or in " +
                      (hf_home() / "token").u8string() +
                      (a.status == 403 ? ", and accept the model's conditions on its page" : ""));
    if (a.status == 404) {
      const std::string code = a.header("X-Error-Code").toStdString();
      if (code == "RevisionNotFound")
        throw Error(ErrorCode::NotFound, repo + ": revision '" + ref_.revision + "' not found on " + ep);
      if (code == "EntryNotFound") throw Error(ErrorCode::NotFound, repo + ": " + what + " not found on " + ep);
      throw Error(ErrorCode::NotFound, repo + ": repository not found on " + ep + " (check the name)");
    }
    if (a.status >= 500) throw Transient{"HTTP " + std::to_string(a.status) + " for " + what};
    if (a.status == 0) {
      switch (a.error) {
        case QNetworkReply::ConnectionRefusedError:
        case QNetworkReply::HostNotFoundError:
        case QNetworkReply::ProxyConnectionRefusedError:
        case QNetworkReply::ProxyNotFoundError:
        case QNetworkReply::NetworkSessionFailedError:
          throw Error(ErrorCode::Network, repo + ": cannot reach " + ep + " (" + ss(a.error_text) +
                                              "); no network? Models already downloaded work with HF_HUB_OFFLINE=1");
        case QNetworkReply::SslHandshakeFailedError:
          throw Error(ErrorCode::Network,
                      repo + ": TLS verification failed for " + ss(a.url.host()) + ": " + ss(a.error_text));
        default:
          throw Transient{ss(a.error_text) + " (" + what + ")"};
      }
    }
    if (a.error != QNetworkReply::NoError && a.status >= 200 && a.status < 300)
      throw Transient{ss(a.error_text) + " (" + what + ")"};
    throw Error(ErrorCode::Network,
                repo + ": the Hub at " + ep + " answered HTTP " + std::to_string(a.status) + " for " + what);
  }

  template <class F>
  auto with_retries(const std::string& what, F&& f) -> decltype(f()) {
    int wait = opt_.backoff_ms;
    for (int attempt = 0;; ++attempt) {
      try {
        return f();
      } catch (const Transient& t) {
        if (attempt >= opt_.retries)
          throw Error(ErrorCode::Network,
                      ref_.repo + ": " + what + " failed after " + std::to_string(attempt + 1) + " tries: " + t.what);
        note("retrying " + what + " in " + std::to_string(wait) + " ms: " + t.what);
        for (int slept = 0; slept < wait; slept += 50) {
          if (opt_.cancel && opt_.cancel->load()) throw Error(ErrorCode::Cancelled, ref_.repo + ": download cancelled");
          QThread::msleep(50);
        }
        wait *= 2;
      }
    }
  }

  void note(const std::string& s) const {
    if (opt_.on_note) opt_.on_note(s);
  }

 private:
  RepoRef ref_;
  PullOptions opt_;
  QUrl endpoint_;
  QByteArray token_;
  QNetworkAccessManager nam_;
};

std::string clean_etag(QByteArray e) {
  e = e.trimmed();
  if (e.startsWith("W/")) e = e.mid(2);
  if (e.size() >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.mid(1, e.size() - 2);
  return e.toStdString();
}

std::string file_hash(const fs::path& p, bool lfs, std::uint64_t size) {
  QFile f(qpath(p));
  if (!f.open(QIODevice::ReadOnly)) return {};
  QCryptographicHash h(lfs ? QCryptographicHash::Sha256 : QCryptographicHash::Sha1);
  if (!lfs) h.addData(QByteArray("blob ") + QByteArray::number(static_cast<qulonglong>(size)) + '\0');
  h.addData(&f);
  return h.result().toHex().toStdString();
}

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

}  // namespace

namespace {

class Puller {
 public:
  Puller(const RepoRef& ref, const PullOptions& o) : s_(ref, o), repo_(ref.repo) {
    cache_ = o.cache.empty() ? cache_dir() : o.cache;
    dir_ = repo_dir(cache_, repo_);
  }

  PullResult run() {
    PullResult r;
    r.repo = repo_;
    r.revision = s_.ref().revision;
    if (offline_mode()) return from_cache(r, "HF_HUB_OFFLINE is set");
    std::vector<RemoteFile> all;
    try {
      all = list_files(&r.commit);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::Network) throw;
      if (find_snapshot(cache_, s_.ref())) {
        s_.note(std::string(e.what()) + "; using the copy in the cache");
        return from_cache(r, "");
      }
      throw;
    }
    auto files = choose_files(all);
    if (files.empty())
      throw Error(ErrorCode::NotFound, repo_ + ": the repository has no config.json or weights this app can use");
    if (files.front().path != "config.json") {
      auto cfg = std::find_if(files.begin(), files.end(), [](const RemoteFile& f) { return f.path == "config.json"; });
      if (cfg == files.end())
        throw Error(ErrorCode::UnsupportedModel, repo_ +
                                                     ": the repository has no config.json, so it is not a model "
                                                     "this app can run");
      std::rotate(files.begin(), cfg, cfg + 1);  // the family is known before any weights are fetched
    }
    for (const auto& f : files) total_ += f.size;
    check_free_space(files);

    std::vector<std::pair<RemoteFile, fs::path>> blobs;
    for (size_t i = 0; i < files.size(); ++i) {
      const auto& f = files[i];
      blobs.emplace_back(f, fetch(f, r.commit));
      if (i == 0) check_family(blobs.back().second);
      if (ends_with(f.path, ".index.json")) {
        for (const auto& shard : shards_named_by(blobs.back().second, repo_)) {
          auto it = std::find_if(all.begin(), all.end(), [&](const RemoteFile& x) { return x.path == shard; });
          if (it == all.end())
            throw Error(ErrorCode::NotFound,
                        repo_ + ": " + f.path + " names " + shard + ", which the repository lacks");
          files.push_back(*it);
          total_ += it->size;
        }
      }
    }
    // Every file is in blobs/: only now does the snapshot appear.
    const fs::path snap = dir_ / "snapshots" / r.commit;
    for (const auto& [f, blob] : blobs) link_blob(blob, snap / fs::u8path(f.path));
    if (s_.ref().revision != r.commit) write_ref(s_.ref().revision, r.commit);
    r.snapshot = snap;
    r.files = files;
    r.downloaded = downloaded_;
    return r;
  }

 private:
  PullResult from_cache(PullResult r, const std::string& why) {
    auto snap = find_snapshot(cache_, s_.ref());
    if (!snap)
      throw Error(ErrorCode::Offline, repo_ + ": offline (" + (why.empty() ? "no network" : why) +
                                          ") and not in the cache at " + cache_.u8string());
    r.snapshot = *snap;
    r.commit = snap->filename().u8string();
    r.from_cache = true;
    return r;
  }

  // The config's family against what this build runs (core::parse_config,
  // the loader's own reader), named in the error as model_type (architecture).
  void check_family(const fs::path& config_blob) {
    std::ifstream in(config_blob, std::ios::binary);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    std::string family = "unknown";
    if (j.is_object()) {
      if (auto t = j.find("model_type"); t != j.end() && t->is_string()) family = t->get<std::string>();
      if (auto a = j.find("architectures"); a != j.end() && a->is_array() && !a->empty() && (*a)[0].is_string())
        family += " (" + (*a)[0].get<std::string>() + ")";
    }
    try {
      parse_config(j, repo_ + "/config.json");
    } catch (const Error& e) {
      throw Error(ErrorCode::UnsupportedModel, repo_ + ": this app cannot run the model family " + family +
                                                   "; nothing else was downloaded (" + e.what() + ")");
    }
  }

  std::vector<RemoteFile> list_files(std::string* commit) {
    return s_.with_retries("the file list", [&] {
      Answer a = s_.request("GET", s_.api_url(), {}, true);
      s_.check(a, "the file list");
      const auto doc = QJsonDocument::fromJson(a.body);
      const auto obj = doc.object();
      *commit = ss(obj.value("sha").toString());
      if (!is_commit_hash(*commit))
        throw Error(ErrorCode::Network, repo_ + ": the Hub's file list has no commit (\"sha\")");
      std::vector<RemoteFile> out;
      for (const auto& v : obj.value("siblings").toArray()) {
        const auto o = v.toObject();
        RemoteFile f;
        f.path = ss(o.value("rfilename").toString());
        f.size = static_cast<std::uint64_t>(o.value("size").toDouble());
        f.blob_id = ss(o.value("blobId").toString());
        const auto lfs = o.value("lfs").toObject();
        if (!lfs.isEmpty()) {
          f.sha256 = ss(lfs.value("sha256").toString());
          f.size = static_cast<std::uint64_t>(lfs.value("size").toDouble(static_cast<double>(f.size)));
        }
        if (f.path.empty() || f.path.find("..") != std::string::npos || f.path.front() == '/') continue;
        out.push_back(f);
      }
      return out;
    });
  }

  static std::string expected_etag(const RemoteFile& f) { return f.lfs() ? f.sha256 : f.blob_id; }

  void check_free_space(const std::vector<RemoteFile>& files) {
    std::error_code ec;
    fs::create_directories(dir_ / "blobs", ec);
    if (ec) throw Error(ErrorCode::Io, repo_ + ": cannot create " + (dir_ / "blobs").u8string() + ": " + ec.message());
    std::uint64_t need = 0;
    for (const auto& f : files) {
      const fs::path blob = dir_ / "blobs" / expected_etag(f);
      if (fs::exists(blob, ec)) continue;
      const auto part = file_size_or_zero(fs::path(blob.u8string() + ".incomplete"));
      need += f.size > part ? f.size - part : 0;
    }
    QStorageInfo disk(qpath(dir_ / "blobs"));
    const auto avail = static_cast<std::uint64_t>(std::max<qint64>(0, disk.bytesAvailable()));
    if (disk.isValid() && avail < need)
      throw Error(ErrorCode::Io, repo_ + ": needs " + std::to_string(need / 1048576) + " MiB more but " +
                                     cache_.u8string() + " has " + std::to_string(avail / 1048576) + " MiB free");
  }

  void write_ref(const std::string& revision, const std::string& commit) {
    const fs::path p = dir_ / "refs" / fs::u8path(revision);
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << commit;
    if (!f) throw Error(ErrorCode::Io, repo_ + ": cannot write " + p.u8string());
  }

  void report(const RemoteFile& f, std::uint64_t file_done, bool resumed, bool force) {
    if (!s_.options().on_progress) return;
    if (!force && since_report_.isValid() && since_report_.elapsed() < 100) return;
    since_report_.start();
    Progress p;
    p.file = f.path;
    p.file_done = file_done;
    p.file_total = f.size;
    p.done = done_ + file_done;
    p.total = total_;
    p.resumed = resumed;
    s_.options().on_progress(p);
  }

  // HEAD: the etag, size and commit the Hub gives for this file.
  void head(const RemoteFile& f, const std::string& commit, std::string* etag, std::uint64_t* size) {
    s_.with_retries(f.path, [&] {
      Answer a = s_.request("HEAD", s_.resolve_url(commit, f.path), {}, false);
      if (a.status >= 300 && a.status < 400 &&
          s_.same_origin(a.url.resolved(QUrl::fromEncoded(a.header("Location")))) &&
          a.header("X-Linked-Etag").isEmpty())
        a = s_.request("HEAD", a.url.resolved(QUrl::fromEncoded(a.header("Location"))), {}, false);
      s_.check(a, f.path);
      QByteArray e = a.header("X-Linked-Etag");
      if (e.isEmpty()) e = a.header("ETag");
      QByteArray n = a.header("X-Linked-Size");
      if (n.isEmpty()) n = a.header("Content-Length");
      *etag = clean_etag(e);
      *size = n.isEmpty() ? f.size : n.toULongLong();
      const std::string c = a.header("X-Repo-Commit").toStdString();
      if (!c.empty() && c != commit)
        throw Error(ErrorCode::Network, repo_ + ": " + f.path + " is served from commit " + c + ", not " + commit);
      return 0;
    });
    if (etag->empty()) *etag = expected_etag(f);
    if (etag->find('/') != std::string::npos || etag->find("..") != std::string::npos)
      throw Error(ErrorCode::Network, repo_ + ": the Hub sent an unusable etag for " + f.path);
  }

  fs::path fetch(RemoteFile f, const std::string& commit) {
    std::string etag;
    std::uint64_t size = 0;
    head(f, commit, &etag, &size);
    f.size = size;
    const fs::path blob = dir_ / "blobs" / etag;
    std::error_code ec;
    if (fs::exists(blob, ec) && file_size_or_zero(blob) == size) {
      report(f, size, false, true);
      done_ += size;
      return blob;
    }
    const fs::path lock_dir = cache_ / ".locks" / repo_folder_name(repo_);
    fs::create_directories(lock_dir, ec);
    QLockFile lock(qpath(lock_dir / (etag + ".lock")));
    lock.setStaleLockTime(0);  // a lock is stale only when its process is gone
    if (!lock.tryLock(0)) {
      s_.note("waiting for another process downloading " + f.path);
      lock.lock();
    }
    if (fs::exists(blob, ec) && file_size_or_zero(blob) == size) {
      report(f, size, false, true);
      done_ += size;
      return blob;
    }
    const fs::path part = fs::path(blob.u8string() + ".incomplete");
    QFile out(qpath(part));
    if (!out.open(QIODevice::ReadWrite | QIODevice::Unbuffered))
      throw Error(ErrorCode::Io, repo_ + ": cannot write " + part.u8string());
    std::uint64_t have = static_cast<std::uint64_t>(out.size());
    if (have > size) {
      out.resize(0);
      have = 0;
    }
    const bool resumed = have > 0;
    if (resumed) s_.note("resuming " + f.path + " from byte " + std::to_string(have));
    s_.with_retries(f.path, [&] {
      if (have == size) return 0;
      const QByteArray range = have > 0 ? "bytes=" + QByteArray::number(static_cast<qulonglong>(have)) + "-" : "";
      bool restart_checked = false;
      std::string write_error;
      Answer a = s_.request(
          "GET", s_.resolve_url(commit, f.path), range, true,
          [&](const Answer& meta) {
            restart_checked = true;
            if (have > 0 && meta.status == 200) {
              s_.note("the server ignored the range for " + f.path + "; starting it again from zero");
              out.resize(0);
              have = 0;
            }
            out.seek(static_cast<qint64>(have));
          },
          [&](const QByteArray& chunk) {
            if (!restart_checked || !write_error.empty()) return;
            if (out.write(chunk) != chunk.size()) {
              write_error = ss(out.errorString());
              return;
            }
            have += static_cast<std::uint64_t>(chunk.size());
            downloaded_ += static_cast<std::uint64_t>(chunk.size());
            report(f, std::min(have, size), resumed, false);
          });
      if (!write_error.empty())
        throw Error(ErrorCode::Io, repo_ + ": cannot write " + part.u8string() + ": " + write_error);
      s_.check(a, f.path);
      if (a.status == 200 || a.status == 206) {
        if (have < size) throw Transient{"connection closed at byte " + std::to_string(have) + " of " + f.path};
      }
      return 0;
    });
    out.close();
    if (have != size) {
      fs::remove(part, ec);
      throw Error(ErrorCode::Checksum, repo_ + ": " + f.path + " came with " + std::to_string(have) +
                                           " bytes instead of " + std::to_string(size) + "; the download was deleted");
    }
    const std::string want = f.lfs() ? f.sha256 : (f.blob_id.empty() ? etag : f.blob_id);
    const std::string got = file_hash(part, f.lfs(), size);
    if (got != want) {
      fs::remove(part, ec);
      throw Error(ErrorCode::Checksum, repo_ + ": " + f.path + " does not match its " +
                                           (f.lfs() ? "sha256" : "git sha1") + " (expected " + want + ", got " + got +
                                           "); the download was deleted, nothing was added to the cache");
    }
    fs::rename(part, blob, ec);
    if (ec) throw Error(ErrorCode::Io, repo_ + ": cannot move " + part.u8string() + " into blobs/: " + ec.message());
    report(f, size, resumed, true);
    done_ += size;
    return blob;
  }

  Session s_;
  std::string repo_;
  fs::path cache_, dir_;
  std::uint64_t total_ = 0, done_ = 0, downloaded_ = 0;
  QElapsedTimer since_report_;
};

}  // namespace

PullResult pull(const RepoRef& ref, const PullOptions& options) {
  if (!QCoreApplication::instance()) throw Error(ErrorCode::Internal, "core::hub::pull needs a QCoreApplication");
  static const bool proxies = [] {
    QNetworkProxyFactory::setUseSystemConfiguration(true);
    return true;
  }();
  (void)proxies;
  return Puller(ref, options).run();
}

}  // namespace core::hub
