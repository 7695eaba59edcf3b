#include "synth/radiograph.h"

#include <algorithm>

#include <fmt/format.h>

#include "dicom/dataset.h"
#include "synth/font.h"

namespace medscribe::synth {

Radiograph RenderRadiograph(const Encounter& e, int image_size, uint64_t seed) {
  const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(e.device)];
  RenderSpec spec;
  spec.width = spec.height = MatrixSize(dev, image_size);
  spec.pixel_spacing_mm = dev.field_of_view_mm / spec.width;
  spec.anatomy = e.anatomy;
  spec.findings = e.findings;
  Radiograph r;
  r.rows = spec.height;
  r.cols = spec.width;
  r.pixel_spacing_mm = spec.pixel_spacing_mm;
  Rng noise = Rng::Stream(seed, HashString("detector-noise"), e.index);
  r.pixels = ToStoredPixels(RenderChest(spec), dev, noise);

  // VOI window from the 2nd..98th percentile of a pixel sample, in rescaled units.
  std::vector<uint16_t> sample;
  for (size_t i = 0; i < r.pixels.size(); i += 7) sample.push_back(r.pixels[i]);
  std::sort(sample.begin(), sample.end());
  const double lo = sample[sample.size() * 2 / 100], hi = sample[sample.size() * 98 / 100];
  r.window_center = std::round((lo + hi) / 2 * dev.rescale_slope + dev.rescale_intercept);
  r.window_width = std::max(1.0, std::round((hi - lo) * dev.rescale_slope));
  return r;
}

Status WriteRadiographDicom(const Encounter& e, const CohortPlan& cohort, const Radiograph& image,
                            const std::string& path) {
  const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(e.device)];
  const Patient& p = cohort.patients[static_cast<size_t>(e.patient)];
  const Clinician& ref = cohort.referring[static_cast<size_t>(e.referring)];
  const Clinician& op = cohort.operators[static_cast<size_t>(e.index % cohort.operators.size())];
  const bool dx = dev.modality == "DX";
  const bool ap = e.anatomy.ap_view;
  std::vector<uint16_t> pixels = image.pixels;
  if (e.burned_in) {
    const uint16_t ink = dev.monochrome1 ? 0 : kMaxStored;
    const int scale = std::max(1, image.cols / 256);
    DrawText(pixels, image.cols, image.rows, 6 * scale, 6 * scale,
             p.DicomName().substr(0, p.DicomName().find('=')), scale, ink);
    DrawText(pixels, image.cols, image.rows, 6 * scale, 16 * scale,
             p.mrn + " " + e.study_time.date.Iso(), scale, ink);
  }

  dicom::DicomDataset ds;
  const std::string ps =
      fmt::format("{:.6g}\\{:.6g}", image.pixel_spacing_mm, image.pixel_spacing_mm);
  const std::string date = e.study_time.date.Dicom(), time = e.study_time.DicomTime();
  const std::vector<std::pair<std::string_view, std::string>> attrs = {
      {"SpecificCharacterSet", "ISO_IR 192"},
      {"ImageType", "ORIGINAL\\PRIMARY"},
      {"SOPClassUID", std::string(dx ? kDxForPresentationSopClass : kCrSopClass)},
      {"SOPInstanceUID", e.sop_uid},
      {"StudyDate", date},
      {"SeriesDate", date},
      {"AcquisitionDate", date},
      {"ContentDate", date},
      {"StudyTime", time},
      {"SeriesTime", time},
      {"AcquisitionTime", time},
      {"ContentTime", time},
      {"AccessionNumber", e.accession_in_dicom ? e.accession : ""},
      {"Modality", dev.modality},
      {"Manufacturer", dev.manufacturer},
      {"InstitutionName", std::string(kInstitution)},
      {"InstitutionAddress", "100 Riverside Drive, Springfield, IL 62701"},
      {"ReferringPhysicianName", ref.DicomName()},
      {"StationName", fmt::format("{}{:02d}", dev.station_prefix, e.index % 7 + 1)},
      {"StudyDescription", "XR CHEST 1 VIEW"},
      {"SeriesDescription", ap ? "CHEST AP PORTABLE" : "CHEST PA"},
      {"InstitutionalDepartmentName", std::string(DepartmentLabel(e.department))},
      {"OperatorsName", op.DicomName()},
      {"ManufacturerModelName", dev.model},
      {"PatientName", p.DicomName()},
      {"PatientID", p.mrn},
      {"PatientBirthDate", p.birth_date.Dicom()},
      {"PatientSex", std::string(1, p.sex)},
      {"PatientAge", fmt::format("{:03d}Y", AgeInYears(p.birth_date, e.study_time.date))},
      {"BodyPartExamined", "CHEST"},
      {"DeviceSerialNumber", fmt::format("SN{:06d}", 1000 + e.device * 7919)},
      {"SoftwareVersions", dev.software_version},
      {"KVP", ap ? "90" : "120"},
      {"ViewPosition", ap ? "AP" : "PA"},
      {"StudyInstanceUID", e.study_uid},
      {"SeriesInstanceUID", e.series_uid},
      {"StudyID", e.accession.substr(3)},
      {"SeriesNumber", "1"},
      {"InstanceNumber", "1"},
      {"PatientOrientation", "L\\F"},
      {"BurnedInAnnotation", e.burned_in ? "YES" : "NO"},
      {"LossyImageCompression", "00"},
      {"PhotometricInterpretation", dev.monochrome1 ? "MONOCHROME1" : "MONOCHROME2"},
      {"PixelSpacing", ps},
      {"WindowCenter", fmt::format("{:.0f}", image.window_center)},
      {"WindowWidth", fmt::format("{:.0f}", image.window_width)},
      {"RescaleIntercept", fmt::format("{:g}", dev.rescale_intercept)},
      {"RescaleSlope", fmt::format("{:g}", dev.rescale_slope)},
      {"RescaleType", "US"},
  };
  for (const auto& [k, v] : attrs) RETURN_IF_ERROR(ds.SetString(k, v));
  if (dx) {
    RETURN_IF_ERROR(ds.SetString("PresentationIntentType", "FOR PRESENTATION"));
    RETURN_IF_ERROR(ds.SetString("ImageLaterality", "U"));
    RETURN_IF_ERROR(ds.SetString("AnatomicRegionSequence[0].CodeValue", "43799004"));
    RETURN_IF_ERROR(ds.SetString("AnatomicRegionSequence[0].CodingSchemeDesignator", "SCT"));
    RETURN_IF_ERROR(ds.SetString("AnatomicRegionSequence[0].CodeMeaning", "Chest"));
    RETURN_IF_ERROR(ds.SetString("PixelIntensityRelationship", "LOG"));
    RETURN_IF_ERROR(ds.SetString("PixelIntensityRelationshipSign", dev.monochrome1 ? "1" : "-1"));
    RETURN_IF_ERROR(ds.SetString("PresentationLUTShape", dev.monochrome1 ? "INVERSE" : "IDENTITY"));
    RETURN_IF_ERROR(ds.SetString("DetectorType", "SCINTILLATOR"));
    RETURN_IF_ERROR(ds.SetString("ImagerPixelSpacing", ps));
    RETURN_IF_ERROR(ds.SetEmpty("AcquisitionContextSequence"));
    RETURN_IF_ERROR(ds.SetString("PositionerType", ap ? "NONE" : "COLUMN"));
    RETURN_IF_ERROR(ds.SetString("ViewCodeSequence[0].CodeValue", ap ? "272479007" : "399348003"));
    RETURN_IF_ERROR(ds.SetString("ViewCodeSequence[0].CodingSchemeDesignator", "SCT"));
    RETURN_IF_ERROR(ds.SetString("ViewCodeSequence[0].CodeMeaning",
                                 ap ? "antero-posterior" : "postero-anterior"));
  }
  // A vendor's private block that repeats the patient's name, as some modalities do.
  RETURN_IF_ERROR(ds.SetPrivate(0x0029, dev.private_creator, 0x01, "LO", p.FullName()));
  RETURN_IF_ERROR(
      ds.SetPrivate(0x0029, dev.private_creator, 0x02, "LO", ap ? "CHEST_AP_PORT" : "CHEST_PA"));
  RETURN_IF_ERROR(ds.SetUint16("SamplesPerPixel", 1));
  RETURN_IF_ERROR(ds.SetUint16("Rows", static_cast<uint16_t>(image.rows)));
  RETURN_IF_ERROR(ds.SetUint16("Columns", static_cast<uint16_t>(image.cols)));
  RETURN_IF_ERROR(ds.SetUint16("BitsAllocated", 16));
  RETURN_IF_ERROR(ds.SetUint16("BitsStored", kBitsStored));
  RETURN_IF_ERROR(ds.SetUint16("HighBit", kBitsStored - 1));
  RETURN_IF_ERROR(ds.SetUint16("PixelRepresentation", 0));
  RETURN_IF_ERROR(ds.SetPixelData16(pixels, static_cast<uint16_t>(image.rows),
                                    static_cast<uint16_t>(image.cols)));
  return ds.SaveFile(path, dev.transfer_syntax);
}

}  // namespace medscribe::synth
