#pragma once
// The training batches: rendered shapes-world scenes, augmented, preprocessed,
// with their questions, answers and the auxiliary targets.
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/config.h"
#include "core/text/tokenizer.h"
#include "core/train/shapes.h"

namespace core::train {

using torch::Tensor;

shapes::GenOptions train_gen(int max_side);

std::vector<std::string> scene_key(const shapes::Scene& sc, bool sizes);

struct Batch {
  Tensor pixels, q_ids, q_mask, dec_in, dec_tgt;
  Tensor cap_ids, cap_mask;
  // Per sample: hashes of the scene's objects (with and without sizes) and of its
  // alignment text's, and whether that text names sizes. [B,4] int64: the
  // contrastive targets of a batch spread over ranks are built from them.
  Tensor keys;
  Tensor ground;          // [B,N] share of the referred object's mask in each cell (rows sum to 1; 0: none)
  Tensor dense;           // [B,N,5] per vision token: colour, shape, size, column, row (see patch_labels; -100 unsure)
  Tensor refer;           // [B,5] the same labels of the object the question refers to (-100: none)
  std::vector<int> type;  // index into shapes::question_types()
  std::vector<int> objects;  // objects in each question's scene (1..5)
};

Tensor pad_rows(const std::vector<std::vector<int64_t>>& rows, int64_t pad, Tensor* mask);

int type_index(const std::string& type);

struct BatchParts {
  bool align = false, dense = false, ground = false, refer = false;  // which targets to build
  int per_image = 1;                                                 // questions about each image
  double relation_share = 0;  // grounding target's share on a relation's answer object
  double compare_share = 0;   // ... and on a comparison's second object
  int canvas_max = 192;       // the rendered canvas's longest side, pixels
  // Odds of 1..5 objects in an image's scene by the type of its first question
  // (indexed as question_types()); empty: the spec's uniform draw.
  std::vector<std::array<double, 5>> object_odds;
};

// Image g of the batch and its per_image questions are
// make_samples_of_types(mix_seed(seed, first + g), types[g * per_image ...]):
// the questions of an image follow each other, and per-image tensors (pixels,
// dense, alignment texts) have n / per_image rows, per-question ones n.
Batch make_batch(const ModelConfig& cfg, const Tokenizer& tok, uint64_t seed, int64_t first,
                 const std::vector<std::string>& types, const BatchParts& parts);

}  // namespace core::train
