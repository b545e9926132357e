#include "core/train/jsonl.h"

#include <fstream>

#include "core/error.h"

namespace core::train {

namespace fs = std::filesystem;

void read_json_lines(const fs::path& file, const std::string& what,
                     const std::function<bool(const nlohmann::json&, const std::string& where)>& row) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, file.string() + ": cannot read " + what);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw Error(ErrorCode::BadArgument, where + ": not a JSON object");
    }
    if (!j.is_object()) throw Error(ErrorCode::BadArgument, where + ": not a JSON object");
    if (!row(j, where)) return;
  }
}

fs::path image_path(const fs::path& file, const std::string& name) {
  fs::path img = fs::u8path(name);
  return img.is_relative() ? file.parent_path() / img : img;
}

}  // namespace core::train
