#pragma once
// The two training stages: stage 1 (alignment and captioning) asks describe
// questions only; stage 2 asks every type, drawn by a curriculum over the
// running figures of each type (and object count) as training goes.
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/train/trainer.h"

namespace core::train {

constexpr int kCounts = 5;  // scenes of 1..5 objects

// The loop's running figures: what a checkpoint keeps and the curriculum reads.
struct LoopState {
  int64_t step = 0, seen = 0, seen_images = 0;  // questions and images trained on
  double ema = 0, first_loss = 0, answer_ema = 0, first_answer_loss = 0, dense_ema = 0, first_dense_loss = 0,
         ground_ema = 0, first_ground_loss = 0, refer_ema = 0, first_refer_loss = 0, itc_ema = 0;
  double spent_s = 0;  // training seconds of earlier runs (resume)
  std::vector<double> type_loss, type_error;
  // By type, then object count. From 0, not 1 as the types: a count a type is never asked
  // about (a comparison needs two objects) must not draw scenes only to redraw them.
  std::vector<double> object_error;

  explicit LoopState(int ntypes);
  nlohmann::json to_json(double seconds, uint64_t seed) const;
  void restore(const nlohmann::json& st);  // throws BadConfig on lists of the wrong length
};

// Where a step stands: the share of training done, its stage and learning rate.
struct StepSchedule {
  double progress = 0, lr = 0;
  bool stage1 = false;
};
StepSchedule schedule(const TrainOptions& opt, int64_t step, double now_s);

// The question types of a step's `questions` (over all ranks), in order.
// smoothing_floor: label_smoothing_floor() of the model's vocabulary (curriculum "excess").
std::vector<std::string> step_types(const TrainOptions& opt, const StepSchedule& s, int64_t step, int questions,
                                    const LoopState& st, double smoothing_floor);

// Odds of 1..5 objects by type (empty: the spec's uniform draw).
std::vector<std::array<double, kCounts>> object_odds(const TrainOptions& opt, const StepSchedule& s,
                                                     const std::vector<double>& object_error);

// The global batch's figures as one vector (summed over ranks): answer loss, per type the
// loss sum, count and wrong answers, then per type and object count questions and wrong answers.
struct StepFigures {
  double answer_loss = 0, itc = 0, dense = 0, ground = 0, refer = 0;
  int ground_n = 0;
  std::vector<double> stats;
};
void update(LoopState& st, const StepFigures& f, int ntypes);

}  // namespace core::train
