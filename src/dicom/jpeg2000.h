// JPEG 2000 codestreams, the pixel data of DICOM transfer syntaxes 1.2.840.10008.1.2.4.90
// (lossless only) and .91 (lossless or lossy), and of the multi-component syntaxes .92 and .93
// where the codestream uses no Part 2 array-based transform (OpenJPEG does not decode those:
// Unimplemented), through OpenJPEG: DCMTK as packaged in Debian has no JPEG 2000 codec. The
// bridge hides OpenJPEG from the rest of MedScribe.
//
// Decoding treats the bytes as untrusted: the codestream's main header (size, components,
// precision, subsampling) is read and checked against what the DICOM header declares before
// OpenJPEG allocates the image, and every OpenJPEG error becomes a Status with its message.
// Both raw codestreams (J2K, starting FF 4F FF 51) and JP2 files are accepted.
//
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::dicom {

// What the DICOM header says one frame holds.
struct Jpeg2000Geometry {
  int rows = 0, columns = 0;
  int components = 1;       // SamplesPerPixel
  int bits_allocated = 16;  // the codestream's precision may not exceed it
};

// One decoded frame: components planes of rows x columns values each, as the codestream stores
// them (signed when it says so), component after component.
struct Jpeg2000Frame {
  int rows = 0, columns = 0, components = 0, precision = 0;
  bool is_signed = false;
  std::vector<int32_t> samples;
};

// DataLoss naming the mismatch when the codestream's header disagrees with `expect`, or when
// the codestream is damaged; InvalidArgument when the bytes are not JPEG 2000.
StatusOr<Jpeg2000Frame> DecodeJpeg2000(std::string_view bytes, const Jpeg2000Geometry& expect);

// A lossless J2K codestream (reversible 5/3 wavelet, one quality layer) of one frame of
// `components` planes (1, or 3: RGB stored with the reversible color transform, which DICOM calls
// YBR_RCT, or without it when `color_transform` is false, e.g. for YBR_FULL planes) of
// rows x columns values of `precision` bits, signed or not, component after component. Used to
// write the lossless transfer syntax.
StatusOr<std::string> EncodeJpeg2000Lossless(const std::vector<int32_t>& values, int rows,
                                             int columns, int precision, bool is_signed,
                                             int components = 1, bool color_transform = true);

}  // namespace medscribe::dicom
