// autoglm pull / models / rm: the HuggingFace cache from the command line.
#include <QCoreApplication>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/cli.h"
#include "core/error.h"
#include "core/hub/cache.h"
#include "core/hub/client.h"
#include "core/io/config.h"
#include "core/io/checkpoint.h"

#ifdef _WIN32
#include <io.h>
#define isatty _isatty
#define fileno _fileno
#else
#include <unistd.h>
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace cli {

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string human_time(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

core::hub::RepoRef repo_arg(const Args& a, const char* command) {
  if (a.positional.size() != 1)
    throw UsageError(std::string(command) + " needs one repository id: autoglm " + command + " ORG/NAME" +
                     (std::string(command) == "pull" ? "[@REVISION]" : ""));
  auto ref = core::hub::parse_repo_ref(a.positional[0]);
  if (!ref) throw UsageError("'" + a.positional[0] + "' is not a repository id (ORG/NAME[@REVISION])");
  return *ref;
}

// Family and whether the folder would load: config.json read by our own parser,
// its weights readable (headers, shard index, the weights-only pickle check).
json describe_folder(const fs::path& dir) {
  json j;
  std::ifstream f(dir / "config.json");
  json cfg = json::parse(f, nullptr, false);
  j["family"] = nullptr;
  if (cfg.is_object()) {
    std::string family = cfg.value("model_type", "");
    if (cfg.contains("architectures") && cfg["architectures"].is_array() && !cfg["architectures"].empty() &&
        cfg["architectures"][0].is_string())
      family += (family.empty() ? "" : " ") + std::string("(") + cfg["architectures"][0].get<std::string>() + ")";
    j["family"] = family;
  }
  try {
    core::load_config(dir);
    core::Checkpoint::from_folder(dir);
    j["loads"] = true;
    j["problem"] = nullptr;
  } catch (const std::exception& e) {
    j["loads"] = false;
    j["problem"] = e.what();
  }
  return j;
}

}  // namespace

int cmd_pull(const Args& a, char* argv0) {
  const auto ref = repo_arg(a, "pull");
  int qargc = 1;
  char* qargv[] = {argv0, nullptr};
  QCoreApplication app(qargc, qargv);
  const bool as_json = a.has("--json");
  const bool bar = !as_json && isatty(fileno(stderr));
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t first_done = 0;
  bool first = true;
  core::hub::PullOptions o;
  o.on_note = [&](const std::string& s) {
    if (as_json)
      std::cout << json{{"event", "note"}, {"repo", ref.repo}, {"message", s}}.dump() << "\n" << std::flush;
    else
      std::cerr << (bar ? "\r\033[K" : "") << "autoglm: " << s << "\n";
  };
  std::string last_file;
  o.on_progress = [&](const core::hub::Progress& p) {
    if (first) {
      first_done = p.done;  // bytes already on disk do not count towards the rate
      first = false;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = secs > 0.05 ? static_cast<double>(p.done - first_done) / secs : 0.0;
    const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : -1;
    if (as_json) {
      json j{{"event", "progress"},      {"repo", ref.repo},           {"file", p.file},
             {"file_done", p.file_done}, {"file_total", p.file_total}, {"done", p.done},
             {"total", p.total},         {"resumed", p.resumed},       {"bytes_per_s", std::round(rate)}};
      j["eta_s"] = eta >= 0 ? json(std::round(eta * 10) / 10) : json(nullptr);
      std::cout << j.dump() << "\n" << std::flush;
    } else if (bar) {
      const int width = 24;
      const double frac = p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1.0;
      const int fill = static_cast<int>(frac * width);
      std::fprintf(stderr, "\r\033[K[%s%s] %3.0f%%  %s / %s  %s/s  %s left  %s", std::string(fill, '#').c_str(),
                   std::string(width - fill, '.').c_str(), frac * 100, human_bytes(p.done).c_str(),
                   human_bytes(p.total).c_str(), human_bytes(rate).c_str(), human_time(eta).c_str(), p.file.c_str());
      std::fflush(stderr);
    } else if (p.file_done == p.file_total && p.file != last_file) {
      last_file = p.file;
      std::cerr << p.file << "  " << human_bytes(p.file_total) << "\n";
    }
  };
  auto r = core::hub::pull(ref, o);
  if (bar) std::fprintf(stderr, "\n");
  const std::string path = r.snapshot.u8string();
  if (as_json) {
    std::cout << json{{"event", "done"},
                      {"repo", r.repo},
                      {"revision", r.revision},
                      {"commit", r.commit},
                      {"path", path},
                      {"files", r.files.size()},
                      {"downloaded", r.downloaded},
                      {"from_cache", r.from_cache}}
                     .dump()
              << "\n";
  } else {
    std::cout << r.repo << "@" << r.commit.substr(0, 10) << (r.from_cache ? "  (from the cache)" : "") << "\n"
              << "  " << path << "\n"
              << "  ask with: autoglm ask --model " << r.repo << " --image PATH --question TEXT\n";
  }
  return 0;
}

int cmd_models(const Args& a) {
  const fs::path cache = core::hub::cache_dir();
  const auto models = core::hub::list_models(cache);
  const bool as_json = a.has("--json");
  if (!as_json) {
    std::cout << "cache " << cache.u8string() << "\n";
    if (models.empty()) std::cout << "no models (download one with: autoglm pull Salesforce/blip-vqa-base)\n";
  }
  for (const auto& m : models) {
    json d = describe_folder(m.snapshot);
    std::string revision = m.revisions.empty() ? m.commit.substr(0, 10) : m.revisions.front();
    if (as_json) {
      json j{{"repo", m.repo},     {"revision", revision},          {"revisions", m.revisions},
             {"commit", m.commit}, {"path", m.snapshot.u8string()}, {"size", m.size}};
      j.update(d);
      std::cout << j.dump() << "\n";
    } else {
      std::printf("%-40s %-10s %10s  %-36s %s\n", m.repo.c_str(), revision.c_str(),
                  human_bytes(static_cast<double>(m.size)).c_str(),
                  d["family"].is_string() ? d["family"].get<std::string>().c_str() : "?",
                  d["loads"].get<bool>() ? "loads" : ("does not load: " + d["problem"].get<std::string>()).c_str());
    }
  }
  return 0;
}

int cmd_rm(const Args& a) {
  const auto ref = repo_arg(a, "rm");
  if (!core::hub::remove_repo(core::hub::cache_dir(), ref.repo))
    throw core::Error(core::ErrorCode::NotFound,
                      ref.repo + ": not in the cache at " + core::hub::cache_dir().u8string());
  if (a.has("--json"))
    std::cout << json{{"removed", ref.repo}}.dump() << "\n";
  else
    std::cout << "removed " << ref.repo << "\n";
  return 0;
}

}  // namespace cli
