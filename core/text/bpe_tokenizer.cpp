#include "core/text/bpe_tokenizer.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <limits>

#include "core/error.h"
#include "core/text/utf8.h"

namespace core {
namespace {

// Vocabularies of published byte-level BPE models have up to ~250k entries.
constexpr int64_t kMaxVocabId = 16 << 20;
// The cache holds pre-tokens already merged; hostile input must not grow it forever.
constexpr size_t kMaxCacheEntries = 100000;

// GPT-2's bytes_to_unicode(): printable bytes stand for themselves, the others
// for code points from U+0100 on.
struct ByteMap {
  std::array<char32_t, 256> to_char{};
  std::array<int, 512> to_byte{};

  ByteMap() {
    to_byte.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? char32_t(b) : char32_t(256 + n++);
      to_byte[to_char[b]] = b;
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

enum class CharClass { Letter, Number, Space, Other };

CharClass classify(char32_t c) {
  if (u_isUWhiteSpace(static_cast<UChar32>(c))) return CharClass::Space;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return CharClass::Letter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return CharClass::Number;
    default:
      return CharClass::Other;
  }
}

std::string bytes_to_symbols(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) utf8::append(out, byte_map().to_char[b]);
  return out;
}

// Python's open(): "\r\n" and "\r" read as "\n".
std::string universal_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t n = utf8::next(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::vector<std::string> split_ws(std::string_view line) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) parts.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return parts;
}

}  // namespace

std::vector<std::string> BpeTokenizer::pretokenize(std::string_view text) {
  std::vector<char32_t> cp;
  std::vector<size_t> off;
  for (size_t i = 0; i < text.size();) {
    char32_t c;
    size_t n = utf8::next(text, i, c);
    if (n == 0) {
      c = 0xFFFD;
      n = 1;
    }
    cp.push_back(c);
    off.push_back(i);
    i += n;
  }
  off.push_back(text.size());
  const size_t n = cp.size();
  std::vector<CharClass> cls(n);
  for (size_t k = 0; k < n; ++k) cls[k] = classify(cp[k]);

  std::vector<std::string> out;
  const auto emit = [&](size_t a, size_t b) { out.emplace_back(text.substr(off[a], off[b] - off[a])); };
  const auto run = [&](size_t k, CharClass c) {
    while (k < n && cls[k] == c) ++k;
    return k;
  };
  for (size_t i = 0; i < n;) {
    if (cp[i] == '\'' && i + 1 < n) {
      const char32_t a = cp[i + 1], b = i + 2 < n ? cp[i + 2] : 0;
      size_t len = 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        len = 2;
      else if ((a == 'r' || a == 'v') && b == 'e')
        len = 3;
      else if (a == 'l' && b == 'l')
        len = 3;
      if (len) {
        emit(i, i + len);
        i += len;
        continue;
      }
    }
    const size_t k = (cp[i] == ' ' && i + 1 < n && cls[i + 1] != CharClass::Space) ? i + 1 : i;
    if (cls[k] != CharClass::Space) {
      const size_t end = run(k, cls[k]);
      emit(i, end);
      i = end;
      continue;
    }
    // \s+(?!\S) leaves the last whitespace character to a following word; \s+ otherwise.
    const size_t end = run(i, CharClass::Space);
    const size_t stop = (end < n && end - i >= 2) ? end - 1 : end;
    emit(i, stop);
    i = stop;
  }
  return out;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_folder(const std::filesystem::path& dir) {
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer);

  const auto vocab_path = dir / "vocab.json";
  // The entries in file order (a later duplicate id wins the decoder, as in
  // Python), without the cost of an order-keeping JSON object.
  std::vector<std::pair<std::string, nlohmann::json>> entries;
  std::string key;
  bool nested = false;
  const auto keep = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth == 1 && ev == E::key) key = parsed.get<std::string>();
    if (depth == 1 && (ev == E::object_start || ev == E::array_start)) nested = true;
    if (depth == 1 && ev == E::value) {
      entries.emplace_back(key, std::move(parsed));
      return false;
    }
    return true;
  };
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(slow::read_file(vocab_path), keep);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::BadVocab, vocab_path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!root.is_object() || entries.empty() || nested)
    throw Error(ErrorCode::BadVocab, vocab_path.string() + ": not a JSON object of tokens and integer ids");
  for (const auto& [token, id] : entries) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxVocabId)
      throw Error(ErrorCode::BadVocab, vocab_path.string() + ": the id of \"" + token + "\" is not an integer in 0.." +
                                           std::to_string(kMaxVocabId));
    t->encoder_[token] = id.get<int64_t>();
    t->decoder_[id.get<int64_t>()] = token;
  }

  const auto merges_path = dir / "merges.txt";
  const std::string merges = universal_newlines(slow::read_file(merges_path));
  if (!valid_utf8(merges)) throw Error(ErrorCode::BadVocab, merges_path.string() + ": not valid UTF-8");
  // As GPT2Tokenizer: the first line is the "#version" header and the last is
  // what follows the final newline.
  std::vector<std::string_view> lines;
  for (size_t i = 0;;) {
    const size_t j = merges.find('\n', i);
    lines.push_back(std::string_view(merges).substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  for (size_t k = 1; k + 1 < lines.size(); ++k) {
    const auto parts = split_ws(lines[k]);
    if (parts.empty()) continue;
    if (parts.size() != 2)
      throw Error(ErrorCode::BadVocab,
                  merges_path.string() + ": line " + std::to_string(k + 1) + " is not a pair of symbols");
    t->ranks_[parts[0] + " " + parts[1]] = k - 1;
  }

  const auto cfg = slow::Config::read(dir);
  t->add_bos_ = cfg.flag("add_bos_token", false);
  t->add_prefix_space_ = cfg.flag("add_prefix_space", false);
  const slow::SpecialToken endoftext{"<|endoftext|>", false, false};
  const auto bos = cfg.special("bos_token", true).value_or(endoftext);
  const auto eos = cfg.special("eos_token", true).value_or(endoftext);
  const auto unk = cfg.special("unk_token", true).value_or(endoftext);
  const auto sep = cfg.special("sep_token", false);
  const auto pad = cfg.special("pad_token", true);
  const auto cls = cfg.special("cls_token", false);
  const auto mask = cfg.special("mask_token", false);
  std::vector<slow::SpecialToken> all = {bos, eos, unk};
  for (const auto& o : {sep, pad, cls, mask})
    if (o) all.push_back(*o);
  if (auto extra = cfg.additional_special()) all.insert(all.end(), extra->begin(), extra->end());

  // PreTrainedTokenizer._add_tokens: a special token that is not in the
  // vocabulary gets the next free id.
  const auto vocab_id = [&](const std::string& s) {
    auto it = t->encoder_.find(s);
    return it == t->encoder_.end() ? int64_t(-1) : it->second;
  };
  t->unk_ = vocab_id(unk.content);
  for (const auto& s : all) {
    if (s.content == unk.content || vocab_id(s.content) != t->unk_ || t->added_.count(s.content)) continue;
    const int64_t id = static_cast<int64_t>(t->encoder_.size() + t->added_.size());
    t->added_[s.content] = id;
    t->added_decoder_[id] = s.content;
  }
  for (const auto& s : all) {
    bool seen = false;
    for (const auto& o : t->specials_) seen = seen || o.content == s.content;
    if (!seen) t->specials_.push_back(s);
    const int64_t id = t->special_id(s.content);
    if (id >= 0) t->special_ids_.push_back(id);
  }
  t->bos_ = t->special_id(bos.content);
  t->eos_ = t->special_id(eos.content);
  t->pad_ = pad ? t->special_id(pad->content) : -1;
  return t;
}

int64_t BpeTokenizer::special_id(const std::string& token) const {
  if (auto it = added_.find(token); it != added_.end()) return it->second;
  if (auto it = encoder_.find(token); it != encoder_.end()) return it->second;
  return unk_;
}

int64_t BpeTokenizer::token_to_id(const std::string& token) const { return special_id(token); }

std::string BpeTokenizer::id_to_token(int64_t id) const {
  if (auto it = added_decoder_.find(id); it != added_decoder_.end()) return it->second;
  if (auto it = decoder_.find(id); it != decoder_.end()) return it->second;
  return {};
}

std::vector<std::string> BpeTokenizer::bpe(const std::string& token) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (auto it = cache_.find(token); it != cache_.end()) return it->second;
  }
  std::vector<std::string> word;
  for (size_t i = 0; i < token.size();) {
    char32_t c;
    const size_t n = std::max<size_t>(1, utf8::next(token, i, c));
    word.push_back(token.substr(i, n));
    i += n;
  }
  while (word.size() > 1) {
    size_t best = std::numeric_limits<size_t>::max();
    std::string first, second;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = ranks_.find(word[i] + " " + word[i + 1]);
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        first = word[i];
        second = word[i + 1];
      }
    }
    if (best == std::numeric_limits<size_t>::max()) break;
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        ++i;
      }
    }
    word.swap(merged);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(token, word);
  return word;
}

std::vector<std::string> BpeTokenizer::tokenize(std::string_view utf8) const {
  std::string text = utf8::decode_replace(utf8);
  if (add_prefix_space_) text.insert(text.begin(), ' ');
  std::vector<std::string> tokens;
  for (const auto& piece : slow::split_on_special(text, specials_)) {
    if (piece.special >= 0) {
      tokens.push_back(piece.text);
      continue;
    }
    for (const auto& pre : pretokenize(piece.text))
      for (auto& s : bpe(bytes_to_symbols(pre))) tokens.push_back(std::move(s));
  }
  return tokens;
}

std::vector<int64_t> BpeTokenizer::encode(std::string_view utf8, bool add_special) const {
  std::vector<int64_t> ids;
  if (add_special && add_bos_) ids.push_back(bos_);
  for (const auto& tok : tokenize(utf8)) {
    const int64_t id = special_id(tok);
    if (id < 0) throw Error(ErrorCode::BadVocab, "\"" + tok + "\" is not in the vocabulary and it has no unk_token");
    ids.push_back(id);
  }
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special, bool clean_up_spaces) const {
  std::vector<std::string> parts;
  std::string bytes;
  const auto flush = [&] {
    if (bytes.empty()) return;
    parts.push_back(utf8::decode_replace(bytes));
    bytes.clear();
  };
  for (int64_t id : ids) {
    if (skip_special && std::find(special_ids_.begin(), special_ids_.end(), id) != special_ids_.end()) continue;
    if (auto it = added_decoder_.find(id); it != added_decoder_.end()) {
      flush();
      parts.push_back(it->second);
      continue;
    }
    auto it = decoder_.find(id);
    if (it == decoder_.end()) continue;  // padding rows of the embedding have no token
    const std::string& tok = it->second;
    for (size_t i = 0; i < tok.size();) {
      char32_t c;
      const size_t n = std::max<size_t>(1, utf8::next(tok, i, c));
      if (c < byte_map().to_byte.size() && byte_map().to_byte[c] >= 0)
        bytes.push_back(static_cast<char>(byte_map().to_byte[c]));
      else
        bytes.append(tok, i, n);
      i += n;
    }
  }
  flush();
  std::string text;
  for (size_t k = 0; k < parts.size(); ++k) text += (k ? " " : "") + parts[k];
  return clean_up_spaces ? slow::clean_up_tokenization(std::move(text)) : text;
}

}  // namespace core
