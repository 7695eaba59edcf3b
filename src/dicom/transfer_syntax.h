// The DICOM transfer syntaxes MedScribe writes and reads, by name and UID.
#pragma once

#include <string_view>

#include "common/status.h"

namespace medscribe::dicom {

enum class TransferSyntax {
  kImplicitLittle,    // 1.2.840.10008.1.2
  kExplicitLittle,    // 1.2.840.10008.1.2.1
  kExplicitBig,       // 1.2.840.10008.1.2.2 (retired, still found in archives)
  kDeflated,          // 1.2.840.10008.1.2.1.99
  kJpegLossless,      // 1.2.840.10008.1.2.4.70 (Process 14, first-order prediction)
  kJpegLsLossless,    // 1.2.840.10008.1.2.4.80
  kRle,               // 1.2.840.10008.1.2.5
  kJpeg2000Lossless,  // 1.2.840.10008.1.2.4.90 (written and read through OpenJPEG)
};

std::string_view TransferSyntaxUid(TransferSyntax ts);
// Short name used on the command line and in files, e.g. "jpeg-ls-lossless".
std::string_view TransferSyntaxName(TransferSyntax ts);
// Inverse of TransferSyntaxName. InvalidArgument lists the accepted names.
StatusOr<TransferSyntax> ParseTransferSyntax(std::string_view name);

}  // namespace medscribe::dicom
