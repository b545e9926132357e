#pragma once
// BERT WordPiece tokenizer, as HuggingFace's slow BertTokenizer (4.31) does it
// for BLIP: basic tokenization (special tokens cut out first, cleaning, CJK
// split, NFC, lower-case, NFD + accent strip, punctuation split), then greedy
// longest-match WordPiece with "##" continuations.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace core {

struct Encoding {
  std::vector<int64_t> ids;
  std::vector<int64_t> mask;
  std::vector<std::string> tokens;
};

class Tokenizer {
 public:
  // vocab.txt plus, when present, tokenizer_config.json (do_lower_case, model_max_length).
  static Tokenizer from_folder(const std::filesystem::path& dir);
  static Tokenizer from_vocab_file(const std::filesystem::path& vocab_txt, bool lower_case = true);
  static Tokenizer from_tokens(std::vector<std::string> vocab, bool lower_case = true);

  std::vector<std::string> tokenize(std::string_view utf8) const;  // WordPiece strings
  // [CLS] tokens [SEP]; max_length > 0 truncates (keeping [SEP]); pad_to > 0 right-pads with [PAD].
  Encoding encode(std::string_view utf8, bool add_special = true, int max_length = -1, int pad_to = -1) const;
  // Pads every row to the longest (after truncation to max_length when > 0).
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, int max_length = -1) const;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = false) const;

  int64_t token_to_id(const std::string& token) const;  // unk_id() if absent
  std::string id_to_token(int64_t id) const;            // "[UNK]" if out of range
  bool contains(const std::string& token) const { return vocab_.count(token) != 0; }
  int64_t add_token(const std::string& token);  // appends; returns its id
  const std::vector<std::string>& vocabulary() const { return inv_; }
  void save_vocab(const std::filesystem::path& vocab_txt) const;

  int64_t vocab_size() const { return static_cast<int64_t>(inv_.size()); }
  int64_t pad_id() const { return pad_; }
  int64_t unk_id() const { return unk_; }
  int64_t cls_id() const { return cls_; }
  int64_t sep_id() const { return sep_; }
  int64_t mask_id() const { return mask_; }
  int model_max_length() const { return model_max_length_; }
  bool lower_case() const { return lower_; }

 private:
  static Tokenizer build(std::vector<std::string> vocab, bool lower_case, const std::string& origin);
  // Appends the WordPiece tokens of one special-token-free piece of text.
  void tokenize_piece(const std::u32string& text, std::vector<std::string>& out) const;
  void wordpiece(const std::u32string& word, std::vector<std::string>& out) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> inv_;
  bool lower_ = true;
  int model_max_length_ = 512;
  int64_t pad_ = 0, unk_ = 100, cls_ = 101, sep_ = 102, mask_ = 103;  // mask_ = -1 when absent
  int strip_accents_ = -1;      // tokenizer_config "strip_accents": -1 null (follow lower_), 0 false, 1 true
  bool split_cjk_ = true;       // "tokenize_chinese_chars"
  size_t max_token_bytes_ = 0;  // longest vocabulary entry, bounds the WordPiece search
};

// Whether s is valid UTF-8 (questions are checked before tokenizing).
bool is_valid_utf8(std::string_view s);

}  // namespace core
