#pragma once
// Training, evaluation and calibration of Open-AutoGLM models on the shapes
// world (shared/spec/shapes-world.md). Torch stays out of this header.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace core::train {

struct TrainOptions {
  std::filesystem::path out;  // model folder to write
  uint64_t seed = 1;
  int batch = 32;
  int steps = 0;  // 0: until `minutes` run out
  double minutes = 10;
  double lr = 1e-3;
  int threads = 0;
  int hidden = 96;
  int vision_layers = 3;
  int text_layers = 2;
  int decoder_layers = 2;
  int heads = 4;
  int image_size = 64;         // model input side (pixels)
  int patch = 8;               // pixels per vision token side
  std::string stem = "patch";  // "patch" (one linear projection) or "conv" (stride-2 3x3 convolutions)
  int stem_tile_kernel = 3;    // the conv stem's stride-3 kernel (3: tiling; 5: overlapping)
  int calibration_samples = 600;
  int canvas_max = 192;      // training scenes' canvases: 64 px up to this longest side (the spec: 1024)
  bool keep_aspect = false;  // model input shaped like the image (PreprocessSpec::keep_aspect)
  // How stage 2 weighs a type: "loss" (its running answer loss), "excess" (that loss above
  // label smoothing's floor) or "error" (its running share of answers with a wrong token
  // under teacher forcing: a caption is wrong when any of its words is).
  std::string curriculum = "loss";
  // Within each type, the share of scene draws weighted by the running error at each
  // object count (1..5); 0: object counts uniform as the spec draws them.
  double curriculum_objects = 0;
  double curriculum_alpha = 0.6;     // the curriculum's share of stage 2's draws at full strength (the rest uniform)
  int queries = 0;                   // learned query tokens the question encoder appends (ModelConfig::queries)
  int align_dim = 64;                // alignment heads' space (0: none, no contrastive loss)
  double stage1_fraction = 0.15;     // share of training spent on alignment and captioning
  double dense_weight = 0;           // per-patch colour/shape/size loss on the vision tokens (a training-only head)
  double dense_object_share = 0;     // its share on object cells, the rest on background (0: one mean over all cells)
  double ground_weight = 0;          // cross-entropy of the all-layers heatmap against the referred object's cells
  double ground_relation_share = 0;  // its share on the object a relation's answer names
  double ground_compare_share = 0;   // ... and on a comparison's second object
  // Questions asked about each rendered image in stage 2 (one vision pass serves them
  // all); `batch` counts questions, so a step has batch / questions_per_image images,
  // and stage 1 (one caption an image) that many captions.
  int questions_per_image = 1;
  double refer_weight =
      0;  // the referred object's colour/shape/size/thirds from the fused question (a training-only head)
  int checkpoint_every = 500;   // steps; OUT/checkpoint holds the latest
  bool resume = false;          // continue from OUT/checkpoint
  double dist_timeout_s = 120;  // data parallel: how long a rank waits for the others
  int ranks = 1;                // data-parallel processes that autoglm-train starts on this machine
};

// The least cross-entropy a token can have under label smoothing eps over `vocab`
// words (0.405 for 70 words and 0.05): what a perfectly answered type's running loss tends to.
double label_smoothing_floor(int64_t vocab, double eps);

bool data_parallel_available();  // whether this build has c10d/Gloo (WORLD_SIZE > 1, --ranks)

// Named settings: "default" is the recipe of the shipped model.
TrainOptions preset(const std::string& name);

struct EvalReport {
  int count = 0;
  int beams = 1;
  double accuracy = 0;
  std::map<std::string, double> per_type;
  std::map<std::string, int> per_type_count;
  double ece_calibrated = 0, ece_heuristic = 0, acc_at_90_coverage = 0;
  int pointing_count = 0;  // questions scored by the pointing game (those with a referred object)
  double pointing_all_layers = 0, pointing_grad = 0;
  std::map<std::string, double> pointing_all_layers_per_type, pointing_grad_per_type;  // types with a referred object
  double latency_p50_ms = 0, latency_p95_ms = 0;
  std::string to_json() const;
};

// Image-text retrieval through the alignment heads, on freshly rendered scenes
// at the spec's canvas sizes. A retrieved item counts when its caption names the
// same objects as the query's (two scenes can share a caption).
struct RetrievalReport {
  double t2i_r1_100 = 0, t2i_r5_100 = 0, t2i_r1_1000 = 0, t2i_r5_1000 = 0;  // caption -> image
  double i2t_r1_100 = 0;                                                    // image -> caption
  double zero_shot_single = 0;  // "a {color} {shape}" over all 40 labels, one-object scenes
  int zero_shot_count = 0;
  std::string to_json() const;
};

using Log = std::function<void(const std::string&)>;

// Trains a new model and writes config.json, model.safetensors, vocab.txt and
// calibration.json (temperature fitted on held-out samples) to opt.out.
void train(const TrainOptions& opt, const Log& log);

// Evaluates a model folder with the Engine on `count` fresh samples, decoding with
// `beams` (1: greedy).
EvalReport evaluate(const std::filesystem::path& model, uint64_t seed, int count, const Log& log, int beams = 1);
// The same on a set on disk: a folder written by `autoglm-train generate` (or its
// requests.jsonl; any tool may write one: "image", "question", "answer", and for the
// pointing game "referred" with "masks" or the objects' "bbox"), the first `limit`
// questions (0: all). A bad line is reported with its number before anything is asked.
EvalReport evaluate_set(const std::filesystem::path& set, const std::filesystem::path& model, int limit, const Log& log,
                        int beams = 1);

bool has_alignment(const std::filesystem::path& model);  // config's align_dim > 0
// Throws BadArgument when the model has no alignment heads.
RetrievalReport evaluate_retrieval(const std::filesystem::path& model, uint64_t seed, int zero_shot_count,
                                   const Log& log);

// Fine-tuning on a user's own (image, question, answer) set.
struct FinetuneOptions {
  std::filesystem::path model;  // the model folder to start from
  std::filesystem::path data;   // JSON Lines: {"image": path (relative to the file's folder), "question", "answer"}
  std::filesystem::path out;    // the new model folder
  bool freeze_vision = false;   // keep the image encoder as it is
  bool freeze_text = false;     // keep the question encoder but its fusion (cross-attention, gates, routing, queries)
  double lr = 1e-3;
  int epochs = 10;
  int batch = 16;           // global batch (split over ranks)
  double val_split = 0.15;  // share held out for validation, early stopping and calibration
  int patience = 3;         // epochs without a better validation accuracy before stopping
  uint64_t seed = 1;
  int threads = 0;
  double dist_timeout_s = 120;
};

struct FinetuneReport {
  int train = 0, val = 0;
  double val_accuracy_before = 0, val_accuracy_after = 0;
  int epochs_run = 0, best_epoch = 0;
  std::vector<std::string> new_tokens;
  std::string to_json() const;
};

FinetuneReport finetune(const FinetuneOptions& opt, const Log& log);

// Exact-match accuracy (case and a final full stop ignored) of the model's
// greedy answers on a JSON Lines set in the finetune format.
double evaluate_examples(const std::filesystem::path& model, const std::filesystem::path& data);

// A set for fine-tuning examples: colour questions about shapes-world scenes in
// which, half of the time, the object asked about is repainted in a colour the
// shipped model has never seen (`name`, `rgb`). Writes DIR/images/*.png and
// DIR/data.jsonl. Returns the number of samples with the new colour.
int write_new_color_set(const std::filesystem::path& dir, uint64_t seed, int count, const std::string& name,
                        const std::array<uint8_t, 3>& rgb);

// Fits the temperature on held-out samples and writes calibration.json.
void calibrate(const std::filesystem::path& model, uint64_t seed, int count, const Log& log);

}  // namespace core::train
