#pragma once
// Downloads a HuggingFace repository into the hub cache (see cache.h) the way
// HuggingFace's own client does: the file list from /api/models/{repo}/revision/{rev},
// each file from {endpoint}/{repo}/resolve/{commit}/{path}, resumed with Range
// from blobs/{etag}.incomplete, checked (sha256 for LFS files, git blob sha1
// for the others) before it enters blobs/. The snapshot folder appears only
// once every file is in. Needs a QCoreApplication; runs its own event loop.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/hub/cache.h"

namespace core::hub {

struct RemoteFile {
  std::string path;
  std::uint64_t size = 0;
  std::string blob_id;  // git blob sha1
  std::string sha256;   // LFS files only
  bool lfs() const { return !sha256.empty(); }
};

// Which files a model needs: config, tokenizer and preprocessor files, and the
// weights (safetensors where present, else .bin; only the shards an index names).
std::vector<RemoteFile> choose_files(const std::vector<RemoteFile>& all);

struct Progress {
  std::string file;
  std::uint64_t file_done = 0, file_total = 0;
  std::uint64_t done = 0, total = 0;  // all files chosen
  bool resumed = false;               // this file continues a partial download
};

struct PullOptions {
  std::string endpoint;         // empty: $HF_ENDPOINT, else https://huggingface.co
  std::string token;            // empty: $HF_TOKEN, else $HF_HOME/token
  std::filesystem::path cache;  // empty: cache_dir()
  int retries = 5;              // per request, on dropped connections and 5xx
  int backoff_ms = 500;         // doubled each retry
  int timeout_ms = 30000;       // without a byte received
  const std::atomic_bool* cancel = nullptr;
  std::function<void(const Progress&)> on_progress;
  std::function<void(const std::string&)> on_note;  // retries, restarts, resumes
};

struct PullResult {
  std::string repo, revision, commit;
  std::filesystem::path snapshot;
  std::vector<RemoteFile> files;
  std::uint64_t downloaded = 0;  // bytes fetched by this call
  bool from_cache = false;       // offline: answered from the cache
};

// Throws core::Error naming the repository (NotFound, Unauthorized, Network,
// Offline, Checksum, Io, Cancelled).
PullResult pull(const RepoRef& ref, const PullOptions& options = {});

std::string default_endpoint();
std::string default_token();

}  // namespace core::hub
