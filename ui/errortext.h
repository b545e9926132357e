#pragma once
// core::Error carries an English message naming the file or value at fault;
// the window shows a translated sentence per error code, plus that detail.
#include <exception>

#include <QString>

#include "core/engine/engine.h"
#include "core/error.h"

namespace ui {

// The translated one-line summary of an error code.
QString errorSummary(core::ErrorCode code);
// "Summary: detail" for a core::Error, or a generic text for other exceptions.
QString errorText(const std::exception& e);
QString errorText(core::ErrorCode code, const QString& detail);

// The message bar's text when the engine moved to the CPU after the GPU ran out of memory.
QString cpuFallbackText();
// The message bar's text for a warning of the engine (translated; the English detail appended).
QString warningText(const core::Warning& w);

// Stages reported by core::Engine::load, translated.
QString loadStageText(core::LoadStage stage);

}  // namespace ui
