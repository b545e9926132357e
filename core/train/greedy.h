#pragma once
// Greedy decoding with the training-side model (no Engine): held-out accuracy,
// calibration and fine-tuning's validation.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/io/config.h"
#include "core/model/autoglm/model.h"
#include "core/text/tokenizer.h"
#include "core/train/shapes.h"
#include "core/vision/image.h"

namespace core::train {

using torch::Tensor;

// Greedy decoding of one question about one preprocessed image [1,3,S,S]: the
// chosen ids, EOS included when reached, and on request each step's logits.
std::vector<int64_t> greedy_ids(Model& m, const ModelConfig& cfg, const Tensor& pixels,
                                const std::vector<int64_t>& question, int max_steps,
                                std::vector<Tensor>* step_logits = nullptr);

std::string answer_text(const Tokenizer& tok, const ModelConfig& cfg, std::vector<int64_t> ids);

// A batch of one image, preprocessed.
Tensor pixel_batch(const Image& img, const ModelConfig& cfg);

// Greedy answer for the progress line's held-out accuracy.
std::string greedy(Model& m, const ModelConfig& cfg, const Tokenizer& tok, const shapes::Sample& s);

}  // namespace core::train
