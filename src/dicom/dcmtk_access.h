// Internal to src/dicom: access to the DCMTK objects behind a DicomDataset. Never include this
// header outside src/dicom; DCMTK types must not leak into the rest of the code.
#pragma once

#include <dcmtk/dcmdata/dcfilefo.h>

#include "dicom/dataset.h"

namespace medscribe::dicom {

struct DicomDataset::Impl {
  DcmFileFormat file;
};

class DcmtkAccess {
 public:
  static DcmFileFormat& File(const DicomDataset& ds) { return ds.impl_->file; }
};

}  // namespace medscribe::dicom
