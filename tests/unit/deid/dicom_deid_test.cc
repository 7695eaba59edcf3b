#include "deid/dicom_deid.h"
#include "deid/text_deid.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "dicom/image.h"
#include "synth/cohort.h"
#include "testing/dicom_bytes.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::deid {
namespace {

namespace fs = std::filesystem;

class DicomDeidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(medscribe::testing::WriteSmallCohort(tmp_ / "cohort", 16, 11).ok());
    std::ifstream truth(tmp_ / "cohort" / "truth" / "labels.jsonl");
    for (std::string line; std::getline(truth, line);) {
      auto j = nlohmann::json::parse(line);
      truth_[j["sop_instance_uid"].get<std::string>()] = j;
    }
  }
  medscribe::testing::TempDir tmp_;
  std::map<std::string, nlohmann::json> truth_;
  Pseudonymizer pseudonymizer_{std::string(32, 's')};
};

TEST_F(DicomDeidTest, NoPlantedPhiSurvivesAndTheDeidAttributesAreSet) {
  int files = 0;
  std::map<std::string, std::string> pseudonym_of_patient;
  for (const auto& entry : fs::recursive_directory_iterator(tmp_ / "cohort" / "dicom")) {
    if (!entry.is_regular_file()) continue;
    const auto& t = truth_.at(entry.path().stem().string());
    auto ds = dicom::DicomDataset::LoadFile(entry.path().string());
    ASSERT_TRUE(ds.ok());
    const std::string original_date = *ds->GetString("StudyDate");
    auto result = DeidentifyDicom(*ds, pseudonymizer_);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const std::string out = (tmp_ / ("deid-" + std::to_string(files++) + ".dcm")).string();
    ASSERT_TRUE(ds->SaveFile(out, dicom::TransferSyntax::kExplicitLittle).ok());
    const std::string bytes = *ReadFile(out);
    // The original carries the PHI (so the check below can fail).
    const std::string original_bytes = *ReadFile(entry.path());
    int present_before = 0;
    for (const auto& phi : t["planted_phi"])
      present_before += original_bytes.find(phi.get<std::string>()) != std::string::npos;
    EXPECT_GE(present_before, 5);
    for (const auto& phi : t["planted_phi"]) {
      EXPECT_EQ(bytes.find(phi.get<std::string>()), std::string::npos)
          << "'" << phi.get<std::string>() << "' survived in " << t["encounter_id"];
    }
    for (const char* uid : {"study_instance_uid", "sop_instance_uid"}) {
      EXPECT_EQ(bytes.find(t[uid].get<std::string>()), std::string::npos) << uid;
    }
    auto back = dicom::DicomDataset::LoadFile(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back->GetString("PatientIdentityRemoved"), "YES");
    EXPECT_EQ(*back->GetString("LongitudinalTemporalInformationModified"), "MODIFIED");
    EXPECT_EQ(*back->GetString("DeidentificationMethodCodeSequence[0].CodeValue"), "113100");
    EXPECT_EQ(*back->GetString("DeidentificationMethodCodeSequence[1].CodeValue"), "113107");
    EXPECT_EQ(*back->GetString("PatientID"), result->patient_pseudonym);
    EXPECT_EQ(*back->GetString("AccessionNumber"), "");
    EXPECT_EQ(*back->GetString("StudyDate"),
              ShiftDicomDate(original_date, result->date_shift_days));
    EXPECT_EQ(back->GetString("InstitutionName").status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(*back->GetString("SOPInstanceUID"),
              pseudonymizer_.Uid(t["sop_instance_uid"].get<std::string>()));
    // The pixels are untouched.
    auto original = dicom::DicomDataset::LoadFile(entry.path().string());
    EXPECT_EQ(*back->DecodePixels16(), *original->DecodePixels16());
    // One patient, one pseudonym.
    const std::string patient = t["patient_id"];
    auto [it, inserted] = pseudonym_of_patient.emplace(patient, result->patient_pseudonym);
    EXPECT_EQ(it->second, result->patient_pseudonym);
  }
  EXPECT_EQ(files, 16);
}

TEST_F(DicomDeidTest, ImagesWithoutPatientIdAreRefused) {
  dicom::DicomDataset ds;
  ASSERT_TRUE(ds.SetString("PatientName", "DOE^JANE").ok());
  EXPECT_EQ(DeidentifyDicom(ds, pseudonymizer_).status().code(), ErrorCode::kInvalidArgument);
}

// What decoding needs beyond Pixel Data (a palette's lookup tables, floating-point pixel data)
// survives de-identification: the stored copy decodes to the same values.
TEST_F(DicomDeidTest, DeidentifiedImagesDecodeAsBefore) {
  // One row of two pixels, with the patient's name and id.
  auto image = [](const char* sop_class, const char* photometric, uint16_t bits) {
    medscribe::testing::DicomBytes b;
    b.Add(0x0008, 0x0016, "UI", sop_class).Add(0x0008, 0x0018, "UI", "2.25.4");
    b.Add(0x0010, 0x0010, "PN", "DOE^JANE").Add(0x0010, 0x0020, "LO", "MRN-4411");
    b.Us(0x0028, 0x0002, 1).Add(0x0028, 0x0004, "CS", photometric);
    b.Us(0x0028, 0x0010, 1).Us(0x0028, 0x0011, 2).Us(0x0028, 0x0100, bits);
    return b;
  };
  medscribe::testing::DicomBytes palette = image("1.2.840.10008.5.1.4.1.1.7", "PALETTE COLOR", 8);
  palette.Us(0x0028, 0x0101, 8).Us(0x0028, 0x0102, 7).Us(0x0028, 0x0103, 0);
  const std::string descriptor = palette.U16(2) + palette.U16(0) + palette.U16(16);
  for (uint16_t e : {0x1101, 0x1102, 0x1103}) palette.Add(0x0028, e, "US", descriptor);
  palette.Add(0x0028, 0x1201, "OW", palette.U16(1000) + palette.U16(65535));
  palette.Add(0x0028, 0x1202, "OW", palette.U16(0) + palette.U16(30000));
  palette.Add(0x0028, 0x1203, "OW", palette.U16(500) + palette.U16(2));
  palette.Add(0x7FE0, 0x0010, "OB", std::string{'\1', '\0'});
  medscribe::testing::DicomBytes floats = image("1.2.840.10008.5.1.4.1.1.30", "MONOCHROME2", 32);
  floats.Add(0x7FE0, 0x0008, "OF", floats.F32(-1.5f) + floats.F32(2.25f));

  for (const std::string& file : {palette.File(), floats.File()}) {
    auto ds = dicom::DicomDataset::FromBytes(file);
    ASSERT_TRUE(ds.ok()) << ds.status().ToString();
    dicom::ImageDecodeOptions raw;
    raw.raw = true;
    auto before = dicom::DecodeImage(*ds, raw);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    ASSERT_TRUE(DeidentifyDicom(*ds, pseudonymizer_).ok());
    auto stored = ds->ToBytes();
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->find("DOE^JANE"), std::string::npos);
    auto again = dicom::DicomDataset::FromBytes(*stored);
    ASSERT_TRUE(again.ok());
    auto after = dicom::DecodeImage(*again, raw);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->channels, before->channels);
    EXPECT_EQ(after->pixels, before->pixels);
  }
}

TEST_F(DicomDeidTest, AgesOver89AreGroupedAndMalformedAgesEmptied) {
  for (const auto& [given, kept] :
       std::vector<std::pair<std::string, std::string>>{{"045Y", "045Y"},
                                                        {"095Y", "090Y"},
                                                        {"104Y", "090Y"},
                                                        {"011M", "011M"},
                                                        {"ABCY", ""},
                                                        {"9Y", ""},
                                                        {"-12Y", ""},
                                                        {"095X", ""}}) {
    dicom::DicomDataset ds;
    ASSERT_TRUE(ds.SetString("PatientID", "P1").ok());
    ASSERT_TRUE(ds.SetString("PatientAge", given).ok());
    auto r = DeidentifyDicom(ds, pseudonymizer_);
    ASSERT_TRUE(r.ok()) << given << ": " << r.status().message();
    auto age = ds.GetString("PatientAge");
    EXPECT_EQ(age.ok() ? *age : std::string("(none)"), kept) << given;
  }
}

TEST_F(DicomDeidTest, NestedSequencesKeepOnlyCodesAndFreeTextIsScrubbed) {
  dicom::DicomDataset ds;
  for (auto [k, v] : std::initializer_list<std::pair<const char*, const char*>>{
           {"PatientID", "MRN-778812"},
           {"PatientName", "WANG^XIAOMING"},
           {"StudyDescription", "CHEST PA for Wang Xiaoming, call 0912-345-678"},
           {"SeriesDescription", "PA"},
           {"AnatomicRegionSequence[0].CodeValue", "51185008"},
           {"AnatomicRegionSequence[0].CodeMeaning", "Chest"},
           // Identifiers planted where a top-level filter never looks.
           {"AnatomicRegionSequence[0].PatientName", "WANG^XIAOMING"},
           {"AnatomicRegionSequence[0].AnatomicRegionModifierSequence[0].CodeValue", "7771000"},
           {"AnatomicRegionSequence[0].AnatomicRegionModifierSequence[0].OperatorsName", "LIN^MEI"},
           {"AcquisitionContextSequence[0].ConceptNameCodeSequence[0].CodeValue", "113723"},
           {"AcquisitionContextSequence[0].PersonName", "CHEN^LI"},
           {"AcquisitionContextSequence[0].TextValue", "seen by Dr. Lin, bed 12"},
           {"AcquisitionContextSequence[0].Date", "20240301"},
           {"OtherPatientIDsSequence[0].PatientID", "A123456789"}}) {
    ASSERT_TRUE(ds.SetString(k, v).ok()) << k;
  }
  ASSERT_TRUE(ds.SetPrivate(0x0029, "ACME 1.0", 0x01, "LO", "WANG XIAOMING").ok());
  const TextScrubber scrubber({"WANG^XIAOMING", "Wang Xiaoming", "Xiaoming", "MRN-778812"}, 10);
  auto r = DeidentifyDicom(ds, pseudonymizer_, &scrubber);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto bytes = ds.ToBytes();
  ASSERT_TRUE(bytes.ok());
  for (const char* phi : {"WANG", "Xiaoming", "LIN^MEI", "CHEN^LI", "Dr. Lin", "20240301",
                          "A123456789", "0912-345-678", "MRN-778812"}) {
    EXPECT_EQ(bytes->find(phi), std::string::npos) << phi << " survived";
  }
  // The codes stay, at every depth; the free text stays as scrubbed text.
  EXPECT_EQ(*ds.GetString("AnatomicRegionSequence[0].CodeValue"), "51185008");
  EXPECT_FALSE(ds.GetString("AnatomicRegionSequence[0].CodeMeaning").ok());  // free text
  EXPECT_EQ(*ds.GetString("AnatomicRegionSequence[0].AnatomicRegionModifierSequence[0].CodeValue"),
            "7771000");
  EXPECT_EQ(*ds.GetString("AcquisitionContextSequence[0].ConceptNameCodeSequence[0].CodeValue"),
            "113723");
  EXPECT_FALSE(ds.GetString("AnatomicRegionSequence[0].PatientName").ok());
  const std::string desc = *ds.GetString("StudyDescription");
  EXPECT_NE(desc.find("CHEST PA for"), std::string::npos) << desc;
  EXPECT_EQ(*ds.GetString("SeriesDescription"), "PA");
  EXPECT_GE(r->removed_attributes, 7u);

  // Without a scrubber, free text goes.
  dicom::DicomDataset plain;
  ASSERT_TRUE(plain.SetString("PatientID", "X1").ok());
  ASSERT_TRUE(plain.SetString("StudyDescription", "CHEST for Wang").ok());
  ASSERT_TRUE(DeidentifyDicom(plain, pseudonymizer_).ok());
  EXPECT_FALSE(plain.GetString("StudyDescription").ok());
}

}  // namespace
}  // namespace medscribe::deid
