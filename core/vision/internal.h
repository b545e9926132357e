#pragma once
// Shared by the files of core/vision (not part of its interface).
#include "core/vision/image.h"

namespace core::detail {

// Throws Error(BadArgument) naming `what` for an empty image or a buffer of the wrong size.
void check_image(const Image& img, const char* what);

}  // namespace core::detail
