#pragma once
// Payload types that cross the GUI/worker thread boundary in queued signals.
#include <memory>

#include <QMetaType>

#include "core/engine/engine.h"

namespace ui {

// A finished result is shared read-only between the worker (heatmaps) and
// the window (drawing); it is never copied across the queue.
using ResultPtr = std::shared_ptr<const core::Result>;

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
