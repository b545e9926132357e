#pragma once
// Which files of a repository a model needs (client.h: choose_files) and the
// shards a downloaded index names; the endpoint and token settings.
#include <filesystem>
#include <string>
#include <vector>

namespace core::hub {

// The shard files an index's weight_map names, each once (throws naming the repository).
std::vector<std::string> shards_named_by(const std::filesystem::path& index_file, const std::string& repo);

}  // namespace core::hub
