#include <algorithm>
#include <cmath>
#include <thread>

#include "core/error.h"
#include "core/train/distributed.h"
#include "core/train/trainer.h"

namespace core::train {

double label_smoothing_floor(int64_t vocab, double eps) {
  // The entropy of the smoothed target: (1 - eps + eps/V) on the answer, eps/V elsewhere.
  const double v = static_cast<double>(vocab), hit = 1 - eps + eps / v, miss = eps / v;
  return -hit * std::log(hit) - (v - 1) * (miss > 0 ? miss * std::log(miss) : 0.0);
}

bool data_parallel_available() { return DataParallel::available(); }

// The shipped model's recipe. Each setting's experiments: docs/training-notes.md.
TrainOptions preset(const std::string& name) {
  TrainOptions o;
  if (name != "default") throw Error(ErrorCode::BadArgument, "unknown preset '" + name + "' (known: default)");
  o.seed = 7;
  o.minutes = 44.5;  // the whole command, calibration included, within 45 minutes
  o.calibration_samples = 1500;
  o.batch = 64;  // with 4 questions an image: one vision pass serves four (525 against 270 questions/s)
  o.questions_per_image = 4;
  o.lr = 1e-3;
  o.hidden = 96;
  o.image_size = 96;  // a small object 10 to 15 model pixels wide instead of 6 to 10
  o.patch = 12;
  o.stem = "conv";         // 0.558 against 0.517 for the linear patch projection, pointing 0.73 against 0.67
  o.stem_tile_kernel = 5;  // each token reads its neighbours' edges: lower losses, 0.6% fewer questions/s
  o.keep_aspect = true;    // long canvases' small objects stay legible: 0.932 against 0.924
  o.canvas_max = 192;      // canvases up to 400 px rendered 18% slower and answered 0.889 against 0.918
  o.threads = 1;           // 144 samples/s with one thread, 133 with two: the cores go to ranks
  o.ranks = DataParallel::available() ? static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u)) : 1;
  o.dense_weight = 1;             // per-patch attributes: 0.447 -> 0.517, pointing 0.39 -> 0.67
  o.dense_object_share = 0.5;     // object cells and background weighed alike: 0.741 -> 0.792
  o.ground_weight = 1;            // the heatmap grounding loss, from the start (with dense_weight)
  o.refer_weight = 1;             // the fused question names the referred object: 0.582 -> 0.655
  o.ground_relation_share = 0.4;  // a relation's heatmap partly on the answer's object: 0.886 -> 0.918
  o.curriculum = "error";         // drawing by loss spent steps on types already right: 0.954 against 0.932
  return o;
}

}  // namespace core::train
