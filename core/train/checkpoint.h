#pragma once
// Training checkpoints: weights, the optimiser's moments and the loop's state.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/io/config.h"
#include "core/model/autoglm/model.h"
#include "core/text/tokenizer.h"
#include "core/train/flat_adamw.h"

namespace core::train {

// Parameters under the names a checkpoint keeps them by: the model's, then those
// of the training-only heads (prefixed "head.").
using Named = std::vector<std::pair<std::string, Tensor>>;
// Training-only heads by name ("dense", "refer"); empty ones are left out.
using Heads = std::vector<std::pair<std::string, torch::nn::Linear>>;

Named named_for_checkpoint(Model& m, const Heads& heads);

// Checkpoint: weights, AdamW moments (safetensors, like every model file) and the loop's state.
void save_checkpoint(const std::filesystem::path& dir, Model& m, const Heads& extra, FlatAdamW& optim,
                     const ModelConfig& cfg, const Tokenizer& tok, const nlohmann::json& state);

nlohmann::json load_checkpoint(const std::filesystem::path& dir, Model& m, const Heads& extra, FlatAdamW& optim);

}  // namespace core::train
