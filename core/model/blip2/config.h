#pragma once
// Blip2ForConditionalGeneration's configuration in HuggingFace's schema
// (transformers 4.31): vision_config, qformer_config, text_config (OPT or T5)
// and num_query_tokens. Values absent from the file take the HF class defaults.
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/vision/image.h"

namespace core::blip2 {

enum class Act { Relu, Gelu, GeluNew };  // GeluNew: HF's tanh approximation
enum class LmKind { Opt, T5 };

struct VisionCfg {  // EVA ViT-g
  int hidden = 1408, layers = 39, heads = 16, intermediate = 6144;
  int image_size = 224, patch_size = 14;
  double ln_eps = 1e-6;
  Act act = Act::Gelu;
  bool qkv_bias = true;
  int grid() const { return image_size / patch_size; }
  int tokens() const { return grid() * grid() + 1; }
};

struct QFormerCfg {
  int hidden = 768, layers = 12, heads = 12, intermediate = 3072;
  int cross_every = 2;        // cross_attention_frequency
  int encoder_hidden = 1408;  // = vision hidden
  double ln_eps = 1e-12;
  Act act = Act::Gelu;
  bool has_cross(int layer) const { return layer % cross_every == 0; }
};

struct OptCfg {
  int vocab = 50272, hidden = 2560, layers = 32, heads = 32, ffn = 10240, max_positions = 2048;
  Act act = Act::Relu;
  bool tied = true;
};

struct T5Cfg {
  int vocab = 32128, d_model = 2048, d_kv = 64, d_ff = 5120, layers = 24, decoder_layers = 24, heads = 32;
  int buckets = 32, max_distance = 128;
  double eps = 1e-6;
  Act act = Act::Gelu;
  bool gated = true;
  bool tied = false;
};

// Generation settings of the language model's GenerationConfig (from text_config).
struct GenerationDefaults {
  int max_length = 20, min_length = 0, num_beams = 1;
  double length_penalty = 1.0, repetition_penalty = 1.0;
  bool early_stopping = false;
};

struct Blip2Config {
  VisionCfg vision;
  QFormerCfg qformer;
  LmKind lm = LmKind::Opt;
  OptCfg opt;
  T5Cfg t5;
  int queries = 32;                                                       // num_query_tokens
  int64_t bos_id = 2, eos_id = 50118, pad_id = 1, decoder_start_id = -1;  // -1: none (OPT)
  GenerationDefaults generation;
  PreprocessSpec preprocess;  // from preprocessor_config.json when present
  int lm_hidden() const { return lm == LmKind::Opt ? opt.hidden : t5.d_model; }
  int vocab() const { return lm == LmKind::Opt ? opt.vocab : t5.vocab; }
};

// Throws core::Error(BadConfig) naming the field for values this port does not support.
Blip2Config parse_config(const nlohmann::json& config, const std::string& label);
// config.json (+ preprocessor_config.json when present) of a model folder.
Blip2Config load_config(const std::filesystem::path& dir);
// blip2-opt-2.7b's sizes (Salesforce's config), for benchmarks with random weights.
Blip2Config opt_2_7b_config();

const char* act_name(Act a);
// A lower bound of the parameter count from the sizes alone (the large matrices
// and the word embeddings), checked against the weight files before building.
uint64_t min_parameters(const Blip2Config& c);

}  // namespace core::blip2
