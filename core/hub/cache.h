#pragma once
// HuggingFace's hub cache, as its own tools lay it out, without any network:
//   <cache>/models--{org}--{name}/blobs/{etag}
//                                /snapshots/{commit}/{path}  -> ../../blobs/{etag}
//                                /refs/{revision}            holds the commit
// Plain C++ (no Qt), so that --model REPO resolves wherever a folder is taken.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace core::hub {

// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::filesystem::path cache_dir();
// $HF_HOME, else ~/.cache/huggingface (where the token file lives).
std::filesystem::path hf_home();
// $HF_HOME/token, HuggingFace's own place for the token (what HF_TOKEN falls
// back to). Written readable by the user only (0600); an empty token removes
// the file. A keyring would be better, but Debian offers none to us without
// extra packages (libsecret, QtKeychain), so the file is what we use.
std::filesystem::path token_file();
std::string read_token_file();              // empty when there is none
void save_token(const std::string& token);  // throws core::Error (Io)

// HF_HUB_OFFLINE set to 1, true, yes or on.
bool offline_mode();

struct RepoRef {
  std::string repo;  // "org/name" (or "name")
  std::string revision = "main";
};
// "org/name[@rev]"; nullopt when `s` is not shaped like a repository id.
std::optional<RepoRef> parse_repo_ref(const std::string& s);

// models--org--name
std::string repo_folder_name(const std::string& repo);
std::filesystem::path repo_dir(const std::filesystem::path& cache, const std::string& repo);
bool is_commit_hash(const std::string& s);

// The snapshot folder of `ref` in the cache (revision read through refs/, or
// taken as a commit), or nullopt when it is not there. Never touches the network.
std::optional<std::filesystem::path> find_snapshot(const std::filesystem::path& cache, const RepoRef& ref);

// What --model takes: an existing folder is returned as is; a repository id
// is resolved from the cache; anything else throws core::Error naming it.
std::filesystem::path resolve_model(const std::string& folder_or_repo);

// Places `blob` at `link` as a relative symbolic link, a copy where the file
// system cannot make links. Replaces what was there.
void link_blob(const std::filesystem::path& blob, const std::filesystem::path& link);

struct CachedModel {
  std::string repo;
  std::string commit;
  std::vector<std::string> revisions;  // refs naming this commit
  std::filesystem::path snapshot;
  std::uint64_t size = 0;  // bytes of the files in the snapshot
};
// Every snapshot in the cache, ordered by repository.
std::vector<CachedModel> list_models(const std::filesystem::path& cache);

// Deletes the repository's folder (and its locks). False when it was not there.
bool remove_repo(const std::filesystem::path& cache, const std::string& repo);

}  // namespace core::hub
