#pragma once
// GPT-2 byte-level BPE as HuggingFace's slow GPT2Tokenizer (4.31) does it,
// with the files of OPT or GPT-2: special tokens cut out of the text first,
// the GPT-2 pre-tokenizer regex, bytes mapped to printable characters, merges
// applied by rank; add_bos_token prepends BOS (OPT: </s>).
#include <mutex>
#include <unordered_map>

#include "core/text/slow_tokenizer.h"
#include "core/text/text_tokenizer.h"

namespace core {

class BpeTokenizer final : public TextTokenizer {
 public:
  // vocab.json and merges.txt, with tokenizer_config.json and
  // special_tokens_map.json when present.
  static std::unique_ptr<BpeTokenizer> from_folder(const std::filesystem::path& dir);

  TokenizerKind kind() const override { return TokenizerKind::ByteLevelBpe; }
  std::vector<std::string> tokenize(std::string_view utf8) const override;
  std::vector<int64_t> encode(std::string_view utf8, bool add_special = true) const override;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = false) const override {
    return decode(ids, skip_special, true);
  }
  std::string decode(const std::vector<int64_t>& ids, bool skip_special, bool clean_up_spaces) const;

  int64_t token_to_id(const std::string& token) const override;
  std::string id_to_token(int64_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(encoder_.size() + added_.size()); }
  int64_t bos_id() const override { return bos_; }
  int64_t eos_id() const override { return eos_; }
  int64_t pad_id() const override { return pad_; }
  int64_t unk_id() const override { return unk_; }
  bool add_bos_token() const { return add_bos_; }

  // The pieces the GPT-2 pattern finds in text:
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  static std::vector<std::string> pretokenize(std::string_view utf8);

 private:
  BpeTokenizer() = default;
  // The merged symbols of one pre-token, already mapped to printable characters.
  std::vector<std::string> bpe(const std::string& word) const;
  int64_t special_id(const std::string& token) const;

  std::unordered_map<std::string, int64_t> encoder_;
  std::unordered_map<int64_t, std::string> decoder_;
  std::unordered_map<std::string, size_t> ranks_;   // "first second" -> rank
  std::unordered_map<std::string, int64_t> added_;  // special tokens missing from vocab.json
  std::unordered_map<int64_t, std::string> added_decoder_;
  std::vector<slow::SpecialToken> specials_;
  std::vector<int64_t> special_ids_;
  bool add_bos_ = false;
  bool add_prefix_space_ = false;
  int64_t bos_ = -1, eos_ = -1, pad_ = -1, unk_ = -1;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace core
