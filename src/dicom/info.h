// Key metadata of a DICOM image, without patient identifiers.
//
// Example:
//   ASSIGN_OR_RETURN(DicomDataset ds, DicomDataset::LoadFile(path));
//   ASSIGN_OR_RETURN(DicomInfo info, ReadInfo(ds));
//   if (!info.decodable) std::cerr << info.why_not_decodable;
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "dicom/dataset.h"

namespace medscribe::dicom {

struct DicomInfo {
  std::string sop_class_uid, sop_class_name;
  std::string sop_instance_uid, study_instance_uid, series_instance_uid;
  std::string transfer_syntax_uid, transfer_syntax_name;
  std::string modality, manufacturer, model, body_part, view_position, photometric;
  int rows = 0, columns = 0, frames = 0, samples_per_pixel = 0;
  int bits_allocated = 0, bits_stored = 0, pixel_representation = 0;
  double rescale_slope = 1, rescale_intercept = 0;
  // The physical size of a pixel in mm (row spacing: between rows; column spacing: between
  // columns): PixelSpacing, else ImagerPixelSpacing; 0 when neither holds two positive values.
  double row_spacing_mm = 0, column_spacing_mm = 0;
  bool has_window = false;
  double window_center = 0, window_width = 0;
  bool burned_in_annotation = false;  // BurnedInAnnotation = YES
  bool has_accession_number = false;  // present and non-empty (the value itself is PHI)
  bool has_pixel_data = false;        // Pixel Data, Float Pixel Data or Double Float Pixel Data
  int float_bits = 0;                 // 32 (Float Pixel Data) or 64 (Double ...); 0: integers
  bool decodable = false;             // MedScribe can decode the pixels
  std::string why_not_decodable;      // the reason when !decodable
  std::vector<std::string> warnings;  // what reading had to repair (DicomDataset::repairs)
};

// Reads the metadata. InvalidArgument when the bytes parsed but are not DICOM (no meta header
// and no SOP Class UID).
StatusOr<DicomInfo> ReadInfo(const DicomDataset& ds);

}  // namespace medscribe::dicom
