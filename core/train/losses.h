#pragma once
// The training losses: answers, image-text contrast, and the training-only heads.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/model/autoglm/model.h"
#include "core/train/batch.h"
#include "core/train/distributed.h"

namespace core::train {

constexpr double kLabelSmoothing = 0.05;  // on every answer token

struct Losses {
  Tensor total;             // this rank's share: its summed answer loss / all ranks' tokens, plus the contrastive loss
  Tensor per_sample;        // answer loss of each local sample (for the curriculum)
  Tensor per_sample_wrong;  // 1 where a local sample's answer has a token whose argmax is not the target's
  double lm_part = 0, itc = 0, dense = 0, ground = 0, refer = 0;
  int ground_n = 0;  // samples of this rank with a referred object
};

struct Aux {
  torch::nn::Linear* dense = nullptr;
  torch::nn::Linear* refer = nullptr;
  double dense_weight = 0, ground_weight = 0, refer_weight = 0, dense_object_share = 0;
  int64_t cls_id = 101, sep_id = 102;
};

// The per-patch head's outputs: colour, shape, size, column third, row third, each with a background class.
std::vector<int64_t> dense_classes();

// Answer loss (decoder cross-entropy, mean over the global batch's tokens) plus,
// when the batch has alignment texts, the image-text contrastive loss with the
// learned temperature over the global batch; pairs whose text also describes
// the other image (same objects) count as positives. With data parallelism the
// gradients summed over ranks are exactly those of one process on the whole batch.
Losses loss_of(Model& m, const Batch& b, DataParallel* dp, const Aux& aux = {});

}  // namespace core::train
