#include "deid/dicom_deid.h"

#include <cctype>

#include <set>

#include "deid/text_deid.h"

namespace medscribe::deid {
namespace {

// Attributes an image keeps (everything else is removed).
const std::set<std::string, std::less<>>& RetainList() {
  static const std::set<std::string, std::less<>> kKeep = {
      // SOP common, study and series identity (UIDs replaced below).
      "SpecificCharacterSet",
      "ImageType",
      "SOPClassUID",
      "SOPInstanceUID",
      "StudyInstanceUID",
      "SeriesInstanceUID",
      "FrameOfReferenceUID",
      "Modality",
      "SeriesNumber",
      "InstanceNumber",
      "StudyDate",
      "SeriesDate",
      "AcquisitionDate",
      "ContentDate",
      "StudyTime",
      "SeriesTime",
      "AcquisitionTime",
      "ContentTime",
      "AccessionNumber",
      "StudyID",
      "ReferringPhysicianName",
      "PatientName",
      "PatientID",
      "PatientBirthDate",
      "PatientSex",
      "PatientAge",
      // Equipment that describes the image, not the site.
      "Manufacturer",
      "ManufacturerModelName",
      "PresentationIntentType",
      // Anatomy, view and acquisition.
      "BodyPartExamined",
      "ViewPosition",
      "ImageLaterality",
      "Laterality",
      "PatientOrientation",
      "AnatomicRegionSequence",
      "ViewCodeSequence",
      "PositionerType",
      "KVP",
      "ExposureTime",
      "Exposure",
      "DistanceSourceToDetector",
      "DetectorType",
      "ImagerPixelSpacing",
      "AcquisitionContextSequence",
      // Image pixel, presentation and modality/VOI LUT modules.
      "SamplesPerPixel",
      "PhotometricInterpretation",
      "Rows",
      "Columns",
      "NumberOfFrames",
      "FrameIncrementPointer",
      "BitsAllocated",
      "BitsStored",
      "HighBit",
      "PixelRepresentation",
      "PlanarConfiguration",
      "PixelSpacing",
      "PixelAspectRatio",
      "PixelIntensityRelationship",
      "PixelIntensityRelationshipSign",
      "RescaleIntercept",
      "RescaleSlope",
      "RescaleType",
      "WindowCenter",
      "WindowWidth",
      "VOILUTFunction",
      "PresentationLUTShape",
      "LossyImageCompression",
      "LossyImageCompressionRatio",
      "LossyImageCompressionMethod",
      "BurnedInAnnotation",
      "RedPaletteColorLookupTableDescriptor",
      "GreenPaletteColorLookupTableDescriptor",
      "BluePaletteColorLookupTableDescriptor",
      "RedPaletteColorLookupTableData",
      "GreenPaletteColorLookupTableData",
      "BluePaletteColorLookupTableData",
      "PixelData",
      "FloatPixelData",
      "DoubleFloatPixelData",
  };
  return kKeep;
}

// What the items of the kept sequences (anatomy, view, acquisition context) may hold, at every
// depth: coded entries and their modifiers. Names, dates, free text (code meanings included) and
// private blocks inside an item are removed.
const std::set<std::string, std::less<>>& ItemRetainList() {
  // CodeMeaning is free text a sender can fill with anything; the code value carries the
  // meaning, so the text goes.
  static const std::set<std::string, std::less<>> kKeep = {"CodeValue",
                                                           "CodingSchemeDesignator",
                                                           "CodingSchemeVersion",
                                                           "LongCodeValue",
                                                           "URNCodeValue",
                                                           "ContextIdentifier",
                                                           "MappingResource",
                                                           "AnatomicRegionModifierSequence",
                                                           "ViewModifierCodeSequence",
                                                           "ValueType",
                                                           "ConceptNameCodeSequence",
                                                           "ConceptCodeSequence",
                                                           "NumericValue",
                                                           "MeasurementUnitsCodeSequence"};
  return kKeep;
}

// Free-text attributes kept only as the text scrubber rewrites them (removed without one).
constexpr const char* kFreeText[] = {"StudyDescription",
                                     "SeriesDescription",
                                     "ProtocolName",
                                     "ImageComments",
                                     "RequestedProcedureDescription",
                                     "PerformedProcedureStepDescription",
                                     "AcquisitionDeviceProcessingDescription"};

}  // namespace

StatusOr<DicomDeidResult> DeidentifyDicom(dicom::DicomDataset& ds, const Pseudonymizer& p,
                                          const TextScrubber* scrubber) {
  auto patient_id = ds.GetString("PatientID");
  if (!patient_id.ok() || patient_id->empty()) {
    return InvalidArgumentError("image has no PatientID to derive a pseudonym from");
  }
  DicomDeidResult result;
  result.patient_pseudonym = p.PatientId(*patient_id);
  result.date_shift_days = p.DateShiftDays(*patient_id);

  // Values to carry over, transformed.
  std::vector<std::pair<std::string, std::string>> set;
  for (const char* uid_attr :
       {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"}) {
    if (auto v = ds.GetString(uid_attr); v.ok() && !v->empty())
      set.emplace_back(uid_attr, p.Uid(*v));
  }
  for (const char* date_attr : {"StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"}) {
    if (auto v = ds.GetString(date_attr); v.ok())
      set.emplace_back(date_attr, ShiftDicomDate(*v, result.date_shift_days));
  }
  // PatientAge is nnnD/W/M/Y (PS3.5 AS). Over 89 years is an identifier (90 and over are one
  // group); a value that is not well-formed cannot be judged and is emptied.
  if (auto age = ds.GetString("PatientAge"); age.ok() && !age->empty()) {
    const std::string& v = *age;
    const bool well_formed = v.size() == 4 && std::isdigit(static_cast<unsigned char>(v[0])) &&
                             std::isdigit(static_cast<unsigned char>(v[1])) &&
                             std::isdigit(static_cast<unsigned char>(v[2])) &&
                             std::string_view("DWMY").find(v[3]) != std::string_view::npos;
    if (!well_formed)
      set.emplace_back("PatientAge", "");
    else if (v[3] == 'Y' && (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0') > 89)
      set.emplace_back("PatientAge", "090Y");
  }
  if (scrubber != nullptr) {
    for (const char* attr : kFreeText) {
      if (auto v = ds.GetString(attr); v.ok() && !v->empty())
        set.emplace_back(attr, scrubber->ScrubField(*v));
    }
  }
  result.removed_attributes = ds.RetainOnly(RetainList(), ItemRetainList());

  set.emplace_back("PatientName", "ANONYMOUS^" + result.patient_pseudonym);
  set.emplace_back("PatientID", result.patient_pseudonym);
  for (const char* z :
       {"PatientBirthDate", "AccessionNumber", "StudyID", "ReferringPhysicianName"}) {
    set.emplace_back(z, "");
  }
  set.emplace_back("PatientIdentityRemoved", "YES");
  set.emplace_back("DeidentificationMethod", std::string(kDicomDeidMethod));
  set.emplace_back("LongitudinalTemporalInformationModified", "MODIFIED");
  const char* codes[][2] = {
      {"113100", "Basic Application Confidentiality Profile"},
      {"113107", "Retain Longitudinal Temporal Information Modified Dates Option"},
      {"113108", "Retain Patient Characteristics Option"}};
  for (int i = 0; i < 3; ++i) {
    const std::string item = "DeidentificationMethodCodeSequence[" + std::to_string(i) + "].";
    set.emplace_back(item + "CodeValue", codes[i][0]);
    set.emplace_back(item + "CodingSchemeDesignator", "DCM");
    set.emplace_back(item + "CodeMeaning", codes[i][1]);
  }
  for (const auto& [k, v] : set) RETURN_IF_ERROR(ds.SetString(k, v));
  return result;
}

}  // namespace medscribe::deid
