#include "dicom/info.h"

#include <cmath>

#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "dicom/dcmtk_access.h"

namespace medscribe::dicom {
namespace {

bool SupportedPhotometric(const std::string& p, int samples, bool jpeg2000) {
  if (p == "MONOCHROME1" || p == "MONOCHROME2" || p == "PALETTE COLOR") return samples == 1;
  if (p == "RGB" || p == "YBR_FULL" || p == "YBR_FULL_422") return samples == 3;
  if (p == "YBR_RCT" || p == "YBR_ICT") return samples == 3 && jpeg2000;
  return false;
}

std::string Str(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  return item->findAndGetOFString(tag, v).good() ? std::string(v.c_str()) : std::string();
}

int Int(DcmItem* item, const DcmTagKey& tag, int fallback) {
  Uint16 u = 0;
  if (item->findAndGetUint16(tag, u).good()) return u;
  Sint32 s = 0;
  if (item->findAndGetSint32(tag, s).good()) return s;  // IS values such as NumberOfFrames
  return fallback;
}

double Num(DcmItem* item, const DcmTagKey& tag, double fallback, bool* found = nullptr) {
  Float64 v = 0;
  const bool ok = item->findAndGetFloat64(tag, v).good();
  if (found) *found = ok;
  return ok ? v : fallback;
}

}  // namespace

StatusOr<DicomInfo> ReadInfo(const DicomDataset& dataset) {
  if (!dataset.LooksLikeDicom()) {
    return InvalidArgumentError("not a DICOM file: no file meta information and no SOP Class UID");
  }
  DcmFileFormat& file = DcmtkAccess::File(dataset);
  DcmDataset* ds = file.getDataset();
  DicomInfo info;
  info.sop_class_uid = Str(ds, DCM_SOPClassUID);
  if (const char* name = dcmFindNameOfUID(info.sop_class_uid.c_str(), nullptr))
    info.sop_class_name = name;
  info.sop_instance_uid = Str(ds, DCM_SOPInstanceUID);
  info.study_instance_uid = Str(ds, DCM_StudyInstanceUID);
  info.series_instance_uid = Str(ds, DCM_SeriesInstanceUID);
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  const DcmXfer x(xfer);
  info.transfer_syntax_uid = Str(file.getMetaInfo(), DCM_TransferSyntaxUID);
  if (info.transfer_syntax_uid.empty()) info.transfer_syntax_uid = x.getXferID();
  const DcmXfer named(info.transfer_syntax_uid.c_str());
  info.transfer_syntax_name = named.getXfer() != EXS_Unknown ? named.getXferName()
                              : info.transfer_syntax_uid.empty()
                                  ? "unknown"
                                  : "unknown (" + info.transfer_syntax_uid + ")";
  info.modality = Str(ds, DCM_Modality);
  info.manufacturer = Str(ds, DCM_Manufacturer);
  info.model = Str(ds, DCM_ManufacturerModelName);
  info.body_part = Str(ds, DCM_BodyPartExamined);
  info.view_position = Str(ds, DCM_ViewPosition);
  info.photometric = Str(ds, DCM_PhotometricInterpretation);
  info.rows = Int(ds, DCM_Rows, 0);
  info.columns = Int(ds, DCM_Columns, 0);
  info.frames = Int(ds, DCM_NumberOfFrames, 1);
  info.samples_per_pixel = Int(ds, DCM_SamplesPerPixel, 1);
  info.bits_allocated = Int(ds, DCM_BitsAllocated, 0);
  info.bits_stored = Int(ds, DCM_BitsStored, 0);
  info.pixel_representation = Int(ds, DCM_PixelRepresentation, 0);
  info.rescale_slope = Num(ds, DCM_RescaleSlope, 1.0);
  info.rescale_intercept = Num(ds, DCM_RescaleIntercept, 0.0);
  for (const DcmTagKey& tag : {DCM_PixelSpacing, DCM_ImagerPixelSpacing}) {
    Float64 row = 0, col = 0;
    if (ds->findAndGetFloat64(tag, row, 0).good() && ds->findAndGetFloat64(tag, col, 1).good() &&
        std::isfinite(row) && std::isfinite(col) && row > 0 && col > 0 && row < 1e4 && col < 1e4) {
      info.row_spacing_mm = row;
      info.column_spacing_mm = col;
      break;
    }
  }
  bool wc = false, ww = false;
  info.window_center = Num(ds, DCM_WindowCenter, 0, &wc);
  info.window_width = Num(ds, DCM_WindowWidth, 0, &ww);
  info.has_window = wc && ww;
  info.burned_in_annotation = Str(ds, DCM_BurnedInAnnotation) == "YES";
  info.has_accession_number = !Str(ds, DCM_AccessionNumber).empty();
  const bool integer_pixels = ds->tagExists(DCM_PixelData);
  if (!integer_pixels) {
    if (ds->tagExists(DCM_FloatPixelData)) info.float_bits = 32;
    if (ds->tagExists(DCM_DoubleFloatPixelData)) info.float_bits = 64;
  }
  info.has_pixel_data = integer_pixels || info.float_bits != 0;
  info.warnings = dataset.repairs();

  // Can the pixels be decoded here?
  const bool known_xfer = named.getXfer() != EXS_Unknown || info.transfer_syntax_uid.empty();
  if (!info.has_pixel_data) {
    info.why_not_decodable = "no pixel data";
  } else if (!known_xfer) {
    info.why_not_decodable = "unknown transfer syntax " + info.transfer_syntax_uid;
  } else if (x.isEncapsulated() && !IsJpeg2000(xfer) &&
             !DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit)) {
    info.why_not_decodable = "transfer syntax " + info.transfer_syntax_name + " (" +
                             info.transfer_syntax_uid +
                             ") is not supported: this build of DCMTK has no decoder for it";
  } else if (info.float_bits != 0 &&
             (x.isEncapsulated() || info.samples_per_pixel != 1 ||
              (info.photometric != "MONOCHROME2" && info.photometric != "MONOCHROME1"))) {
    info.why_not_decodable =
        "floating-point pixel data is supported in grayscale (MONOCHROME1/2, 1 sample per "
        "pixel) with a native transfer syntax only";
  } else if (!SupportedPhotometric(info.photometric, info.samples_per_pixel, IsJpeg2000(xfer))) {
    info.why_not_decodable =
        "photometric interpretation " +
        (info.photometric.empty() ? std::string("(none)") : info.photometric) + " with " +
        std::to_string(info.samples_per_pixel) +
        " sample(s) per pixel is not supported (MONOCHROME1/2, PALETTE COLOR, RGB, YBR_FULL, "
        "YBR_FULL_422, and YBR_RCT/YBR_ICT in JPEG 2000 are)";
  } else if (info.rows <= 0 || info.columns <= 0 || info.frames <= 0) {
    info.why_not_decodable = "image has no rows, columns or frames";
  } else {
    info.decodable = true;
  }
  return info;
}

}  // namespace medscribe::dicom
