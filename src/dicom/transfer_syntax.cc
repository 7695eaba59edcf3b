#include "dicom/transfer_syntax.h"

#include <array>
#include <string>

namespace medscribe::dicom {
namespace {

struct Row {
  TransferSyntax ts;
  std::string_view name;
  std::string_view uid;
};

constexpr std::array<Row, 8> kRows = {{
    {TransferSyntax::kImplicitLittle, "implicit-little", "1.2.840.10008.1.2"},
    {TransferSyntax::kExplicitLittle, "explicit-little", "1.2.840.10008.1.2.1"},
    {TransferSyntax::kExplicitBig, "explicit-big", "1.2.840.10008.1.2.2"},
    {TransferSyntax::kDeflated, "deflated", "1.2.840.10008.1.2.1.99"},
    {TransferSyntax::kJpegLossless, "jpeg-lossless", "1.2.840.10008.1.2.4.70"},
    {TransferSyntax::kJpegLsLossless, "jpeg-ls-lossless", "1.2.840.10008.1.2.4.80"},
    {TransferSyntax::kRle, "rle", "1.2.840.10008.1.2.5"},
    {TransferSyntax::kJpeg2000Lossless, "jpeg2000-lossless", "1.2.840.10008.1.2.4.90"},
}};

const Row& Find(TransferSyntax ts) {
  for (const auto& r : kRows)
    if (r.ts == ts) return r;
  return kRows[1];
}

}  // namespace

std::string_view TransferSyntaxUid(TransferSyntax ts) { return Find(ts).uid; }
std::string_view TransferSyntaxName(TransferSyntax ts) { return Find(ts).name; }

StatusOr<TransferSyntax> ParseTransferSyntax(std::string_view name) {
  std::string names;
  for (const auto& r : kRows) {
    if (r.name == name || r.uid == name) return r.ts;
    names += (names.empty() ? "" : ", ") + std::string(r.name);
  }
  return InvalidArgumentError("unknown transfer syntax '" + std::string(name) + "'; use one of " +
                              names);
}

}  // namespace medscribe::dicom
