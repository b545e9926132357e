#pragma once
// Training, evaluation and calibration of Open-AutoGLM models on the shapes
// world (shared/spec/shapes-world.md). Torch stays inside trainer.cpp.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace core::train {

struct TrainOptions {
  std::filesystem::path out;   // model folder to write
  uint64_t seed = 1;
  int batch = 48;
  int steps = 0;               // 0: until `minutes` run out
  double minutes = 10;
  double lr = 1e-3;
  int threads = 0;
  int hidden = 96;
  int vision_layers = 3;
  int text_layers = 2;
  int decoder_layers = 2;
  int heads = 4;
  int calibration_samples = 600;
};

struct EvalReport {
  int count = 0;
  double accuracy = 0;
  std::map<std::string, double> per_type;
  std::map<std::string, int> per_type_count;
  double ece_calibrated = 0, ece_heuristic = 0, acc_at_90_coverage = 0;
  double pointing_all_layers = 0, pointing_grad = 0;
  double latency_p50_ms = 0, latency_p95_ms = 0;
  std::string to_json() const;
};

using Log = std::function<void(const std::string&)>;

// Trains a new model and writes config.json, model.safetensors, vocab.txt and
// calibration.json (temperature fitted on held-out samples) to opt.out.
void train(const TrainOptions& opt, const Log& log);

// Evaluates a model folder with the Engine on `count` fresh samples.
EvalReport evaluate(const std::filesystem::path& model, uint64_t seed, int count, const Log& log);

// Fits the temperature on held-out samples and writes calibration.json.
void calibrate(const std::filesystem::path& model, uint64_t seed, int count, const Log& log);

}  // namespace core::train
