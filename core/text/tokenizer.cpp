#include "core/text/tokenizer.h"

#include <nlohmann/json.hpp>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/text/slow_tokenizer.h"
#include "core/text/utf8.h"

namespace core {
namespace {

constexpr const char* kSpecialTokens[] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};
constexpr size_t kMaxWordChars = 100;  // WordpieceTokenizer.max_input_chars_per_word
// The goldens were made with Python 3.11, whose unicodedata is Unicode 14.0; code
// points that ICU knows but Python does not are unassigned (category Cn) there.
constexpr uint8_t kPythonUnicodeMajor = 14;

// Invalid bytes become U+FFFD, which the cleaning step drops.
std::u32string utf8_to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t n = utf8::next(s, i, cp);
    if (n == 0) {
      out.push_back(0xFFFD);
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

std::string u32_to_utf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

bool unknown_to_python(char32_t c) {
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(c), age);
  return age[0] > kPythonUnicodeMajor;
}

// unicodedata.category, as a UCharCategory.
int8_t category(char32_t c) {
  if (c >= 0x80 && unknown_to_python(c)) return U_UNASSIGNED;
  return u_charType(static_cast<UChar32>(c));
}

// BasicTokenizer._is_whitespace
bool is_whitespace(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (c < 0x80) return false;
  return category(c) == U_SPACE_SEPARATOR;
}

// BasicTokenizer._is_control: any category C* except \t \n \r.
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  switch (category(c)) {
    case U_UNASSIGNED:
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

// BasicTokenizer._is_punctuation: ASCII non-alphanumerics or any category P*.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  if (c < 0x80) return false;
  switch (category(c)) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

// BasicTokenizer._is_chinese_char
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Python's str.lower applied to one character: the full (unconditional) case
// mapping; a lone capital sigma has no preceding letter, so it maps to σ.
void append_lower(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (unknown_to_python(c)) {
    out.push_back(c);
    return;
  }
  UChar src[2];
  int32_t n = 0;
  U16_APPEND_UNSAFE(src, n, static_cast<UChar32>(c));
  UChar dst[8];
  UErrorCode st = U_ZERO_ERROR;
  const int32_t m = u_strToLower(dst, 8, src, n, "", &st);
  if (U_FAILURE(st)) {
    out.push_back(c);
    return;
  }
  for (int32_t i = 0; i < m;) {
    UChar32 d;
    U16_NEXT(dst, i, m, d);
    out.push_back(static_cast<char32_t>(d));
  }
}

std::u32string lower(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) append_lower(out, c);
  return out;
}

std::u32string normalize(const icu::Normalizer2& norm, const std::u32string& s) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::UnicodeString u =
      icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()), static_cast<int32_t>(s.size()));
  if (norm.isNormalized(u, st) && U_SUCCESS(st)) return s;
  st = U_ZERO_ERROR;
  const icu::UnicodeString r = norm.normalize(u, st);
  if (U_FAILURE(st)) throw Error(ErrorCode::Internal, std::string("ICU normalization failed: ") + u_errorName(st));
  std::u32string out(static_cast<size_t>(r.countChar32()), U'\0');
  st = U_ZERO_ERROR;
  r.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), st);
  if (U_FAILURE(st)) throw Error(ErrorCode::Internal, std::string("ICU conversion failed: ") + u_errorName(st));
  return out;
}

const icu::Normalizer2& nfc() {
  UErrorCode st = U_ZERO_ERROR;
  static const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(st);
  if (!n) throw Error(ErrorCode::Internal, "ICU NFC normalizer unavailable");
  return *n;
}

const icu::Normalizer2& nfd() {
  UErrorCode st = U_ZERO_ERROR;
  static const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(st);
  if (!n) throw Error(ErrorCode::Internal, "ICU NFD normalizer unavailable");
  return *n;
}

// Which special token starts at text[i], or -1.
int special_at(const std::u32string& text, size_t i) {
  if (text[i] != U'[') return -1;
  for (int k = 0; k < 5; ++k) {
    const char* t = kSpecialTokens[k];
    size_t j = 0;
    while (t[j] && i + j < text.size() && text[i + j] == static_cast<char32_t>(t[j])) ++j;
    if (!t[j]) return k;
  }
  return -1;
}

bool is_special_word(const std::u32string& w) {
  if (w.size() < 5 || w.size() > 6 || w[0] != U'[') return false;
  for (const char* t : kSpecialTokens) {
    size_t j = 0;
    while (t[j] && j < w.size() && w[j] == static_cast<char32_t>(t[j])) ++j;
    if (!t[j] && j == w.size()) return true;
  }
  return false;
}

void rstrip(std::u32string& s) {
  while (!s.empty() && utf8::py_isspace(s.back())) s.pop_back();
}

void lstrip(std::u32string& s) {
  size_t k = 0;
  while (k < s.size() && utf8::py_isspace(s[k])) ++k;
  s.erase(0, k);
}

// A vocab.txt is at most a few MiB (multilingual BERT: 1 MiB), and its lines cost far more
// memory than its bytes: a smaller limit than other tokenizer files get.
constexpr std::uintmax_t kMaxVocabBytes = 16u << 20;
constexpr size_t kMaxVocabTokens = 1000000;

}  // namespace

bool is_valid_utf8(std::string_view s) {
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8::next(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// ---------------------------------------------------------------- loading

Tokenizer Tokenizer::build(std::vector<std::string> vocab, bool lower_case, const std::string& origin) {
  if (vocab.empty()) throw Error(ErrorCode::BadVocab, origin + ": the vocabulary is empty");
  Tokenizer t;
  t.lower_ = lower_case;
  t.inv_ = std::move(vocab);
  t.vocab_.reserve(t.inv_.size());
  for (size_t i = 0; i < t.inv_.size(); ++i) {
    if (!is_valid_utf8(t.inv_[i]))
      throw Error(ErrorCode::BadVocab, origin + ": entry " + std::to_string(i + 1) + " is not valid UTF-8");
    t.vocab_.emplace(t.inv_[i], static_cast<int64_t>(i));  // a duplicate keeps its first id
    t.max_token_bytes_ = std::max(t.max_token_bytes_, t.inv_[i].size());
  }
  const auto require = [&](const char* name) {
    const auto it = t.vocab_.find(name);
    if (it == t.vocab_.end())
      throw Error(ErrorCode::BadVocab, origin + ": the vocabulary lacks the special token " + name);
    return it->second;
  };
  t.unk_ = require("[UNK]");
  t.cls_ = require("[CLS]");
  t.sep_ = require("[SEP]");
  t.pad_ = require("[PAD]");
  const auto m = t.vocab_.find("[MASK]");
  t.mask_ = m == t.vocab_.end() ? -1 : m->second;
  return t;
}

Tokenizer Tokenizer::from_tokens(std::vector<std::string> vocab, bool lower_case) {
  return build(std::move(vocab), lower_case, "vocabulary");
}

Tokenizer Tokenizer::from_vocab_file(const std::filesystem::path& vocab_txt, bool lower_case) {
  const std::string bytes = slow::read_file(vocab_txt, "vocabulary file", kMaxVocabBytes);
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    size_t stop = end;
    if (stop > start && bytes[stop - 1] == '\r') --stop;
    if (tokens.size() == kMaxVocabTokens)
      throw Error(ErrorCode::BadVocab,
                  vocab_txt.string() + ": more than " + std::to_string(kMaxVocabTokens) + " tokens");
    tokens.emplace_back(bytes, start, stop - start);
    if (!is_valid_utf8(tokens.back()))
      throw Error(ErrorCode::BadVocab,
                  vocab_txt.string() + ": line " + std::to_string(tokens.size()) + " is not valid UTF-8");
    start = end + 1;
  }
  return build(std::move(tokens), lower_case, vocab_txt.string());
}

Tokenizer Tokenizer::from_folder(const std::filesystem::path& dir) {
  const auto cfg_path = dir / "tokenizer_config.json";
  bool lower_case = true;
  int max_len = 512;
  int strip_accents = -1;
  bool split_cjk = true;
  std::error_code ec;
  if (std::filesystem::exists(cfg_path, ec)) {
    const std::string where = cfg_path.string();
    nlohmann::json cfg;
    try {
      cfg = nlohmann::json::parse(slow::read_file(cfg_path, "tokenizer config", kMaxVocabBytes));
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorCode::BadVocab, where + ": not valid JSON (" + e.what() + ")");
    }
    if (!cfg.is_object()) throw Error(ErrorCode::BadVocab, where + ": not a JSON object");
    const auto flag = [&](const char* key, bool& out) {
      const auto it = cfg.find(key);
      if (it == cfg.end() || it->is_null()) return;
      if (!it->is_boolean()) throw Error(ErrorCode::BadVocab, where + ": \"" + key + "\" must be true or false");
      out = it->get<bool>();
    };
    flag("do_lower_case", lower_case);
    flag("tokenize_chinese_chars", split_cjk);
    if (const auto it = cfg.find("strip_accents"); it != cfg.end() && !it->is_null()) {
      bool v = false;
      flag("strip_accents", v);
      strip_accents = v ? 1 : 0;
    }
    if (const auto it = cfg.find("model_max_length"); it != cfg.end() && !it->is_null()) {
      if (!it->is_number() || it->get<double>() < 1)
        throw Error(ErrorCode::BadVocab, where + ": \"model_max_length\" must be a positive number");
      // Tokenizers without a limit store int(1e30) here.
      const double v = it->get<double>();
      max_len = v >= static_cast<double>(INT_MAX) ? INT_MAX : static_cast<int>(v);
    }
  }
  Tokenizer t = from_vocab_file(dir / "vocab.txt", lower_case);
  t.model_max_length_ = max_len;
  t.strip_accents_ = strip_accents;
  t.split_cjk_ = split_cjk;
  return t;
}

// ---------------------------------------------------------------- vocabulary

int64_t Tokenizer::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? unk_ : it->second;
}

std::string Tokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return "[UNK]";
  return inv_[static_cast<size_t>(id)];
}

int64_t Tokenizer::add_token(const std::string& token) {
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos || !is_valid_utf8(token))
    throw Error(ErrorCode::BadArgument, "cannot add token '" + token + "': empty, multi-line or not UTF-8");
  if (const auto it = vocab_.find(token); it != vocab_.end()) return it->second;
  const auto id = vocab_size();
  inv_.push_back(token);
  vocab_.emplace(token, id);
  max_token_bytes_ = std::max(max_token_bytes_, token.size());
  return id;
}

void Tokenizer::save_vocab(const std::filesystem::path& vocab_txt) const {
  std::ofstream f(vocab_txt, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(ErrorCode::Io, "cannot write vocabulary file: " + vocab_txt.string());
  for (const auto& t : inv_) {
    f.write(t.data(), static_cast<std::streamsize>(t.size()));
    f.put('\n');
  }
  f.flush();
  if (!f) throw Error(ErrorCode::Io, "cannot write vocabulary file: " + vocab_txt.string());
}

// ---------------------------------------------------------------- tokenizing

std::vector<std::string> Tokenizer::tokenize(std::string_view utf8) const {
  const std::u32string text = utf8_to_u32(utf8);

  // PreTrainedTokenizer.tokenize: cut out the special tokens (exact match),
  // strip the whitespace next to them, lower-case the rest character by
  // character (the regex `(special)|(.+?)` lowers one character at a time).
  struct Piece {
    int special;  // index into kSpecialTokens, or -1 for text
    std::u32string text;
  };
  std::vector<Piece> pieces;
  size_t begin = 0;
  for (size_t i = 0; i < text.size();) {
    const int k = special_at(text, i);
    if (k < 0) {
      ++i;
      continue;
    }
    if (i > begin) pieces.push_back({-1, text.substr(begin, i - begin)});
    pieces.push_back({k, {}});
    i += std::char_traits<char>::length(kSpecialTokens[k]);
    begin = i;
  }
  if (begin < text.size()) pieces.push_back({-1, text.substr(begin)});
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].special < 0) continue;
    if (i > 0 && pieces[i - 1].special < 0) rstrip(pieces[i - 1].text);
    if (i + 1 < pieces.size() && pieces[i + 1].special < 0) lstrip(pieces[i + 1].text);
  }

  std::vector<std::string> out;
  for (const auto& p : pieces) {
    if (p.special >= 0) {
      out.emplace_back(kSpecialTokens[p.special]);
    } else if (!p.text.empty()) {
      tokenize_piece(lower_ ? lower(p.text) : p.text, out);
    }
  }
  return out;
}

// BasicTokenizer.tokenize followed by WordPiece on every word.
void Tokenizer::tokenize_piece(const std::u32string& text, std::vector<std::string>& out) const {
  std::u32string t;
  t.reserve(text.size() + 16);
  bool non_ascii = false;
  for (char32_t c : text) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      t.push_back(U' ');
    } else if (split_cjk_ && is_cjk(c)) {
      t.push_back(U' ');
      t.push_back(c);
      t.push_back(U' ');
    } else {
      t.push_back(c);
    }
    non_ascii |= c >= 0x80;
  }

  if (non_ascii) {
    t = normalize(nfc(), t);
    // Per word: str.lower() (a no-op after the first lower-casing, except for
    // what NFC composed), then NFD and removal of the Mn marks. Neither step
    // crosses a space, so they run on the whole text at once.
    if (lower_) t = lower(t);
    if (strip_accents_ == 1 || (strip_accents_ == -1 && lower_)) {
      t = normalize(nfd(), t);
      t.erase(std::remove_if(t.begin(), t.end(),
                             [](char32_t c) { return c >= 0x300 && category(c) == U_NON_SPACING_MARK; }),
              t.end());
    }
  }

  // Whitespace split (str.split), then punctuation split, except for words that
  // are special tokens (BasicTokenizer's never_split).
  std::u32string word, sub;
  const auto flush_word = [&]() {
    if (word.empty()) return;
    if (is_special_word(word)) {
      wordpiece(word, out);
    } else {
      sub.clear();
      for (char32_t c : word) {
        if (is_punctuation(c)) {
          if (!sub.empty()) wordpiece(sub, out);
          sub.assign(1, c);
          wordpiece(sub, out);
          sub.clear();
        } else {
          sub.push_back(c);
        }
      }
      if (!sub.empty()) wordpiece(sub, out);
    }
    word.clear();
  };
  for (char32_t c : t) {
    if (utf8::py_isspace(c)) {
      flush_word();
    } else {
      word.push_back(c);
    }
  }
  flush_word();
}

// WordpieceTokenizer.tokenize for one word: greedy longest match first; the
// whole word is [UNK] when it is too long or any piece is missing.
void Tokenizer::wordpiece(const std::u32string& word, std::vector<std::string>& out) const {
  if (word.size() > kMaxWordChars) {
    out.emplace_back("[UNK]");
    return;
  }
  std::string bytes;
  std::vector<size_t> at;  // byte offset of every character, plus the end
  at.reserve(word.size() + 1);
  for (char32_t c : word) {
    at.push_back(bytes.size());
    utf8::append(bytes, c);
  }
  at.push_back(bytes.size());

  const size_t first = out.size();
  std::string key;
  const size_t n = word.size();
  for (size_t start = 0; start < n;) {
    const size_t prefix = start > 0 ? 2 : 0;
    size_t end = n;
    while (end > start && at[end] - at[start] + prefix > max_token_bytes_) --end;
    bool found = false;
    for (; end > start; --end) {
      key.assign(prefix ? "##" : "");
      key.append(bytes, at[start], at[end] - at[start]);
      if (vocab_.count(key)) {
        found = true;
        break;
      }
    }
    if (!found) {
      out.resize(first);
      out.emplace_back("[UNK]");
      return;
    }
    out.push_back(key);
    start = end;
  }
}

Encoding Tokenizer::encode(std::string_view utf8, bool add_special, int max_length, int pad_to) const {
  std::vector<std::string> toks = tokenize(utf8);
  if (max_length > 0) {
    const int room = add_special ? max_length - 2 : max_length;
    if (room < 0)
      throw Error(ErrorCode::BadArgument,
                  "max_length " + std::to_string(max_length) + " leaves no room for [CLS] and [SEP]");
    if (toks.size() > static_cast<size_t>(room)) toks.resize(static_cast<size_t>(room));
  }
  Encoding e;
  const size_t total = toks.size() + (add_special ? 2 : 0);
  e.tokens.reserve(std::max<size_t>(total, pad_to > 0 ? static_cast<size_t>(pad_to) : 0));
  if (add_special) e.tokens.emplace_back("[CLS]");
  for (auto& t : toks) e.tokens.push_back(std::move(t));
  if (add_special) e.tokens.emplace_back("[SEP]");
  e.ids.reserve(e.tokens.capacity());
  for (const auto& t : e.tokens) e.ids.push_back(token_to_id(t));
  e.mask.assign(e.ids.size(), 1);
  if (pad_to > 0 && e.ids.size() < static_cast<size_t>(pad_to)) {
    const size_t pad = static_cast<size_t>(pad_to) - e.ids.size();
    e.ids.insert(e.ids.end(), pad, pad_);
    e.mask.insert(e.mask.end(), pad, 0);
    e.tokens.insert(e.tokens.end(), pad, inv_[static_cast<size_t>(pad_)]);
  }
  return e;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, int max_length) const {
  std::vector<Encoding> out;
  out.reserve(texts.size());
  size_t longest = 0;
  for (const auto& s : texts) {
    out.push_back(encode(s, true, max_length));
    longest = std::max(longest, out.back().ids.size());
  }
  for (auto& e : out) {
    const size_t pad = longest - e.ids.size();
    e.ids.insert(e.ids.end(), pad, pad_);
    e.mask.insert(e.mask.end(), pad, 0);
    e.tokens.insert(e.tokens.end(), pad, inv_[static_cast<size_t>(pad_)]);
  }
  return out;
}

// PreTrainedTokenizer._decode with BertTokenizer.convert_tokens_to_string and
// clean_up_tokenization_spaces=True.
std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  std::string s;
  bool first = true;
  for (int64_t id : ids) {
    if (skip_special && (id == pad_ || id == unk_ || id == cls_ || id == sep_ || (mask_ >= 0 && id == mask_))) continue;
    if (!first) s.push_back(' ');
    first = false;
    s += id_to_token(id);
  }
  slow::replace_all(s, " ##", "");
  std::u32string u = utf8_to_u32(s);
  rstrip(u);
  lstrip(u);
  s = u32_to_utf8(u);
  static constexpr std::string_view kCleanup[][2] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& r : kCleanup) slow::replace_all(s, r[0], r[1]);
  return s;
}

}  // namespace core
