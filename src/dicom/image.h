// Decoding DICOM pixel data into float images for the model and for people.
//
// Two modes:
//   - raw: the stored values after the Modality LUT (RescaleSlope/Intercept, or the Modality LUT
//     Sequence), full size, every frame; shape frames x rows x columns (x 3 for color: RGB, any
//     YBR converted to RGB, PALETTE COLOR looked up, planar configuration 0 or 1 alike).
//   - display (default): the first frame, linear VOI window applied (the file's first window, else
//   the
//     1st-99th percentile of the values), MONOCHROME1 inverted so that higher is brighter, resized
//     to fit size x size with the aspect ratio kept and the rest padded with 0 (or to a fixed
//     physical pixel size: ImageDecodeOptions::mm_per_pixel); values in [0, 1].
//     A color image is first turned into its luminance (ITU-R BT.601: 0.299 R + 0.587 G +
//     0.114 B).
//
// Every transfer syntax DCMTK can decode here is supported (uncompressed little/big endian,
// deflated, JPEG baseline/extended/lossless, JPEG-LS, RLE), and JPEG 2000 (.90 to .93) through
// OpenJPEG (jpeg2000.h); others give Unimplemented with the syntax named. Float Pixel Data and
// Double Float Pixel Data (grayscale, native transfer syntaxes; e.g. parametric maps) decode to
// their values as stored (doubles rounded to float; NaN shown as black in display mode). Inputs are
// untrusted: sizes are checked against limits before any pixel buffer is allocated.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "dicom/dataset.h"

namespace medscribe::dicom {

struct ImageDecodeOptions {
  bool raw = false;
  int size = 256;           // display mode: output is size x size
  bool keep_color = false;  // display mode: a color image keeps R, G, B (channels 3), for people
  // Display mode: when > 0 and the image states its pixel spacing (DicomInfo::row_spacing_mm),
  // the image is resampled so that one output pixel spans this many mm in both directions,
  // centered in size x size, cropped where larger and padded with 0 where smaller, so that a
  // finding's size in pixels means the same whatever the detector. An image without a spacing is
  // fitted as with 0. Ignored with keep_color.
  double mm_per_pixel = 0;
  uint64_t max_pixels = uint64_t{1} << 28;  // rows x columns x frames accepted
};

struct DecodedImage {
  int frames = 1, rows = 0, cols = 0;
  int channels = 1;           // 3 for a color image in raw mode or with keep_color (RGB)
  std::vector<float> pixels;  // frame-major, then row-major, then channel
  double mm_per_pixel = 0;    // display mode: the output's pixel size in mm; 0 when fitted
};

StatusOr<DecodedImage> DecodeImage(const DicomDataset& ds, const ImageDecodeOptions& options);

}  // namespace medscribe::dicom
