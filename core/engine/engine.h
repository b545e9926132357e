#pragma once
// The public face of core: plain structs and one Engine class. No libtorch,
// OpenCV or Qt header is included here, so ui/ and app/ compile fast.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"

namespace core {

using ImageId = uint64_t;  // content hash of the pixels

struct TokenAlt {
  std::string text;
  float p = 0.f;
};
struct TokenInfo {
  std::string text;  // WordPiece piece as in the vocabulary ("##s" etc.)
  int64_t id = 0;
  float p = 0.f;              // probability of this token at its step
  std::vector<TokenAlt> top;  // top alternatives at that step, best first
};

struct Answer {  // one candidate
  std::string text;
  float confidence = 0.f;  // calibrated when the model folder has calibration.json
  float raw_score = 0.f;   // length-normalised sequence probability (or list softmax)
  float heuristic = 0.f;   // seed heuristic: max prob x length term x attention-spread penalty
  std::vector<TokenInfo> tokens;
  std::vector<int64_t> ids;  // generated token ids, without start/end tokens
};

struct Inspection {                          // everything the UI draws
  std::vector<std::string> question_tokens;  // including [CLS]/[SEP]
  std::vector<uint8_t> special;              // per row: 1 where it is not a word ([CLS], [SEP], [PAD], the end token)
  Array cross_attention;                     // [L, H, T, N] over fusion layers
  Array gates;                               // [L, T]
  Array routing;                             // [L]
  std::vector<int> fusion_layers;            // encoder layer index of each L
  int grid_h = 0, grid_w = 0;                // visual token grid (N = 1 + gh*gw with a class token)
  bool learned_gates = false;                // false: effective shares |c|/(|c|+|s|) (BLIP)
  bool has_class_token = true;
  bool tokens_are_answer = false;  // caption models: rows are generated tokens
  // gates hold, per language-model layer and answer token, the share of attention
  // that went to the image queries rather than the text (BLIP-2), not learned gates
  bool image_reliance = false;
  Array self_attention;  // [layers, T, T], mean over heads (for rollout)
};

struct Timings {
  double preprocess_ms = 0, vision_ms = 0, fusion_ms = 0, decode_ms = 0;
  bool vision_cached = false;
  std::vector<double> step_ms;  // per decoding step
};

enum class Task { Ask, Describe, Rank };

struct Result {
  Task task = Task::Ask;
  ImageId image = 0;
  std::string question;
  std::string prompt;           // what a language model that continues text was given (BLIP-2); empty otherwise
  std::vector<Answer> answers;  // best first, filtered by mean + 0.5 std
  Inspection inspection;
  Timings timings;
  bool calibrated = false;
};

class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic_bool>(false)) {}
  void cancel() const { flag_->store(true); }
  void reset() const { flag_->store(false); }
  bool cancelled() const { return flag_->load(); }

 private:
  std::shared_ptr<std::atomic_bool> flag_;
};

enum class Device { Auto, Cpu, Cuda };
// Auto: whichever of the two had the lower ECE when the model was calibrated
// (calibration.json); the temperature-scaled probability when there is none.
enum class ConfidenceMethod { Auto, Calibrated, Heuristic };

// Something the user should be told that did not stop the request.
struct Warning {
  enum class Code {
    CpuFallback,     // the GPU ran out of memory: the model moved to the CPU and the request was run again there
    LowerPrecision,  // float32 weights would not fit in the free memory: loaded in bfloat16 (detail: the sizes)
  };
  Code code = Code::CpuFallback;
  std::string detail;  // English, e.g. the CUDA error
};
using WarningHandler = std::function<void(const Warning&)>;

// The arithmetic the model runs in. Auto: float32 on the CPU; on a CUDA GPU
// bfloat16 for weights stored in bfloat16, else float16. float16 needs a GPU.
enum class Precision { Auto, Float32, BFloat16, Float16 };
const char* precision_name(Precision p);  // "auto", "float32", ...
bool precision_from_name(std::string_view s, Precision* out);

struct Options {
  Device device = Device::Auto;
  int threads = 0;  // 0: decided at load time (see engine.cpp)
  Precision dtype = Precision::Auto;
  size_t image_cache_size = 16;  // LRU entries of visual features
  // Bytes the weights may take; 0: the memory free when the model loads. With the
  // precision left to auto, a model that does not fit in float32 loads in bfloat16.
  uint64_t memory_budget = 0;
  WarningHandler on_warning;  // called on the thread that called the engine
};

// Answer lengths left to the model (0 and -1 below): the checkpoint's generation
// defaults (generation_config.json, else HuggingFace's 20 tokens in all, start
// token and prompt included), and for our own models 30 new tokens (the default
// model's longest answer, a five-object caption, takes 24), at least 1.
// Models whose language model decodes itself (BLIP-2), greedy: the answer so far, as each token comes.
using PartialHandler = std::function<void(const std::string& text)>;

struct AskOptions {
  int beams = 3;            // 1: greedy
  int max_new_tokens = 0;   // 0: the model's default
  int min_new_tokens = -1;  // the end token is barred before this many; -1: the model's default (1 unless it says)
  int top_alternatives = 5;
  std::vector<std::string> answers;  // non-empty: rank this closed list instead of generating
  ConfidenceMethod confidence = ConfidenceMethod::Auto;
  // How a language model that continues text is asked (BLIP-2): "{}" stands for the
  // question; empty: the model card's "Question: {} Answer:".
  std::string prompt_template;
  PartialHandler on_partial;
};

struct DescribeOptions {
  std::string prompt;  // e.g. "a picture of"; empty: unconditional
  int beams = 1;
  int max_new_tokens = 0;
  int min_new_tokens = -1;
  int top_alternatives = 5;
  ConfidenceMethod confidence = ConfidenceMethod::Auto;
  PartialHandler on_partial;
};

// Where a text matches an image, by a model with a matching head (BLIP ITM).
struct TextMatch {
  float similarity = 0.f;           // contrastive cosine of the two unit vectors, -1..1
  float probability = -1.f;         // the matching head's P(match); -1 where the model has none
  std::vector<std::string> tokens;  // the text as the model read it, [CLS] and [SEP] included
  Array heatmap;                    // [gh, gw]: where the words match, sums to 1 (empty without a matching head)
  std::vector<Array> token_maps;    // one [gh, gw] per token, each summing to 1 (or all 0)
};

struct Match {              // one image-text pair in the alignment space
  float similarity = 0.f;   // cosine of the two unit vectors, -1..1
  float probability = 0.f;  // softmax of similarity / learned temperature over the candidates
};

enum class HeatmapMethod { LayerAttention, AllLayers, Rollout, GradWeighted };
const char* heatmap_method_name(HeatmapMethod m);

struct HeatmapRequest {
  HeatmapMethod method = HeatmapMethod::AllLayers;
  int layer = -1;  // index into the fusion layers (LayerAttention); -1: last
  int head = -1;   // -1: mean over heads
  int token = -1;  // question token index; -1: whole question
  int answer = 0;  // which candidate (GradWeighted)
};

struct ModelInfo {
  std::string name;  // folder name
  ModelFamily family = ModelFamily::AutoGLM;
  ModelTask task = ModelTask::Vqa;
  std::string device;          // "cpu", "cuda:0"
  std::string dtype;           // running: "float32", "bfloat16", "float16"
  std::string stored_dtype;    // of most weights in the files: "F32", "F16", "BF16"
  std::string weights_format;  // "safetensors" or "pytorch" (read by the weights-only pickle machine)
  int weight_files = 0;        // shards
  uint64_t weight_bytes = 0;   // as stored
  uint64_t running_bytes = 0;  // of the parameters in the running dtype
  int64_t parameters = 0;
  int image_size = 0, patch_size = 0, grid = 0;
  bool keep_aspect = false;  // the grid is shaped like each image, about grid x grid patches
  int vision_layers = 0, text_layers = 0, decoder_layers = 0, hidden = 0, vision_hidden = 0;
  std::vector<int> fusion_layers;
  int queries = 0;  // learned query tokens after the question (the decoder reads them too)
  bool learned_gates = false, routing = false, calibrated = false;
  int align_dim = 0;           // 0: no alignment heads (no search or zero-shot labels)
  bool matching_head = false;  // scores image-text pairs and shows where a text matches (BLIP ITM)
  float align_temperature = 0.f;
  float temperature = 1.f;
  float length_exponent = 1.f;                    // generated answers: log-probability / words^this (calibration.json)
  std::string default_confidence = "calibrated";  // or "heuristic"
  int threads = 0;                                // the larger of the two below
  int vision_threads = 0, text_threads = 0;       // chosen per stage by measurement at load
  int64_t vocab_size = 0;
  std::string torch_version;
  double load_ms = 0;
};

// What Engine::load is doing, for progress reports (the UI translates each one;
// a stage it does not handle is a compile error there).
enum class LoadStage { Config, Vocabulary, Building, Weights, Threads, Ready };
using Progress = std::function<void(float fraction, LoadStage stage)>;

class Engine {
 public:
  static std::unique_ptr<Engine> load(const std::filesystem::path& model_dir, const Options& = {},
                                      const Progress& = {});  // throws core::Error
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelInfo& info() const;

  ImageId encode(const Image& rgb, const CancelToken& = {});  // cached by content hash
  bool cached(ImageId) const;
  Result ask(ImageId, std::string_view question, const AskOptions& = {}, const CancelToken& = {});
  Result describe(ImageId, const DescribeOptions& = {}, const CancelToken& = {});
  Array heatmap(const Result&, const HeatmapRequest&, const CancelToken& = {});  // [gh, gw], sums to 1

  // Alignment heads (info().align_dim > 0, else BadArgument). Vectors are unit
  // length; an image's is computed once and kept with its cached features.
  std::vector<float> embed_image(ImageId);
  std::vector<float> embed_text(std::string_view text);
  // The image against each text (zero-shot labels): probabilities sum to 1 over `texts`.
  std::vector<Match> match(ImageId, const std::vector<std::string>& texts);
  // One text against each image (search): probabilities sum to 1 over `images`, input order kept.
  std::vector<Match> rank(std::string_view text, const std::vector<ImageId>& images);
  // The same from vectors already computed (many images, few of them cached).
  std::vector<Match> rank(const std::vector<float>& text, const std::vector<std::vector<float>>& images) const;

  // Matching head (info().matching_head): both scores of one image and one text, and
  // where the text matches; the probability of each image matching a text (search re-ranking).
  TextMatch match_text(ImageId, std::string_view text, const CancelToken& = {});
  std::vector<float> match_probabilities(std::string_view text, const std::vector<ImageId>& images,
                                         const CancelToken& = {});

  int64_t vision_runs() const;  // how often the vision encoder ran (cache misses)

 private:
  Engine();
  struct Impl;
  std::unique_ptr<Impl> d;
};

}  // namespace core
