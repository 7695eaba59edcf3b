// DicomDataset: MedScribe's bridge to DCMTK's dcmdata (no DCMTK type appears in this header).
//
// Attributes are addressed by their DICOM dictionary keyword, with sequence items written as
// `Keyword[i]` in a dotted path, e.g. "AnatomicRegionSequence[0].CodeValue". Setting a value in a
// sequence item creates the sequence and items as needed.
//
// Example:
//   DicomDataset ds;
//   RETURN_IF_ERROR(ds.SetString("PatientName", "DOE^JANE"));
//   RETURN_IF_ERROR(ds.SetString("AnatomicRegionSequence[0].CodeValue", "51185008"));
//   RETURN_IF_ERROR(ds.SetPixelData16(pixels, rows, cols));
//   RETURN_IF_ERROR(ds.SaveFile("a.dcm", TransferSyntax::kJpegLsLossless));
//
// Thread safety: one DicomDataset per thread; distinct objects may be used concurrently (the codec
// registry is initialized once, thread-safely).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dicom/transfer_syntax.h"

namespace medscribe::dicom {

class DicomDataset {
 public:
  DicomDataset();
  ~DicomDataset();
  DicomDataset(DicomDataset&&) noexcept;
  DicomDataset& operator=(DicomDataset&&) noexcept;

  // Largest input accepted by LoadFile/FromBytes unless a smaller limit is given.
  static constexpr uint64_t kMaxInputBytes = uint64_t{2} << 30;

  // Reads a DICOM Part 10 file (or a bare dataset). Messages do not repeat the path; callers add
  // it as context. Errors: NotFound, ResourceExhausted (larger
  // than `max_bytes`), DataLoss (not DICOM, truncated, an element longer than the file, corrupt).
  static StatusOr<DicomDataset> LoadFile(const std::string& path,
                                         uint64_t max_bytes = kMaxInputBytes);
  // The same from bytes in memory (the bytes are copied as needed; the view need not outlive the
  // result).
  static StatusOr<DicomDataset> FromBytes(std::string_view bytes,
                                          uint64_t max_bytes = kMaxInputBytes);

  // Sets an attribute from its string form (multi-valued: values separated by '\').
  // InvalidArgument for an unknown keyword, a malformed path or a value the VR rejects.
  Status SetString(std::string_view path, std::string_view value);
  Status SetUint16(std::string_view path, uint16_t value);
  // Inserts a present-but-empty attribute (Type 2), including an empty sequence.
  Status SetEmpty(std::string_view path);
  // Sets a private attribute (group odd) in the block reserved by `creator`: element
  // (group, 0x10) = creator, (group, 0x10xx) = value with the given VR ("LO", "SH", "DS", ...).
  Status SetPrivate(uint16_t group, std::string_view creator, uint8_t element, std::string_view vr,
                    std::string_view value);
  // Removes every private attribute and every top-level attribute whose keyword is not in `keep`;
  // inside the items of the sequences kept, at every depth, only what `keep_in_items` names
  // stays. Returns how many attributes were removed at all levels. The file meta information is
  // not touched.
  size_t RetainOnly(const std::set<std::string, std::less<>>& keep,
                    const std::set<std::string, std::less<>>& keep_in_items);

  // Sets native 16-bit pixel data. REQUIRES: pixels.size() == rows * cols.
  Status SetPixelData16(std::span<const uint16_t> pixels, uint16_t rows, uint16_t cols);
  // Sets native 8-bit pixel data (OB). REQUIRES: pixels.size() == rows * cols.
  Status SetPixelData8(std::span<const uint8_t> pixels, uint16_t rows, uint16_t cols);

  // Value of an attribute (all values, '\'-separated); NotFound when absent.
  StatusOr<std::string> GetString(std::string_view path) const;
  // Transfer syntax UID of the file this dataset was loaded from (empty for a new dataset).
  std::string FileTransferSyntaxUid() const;
  // What reading had to repair, leniently, where other readers are lenient too: today only
  // encapsulated pixel data whose last fragment is shorter than its declared length (the file
  // ends early) while its codestream is complete (it ends with the EOI/EOC marker FF D9). Empty
  // for an intact file. Anything that would read past the data is still refused.
  const std::vector<std::string>& repairs() const;
  // True when the dataset has a File Meta Information header or a SOP Class UID, i.e. it parsed
  // as DICOM rather than as bytes that happen to be readable.
  bool LooksLikeDicom() const;
  // Decompresses if needed and returns the first frame of 16-bit pixel data.
  StatusOr<std::vector<uint16_t>> DecodePixels16() const;

  // Writes a Part 10 file (with file meta information) in the given transfer syntax, compressing
  // losslessly where the syntax asks for it. IoError or Internal on failure; no file is left
  // behind on failure.
  Status SaveFile(const std::string& path, TransferSyntax ts);
  // The dataset as Part 10 bytes, in the transfer syntax it was read in when DCMTK can write that
  // (compressed pixel data is kept as it is), else Explicit VR Little Endian. Internal on failure.
  StatusOr<std::string> ToBytes();

  // Opaque outside src/dicom (defined in dicom/dcmtk_access.h).
  struct Impl;

 private:
  friend class DcmtkAccess;  // image decoding inside src/dicom
  std::unique_ptr<Impl> impl_;
};

// Registers DCMTK's JPEG, JPEG-LS and RLE encoders and decoders (idempotent, thread-safe).
void RegisterCodecs();

}  // namespace medscribe::dicom
