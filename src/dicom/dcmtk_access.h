// Internal to src/dicom: access to the DCMTK objects behind a DicomDataset. Never include this
// header outside src/dicom; DCMTK types must not leak into the rest of the code.
#pragma once

#include <dcmtk/dcmdata/dcfilefo.h>

#include "dicom/dataset.h"

namespace medscribe::dicom {

struct DicomDataset::Impl {
  DcmFileFormat file;
  // For datasets read from memory: an anonymous in-memory file that DCMTK reads from (and loads
  // large values from later, lazily). Closed with the dataset.
  int memfd = -1;
  ~Impl();
};

class DcmtkAccess {
 public:
  static DcmFileFormat& File(const DicomDataset& ds) { return ds.impl_->file; }
};

}  // namespace medscribe::dicom
