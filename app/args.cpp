#include "app/args.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace cli {

namespace {
bool listed(const std::vector<std::string>& names, const std::string& s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}
}  // namespace

Args parse_args(int argc, char** argv, const ArgSpec& spec) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      if (a.command.empty())
        a.command = s;
      else if (listed(spec.positional_commands, a.command))
        a.positional.push_back(s);
      else
        throw UsageError("unexpected argument '" + s + "'");
      continue;
    }
    std::string value;
    bool inline_value = false;
    if (auto eq = s.find('='); eq != std::string::npos) {
      value = s.substr(eq + 1);
      s = s.substr(0, eq);
      inline_value = true;
    }
    if (listed(spec.flags, s)) {
      a.flags.push_back(s);
    } else if (listed(spec.values, s)) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError(s + " needs a value");
        value = argv[++i];
      }
      a.values[s] = value;
    } else {
      throw UsageError("unknown option '" + s + "' (see --help)");
    }
  }
  return a;
}

int to_int(const Args& a, const std::string& k, int def, int lo, int hi) {
  if (!a.values.count(k)) return def;
  const std::string& s = a.values.at(k);
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < lo || v > hi)
    throw UsageError(k + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(v);
}

double to_double(const Args& a, const std::string& k, double def) {
  if (!a.values.count(k)) return def;
  const std::string& s = a.values.at(k);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v)) throw UsageError(k + " must be a number, not '" + s + "'");
  return v;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace cli
