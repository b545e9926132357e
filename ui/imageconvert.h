#pragma once
// The one place that converts between core::Image (packed RGB8) and QImage.
#include <QImage>

#include "core/engine/engine.h"

namespace ui {

// Deep copy; the result owns its pixels (Format_RGB888).
QImage toQImage(const core::Image& img);
// Deep copy of any QImage, converted to packed RGB (alpha composited on white).
core::Image fromQImage(const QImage& img);

}  // namespace ui
