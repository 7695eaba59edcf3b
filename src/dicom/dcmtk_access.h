// Internal to src/dicom: access to the DCMTK objects behind a DicomDataset. Never include this
// header outside src/dicom; DCMTK types must not leak into the rest of the code.
#pragma once

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <string>
#include <vector>

#include "dicom/dataset.h"

namespace medscribe::dicom {

struct DicomDataset::Impl {
  DcmFileFormat file;
  // For datasets read from memory: an anonymous in-memory file that DCMTK reads from (and loads
  // large values from later, lazily). Closed with the dataset.
  int memfd = -1;
  // What was repaired while reading (DicomDataset::repairs()).
  std::vector<std::string> repairs;
  ~Impl();
};

// The encapsulated fragments (items after the basic offset table) of the pixel data in the
// representation (xfer, params), or nullptr when there is none.
inline DcmPixelSequence* PixelFragments(DcmDataset* ds, E_TransferSyntax xfer,
                                        const DcmRepresentationParameter* params) {
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) return nullptr;
  DcmPixelSequence* seq = nullptr;
  if (static_cast<DcmPixelData*>(elem)->getEncapsulatedRepresentation(xfer, params, seq).bad()) {
    return nullptr;
  }
  return seq;
}

// Item `i` (1-based after the offset table) of `seq` with its bytes; false when unreadable.
inline bool FragmentAt(DcmPixelSequence* seq, unsigned long i, DcmPixelItem*& item, Uint8*& data) {
  item = nullptr;
  data = nullptr;
  return seq->getItem(item, i).good() && item->getUint8Array(data).good() && data != nullptr;
}

// The JPEG 2000 transfer syntaxes decoded through OpenJPEG (jpeg2000.h): .90 and .91.
inline bool IsJpeg2000(E_TransferSyntax xfer) {
  return xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000 ||
         xfer == EXS_JPEG2000MulticomponentLosslessOnly || xfer == EXS_JPEG2000Multicomponent;
}

class DcmtkAccess {
 public:
  static DcmFileFormat& File(const DicomDataset& ds) { return ds.impl_->file; }
};

}  // namespace medscribe::dicom
