#include "core/text/slow_tokenizer.h"

#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/text/utf8.h"

namespace core::slow {
namespace {

std::optional<SpecialToken> parse_token(const nlohmann::json& v, bool wrap_strings, const std::string& where) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return SpecialToken{v.get<std::string>(), !wrap_strings, !wrap_strings};
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) {
    SpecialToken t{v.at("content").get<std::string>(), false, false};
    const auto flag = [&](const char* k) { return v.contains(k) && v.at(k).is_boolean() && v.at(k).get<bool>(); };
    t.lstrip = flag("lstrip");
    t.rstrip = flag("rstrip");
    return t;
  }
  throw Error(ErrorCode::BadVocab, where + " must be a string or an object with \"content\"");
}

}  // namespace

std::string read_file(const std::filesystem::path& p, const char* what, std::uintmax_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec))
    throw Error(ErrorCode::BadVocab, std::string(what) + " not found: " + p.string());
  const std::uintmax_t size = std::filesystem::file_size(p, ec);
  if (!ec && size > max_bytes)
    throw Error(ErrorCode::BadVocab, p.string() + ": " + what + " is " + std::to_string(size >> 20) +
                                         " MiB, more than the " + std::to_string(max_bytes >> 20) + " MiB limit");
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(ErrorCode::BadVocab, std::string("cannot read ") + what + ": " + p.string());
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(ErrorCode::BadVocab, std::string("cannot read ") + what + ": " + p.string());
  return bytes;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  for (size_t j; (j = s.find(from, i)) != std::string::npos; i = j + from.size()) {
    out.append(s, i, j - i);
    out.append(to);
  }
  out.append(s, i, std::string::npos);
  s.swap(out);
}

nlohmann::json read_json_object(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return nlohmann::json::object();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(p));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::BadVocab, p.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw Error(ErrorCode::BadVocab, p.string() + ": not a JSON object");
  return j;
}

Config Config::read(const std::filesystem::path& dir) {
  return {dir, read_json_object(dir / "tokenizer_config.json"), read_json_object(dir / "special_tokens_map.json")};
}

std::optional<SpecialToken> Config::special(const char* key, bool wrap_config_strings) const {
  if (special_tokens_map.contains(key))
    return parse_token(special_tokens_map.at(key), false,
                       (dir / "special_tokens_map.json").string() + ": \"" + key + "\"");
  if (tokenizer_config.contains(key))
    return parse_token(tokenizer_config.at(key), wrap_config_strings,
                       (dir / "tokenizer_config.json").string() + ": \"" + key + "\"");
  return std::nullopt;
}

std::optional<std::vector<SpecialToken>> Config::additional_special() const {
  const char* key = "additional_special_tokens";
  const bool in_map = special_tokens_map.contains(key);
  if (!in_map && !tokenizer_config.contains(key)) return std::nullopt;
  const auto& v = in_map ? special_tokens_map.at(key) : tokenizer_config.at(key);
  const std::string where =
      (dir / (in_map ? "special_tokens_map.json" : "tokenizer_config.json")).string() + ": \"" + key + "\"";
  std::vector<SpecialToken> out;
  if (v.is_null()) return out;
  if (!v.is_array()) throw Error(ErrorCode::BadVocab, where + " must be a list");
  for (const auto& t : v)
    if (auto s = parse_token(t, false, where)) out.push_back(*s);
  return out;
}

bool Config::flag(const char* key, bool fallback) const {
  if (!tokenizer_config.contains(key) || tokenizer_config.at(key).is_null()) return fallback;
  const auto& v = tokenizer_config.at(key);
  if (!v.is_boolean())
    throw Error(ErrorCode::BadVocab,
                (dir / "tokenizer_config.json").string() + ": \"" + key + "\" must be true or false");
  return v.get<bool>();
}

int64_t Config::integer(const char* key, int64_t fallback) const {
  if (!tokenizer_config.contains(key) || tokenizer_config.at(key).is_null()) return fallback;
  const auto& v = tokenizer_config.at(key);
  if (!v.is_number_integer())
    throw Error(ErrorCode::BadVocab, (dir / "tokenizer_config.json").string() + ": \"" + key + "\" must be an integer");
  return v.get<int64_t>();
}

std::vector<Piece> split_on_special(std::string_view text, const std::vector<SpecialToken>& specials) {
  std::vector<Piece> pieces;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    int best = -1;
    for (size_t k = 0; k < specials.size(); ++k) {
      const auto& c = specials[k].content;
      if (!c.empty() && text.compare(i, c.size(), c) == 0 && (best < 0 || c.size() > specials[best].content.size()))
        best = static_cast<int>(k);
    }
    if (best < 0) {
      ++i;
      continue;
    }
    if (i > start) pieces.push_back({std::string(text.substr(start, i - start)), -1});
    pieces.push_back({specials[best].content, best});
    i += specials[best].content.size();
    start = i;
  }
  if (start < text.size()) pieces.push_back({std::string(text.substr(start)), -1});

  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].special < 0) continue;
    const auto& t = specials[pieces[i].special];
    if (t.rstrip && i + 1 < pieces.size()) pieces[i + 1].text = std::string(utf8::py_lstrip(pieces[i + 1].text));
    if (t.lstrip && i > 0) pieces[i - 1].text = std::string(utf8::py_rstrip(pieces[i - 1].text));
  }
  std::vector<Piece> out;
  for (auto& p : pieces)
    if (!p.text.empty()) out.push_back(std::move(p));
  return out;
}

std::string clean_up_tokenization(std::string s) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& [from, to] : kRules) replace_all(s, from, to);
  return s;
}

}  // namespace core::slow
