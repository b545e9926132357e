#include "core/train/scoring.h"

#include <algorithm>
#include <cmath>

namespace core::train {

double ece(const std::vector<double>& conf, const std::vector<int>& correct, int bins) {
  std::vector<double> sc(bins), sa(bins);
  std::vector<int> cnt(bins);
  for (size_t i = 0; i < conf.size(); ++i) {
    const int b = std::min(bins - 1, static_cast<int>(conf[i] * bins));
    sc[b] += conf[i];
    sa[b] += correct[i];
    ++cnt[b];
  }
  double e = 0;
  for (int b = 0; b < bins; ++b)
    if (cnt[b]) e += std::abs(sa[b] - sc[b]) / static_cast<double>(conf.size());
  return e;
}

bool judged_correct(const std::string& type, const std::string& truth, const std::string& answer) {
  return type == "describe" ? shapes::caption_matches(answer, truth) : answer == truth;
}

bool answer_correct(const shapes::Sample& s, const std::string& answer) {
  return judged_correct(s.type, s.answer, answer);
}

}  // namespace core::train
