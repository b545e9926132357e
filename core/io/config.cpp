#include "core/io/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/model/blip2/config.h"

namespace core {

namespace fs = std::filesystem;

std::vector<int> VisionConfig::stem_strides() const {
  std::vector<int> twos, threes;
  int p = patch_size;
  for (; p > 1 && p % 2 == 0; p /= 2) twos.push_back(2);
  for (; p > 1 && p % 3 == 0; p /= 3) threes.push_back(3);
  if (p != 1 || patch_size < 2) return {};
  twos.insert(twos.end(), threes.begin(), threes.end());
  return twos;
}

std::vector<int> VisionConfig::stem_channels() const {
  const int steps = static_cast<int>(stem_strides().size());
  std::vector<int> out;
  for (int i = 0; i < steps; ++i)
    out.push_back(i + 1 == steps ? hidden : std::max(16, hidden / (1 << (steps - 1 - i))));
  return out;
}

std::vector<int> VisionConfig::stem_kernels() const {
  std::vector<int> out;
  for (int s : stem_strides()) out.push_back(s == 2 ? 3 : stem_tile_kernel);
  return out;
}

using nlohmann::json;

namespace {

// The most layers validate() accepts; default fusion layer lists are only
// built below it (a huge count must not allocate before validation refuses it).
constexpr int kMaxLayers = 256;

[[noreturn]] void bad(const std::string& label, const std::string& what) {
  throw Error(ErrorCode::BadConfig, label + ": " + what);
}

json read_json(const fs::path& path) {
  // Config files are a few KB; a JSON DOM can take 40x its text (nested
  // arrays), so a hostile file is refused by size before it is parsed.
  constexpr uintmax_t kMaxBytes = 4u << 20;
  std::error_code ec;
  if (const uintmax_t n = fs::file_size(path, ec); !ec && n > kMaxBytes)
    throw Error(ErrorCode::BadConfig,
                path.u8string() + ": " + std::to_string(n) + " bytes, too large for a config file (limit 4 MiB)");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::BadConfig, path.u8string() + ": missing or unreadable");
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::BadConfig, path.u8string() + ": not valid JSON (" + e.what() + ")");
  }
}

// Typed field access with a message naming the field.
template <typename T>
T get(const json& obj, const char* key, T fallback, const std::string& label, const std::string& prefix = "") {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  try {
    if constexpr (std::is_same_v<T, int>) {
      if (!it->is_number_integer()) throw std::runtime_error("not an integer");
      const auto v = it->get<int64_t>();
      if (v < INT32_MIN || v > INT32_MAX) throw std::runtime_error("out of range");
      return static_cast<int>(v);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      if (!it->is_number_integer()) throw std::runtime_error("not an integer");
      return it->get<int64_t>();
    } else if constexpr (std::is_same_v<T, double>) {
      if (!it->is_number()) throw std::runtime_error("not a number");
      return it->get<double>();
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
      // Element by element: nlohmann's get<int> casts floats and wide integers unchecked.
      if (!it->is_array()) throw std::runtime_error("not an array");
      std::vector<int> out;
      for (const auto& e : *it) {
        if (!e.is_number_integer()) throw std::runtime_error("not an array of integers");
        const auto v = e.get<int64_t>();
        if ((e.is_number_unsigned() && e.get<uint64_t>() > uint64_t(INT32_MAX)) || v < INT32_MIN || v > INT32_MAX)
          throw std::runtime_error("out of range");
        out.push_back(static_cast<int>(v));
      }
      return out;
    } else {
      return it->get<T>();
    }
  } catch (const std::exception& e) {
    bad(label, "field '" + prefix + key + "' has the wrong type (" + e.what() + ")");
  }
}

const json& object_field(const json& j, const char* key, const std::string& label) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) bad(label, "missing object '" + std::string(key) + "'");
  return *it;
}

void read_preprocess(const json& p, PreprocessSpec* spec, const std::string& label) {
  auto arr3 = [&](const char* key, std::array<float, 3>* out) {
    auto it = p.find(key);
    if (it == p.end()) return;
    if (!it->is_array() || it->size() != 3) bad(label, "'" + std::string(key) + "' must be 3 numbers");
    for (int i = 0; i < 3; ++i) {
      if (!(*it)[i].is_number()) bad(label, "'" + std::string(key) + "' must be 3 numbers");
      const double v = (*it)[i].get<double>();
      if (!(std::fabs(v) <= FLT_MAX)) bad(label, "'" + std::string(key) + "' must be 3 finite numbers");
      (*out)[i] = static_cast<float>(v);
    }
  };
  arr3("image_mean", &spec->mean);
  arr3("mean", &spec->mean);
  arr3("image_std", &spec->std);
  arr3("std", &spec->std);
  spec->rescale = get<double>(p, "rescale_factor", spec->rescale, label);
  spec->keep_aspect = get<bool>(p, "keep_aspect", spec->keep_aspect, label);
  auto sz = p.find("size");
  if (sz != p.end()) {
    if (sz->is_number_integer()) {
      spec->size = get<int>(p, "size", spec->size, label);
    } else if (sz->is_object()) {
      const int h = get<int>(*sz, "height", spec->size, label, "size."),
                w = get<int>(*sz, "width", spec->size, label, "size.");
      if (h != w)
        bad(label, "only square input sizes are supported (size " + std::to_string(w) + "x" + std::to_string(h) + ")");
      spec->size = h;
    } else {
      bad(label, "'size' must be an integer or {height, width}");
    }
  }
}

// generation_config.json: max_new_tokens wins over max_length, as in HF's generate.
void read_generation(const json& g, ModelConfig* c, const std::string& label) {
  if (!g.is_object()) bad(label, "not a JSON object");
  auto number = [&](const char* key, int fallback) {
    auto it = g.find(key);
    if (it == g.end() || it->is_null()) return fallback;
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 4096)
      bad(label, std::string(key) + " must be an integer from 0 to 4096");
    return it->get<int>();
  };
  c->gen_max_length = number("max_length", c->gen_max_length);
  c->gen_min_length = number("min_length", c->gen_min_length);
  if (const int n = number("max_new_tokens", 0); n > 0) {
    c->gen_max_length = 0;
    c->gen_max_new_tokens = n;
  }
  if (const int n = number("min_new_tokens", -1); n >= 0) {
    c->gen_min_length = 0;
    c->gen_min_new_tokens = n;
  }
}

ModelConfig parse_blip(const json& j, const std::string& label) {
  ModelConfig c;
  c.family = ModelFamily::Blip;
  std::string arch;
  if (auto a = j.find("architectures"); a != j.end() && a->is_array() && !a->empty() && (*a)[0].is_string())
    arch = (*a)[0].get<std::string>();
  if (arch == "BlipForQuestionAnswering" || arch.empty())
    c.task = ModelTask::Vqa;
  else if (arch == "BlipForConditionalGeneration")
    c.task = ModelTask::Caption;
  else if (arch == "BlipForImageTextRetrieval")
    c.task = ModelTask::Match;
  else
    bad(label, "unsupported BLIP architecture '" + arch +
                   "' (supported: BlipForQuestionAnswering, BlipForConditionalGeneration, "
                   "BlipForImageTextRetrieval)");
  // Defaults are HuggingFace's BlipVisionConfig / BlipTextConfig, since
  // published config.json files may list only what differs from them.
  static const json empty = json::object();
  const json& v = j.contains("vision_config") && j["vision_config"].is_object() ? j["vision_config"] : empty;
  const json& t = j.contains("text_config") && j["text_config"].is_object() ? j["text_config"] : empty;
  const std::string vl = label, tl = label;
  c.vision.hidden = get<int>(v, "hidden_size", 768, vl, "vision_config.");
  c.vision.layers = get<int>(v, "num_hidden_layers", 12, vl, "vision_config.");
  c.vision.heads = get<int>(v, "num_attention_heads", 12, vl, "vision_config.");
  c.vision.intermediate = get<int>(v, "intermediate_size", 3072, vl, "vision_config.");
  c.vision.image_size = get<int>(v, "image_size", 384, vl, "vision_config.");
  c.vision.patch_size = get<int>(v, "patch_size", 16, vl, "vision_config.");
  c.vision.ln_eps = get<double>(v, "layer_norm_eps", 1e-5, vl, "vision_config.");
  c.vision.stem = "patch";
  for (const json* sub : {&v, &t}) {
    const auto act = get<std::string>(*sub, "hidden_act", "gelu", label);
    if (act != "gelu") bad(label, "hidden_act '" + act + "' is not supported (only exact 'gelu')");
  }
  c.text.vocab_size = get<int>(t, "vocab_size", 30524, tl, "text_config.");
  c.text.hidden = get<int>(t, "hidden_size", 768, tl, "text_config.");
  c.text.layers = get<int>(t, "num_hidden_layers", 12, tl, "text_config.");
  c.text.decoder_layers = c.text.layers;
  c.text.heads = get<int>(t, "num_attention_heads", 8, tl, "text_config.");
  c.text.intermediate = get<int>(t, "intermediate_size", 3072, tl, "text_config.");
  c.text.max_positions = get<int>(t, "max_position_embeddings", 512, tl, "text_config.");
  c.text.ln_eps = get<double>(t, "layer_norm_eps", 1e-12, tl, "text_config.");
  c.text.pre_norm = false;
  const int enc_hidden = get<int>(t, "encoder_hidden_size", c.vision.hidden, tl, "text_config.");
  if (enc_hidden != c.vision.hidden)
    bad(label, "text_config.encoder_hidden_size (" + std::to_string(enc_hidden) +
                   ") differs from vision_config.hidden_size (" + std::to_string(c.vision.hidden) + ")");
  c.bos_id = get<int64_t>(t, "bos_token_id", 30522, tl);
  c.sep_id = get<int64_t>(t, "sep_token_id", 102, tl);
  c.eos_id = c.sep_id;  // BLIP's generate stops on [SEP], not on eos_token_id
  c.pad_id = get<int64_t>(t, "pad_token_id", 0, tl);
  c.fusion_layers.clear();
  if (c.text.layers <= kMaxLayers)
    for (int i = 0; i < c.text.layers; ++i) c.fusion_layers.push_back(i);
  c.gates = false;
  c.routing = false;
  c.align_dim = 0;
  if (c.task == ModelTask::Match) {
    c.family = ModelFamily::BlipItm;
    c.match_max_tokens = 35;  // BLIP's retrieval reads at most 35 tokens of a text
    // The retrieval model's text encoder: cross-attention blocks exist when HF's
    // BlipTextConfig.is_decoder is set (its default); add_cross_attention is ignored.
    if (!get<bool>(t, "is_decoder", true, tl)) c.fusion_layers.clear();
    c.align_dim = get<int>(j, "image_text_hidden_size", 256, label);
  }
  c.tie_lm_head = false;
  c.decoder_masks_question = false;
  c.preprocess.size = c.vision.image_size;
  c.describe_question = "what is in the picture?";
  // The decoder's own GenerationConfig defaults (transformers 4.31): 20 tokens in all.
  c.gen_max_length = get<int>(t, "max_length", 20, tl, "text_config.");
  c.gen_min_length = get<int>(t, "min_length", 0, tl, "text_config.");
  return c;
}

ModelConfig parse_own(const json& j, const std::string& label) {
  ModelConfig c;
  c.family = ModelFamily::AutoGLM;
  const auto task = get<std::string>(j, "task", "vqa", label);
  if (task != "vqa" && task != "caption") bad(label, "task must be \"vqa\" or \"caption\", not \"" + task + "\"");
  c.task = task == "vqa" ? ModelTask::Vqa : ModelTask::Caption;
  const json& v = object_field(j, "vision", label);
  const json& t = object_field(j, "text", label);
  c.vision.image_size = get<int>(v, "image_size", c.vision.image_size, label, "vision.");
  c.vision.patch_size = get<int>(v, "patch_size", c.vision.patch_size, label, "vision.");
  c.vision.hidden = get<int>(v, "hidden_size", c.vision.hidden, label, "vision.");
  c.vision.layers = get<int>(v, "num_layers", c.vision.layers, label, "vision.");
  c.vision.heads = get<int>(v, "num_heads", c.vision.heads, label, "vision.");
  c.vision.intermediate = get<int>(v, "intermediate_size", c.vision.intermediate, label, "vision.");
  c.vision.ln_eps = get<double>(v, "layer_norm_eps", c.vision.ln_eps, label, "vision.");
  c.vision.stem = get<std::string>(v, "stem", c.vision.stem, label);
  c.vision.stem_tile_kernel = get<int>(v, "stem_tile_kernel", c.vision.stem_tile_kernel, label, "vision.");
  c.text.vocab_size = get<int>(t, "vocab_size", 0, label, "text.");
  c.text.hidden = get<int>(t, "hidden_size", c.text.hidden, label, "text.");
  c.text.layers = get<int>(t, "num_layers", c.text.layers, label, "text.");
  c.text.decoder_layers = get<int>(t, "num_decoder_layers", c.text.decoder_layers, label, "text.");
  c.text.heads = get<int>(t, "num_heads", c.text.heads, label, "text.");
  c.text.intermediate = get<int>(t, "intermediate_size", c.text.intermediate, label, "text.");
  c.text.max_positions = get<int>(t, "max_position_embeddings", c.text.max_positions, label, "text.");
  c.text.ln_eps = get<double>(t, "layer_norm_eps", c.text.ln_eps, label, "text.");
  const auto norm = get<std::string>(t, "norm", "post", label);
  if (norm != "post" && norm != "pre") bad(label, "text.norm must be \"post\" or \"pre\", not \"" + norm + "\"");
  c.text.pre_norm = norm == "pre";
  if (auto f = j.find("fusion"); f != j.end()) {
    if (!f->is_object()) bad(label, "'fusion' must be an object");
    c.fusion_layers = get<std::vector<int>>(*f, "layers", {}, label, "fusion.");
    c.gates = get<bool>(*f, "gates", true, label, "fusion.");
    c.routing = get<bool>(*f, "routing", true, label, "fusion.");
    c.routing_tau = get<double>(*f, "routing_tau", 1.0, label, "fusion.");
    c.queries = get<int>(*f, "queries", 0, label, "fusion.");
  } else if (c.text.layers <= kMaxLayers) {
    for (int i = 0; i < c.text.layers; ++i) c.fusion_layers.push_back(i);
  }
  c.align_dim = get<int>(j, "align_dim", 0, label);
  c.tie_lm_head = get<bool>(j, "tie_lm_head", true, label);
  c.decoder_masks_question = true;
  c.preprocess.size = c.vision.image_size;
  if (auto p = j.find("preprocess"); p != j.end()) {
    if (!p->is_object()) bad(label, "'preprocess' must be an object");
    read_preprocess(*p, &c.preprocess, label);
  }
  c.preprocess.patch = c.vision.patch_size;
  if (auto tk = j.find("tokens"); tk != j.end()) {
    if (!tk->is_object()) bad(label, "'tokens' must be an object");
    c.pad_id = get<int64_t>(*tk, "pad", c.pad_id, label, "tokens.");
    c.unk_id = get<int64_t>(*tk, "unk", c.unk_id, label, "tokens.");
    c.cls_id = get<int64_t>(*tk, "cls", c.cls_id, label, "tokens.");
    c.sep_id = get<int64_t>(*tk, "sep", c.sep_id, label, "tokens.");
    c.bos_id = get<int64_t>(*tk, "bos", c.bos_id, label, "tokens.");
    c.eos_id = get<int64_t>(*tk, "eos", c.eos_id, label, "tokens.");
  }
  c.describe_question = get<std::string>(j, "describe_question", c.describe_question, label);
  c.answer_list = get<std::vector<std::string>>(j, "answers", {}, label);
  return c;
}

}  // namespace

int ModelConfig::fusion_index(int layer) const {
  auto it = std::find(fusion_layers.begin(), fusion_layers.end(), layer);
  return it == fusion_layers.end() ? -1 : static_cast<int>(it - fusion_layers.begin());
}

void ModelConfig::validate() const {
  const std::string label = "config.json";
  auto positive = [&](int v, const char* name, int max = 1 << 20) {
    if (v <= 0 || v > max)
      bad(label, std::string(name) + " = " + std::to_string(v) + " is out of range (1.." + std::to_string(max) + ")");
  };
  const bool encoder = task == ModelTask::Vqa || task == ModelTask::Match;
  positive(vision.image_size, "vision image_size", 4096);
  positive(vision.patch_size, "vision patch_size", 1024);
  positive(vision.hidden, "vision hidden_size", 16384);
  positive(vision.layers, "vision num_layers", kMaxLayers);
  positive(vision.heads, "vision num_heads", 1024);
  positive(vision.intermediate, "vision intermediate_size", 65536);
  if (vision.image_size % vision.patch_size)
    bad(label, "image_size " + std::to_string(vision.image_size) + " is not a multiple of patch_size " +
                   std::to_string(vision.patch_size));
  if (vision.hidden % vision.heads) bad(label, "vision hidden_size is not divisible by num_heads");
  if (vision.stem != "patch" && vision.stem != "conv")
    bad(label, "vision stem must be \"patch\" or \"conv\", not \"" + vision.stem + "\"");
  if (vision.stem == "conv" && vision.stem_strides().empty())
    bad(label, "a conv stem needs a patch_size >= 2 made of factors 2 and 3 (such as 8 or 12), not " +
                   std::to_string(vision.patch_size));
  if (vision.stem_tile_kernel < 3 || vision.stem_tile_kernel > 9 || vision.stem_tile_kernel % 2 == 0)
    bad(label, "vision stem_tile_kernel must be 3, 5, 7 or 9, not " + std::to_string(vision.stem_tile_kernel));
  positive(text.vocab_size, "text vocab_size", 1 << 22);
  positive(text.hidden, "text hidden_size", 16384);
  positive(text.heads, "text num_heads", 1024);
  positive(text.intermediate, "text intermediate_size", 65536);
  positive(text.max_positions, "text max_position_embeddings", 1 << 16);
  if (task != ModelTask::Match) positive(text.decoder_layers, "text num_decoder_layers", kMaxLayers);
  if (encoder) positive(text.layers, "text num_layers", kMaxLayers);
  if (text.hidden % text.heads) bad(label, "text hidden_size is not divisible by num_heads");
  if (!(vision.ln_eps > 0) || !(text.ln_eps > 0)) bad(label, "layer_norm_eps must be positive");
  if (task == ModelTask::Vqa && fusion_layers.empty()) bad(label, "a VQA model needs at least one fusion layer");
  if (task == ModelTask::Match && fusion_layers.empty())
    bad(label, "an image-text matching model needs cross-attention (text_config.is_decoder is false)");
  if (task == ModelTask::Match && align_dim <= 0) bad(label, "image_text_hidden_size must be positive");
  std::set<int> seen;
  for (int l : fusion_layers) {
    if (l < 0 || l >= text.layers)
      bad(label, "fusion layer " + std::to_string(l) + " is outside 0.." + std::to_string(text.layers - 1));
    if (!seen.insert(l).second) bad(label, "fusion layer " + std::to_string(l) + " is listed twice");
  }
  if (!std::is_sorted(fusion_layers.begin(), fusion_layers.end()))
    bad(label, "fusion layers must be in increasing order");
  if (!(routing_tau > 0)) bad(label, "routing_tau must be positive");
  if (queries < 0 || queries > 64) bad(label, "fusion.queries must be 0 to 64");
  if (queries > 0 && task != ModelTask::Vqa) bad(label, "fusion.queries needs a VQA model (a question encoder)");
  if (queries > 0 && !decoder_masks_question) bad(label, "fusion.queries needs a decoder that masks the question");
  if (align_dim < 0 || align_dim > 16384) bad(label, "align_dim out of range");
  for (auto [id, name] :
       {std::pair{pad_id, "pad"}, {cls_id, "cls"}, {sep_id, "sep"}, {bos_id, "bos"}, {eos_id, "eos"}}) {
    if (id < 0 || id >= text.vocab_size)
      bad(label, std::string("token id ") + name + " = " + std::to_string(id) + " is outside the vocabulary (" +
                     std::to_string(text.vocab_size) + ")");
  }
  if (preprocess.size != vision.image_size)
    bad(label, "preprocess size " + std::to_string(preprocess.size) + " differs from the vision image_size " +
                   std::to_string(vision.image_size) + " (position embeddings are not interpolated)");
  for (int i = 0; i < 3; ++i)
    if (!(preprocess.std[i] > 0)) bad(label, "preprocess std must be positive");
  if (preprocess.keep_aspect && preprocess.patch != vision.patch_size)
    bad(label, "preprocess patch " + std::to_string(preprocess.patch) + " differs from the vision patch_size " +
                   std::to_string(vision.patch_size) + " (keep_aspect sizes images in whole patches)");
}

uint64_t ModelConfig::min_parameters() const {
  if (blip2) return blip2::min_parameters(*blip2);
  auto u = [](int v) { return static_cast<uint64_t>(std::max(v, 0)); };
  // A transformer block holds at least its four attention projections and its two MLP matrices.
  auto block = [&](int hidden, int inter) { return 4 * u(hidden) * u(hidden) + 2 * u(hidden) * u(inter); };
  uint64_t n = u(vision.layers) * block(vision.hidden, vision.intermediate);
  const int text_blocks =
      task == ModelTask::Match ? text.layers : text.decoder_layers + (task == ModelTask::Vqa ? text.layers : 0);
  n += u(text_blocks) * block(text.hidden, text.intermediate);
  n += u(text.vocab_size) * u(text.hidden);  // word embeddings (the LM head is tied to them)
  return n;
}

// BLIP-2's own configuration, summarised in the fields the engine and the UI read.
ModelConfig summarise(const blip2::Blip2Config& b) {
  ModelConfig c;
  c.family = ModelFamily::Blip2;
  c.task = ModelTask::Vqa;
  c.vision.image_size = b.vision.image_size;
  c.vision.patch_size = b.vision.patch_size;
  c.vision.hidden = b.vision.hidden;
  c.vision.layers = b.vision.layers;
  c.vision.heads = b.vision.heads;
  c.vision.intermediate = b.vision.intermediate;
  c.vision.ln_eps = b.vision.ln_eps;
  const bool opt = b.lm == blip2::LmKind::Opt;
  c.text.vocab_size = b.vocab();
  c.text.hidden = b.lm_hidden();
  c.text.layers = opt ? 0 : b.t5.layers;  // T5's encoder reads the queries and the prompt
  c.text.decoder_layers = opt ? b.opt.layers : b.t5.decoder_layers;
  c.text.heads = opt ? b.opt.heads : b.t5.heads;
  c.text.intermediate = opt ? b.opt.ffn : b.t5.d_ff;
  c.text.max_positions = opt ? b.opt.max_positions : 1 << 16;  // T5's positions are relative
  c.fusion_layers.clear();
  for (int l = 0; l < b.qformer.layers; ++l)
    if (b.qformer.has_cross(l)) c.fusion_layers.push_back(l);
  c.gates = false;
  c.routing = false;
  c.queries = b.queries;
  c.tie_lm_head = opt ? b.opt.tied : b.t5.tied;
  c.preprocess = b.preprocess;
  c.bos_id = b.lm == blip2::LmKind::Opt ? b.bos_id : b.decoder_start_id;
  c.eos_id = b.eos_id;
  c.pad_id = b.pad_id;
  c.cls_id = c.sep_id = -1;
  c.gen_max_length = b.generation.max_length;
  c.gen_min_length = b.generation.min_length;
  c.gen_min_new_tokens = 0;
  c.blip2 = std::make_shared<const blip2::Blip2Config>(b);
  return c;
}

ModelConfig parse_config(const json& j, const std::string& label) {
  if (!j.is_object()) bad(label, "not a JSON object");
  const auto type = get<std::string>(j, "model_type", "", label);
  ModelConfig c;
  if (type == "blip")
    c = parse_blip(j, label);
  else if (type == "open-autoglm")
    c = parse_own(j, label);
  else if (type == "blip-2")
    c = summarise(blip2::parse_config(j, label));
  else
    bad(label, "unknown model_type '" + type + "' (expected \"open-autoglm\", \"blip\" or \"blip-2\")");
  return c;
}

ModelConfig load_config(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(ErrorCode::Io, dir.u8string() + ": not a model folder (not a directory)");
  const fs::path path = dir / "config.json";
  if (!fs::exists(path, ec)) throw Error(ErrorCode::BadConfig, dir.u8string() + ": no config.json in the model folder");
  const std::string label = path.u8string();
  const json j = read_json(path);
  if (j.is_object() && j.contains("model_type") && j["model_type"] == "blip-2")
    return summarise(blip2::load_config(dir));
  ModelConfig c = parse_config(j, label);
  if (c.family != ModelFamily::AutoGLM) {  // HuggingFace folders
    const fs::path pp = dir / "preprocessor_config.json";
    if (fs::exists(pp, ec)) read_preprocess(read_json(pp), &c.preprocess, pp.u8string());
    const fs::path gp = dir / "generation_config.json";
    if (fs::exists(gp, ec)) read_generation(read_json(gp), &c, gp.u8string());
  }
  try {
    c.validate();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("config.json: ", 0) == 0) msg = msg.substr(13);
    throw Error(ErrorCode::BadConfig, label + ": " + msg);
  }
  return c;
}

json config_to_json(const ModelConfig& c) {
  if (c.family != ModelFamily::AutoGLM) throw Error(ErrorCode::BadArgument, "only open-autoglm configs are written");
  json j;
  j["model_type"] = "open-autoglm";
  j["task"] = task_name(c.task);
  j["vision"] = {{"image_size", c.vision.image_size}, {"patch_size", c.vision.patch_size},
                 {"hidden_size", c.vision.hidden},    {"num_layers", c.vision.layers},
                 {"num_heads", c.vision.heads},       {"intermediate_size", c.vision.intermediate},
                 {"layer_norm_eps", c.vision.ln_eps}, {"stem", c.vision.stem}};
  if (c.vision.stem == "conv" && c.vision.stem_tile_kernel != 3)
    j["vision"]["stem_tile_kernel"] = c.vision.stem_tile_kernel;
  j["text"] = {{"vocab_size", c.text.vocab_size},
               {"hidden_size", c.text.hidden},
               {"num_layers", c.text.layers},
               {"num_decoder_layers", c.text.decoder_layers},
               {"num_heads", c.text.heads},
               {"intermediate_size", c.text.intermediate},
               {"max_position_embeddings", c.text.max_positions},
               {"layer_norm_eps", c.text.ln_eps},
               {"norm", c.text.pre_norm ? "pre" : "post"}};
  j["fusion"] = {
      {"layers", c.fusion_layers}, {"gates", c.gates}, {"routing", c.routing}, {"routing_tau", c.routing_tau}};
  if (c.queries > 0) j["fusion"]["queries"] = c.queries;
  j["align_dim"] = c.align_dim;
  j["tie_lm_head"] = c.tie_lm_head;
  j["preprocess"] = {{"size", c.preprocess.size},
                     {"mean", c.preprocess.mean},
                     {"std", c.preprocess.std},
                     {"rescale_factor", c.preprocess.rescale}};
  if (c.preprocess.keep_aspect) j["preprocess"]["keep_aspect"] = true;
  j["tokens"] = {{"pad", c.pad_id}, {"unk", c.unk_id}, {"cls", c.cls_id},
                 {"sep", c.sep_id}, {"bos", c.bos_id}, {"eos", c.eos_id}};
  j["describe_question"] = c.describe_question;
  if (!c.answer_list.empty()) j["answers"] = c.answer_list;
  return j;
}

void save_config(const ModelConfig& c, const fs::path& dir) {
  std::ofstream f(dir / "config.json", std::ios::trunc);
  if (!f) throw Error(ErrorCode::Io, (dir / "config.json").u8string() + ": cannot write");
  f << config_to_json(c).dump(2) << "\n";
}

}  // namespace core
