#pragma once
// What HuggingFace's slow PreTrainedTokenizer (4.31) does around a model's own
// tokenizer, shared by the byte-level BPE and SentencePiece ports: reading the
// tokenizer files and special tokens, cutting special tokens out of the text
// first, and the clean-up of decoded text.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace core::slow {

struct SpecialToken {
  std::string content;
  bool lstrip = true;  // strip the whitespace before it out of the text
  bool rstrip = true;  // and the whitespace after it
};

// Published tokenizer files are a few MiB (mT5's spiece.model: 4.3 MiB; a
// multilingual BERT vocab.txt: 1 MiB); reading a far larger file only costs memory.
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

// The whole of a tokenizer file (`what` names it in messages); BadVocab naming it
// when missing, unreadable or larger than `max_bytes`.
std::string read_file(const std::filesystem::path& p, const char* what = "tokenizer file",
                      std::uintmax_t max_bytes = kMaxFileBytes);

// str.replace: non-overlapping, left to right.
void replace_all(std::string& s, std::string_view from, std::string_view to);

// A tokenizer JSON file that must hold an object; {} when the file is absent.
nlohmann::json read_json_object(const std::filesystem::path& p);

// tokenizer_config.json and special_tokens_map.json of a folder.
struct Config {
  std::filesystem::path dir;
  nlohmann::json tokenizer_config;    // init arguments of the tokenizer class
  nlohmann::json special_tokens_map;  // set after construction: wins over tokenizer_config

  static Config read(const std::filesystem::path& dir);

  // The special token `key` (bos_token, ...): a string or an AddedToken object.
  // A plain string from special_tokens_map.json strips the whitespace on both
  // sides; one from tokenizer_config.json does so unless `wrap_config_strings`
  // (GPT2Tokenizer turns such strings into AddedToken(lstrip=False, rstrip=False)).
  std::optional<SpecialToken> special(const char* key, bool wrap_config_strings) const;
  // additional_special_tokens, from special_tokens_map.json if it has them.
  std::optional<std::vector<SpecialToken>> additional_special() const;

  bool flag(const char* key, bool fallback) const;  // a boolean of tokenizer_config.json
  int64_t integer(const char* key, int64_t fallback) const;
};

// The text cut at every occurrence of a special token (leftmost, then
// longest), whitespace stripped next to them as their flags say, empty
// pieces dropped. `special` is the index into `specials`, or -1 for text.
struct Piece {
  std::string text;
  int special = -1;
};
std::vector<Piece> split_on_special(std::string_view text, const std::vector<SpecialToken>& specials);

// PreTrainedTokenizer.clean_up_tokenization: " ." -> ".", " 's" -> "'s", ...
std::string clean_up_tokenization(std::string text);

}  // namespace core::slow
