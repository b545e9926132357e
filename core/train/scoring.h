#pragma once
// Judging answers and their confidences.
#include <string>
#include <vector>

#include "core/train/shapes.h"

namespace core::train {

double ece(const std::vector<double>& conf, const std::vector<int>& correct, int bins = 15);

// Captions by the spec's multiset rule, every other answer word for word.
bool judged_correct(const std::string& type, const std::string& truth, const std::string& answer);

bool answer_correct(const shapes::Sample& s, const std::string& answer);

}  // namespace core::train
