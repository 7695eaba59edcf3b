// De-identification of DICOM images per PS3.15 Annex E: the Basic Application Level
// Confidentiality Profile with the Retain Longitudinal Temporal Information with Modified Dates
// Option and the Retain Patient Characteristics Option.
//
// Implementation: a retain list. Only the attributes an image needs (the pixel module, geometry,
// modality, acquisition parameters, codes) are kept; every other attribute, every private
// attribute and every sequence not on the list is removed (action X), at the top level and inside
// the items of the sequences kept, at every depth; that covers the whole Annex E table and
// attributes it does not name. Free-text attributes (study and series descriptions, protocol
// name, comments) are kept only as the patient's text scrubber rewrites them. Then: UIDs are
// replaced consistently (U), Patient ID by the patient pseudonym and Patient Name by
// ANONYMOUS^pseudonym (D), Accession Number, Study ID and Referring Physician's Name emptied (Z),
// dates shifted by the patient's offset, ages over 89 given as 090Y, and the de-identification
// attributes set. Overlay planes (group 60xx) are removed with the rest. Burned-in annotations are
// not handled here: callers refuse images with BurnedInAnnotation = YES
// (ingest::PrepareImageBytes).
#pragma once

#include <string>

#include "common/status.h"
#include "deid/pseudonymizer.h"
#include "dicom/dataset.h"

namespace medscribe::deid {

// De-identification Method (LO, one value per profile or option, each at most 64 characters).
inline constexpr std::string_view kDicomDeidMethod =
    "MedScribe PS3.15 Basic Application Confidentiality Profile\\"
    "Retain Longitudinal Temporal Information Modified Dates\\Retain Patient Characteristics";

struct DicomDeidResult {
  std::string patient_pseudonym;
  int date_shift_days = 0;
  size_t removed_attributes = 0;
};

class TextScrubber;

// De-identifies `ds` in place. `scrubber` (the patient's; may be null, then free text is
// removed) rewrites the free-text attributes. InvalidArgument when it has no PatientID to key the
// pseudonym on.
StatusOr<DicomDeidResult> DeidentifyDicom(dicom::DicomDataset& ds, const Pseudonymizer& p,
                                          const TextScrubber* scrubber = nullptr);

}  // namespace medscribe::deid
