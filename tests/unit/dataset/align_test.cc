#include "dataset/align.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "dicom/dataset.h"
#include "fhir/reader.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::dataset {
namespace {

namespace fs = std::filesystem;

TEST(AlignTest, EveryCohortImageFindsItsEncounterWithOrWithoutAccession) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::WriteSmallCohort(tmp / "cohort", 150, 21).ok());
  fhir::FhirReader reader;
  ASSERT_TRUE(reader.AddPath((tmp / "cohort" / "fhir").string()).ok());
  const EncounterIndex index(reader.resources());
  std::map<std::string, nlohmann::json> truth;
  std::ifstream in(tmp / "cohort" / "truth" / "labels.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    truth[j["sop_instance_uid"].get<std::string>()] = j;
  }
  int by_time = 0, missing_accession = 0;
  for (const auto& e : fs::recursive_directory_iterator(tmp / "cohort" / "dicom")) {
    if (!e.is_regular_file()) continue;
    auto ds = dicom::DicomDataset::LoadFile(e.path().string());
    ASSERT_TRUE(ds.ok());
    ImageKey key{*ds->GetString("AccessionNumber"), *ds->GetString("PatientID"),
                 *ds->GetString("StudyDate"), *ds->GetString("StudyTime")};
    const auto& t = truth.at(e.path().stem().string());
    missing_accession += !t["accession_in_dicom"].get<bool>();
    auto m = index.Match(key);
    ASSERT_TRUE(m.ok()) << t["encounter_id"] << ": " << m.status().message();
    EXPECT_EQ(m->encounter_id, t["encounter_id"]);
    EXPECT_EQ(m->patient_id, t["patient_id"]);
    by_time += m->method == "patient+time";
  }
  EXPECT_GT(missing_accession, 0);
  EXPECT_EQ(by_time, missing_accession);
}

TEST(AlignTest, UnknownAndAmbiguousImagesAreNotGuessed) {
  fhir::Patient p;
  p.id = "pat-1";
  p.identifiers.push_back({"sys", "MR", "MRN1"});
  fhir::ImagingStudy a, b;
  a.id = "is-1", a.accession = "ACC1", a.started = "2024-03-05T10:00:00Z";
  a.subject = {"Patient", "pat-1"}, a.encounter = {"Encounter", "enc-1"};
  b = a;
  b.id = "is-2", b.accession = "ACC2", b.started = "2024-03-05T12:00:00Z",
  b.encounter = {"Encounter", "enc-2"};
  const EncounterIndex index({p, a, b}, 360);
  EXPECT_EQ(index.Match({"ACC2", "", "", ""})->encounter_id, "enc-2");
  EXPECT_EQ(index.Match({"ACC9", "MRN1", "20240305", "100000"}).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(index.Match({"", "MRN1", "20240305", "110000"}).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(index.Match({"", "MRN2", "20240305", "110000"}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(index.Match({"", "MRN1", "20240309", "110000"}).status().code(), ErrorCode::kNotFound);
  const EncounterIndex narrow({p, a, b}, 30);
  auto m = narrow.Match({"", "MRN1", "20240305", "115000"});
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->encounter_id, "enc-2");
  EXPECT_EQ(m->method, "patient+time");
  EXPECT_EQ(ParseDicomDateTime("2024030", "1"), -1);
  EXPECT_EQ(ParseFhirDateTime("2024-03-05T10:00:00Z") + 3600,
            ParseDicomDateTime("20240305", "110000.123"));
}

}  // namespace
}  // namespace medscribe::dataset
