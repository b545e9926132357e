#pragma once
// The command-line parser of autoglm and autoglm-train: options, flags, one
// command word, and numbers that are errors naming the option when malformed.
#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

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

struct ArgSpec {
  std::vector<std::string> flags;                // options without a value
  std::vector<std::string> values;               // options with one (--k V or --k=V)
  std::vector<std::string> positional_commands;  // commands that take words after them
};

// Throws UsageError on an unknown option, a missing value or a stray word.
Args parse_args(int argc, char** argv, const ArgSpec& spec);

int to_int(const Args& a, const std::string& k, int def, int lo, int hi);
// A number (any the C locale reads, whole string); UsageError naming the option otherwise.
double to_double(const Args& a, const std::string& k, double def);

std::vector<std::string> split_list(const std::string& s);  // by commas, trimmed, empties dropped

}  // namespace cli
