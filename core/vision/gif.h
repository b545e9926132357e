#pragma once
// GIF decoding (OpenCV has no GIF reader): the first frame only.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/types.h"

namespace core {

// The first frame of a GIF87a/89a file placed on its logical screen, as 8-bit
// RGB of the screen's size. Pixels of the transparent index are white; the
// screen outside the frame is white when the frame has a transparent index,
// else the background colour (white without a global colour table).
// The caller checks the logical screen (bytes 6..9) against the pixel limit
// first: the output buffer has the screen's size. Throws core::Error
// (BadImage) naming `label`.
Image decode_gif(const uint8_t* data, size_t size, const std::string& label);

}  // namespace core
