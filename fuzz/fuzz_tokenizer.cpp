// libFuzzer target: the BERT WordPiece tokenizer on arbitrary bytes (UTF-8 or
// not): is_valid_utf8, tokenize/encode (with and without truncation and
// padding) and decode of the ids, and of raw ids taken from the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/text/tokenizer.h"

#ifndef AUTOGLM_GOLDEN_DIR
#define AUTOGLM_GOLDEN_DIR ""
#endif

namespace {

core::Tokenizer make_tokenizer() {
  const std::filesystem::path vocab = std::filesystem::path(AUTOGLM_GOLDEN_DIR) / "blip/vqa_model/vocab.txt";
  std::error_code ec;
  if (std::filesystem::is_regular_file(vocab, ec)) return core::Tokenizer::from_vocab_file(vocab);
  // Small built-in vocabulary: specials, ASCII letters and digits, a few
  // words, continuations, CJK, accented letters and an emoji.
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 'a'; c <= 'z'; ++c) {
    v.emplace_back(1, c);
    v.push_back(std::string("##") + c);
  }
  for (char c = '0'; c <= '9'; ++c) v.emplace_back(1, c);
  for (const char* w : {"the",  "what", "color", "is", "##s", "##ing", "?",   ".", ",",
                        "!",    "'",    "n't",   "中", "文",  "é",     "##é", "ü", "\xF0\x9F\x98\x80",
                        "cafe", "caf",  "##e"})
    v.emplace_back(w);
  return core::Tokenizer::from_tokens(v);
}

const core::Tokenizer& tokenizer() {
  static const core::Tokenizer t = make_tokenizer();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const core::Tokenizer& tok = tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    volatile bool valid = core::is_valid_utf8(text);
    (void)valid;
    const core::Encoding e = tok.encode(text);
    if (e.ids.size() != e.mask.size() || e.ids.size() != e.tokens.size()) __builtin_trap();
    for (int64_t id : e.ids)
      if (id < 0 || id >= tok.vocab_size()) __builtin_trap();
    const std::string back = tok.decode(e.ids, true);
    if (!core::is_valid_utf8(back)) __builtin_trap();
    (void)tok.decode(e.ids, false);
    // Truncated and padded forms (as the engine asks for them).
    const int max_len = size ? 2 + data[0] % 40 : 2;
    const core::Encoding t = tok.encode(text, true, max_len, max_len);
    if (t.ids.size() != static_cast<size_t>(max_len)) __builtin_trap();
    (void)tok.encode(text, false);
    // Arbitrary ids (negative and out of range included).
    std::vector<int64_t> ids(size / 4);
    for (size_t i = 0; i < ids.size(); ++i) {
      int32_t v;
      std::memcpy(&v, data + 4 * i, 4);
      ids[i] = v;
    }
    (void)tok.decode(ids, (size & 1) != 0);
  } catch (const core::Error&) {
  }
  return 0;
}
