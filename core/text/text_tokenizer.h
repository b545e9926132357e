#pragma once
// One face for the tokenizers of the model families: BERT WordPiece
// (vocab.txt), GPT-2 byte-level BPE (vocab.json + merges.txt) and
// SentencePiece (spiece.model), each matching HuggingFace's slow tokenizer
// of 4.31 id for id.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/text/tokenizer.h"

namespace core {

enum class TokenizerKind { WordPiece, ByteLevelBpe, SentencePiece };

class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;
  virtual TokenizerKind kind() const = 0;

  // The tokens of the text, special tokens written in it included.
  virtual std::vector<std::string> tokenize(std::string_view utf8) const = 0;
  // The model's input ids; add_special adds what the tokenizer adds around a
  // text ([CLS] ... [SEP]; OPT's leading </s>; T5's trailing </s>).
  virtual std::vector<int64_t> encode(std::string_view utf8, bool add_special = true) const = 0;
  // decode() with HF's defaults: clean_up_tokenization_spaces=True.
  virtual std::string decode(const std::vector<int64_t>& ids, bool skip_special = false) const = 0;

  virtual int64_t token_to_id(const std::string& token) const = 0;  // unk_id() when absent
  virtual std::string id_to_token(int64_t id) const = 0;            // "" when out of range
  virtual int64_t vocab_size() const = 0;                           // len(tokenizer)
  // -1 where the tokenizer has none.
  virtual int64_t bos_id() const = 0;
  virtual int64_t eos_id() const = 0;
  virtual int64_t pad_id() const = 0;
  virtual int64_t unk_id() const = 0;
};

// The existing WordPiece Tokenizer behind the common face; BOS is [CLS], EOS [SEP].
class WordPieceTokenizer final : public TextTokenizer {
 public:
  explicit WordPieceTokenizer(Tokenizer tok) : tok_(std::move(tok)) {}
  const Tokenizer& wordpiece() const { return tok_; }

  TokenizerKind kind() const override { return TokenizerKind::WordPiece; }
  std::vector<std::string> tokenize(std::string_view utf8) const override { return tok_.tokenize(utf8); }
  std::vector<int64_t> encode(std::string_view utf8, bool add_special = true) const override {
    return tok_.encode(utf8, add_special).ids;
  }
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = false) const override {
    return tok_.decode(ids, skip_special);
  }
  int64_t token_to_id(const std::string& token) const override { return tok_.token_to_id(token); }
  std::string id_to_token(int64_t id) const override;
  int64_t vocab_size() const override { return tok_.vocab_size(); }
  int64_t bos_id() const override { return tok_.cls_id(); }
  int64_t eos_id() const override { return tok_.sep_id(); }
  int64_t pad_id() const override { return tok_.pad_id(); }
  int64_t unk_id() const override { return tok_.unk_id(); }

 private:
  Tokenizer tok_;
};

// The tokenizer of a model folder, chosen by the files in it: vocab.txt ->
// WordPiece, vocab.json + merges.txt -> byte-level BPE, spiece.model ->
// SentencePiece. Throws core::Error (BadVocab) naming the folder or file.
std::unique_ptr<TextTokenizer> load_tokenizer(const std::filesystem::path& dir);

}  // namespace core
