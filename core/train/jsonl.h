#pragma once
// The JSON Lines files that evaluation sets and fine-tuning data come in.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace core::train {

// Each non-blank line of a JSON Lines file, parsed, with "FILE:LINE" for messages, until
// `row` returns false.
void read_json_lines(const std::filesystem::path& file, const std::string& what,
                     const std::function<bool(const nlohmann::json&, const std::string& where)>& row);

// An image named in a JSON Lines file (UTF-8), relative to the file's folder.
std::filesystem::path image_path(const std::filesystem::path& file, const std::string& name);

}  // namespace core::train
