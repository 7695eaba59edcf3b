// Internal to src/dicom: reading the frame header (SOF) of a JPEG or JPEG-LS codestream.
//
// Compressed pixel data carries its own width and height, independent of the DICOM Rows and
// Columns; a hostile file can declare a tiny image in DICOM and a 65535 x 65535 one in the
// codestream, and the decoder would then work through billions of pixels. Decoding is only
// attempted when both agree.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace medscribe::dicom {

struct JpegFrameHeader {
  int precision = 0;  // bits per sample
  int height = 0;     // lines (0: defined later by a DNL marker)
  int width = 0;
  bool jpeg_ls = false;
};

// Walks the markers from SOI to the first frame header. DataLoss when the codestream does not
// start with SOI, a marker segment is malformed or runs past the end, or no frame header comes
// before the scan data.
StatusOr<JpegFrameHeader> ReadJpegFrameHeader(const uint8_t* data, size_t size);

}  // namespace medscribe::dicom
