// Decoding DICOM pixel data into float images for the model and for people.
//
// Two modes:
//   - raw: the stored values after the Modality LUT (RescaleSlope/Intercept, or the Modality LUT
//     Sequence), full size, every frame; shape frames x rows x columns.
//   - display (default): the first frame, linear VOI window applied (the file's first window, else
//   the
//     1st-99th percentile of the values), MONOCHROME1 inverted so that higher is brighter, resized
//     to fit size x size with the aspect ratio kept and the rest padded with 0; values in [0, 1].
//
// Every transfer syntax DCMTK can decode here is supported (uncompressed little/big endian,
// deflated, JPEG baseline/extended/lossless, JPEG-LS, RLE), and JPEG 2000 (.90, .91) through
// OpenJPEG (jpeg2000.h); others give Unimplemented with the syntax named. Inputs are untrusted:
// sizes are checked against limits before any pixel buffer is allocated.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "dicom/dataset.h"

namespace medscribe::dicom {

struct ImageDecodeOptions {
  bool raw = false;
  int size = 256;                           // display mode: output is size x size
  uint64_t max_pixels = uint64_t{1} << 28;  // rows x columns x frames accepted
};

struct DecodedImage {
  int frames = 1, rows = 0, cols = 0;
  std::vector<float> pixels;  // frame-major, then row-major
};

StatusOr<DecodedImage> DecodeImage(const DicomDataset& ds, const ImageDecodeOptions& options);

}  // namespace medscribe::dicom
