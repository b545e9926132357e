#pragma once
// Shared pieces of the autoglm command line.
#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/engine/engine.h"

namespace cli {

struct Args {
  std::string command;
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  std::vector<std::string> positional;  // after the command (pull and rm take a repository id)
  bool has(const std::string& k) const {
    return values.count(k) || std::find(flags.begin(), flags.end(), k) != flags.end();
  }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<std::string> split_list(const std::string& s);  // by commas, trimmed, empties dropped
int to_int(const Args& a, const std::string& k, int def, int lo, int hi);
std::filesystem::path model_dir(const Args& a);
core::Options engine_options(const Args& a);
int cmd_bench(const Args& a);
int cmd_search(const Args& a);
int cmd_label(const Args& a);
int cmd_pull(const Args& a, char* argv0);
int cmd_models(const Args& a);
int cmd_rm(const Args& a);

}  // namespace cli
