#pragma once
// Payload types that cross the GUI/worker thread boundary in queued signals.
#include <memory>
#include <optional>
#include <vector>

#include <QHash>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include "core/engine/engine.h"

namespace ui {

// A finished result is shared read-only between the worker (heatmaps) and
// the window (drawing); it is never copied across the queue.
using ResultPtr = std::shared_ptr<const core::Result>;

// The heatmap the worker makes with an answer, as the window's controls ask for it, so
// the answer arrives with its heatmap; the window asks again only for another method,
// layer or word. Null when none was asked for or it could not be made.
struct AnswerHeatmap {
  core::HeatmapRequest request;
  core::Array map;
};
using AnswerHeatmapPtr = std::shared_ptr<const AnswerHeatmap>;
using OptionalHeatmapRequest = std::optional<core::HeatmapRequest>;

// Search and zero-shot labels over a set of images (alignment heads).
struct AlignResult {
  QString text;                                          // search text ("" when only labels)
  QStringList labels;                                    // zero-shot labels (may be empty)
  QStringList images;                                    // the images that were scored, in request order
  QHash<QString, core::Match> search;                    // image -> match with `text` (softmax over images)
  QHash<QString, std::vector<core::Match>> labelScores;  // image -> one per label (softmax over labels)
  QHash<QString, QString> failed;                        // image -> why it could not be read
  // A model with a matching head: P(match) of the best images by similarity (re-ranked)
  // and of each image with each label.
  QHash<QString, float> searchMatch;
  QHash<QString, QList<float>> labelMatch;
};
using AlignResultPtr = std::shared_ptr<const AlignResult>;

// Where a text matches an image (a model with a matching head).
struct TextMatchResult {
  QString image, text;
  core::TextMatch match;
};
using TextMatchPtr = std::shared_ptr<const TextMatchResult>;

// Call once before the first queued connection (InferenceController does).
void registerMetaTypes();

}  // namespace ui

Q_DECLARE_METATYPE(ui::ResultPtr)
Q_DECLARE_METATYPE(core::Array)
Q_DECLARE_METATYPE(core::ModelInfo)
Q_DECLARE_METATYPE(core::Options)
Q_DECLARE_METATYPE(core::AskOptions)
Q_DECLARE_METATYPE(core::DescribeOptions)
Q_DECLARE_METATYPE(core::HeatmapRequest)
Q_DECLARE_METATYPE(core::CancelToken)
Q_DECLARE_METATYPE(ui::AlignResultPtr)
Q_DECLARE_METATYPE(ui::TextMatchPtr)
Q_DECLARE_METATYPE(ui::AnswerHeatmapPtr)
Q_DECLARE_METATYPE(ui::OptionalHeatmapRequest)
