#pragma once
// T5's SentencePiece tokenizer as HuggingFace's slow T5Tokenizer (4.31,
// legacy=True) does it: special tokens (</s>, <unk>, <pad>, <extra_id_N>) cut
// out of the text first, SentencePiece on the rest, </s> appended unless the
// ids already end with it; <extra_id_N> is id vocab_size - 1 - N.
#include <unordered_map>

#include "core/text/slow_tokenizer.h"
#include "core/text/spm.h"
#include "core/text/text_tokenizer.h"

namespace core {

class SentencePieceTokenizer final : public TextTokenizer {
 public:
  // spiece.model, with tokenizer_config.json and special_tokens_map.json when present.
  static std::unique_ptr<SentencePieceTokenizer> from_folder(const std::filesystem::path& dir);
  ~SentencePieceTokenizer() override;

  TokenizerKind kind() const override { return TokenizerKind::SentencePiece; }
  std::vector<std::string> tokenize(std::string_view utf8) const override;
  std::vector<int64_t> encode(std::string_view utf8, bool add_special = true) const override;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = false) const override {
    return decode(ids, skip_special, true);
  }
  std::string decode(const std::vector<int64_t>& ids, bool skip_special, bool clean_up_spaces) const;

  int64_t token_to_id(const std::string& token) const override;
  std::string id_to_token(int64_t id) const override;
  int64_t vocab_size() const override { return piece_size_ + extra_ids_ + static_cast<int64_t>(added_.size()); }
  int64_t bos_id() const override { return -1; }
  int64_t eos_id() const override { return eos_; }
  int64_t pad_id() const override { return pad_; }
  int64_t unk_id() const override { return unk_; }

 private:
  SentencePieceTokenizer();
  int64_t model_id(const std::string& token) const;  // without the added tokens
  // T5Tokenizer.convert_tokens_to_string
  std::string tokens_to_string(const std::vector<std::string>& tokens) const;

  std::unique_ptr<SpmProcessor> sp_;
  int64_t piece_size_ = 0;
  int64_t extra_ids_ = 0;
  std::unordered_map<std::string, int64_t> added_;  // special tokens the model lacks
  std::unordered_map<int64_t, std::string> added_decoder_;
  std::vector<slow::SpecialToken> specials_;
  std::vector<int64_t> special_ids_;
  int64_t eos_ = -1, pad_ = -1, unk_ = -1;
};

}  // namespace core
