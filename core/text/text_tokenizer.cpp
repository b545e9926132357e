#include "core/text/text_tokenizer.h"

#include "core/error.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/sentencepiece_tokenizer.h"

namespace core {

std::string WordPieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= tok_.vocab_size()) return {};
  return tok_.id_to_token(id);
}

std::unique_ptr<TextTokenizer> load_tokenizer(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto has = [&](const char* name) { return std::filesystem::exists(dir / name, ec); };
  if (has("vocab.txt")) return std::make_unique<WordPieceTokenizer>(Tokenizer::from_folder(dir));
  if (has("vocab.json") || has("merges.txt")) return BpeTokenizer::from_folder(dir);
  if (has("spiece.model")) return SentencePieceTokenizer::from_folder(dir);
  throw Error(ErrorCode::BadVocab,
              dir.string() + ": no tokenizer files (vocab.txt; vocab.json and merges.txt; spiece.model)");
}

}  // namespace core
