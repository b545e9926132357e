#include "core/model/blip2/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"

namespace core::blip2 {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& label, const std::string& what) {
  throw Error(ErrorCode::BadConfig, label + ": " + what);
}

// One sub-config object with the field path for messages ("text_config.hidden_size").
struct Section {
  const json& j;
  std::string prefix, label;

  const json* find(const char* key) const {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  std::string field(const char* key) const { return "'" + prefix + key + "'"; }
  int64_t integer(const char* key, int64_t fallback, int64_t lo, int64_t hi) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_number_integer()) bad(label, "field " + field(key) + " must be an integer");
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi || (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(hi)))
      bad(label, "field " + field(key) + " = " + v->dump() + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
    return x;
  }
  int size(const char* key, int fallback) const { return static_cast<int>(integer(key, fallback, 1, 1 << 20)); }
  double number(const char* key, double fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_number() || !std::isfinite(v->get<double>())) bad(label, "field " + field(key) + " must be a number");
    return v->get<double>();
  }
  bool flag(const char* key, bool fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) bad(label, "field " + field(key) + " must be true or false");
    return v->get<bool>();
  }
  std::string text(const char* key, const std::string& fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_string()) bad(label, "field " + field(key) + " must be a string");
    return v->get<std::string>();
  }
  Act act(const char* key, Act fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    const std::string s = text(key, "");
    if (s == "relu") return Act::Relu;
    if (s == "gelu") return Act::Gelu;
    if (s == "gelu_new" || s == "gelu_pytorch_tanh") return Act::GeluNew;
    bad(label, "field " + field(key) + " = \"" + s + "\" is not supported (relu, gelu, gelu_new)");
  }
  void require(const char* key, const json& expected) const {
    const json* v = find(key);
    if (v && *v != expected)
      bad(label, "field " + field(key) + " = " + v->dump() + " is not supported (only " + expected.dump() + ")");
  }
};

Section section(const json& root, const char* key, const std::string& label) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return {json::object(), std::string(key) + ".", label};
  if (!it->is_object()) bad(label, "field '" + std::string(key) + "' must be an object");
  return {*it, std::string(key) + ".", label};
}

void read_vision(const Section& s, VisionCfg* v) {
  v->hidden = s.size("hidden_size", v->hidden);
  v->layers = s.size("num_hidden_layers", v->layers);
  v->heads = s.size("num_attention_heads", v->heads);
  v->intermediate = s.size("intermediate_size", v->intermediate);
  v->image_size = s.size("image_size", v->image_size);
  v->patch_size = s.size("patch_size", v->patch_size);
  v->ln_eps = s.number("layer_norm_eps", v->ln_eps);
  v->act = s.act("hidden_act", v->act);
  v->qkv_bias = s.flag("qkv_bias", v->qkv_bias);
  if (v->hidden % v->heads) bad(s.label, "field 'vision_config.hidden_size' is not a multiple of num_attention_heads");
  if (v->image_size % v->patch_size) bad(s.label, "field 'vision_config.image_size' is not a multiple of patch_size");
}

void read_qformer(const Section& s, QFormerCfg* q, int vision_hidden) {
  q->hidden = s.size("hidden_size", q->hidden);
  q->layers = s.size("num_hidden_layers", q->layers);
  q->heads = s.size("num_attention_heads", q->heads);
  q->intermediate = s.size("intermediate_size", q->intermediate);
  q->cross_every = s.size("cross_attention_frequency", q->cross_every);
  q->ln_eps = s.number("layer_norm_eps", q->ln_eps);
  q->act = s.act("hidden_act", q->act);
  q->encoder_hidden = vision_hidden;  // Blip2Config overwrites encoder_hidden_size with it
  s.require("position_embedding_type", "absolute");
  if (q->hidden % q->heads) bad(s.label, "field 'qformer_config.hidden_size' is not a multiple of num_attention_heads");
}

void read_opt(const Section& s, Blip2Config* c) {
  OptCfg& o = c->opt;
  o.vocab = s.size("vocab_size", 50272);
  o.hidden = s.size("hidden_size", 768);
  o.layers = s.size("num_hidden_layers", 12);
  o.heads = s.size("num_attention_heads", 12);
  o.ffn = s.size("ffn_dim", 3072);
  o.max_positions = s.size("max_position_embeddings", 2048);
  o.act = s.act("activation_function", Act::Relu);
  o.tied = s.flag("tie_word_embeddings", true);
  if (s.size("word_embed_proj_dim", o.hidden) != o.hidden)
    bad(s.label,
        "field 'text_config.word_embed_proj_dim' differs from hidden_size (project_in/out, as in "
        "opt-350m): BLIP-2 cannot feed such a model (transformers 4.31 fails on it too)");
  s.require("do_layer_norm_before", true);
  s.require("_remove_final_layer_norm", false);
  s.require("enable_bias", true);
  s.require("layer_norm_elementwise_affine", true);
  if (o.hidden % o.heads) bad(s.label, "field 'text_config.hidden_size' is not a multiple of num_attention_heads");
  c->bos_id = s.integer("bos_token_id", 2, 0, o.vocab - 1);
  c->eos_id = s.integer("eos_token_id", 2, 0, o.vocab - 1);
  c->pad_id = s.integer("pad_token_id", 1, 0, o.vocab - 1);
}

void read_t5(const Section& s, Blip2Config* c) {
  T5Cfg& t = c->t5;
  t.vocab = s.size("vocab_size", 32128);
  t.d_model = s.size("d_model", 512);
  t.d_kv = s.size("d_kv", 64);
  t.d_ff = s.size("d_ff", 2048);
  t.layers = s.size("num_layers", 6);
  t.decoder_layers = s.size("num_decoder_layers", t.layers);
  t.heads = s.size("num_heads", 8);
  t.buckets = s.size("relative_attention_num_buckets", 32);
  t.max_distance = s.size("relative_attention_max_distance", 128);
  t.eps = s.number("layer_norm_epsilon", 1e-6);
  t.tied = s.flag("tie_word_embeddings", true);
  const std::string ff = s.text("feed_forward_proj", "relu");
  t.gated = ff.rfind("gated-", 0) == 0;
  const std::string base = t.gated ? ff.substr(6) : ff;
  if (base != "relu" && base != "gelu")
    bad(s.label, "field 'text_config.feed_forward_proj' = \"" + ff + "\" is not supported");
  // T5Config maps "gated-gelu" to gelu_new; a dense_act_fn in the file wins.
  t.act = s.act("dense_act_fn", base == "relu" ? Act::Relu : (t.gated ? Act::GeluNew : Act::Gelu));
  if (t.buckets < 4) bad(s.label, "field 'text_config.relative_attention_num_buckets' must be at least 4");
  if (!s.find("decoder_start_token_id"))
    bad(s.label, "field 'text_config.decoder_start_token_id' is missing (T5 generation starts from it)");
  if (!s.find("bos_token_id"))
    bad(s.label, "field 'text_config.bos_token_id' is missing (the prompt-less input of BLIP-2's generate)");
  c->decoder_start_id = s.integer("decoder_start_token_id", 0, 0, t.vocab - 1);
  c->bos_id = s.integer("bos_token_id", 1, 0, t.vocab - 1);
  c->eos_id = s.integer("eos_token_id", 1, 0, t.vocab - 1);
  c->pad_id = s.integer("pad_token_id", 0, 0, t.vocab - 1);
}

void read_generation(const Section& s, GenerationDefaults* g) {
  g->max_length = s.size("max_length", g->max_length);
  g->min_length = static_cast<int>(s.integer("min_length", g->min_length, 0, 1 << 20));
  g->num_beams = s.size("num_beams", g->num_beams);
  g->length_penalty = s.number("length_penalty", g->length_penalty);
  g->repetition_penalty = s.number("repetition_penalty", g->repetition_penalty);
  const json* es = s.find("early_stopping");
  if (es && !es->is_boolean()) bad(s.label, "field 'text_config.early_stopping' = " + es->dump() + " is not supported");
  g->early_stopping = s.flag("early_stopping", false);
  if (s.flag("do_sample", false)) bad(s.label, "field 'text_config.do_sample' = true is not supported");
  if (s.integer("num_beam_groups", 1, 1, 1 << 20) != 1)
    bad(s.label, "field 'text_config.num_beam_groups' is not supported");
  if (s.integer("no_repeat_ngram_size", 0, 0, 1 << 20) != 0)
    bad(s.label, "field 'text_config.no_repeat_ngram_size' is not supported");
}

}  // namespace

const char* act_name(Act a) {
  switch (a) {
    case Act::Relu:
      return "relu";
    case Act::Gelu:
      return "gelu";
    case Act::GeluNew:
      return "gelu_new";
  }
  return "?";
}

Blip2Config parse_config(const json& j, const std::string& label) {
  if (!j.is_object()) bad(label, "not a JSON object");
  Blip2Config c;
  const Section root{j, "", label};
  if (root.text("model_type", "blip-2") != "blip-2") bad(label, "field 'model_type' is not \"blip-2\"");
  c.queries = root.size("num_query_tokens", 32);
  read_vision(section(j, "vision_config", label), &c.vision);
  read_qformer(section(j, "qformer_config", label), &c.qformer, c.vision.hidden);
  const Section text = section(j, "text_config", label);
  const std::string type = text.text("model_type", "opt");
  if (type == "opt") {
    c.lm = LmKind::Opt;
    read_opt(text, &c);
  } else if (type == "t5") {
    c.lm = LmKind::T5;
    read_t5(text, &c);
  } else {
    bad(label, "field 'text_config.model_type' = \"" + type + "\" is not supported (opt, t5)");
  }
  read_generation(text, &c.generation);
  return c;
}

namespace {

json read_json_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(ErrorCode::BadConfig, p.u8string() + ": missing or unreadable");
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::BadConfig, p.u8string() + ": not valid JSON (" + e.what() + ")");
  }
}

void read_preprocessor(const json& p, PreprocessSpec* spec, const std::string& label) {
  const Section s{p, "", label};
  auto triple = [&](const char* key, std::array<float, 3>* out) {
    const json* v = s.find(key);
    if (!v) return;
    if (!v->is_array() || v->size() != 3) bad(label, "field '" + std::string(key) + "' must be 3 numbers");
    for (int i = 0; i < 3; ++i) {
      if (!(*v)[i].is_number()) bad(label, "field '" + std::string(key) + "' must be 3 numbers");
      (*out)[i] = static_cast<float>((*v)[i].get<double>());
    }
  };
  triple("image_mean", &spec->mean);
  triple("image_std", &spec->std);
  spec->rescale = s.number("rescale_factor", spec->rescale);
  if (const json* sz = s.find("size")) {
    if (sz->is_number_integer()) {
      spec->size = s.size("size", spec->size);
    } else if (sz->is_object()) {
      const Section ss{*sz, "size.", label};
      const int h = ss.size("height", spec->size), w = ss.size("width", spec->size);
      if (h != w) bad(label, "field 'size': only square sizes are supported");
      spec->size = h;
    } else {
      bad(label, "field 'size' must be an integer or {height, width}");
    }
  }
  if (s.integer("resample", 3, 0, 5) != 3) bad(label, "field 'resample': only bicubic (3) is supported");
}

}  // namespace

Blip2Config load_config(const fs::path& dir) {
  const fs::path file = dir / "config.json";
  Blip2Config c = parse_config(read_json_file(file), file.u8string());
  c.preprocess.size = c.vision.image_size;
  const fs::path pre = dir / "preprocessor_config.json";
  if (fs::exists(pre)) read_preprocessor(read_json_file(pre), &c.preprocess, pre.u8string());
  return c;
}

uint64_t min_parameters(const Blip2Config& c) {
  auto u = [](int v) { return static_cast<uint64_t>(std::max(v, 0)); };
  auto block = [&](int hidden, int inner, int ffn) { return 4 * u(hidden) * u(inner) + 2 * u(hidden) * u(ffn); };
  uint64_t n = u(c.vision.layers) * block(c.vision.hidden, c.vision.hidden, c.vision.intermediate);
  n += u(c.qformer.layers) * block(c.qformer.hidden, c.qformer.hidden, c.qformer.intermediate);
  if (c.lm == LmKind::Opt) {
    n += u(c.opt.layers) * block(c.opt.hidden, c.opt.hidden, c.opt.ffn) + u(c.opt.vocab) * u(c.opt.hidden);
  } else {
    const int inner = c.t5.heads * c.t5.d_kv;
    n += u(c.t5.layers + c.t5.decoder_layers) * block(c.t5.d_model, inner, c.t5.d_ff) + u(c.t5.vocab) * u(c.t5.d_model);
  }
  return n;
}

Blip2Config opt_2_7b_config() {
  Blip2Config c;  // the struct defaults are blip2-opt-2.7b's vision, Q-Former and OPT sizes
  c.vision.ln_eps = 1e-6;
  c.queries = 32;
  c.lm = LmKind::Opt;
  c.bos_id = 2;
  c.eos_id = 50118;
  c.pad_id = 1;
  c.preprocess.size = c.vision.image_size;
  return c;
}

}  // namespace core::blip2
