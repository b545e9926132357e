#pragma once
// Fitting the confidence's temperature and length exponent on held-out answers.
#include <filesystem>
#include <functional>
#include <string>

#include "core/train/trainer.h"
#include "core/vision/image.h"

namespace core::train {

struct CalItem {
  Image image;
  std::string question;
  std::function<bool(const std::string&)> correct;
};

// Greedy answers with their per-step logits on held-out items, then the
// temperature minimising the ECE of the length-normalised probability. Items are
// made one at a time: 1500 scenes of up to 1024x1024 held at once took 4.8 GB.
void fit_calibration(const std::filesystem::path& model, int count, const std::function<CalItem(int)>& item_at,
                     const Log& log);

}  // namespace core::train
