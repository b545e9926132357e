#include "core/text/sentencepiece_tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "core/text/utf8.h"

namespace core {
namespace {

constexpr std::string_view kExtraPrefix = "<extra_id_";

// re.match(r"<extra_id_(\d+)>", token): the N of a sentinel, or -1.
int64_t sentinel_number(const std::string& token) {
  if (token.compare(0, kExtraPrefix.size(), kExtraPrefix) != 0) return -1;
  size_t i = kExtraPrefix.size();
  int64_t n = 0;
  for (; i < token.size() && token[i] >= '0' && token[i] <= '9' && n < (int64_t(1) << 40); ++i)
    n = n * 10 + (token[i] - '0');
  if (i == kExtraPrefix.size() || i >= token.size() || token[i] != '>') return -1;
  return n;
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer() = default;
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_folder(const std::filesystem::path& dir) {
  std::unique_ptr<SentencePieceTokenizer> t(new SentencePieceTokenizer);
  const auto model_path = dir / "spiece.model";
  t->sp_ = std::make_unique<SpmProcessor>(slow::read_file(model_path), model_path.string());
  t->piece_size_ = t->sp_->size();
  if (t->piece_size_ <= 0) throw Error(ErrorCode::BadVocab, model_path.string() + ": the model has no pieces");

  const auto cfg = slow::Config::read(dir);
  const auto config_file = (dir / "tokenizer_config.json").string();
  if (!cfg.flag("legacy", true))
    throw Error(ErrorCode::BadVocab,
                config_file + ": \"legacy\": false is not supported (only T5Tokenizer's legacy behaviour)");
  t->extra_ids_ = cfg.integer("extra_ids", 100);
  if (t->extra_ids_ < 0 || t->extra_ids_ > 100000)
    throw Error(ErrorCode::BadVocab, config_file + ": \"extra_ids\" must be in 0..100000");

  const auto eos = cfg.special("eos_token", false).value_or(slow::SpecialToken{"</s>"});
  const auto unk = cfg.special("unk_token", false).value_or(slow::SpecialToken{"<unk>"});
  const auto pad = cfg.special("pad_token", false).value_or(slow::SpecialToken{"<pad>"});
  // all_special_tokens' order: bos, eos, unk, sep, pad, cls, mask, additional.
  std::vector<slow::SpecialToken> all;
  if (auto s = cfg.special("bos_token", false)) all.push_back(*s);
  all.push_back(eos);
  all.push_back(unk);
  if (auto s = cfg.special("sep_token", false)) all.push_back(*s);
  all.push_back(pad);
  for (const char* key : {"cls_token", "mask_token"})
    if (auto s = cfg.special(key, false)) all.push_back(*s);
  auto extra = cfg.additional_special();
  if (!extra) {
    extra.emplace();
    for (int64_t i = 0; i < t->extra_ids_; ++i) extra->push_back({"<extra_id_" + std::to_string(i) + ">"});
  } else if (t->extra_ids_ > 0) {
    std::vector<std::string> sentinels;
    for (const auto& s : *extra)
      if (s.content.find("extra_id") != std::string::npos) sentinels.push_back(s.content);
    std::sort(sentinels.begin(), sentinels.end());
    sentinels.erase(std::unique(sentinels.begin(), sentinels.end()), sentinels.end());
    if (static_cast<int64_t>(sentinels.size()) != t->extra_ids_)
      throw Error(ErrorCode::BadVocab, dir.string() + ": \"additional_special_tokens\" has " +
                                           std::to_string(sentinels.size()) +
                                           " <extra_id_N> tokens, \"extra_ids\" says " + std::to_string(t->extra_ids_));
  }
  all.insert(all.end(), extra->begin(), extra->end());

  t->unk_ = t->model_id(unk.content);
  for (const auto& s : all) {
    if (s.content == unk.content || t->model_id(s.content) != t->unk_ || t->added_.count(s.content)) continue;
    const int64_t id = t->piece_size_ + t->extra_ids_ + static_cast<int64_t>(t->added_.size());
    t->added_[s.content] = id;
    t->added_decoder_[id] = s.content;
  }
  for (const auto& s : all) {
    if (std::none_of(t->specials_.begin(), t->specials_.end(),
                     [&](const slow::SpecialToken& o) { return o.content == s.content; }))
      t->specials_.push_back(s);
    t->special_ids_.push_back(t->token_to_id(s.content));
  }
  t->eos_ = t->token_to_id(eos.content);
  t->pad_ = t->token_to_id(pad.content);
  return t;
}

int64_t SentencePieceTokenizer::model_id(const std::string& token) const {
  const int64_t n = sentinel_number(token);
  if (n >= 0 && n < extra_ids_) return piece_size_ + extra_ids_ - 1 - n;
  return sp_->piece_to_id(token);
}

int64_t SentencePieceTokenizer::token_to_id(const std::string& token) const {
  if (auto it = added_.find(token); it != added_.end()) return it->second;
  return model_id(token);
}

std::string SentencePieceTokenizer::id_to_token(int64_t id) const {
  if (auto it = added_decoder_.find(id); it != added_decoder_.end()) return it->second;
  if (id >= 0 && id < piece_size_) return sp_->id_to_piece(static_cast<int>(id));
  if (id >= piece_size_ && id < piece_size_ + extra_ids_)
    return "<extra_id_" + std::to_string(piece_size_ + extra_ids_ - 1 - id) + ">";
  return {};
}

std::vector<std::string> SentencePieceTokenizer::tokenize(std::string_view utf8) const {
  std::vector<std::string> tokens;
  for (const auto& piece : slow::split_on_special(utf8::decode_replace(utf8), specials_)) {
    if (piece.special >= 0) {
      tokens.push_back(piece.text);
      continue;
    }
    for (auto& p : sp_->encode(piece.text)) tokens.push_back(std::move(p));
  }
  return tokens;
}

std::vector<int64_t> SentencePieceTokenizer::encode(std::string_view utf8, bool add_special) const {
  std::vector<int64_t> ids;
  for (const auto& tok : tokenize(utf8)) ids.push_back(token_to_id(tok));
  if (add_special && (ids.empty() || ids.back() != eos_)) ids.push_back(eos_);
  return ids;
}

std::string SentencePieceTokenizer::tokens_to_string(const std::vector<std::string>& tokens) const {
  const auto is_special = [&](const std::string& tok) {
    return std::any_of(specials_.begin(), specials_.end(),
                       [&](const slow::SpecialToken& s) { return s.content == tok; });
  };
  const auto sp_decode = [&](const std::vector<std::string>& pieces) { return sp_->decode(pieces); };
  std::vector<std::string> current;
  std::string out;
  bool prev_is_special = false;
  for (const auto& tok : tokens) {
    if (is_special(tok)) {
      if (!prev_is_special) out += ' ';
      out += sp_decode(current) + tok;
      prev_is_special = true;
      current.clear();
    } else {
      current.push_back(tok);
      prev_is_special = false;
    }
  }
  out += sp_decode(current);
  return std::string(utf8::py_strip(out));
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special,
                                           bool clean_up_spaces) const {
  std::vector<std::string> parts, current;
  const auto flush = [&] {
    if (current.empty()) return;
    parts.push_back(tokens_to_string(current));
    current.clear();
  };
  for (int64_t id : ids) {
    if (skip_special && std::find(special_ids_.begin(), special_ids_.end(), id) != special_ids_.end()) continue;
    if (auto it = added_decoder_.find(id); it != added_decoder_.end()) {
      flush();
      parts.push_back(it->second);
      continue;
    }
    std::string tok = id_to_token(id);
    if (!tok.empty()) current.push_back(std::move(tok));  // padding rows of the embedding have no token
  }
  flush();
  std::string text;
  for (size_t k = 0; k < parts.size(); ++k) text += (k ? " " : "") + parts[k];
  return clean_up_spaces ? slow::clean_up_tokenization(std::move(text)) : text;
}

}  // namespace core
