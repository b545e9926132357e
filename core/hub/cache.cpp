#include "core/hub/cache.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <system_error>

#include "core/error.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace core::hub {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

fs::path home_dir() {
#ifdef _WIN32
  std::string h = env("USERPROFILE");
#else
  std::string h = env("HOME");
#endif
  return h.empty() ? fs::current_path() : fs::u8path(h);
}

std::string read_first_line(const fs::path& p) {
  std::ifstream f(p);
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\n')) line.pop_back();
  return line;
}

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

}  // namespace

fs::path hf_home() {
  if (auto h = env("HF_HOME"); !h.empty()) return fs::u8path(h);
  if (auto x = env("XDG_CACHE_HOME"); !x.empty()) return fs::u8path(x) / "huggingface";
  return home_dir() / ".cache" / "huggingface";
}

fs::path token_file() { return hf_home() / "token"; }

std::string read_token_file() { return read_first_line(token_file()); }

void save_token(const std::string& token) {
  const fs::path p = token_file();
  std::error_code ec;
  if (token.empty()) {
    fs::remove(p, ec);
    if (ec) throw Error(ErrorCode::Io, p.u8string() + ": cannot remove the token file: " + ec.message());
    return;
  }
  if (token.find_first_of("\r\n") != std::string::npos) throw Error(ErrorCode::BadArgument, "a Hub token is one line");
  fs::create_directories(p.parent_path(), ec);
  const fs::path tmp = p.u8string() + ".tmp";
#ifndef _WIN32
  // Created 0600 from the start, so the token is never readable by others.
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0600);
  if (fd < 0) throw Error(ErrorCode::Io, tmp.u8string() + ": cannot write the token file");
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    throw Error(ErrorCode::Io, tmp.u8string() + ": cannot write the token file");
  }
#else
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << token << "\n";
    if (!f) throw Error(ErrorCode::Io, tmp.u8string() + ": cannot write the token file");
  }
#endif
  fs::rename(tmp, p, ec);
  if (ec) throw Error(ErrorCode::Io, p.u8string() + ": cannot write the token file: " + ec.message());
}

fs::path cache_dir() {
  if (auto c = env("HF_HUB_CACHE"); !c.empty()) return fs::u8path(c);
  if (auto c = env("HUGGINGFACE_HUB_CACHE"); !c.empty()) return fs::u8path(c);
  return hf_home() / "hub";
}

bool offline_mode() {
  std::string v = env("HF_HUB_OFFLINE");
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

std::optional<RepoRef> parse_repo_ref(const std::string& s) {
  RepoRef r;
  std::string id = s;
  if (auto at = s.find('@'); at != std::string::npos) {
    id = s.substr(0, at);
    r.revision = s.substr(at + 1);
    if (r.revision.empty()) return std::nullopt;
  }
  const auto slash = id.find('/');
  if (slash != id.rfind('/')) return std::nullopt;  // at most one '/'
  const std::string org = slash == std::string::npos ? "" : id.substr(0, slash);
  const std::string name = slash == std::string::npos ? id : id.substr(slash + 1);
  auto ok = [](const std::string& part) {
    return !part.empty() && part.size() <= 96 && part != "." && part != ".." && part.find("--") == std::string::npos &&
           std::all_of(part.begin(), part.end(), valid_name_char);
  };
  if (!ok(name) || (slash != std::string::npos && !ok(org))) return std::nullopt;
  for (char c : r.revision)
    if (c == '\\' || c == '\0' || c == '\n') return std::nullopt;
  if (r.revision.find("..") != std::string::npos) return std::nullopt;
  r.repo = id;
  return r;
}

std::string repo_folder_name(const std::string& repo) {
  std::string out = "models--";
  for (char c : repo) {
    if (c == '/')
      out += "--";
    else
      out += c;
  }
  return out;
}

fs::path repo_dir(const fs::path& cache, const std::string& repo) { return cache / repo_folder_name(repo); }

bool is_commit_hash(const std::string& s) {
  return s.size() == 40 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<fs::path> find_snapshot(const fs::path& cache, const RepoRef& ref) {
  std::error_code ec;
  const fs::path dir = repo_dir(cache, ref.repo);
  std::string commit;
  if (fs::is_regular_file(dir / "refs" / fs::u8path(ref.revision), ec))
    commit = read_first_line(dir / "refs" / fs::u8path(ref.revision));
  else if (is_commit_hash(ref.revision))
    commit = ref.revision;
  if (commit.empty()) return std::nullopt;
  const fs::path snap = dir / "snapshots" / commit;
  if (!fs::is_directory(snap, ec)) return std::nullopt;
  return snap;
}

fs::path resolve_model(const std::string& folder_or_repo) {
  std::error_code ec;
  const fs::path as_path = fs::u8path(folder_or_repo);
  if (fs::exists(as_path, ec)) return as_path;
  auto ref = parse_repo_ref(folder_or_repo);
  if (!ref || folder_or_repo.find('/') == std::string::npos)
    throw Error(ErrorCode::Io,
                folder_or_repo + ": not a model folder (no such folder, and not a repository id org/name[@revision])");
  const fs::path cache = cache_dir();
  if (auto snap = find_snapshot(cache, *ref)) return *snap;
  throw Error(ErrorCode::Io, ref->repo + (ref->revision == "main" ? "" : "@" + ref->revision) +
                                 ": not in the HuggingFace cache at " + cache.u8string() +
                                 " (download it with: autoglm pull " + folder_or_repo + ")");
}

void link_blob(const fs::path& blob, const fs::path& link) {
  std::error_code ec;
  fs::create_directories(link.parent_path(), ec);
  if (ec) throw Error(ErrorCode::Io, link.parent_path().u8string() + ": cannot create the folder: " + ec.message());
  fs::remove(link, ec);
  const fs::path target = blob.lexically_relative(link.parent_path());
  fs::create_symlink(target.empty() ? blob : target, link, ec);
  if (!ec) return;
  fs::copy_file(blob, link, fs::copy_options::overwrite_existing, ec);
  if (ec)
    throw Error(ErrorCode::Io, link.u8string() + ": cannot link or copy " + blob.u8string() + ": " + ec.message());
}

std::vector<CachedModel> list_models(const fs::path& cache) {
  std::vector<CachedModel> out;
  std::error_code ec;
  if (!fs::is_directory(cache, ec)) return out;
  for (const auto& entry : fs::directory_iterator(cache, ec)) {
    const std::string folder = entry.path().filename().u8string();
    if (folder.rfind("models--", 0) != 0 || !entry.is_directory(ec)) continue;
    std::string repo = folder.substr(8);
    if (auto p = repo.find("--"); p != std::string::npos) repo.replace(p, 2, "/");
    std::map<std::string, std::vector<std::string>> refs;
    for (const auto& r : fs::recursive_directory_iterator(entry.path() / "refs", ec))
      if (r.is_regular_file(ec))
        refs[read_first_line(r.path())].push_back(
            r.path().lexically_relative(entry.path() / "refs").generic_u8string());
    for (const auto& snap : fs::directory_iterator(entry.path() / "snapshots", ec)) {
      if (!snap.is_directory(ec)) continue;
      CachedModel m;
      m.repo = repo;
      m.commit = snap.path().filename().u8string();
      m.revisions = refs[m.commit];
      m.snapshot = snap.path();
      for (const auto& f : fs::recursive_directory_iterator(snap.path(), ec))
        if (fs::is_regular_file(f.path(), ec)) m.size += fs::file_size(f.path(), ec);  // follows the links
      out.push_back(std::move(m));
    }
  }
  std::sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) {
    return a.repo != b.repo ? a.repo < b.repo : a.commit < b.commit;
  });
  return out;
}

bool remove_repo(const fs::path& cache, const std::string& repo) {
  std::error_code ec;
  const fs::path dir = repo_dir(cache, repo);
  if (!fs::exists(dir, ec)) return false;
  fs::remove_all(dir, ec);
  if (ec) throw Error(ErrorCode::Io, repo + ": cannot remove " + dir.u8string() + ": " + ec.message());
  fs::remove_all(cache / ".locks" / repo_folder_name(repo), ec);
  return true;
}

}  // namespace core::hub
