// A 5x7 bitmap font for burning text into synthetic images (BurnedInAnnotation = YES), the way
// old modalities stamp patient name and ID into the pixels.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace medscribe::synth {

// Draws `text` (A-Z, 0-9, space, ^ - / : .; lower case is drawn as upper case, anything else as a
// blank) into a row-major 16-bit image at (x, y), each font pixel `scale` image pixels wide, with
// `value`. Clipped to the image.
void DrawText(std::vector<uint16_t>& pixels, int width, int height, int x, int y,
              std::string_view text, int scale, uint16_t value);

}  // namespace medscribe::synth
