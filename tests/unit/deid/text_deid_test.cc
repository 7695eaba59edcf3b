#include "deid/text_deid.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "deid/identifiers.h"
#include "fhir/reader.h"
#include "synth/cohort.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::deid {
namespace {

TEST(TextScrubberTest, EnglishIdentifiersAreRemovedAndDatesShifted) {
  TextScrubber s({"Mary Smith", "Mary", "Smith", "MRN4820193"}, -10);
  const std::string out = s.Scrub(
      "Patient: Mary Smith  MRN: MRN4820193  DOB: 03/05/1950\n"
      "Seen on March 15, 2024 (2024-03-15). 93-year-old woman. Call (555) 123-4567 or "
      "mary.smith7@example.com. SSN 123-45-6789, ID A123456789, lives at 42 Maple Street. "
      "Referred by Dr. John Carter. Accession ACC24000123. Other MRN 7654321.");
  for (const char* phi : {"Mary", "Smith", "4820193", "03/05/1950", "March 15, 2024", "2024-03-15",
                          "93-year", "555", "example.com", "123-45-6789", "A123456789", "42 Maple",
                          "Carter", "ACC24000123", "7654321"}) {
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  }
  EXPECT_NE(out.find("02/23/1950"), std::string::npos) << out;  // shifted by -10 days, same format
  EXPECT_NE(out.find("March 5, 2024"), std::string::npos) << out;
  EXPECT_NE(out.find("2024-03-05"), std::string::npos) << out;
  EXPECT_NE(out.find("90+-year-old"), std::string::npos) << out;
  EXPECT_NE(out.find("Dr. [NAME]"), std::string::npos) << out;
}

TEST(TextScrubberTest, TraditionalChineseIdentifiersAreRemoved) {
  TextScrubber s({"陳美玲", "MRN1234567"}, 5);
  const std::string out = s.Scrub(
      "病人陳美玲，93歲，女性，病歷號碼MRN1234567，身分證字號B223456789，出生日期1931年4月2日。"
      "聯絡電話0912-345-678，住址台北市大安區復興南路一段100號。轉診醫師：Hill Elizabeth醫師。");
  for (const char* phi : {"陳美玲", "93歲", "1234567", "B223456789", "1931年4月2日", "0912-345-678",
                          "復興南路", "Hill"}) {
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  }
  EXPECT_NE(out.find("1931年4月7日"), std::string::npos) << out;
  EXPECT_NE(out.find("90+歲"), std::string::npos) << out;
}

TEST(TextScrubberTest, LongInputIsScrubbedInPiecesWithoutExhaustingTheStack) {
  TextScrubber s({"Mary Smith"}, 0);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "Mary Smith called from (555) 123-4567. ";
  text += "住址" + std::string(200000, 'x');
  const std::string out = s.Scrub(text);
  EXPECT_EQ(out.find("Mary Smith"), std::string::npos);
  EXPECT_EQ(out.find("555"), std::string::npos);
  EXPECT_NE(out.find("[ADDRESS]"), std::string::npos);
}

TEST(TextScrubberTest, ClinicalTextIsLeftAlone) {
  TextScrubber s({"Hill"}, -3);
  const std::string report =
      "FINDINGS: Moderate right pleural effusion. 12 mm nodule in the left upper zone. WBC 17.2 "
      "10^3/uL.";
  EXPECT_EQ(s.Scrub(report), report);
}

// The proof on the synthetic cohort: with the identifiers the FHIR record holds, no planted PHI
// string survives in any note or report.
TEST(TextScrubberTest, NoPlantedPhiSurvivesInTheCohortsNotesAndReports) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::WriteSmallCohort(tmp / "cohort", 120, 17).ok());
  fhir::FhirReader reader;
  ASSERT_TRUE(reader.AddPath((tmp / "cohort" / "fhir").string()).ok());
  std::map<std::string, fhir::Patient> patients;
  std::map<std::string, std::vector<std::string>> texts;  // by encounter id
  for (const fhir::Resource& r : reader.resources()) {
    if (auto* p = std::get_if<fhir::Patient>(&r)) patients[p->id] = *p;
    if (auto* d = std::get_if<fhir::DocumentReference>(&r))
      texts[d->encounter.id].push_back(d->text);
    if (auto* d = std::get_if<fhir::DiagnosticReport>(&r))
      texts[d->encounter.id].push_back(d->text);
  }
  std::ifstream truth(tmp / "cohort" / "truth" / "labels.jsonl");
  int checked = 0;
  for (std::string line; std::getline(truth, line);) {
    const auto t = nlohmann::json::parse(line);
    const TextScrubber scrubber(IdentifiersOf(patients.at(t["patient_id"].get<std::string>())),
                                -40);
    for (const std::string& text : texts.at(t["encounter_id"].get<std::string>())) {
      const std::string out = scrubber.Scrub(text);
      for (const auto& phi : t["planted_phi"]) {
        const std::string p = phi.get<std::string>();
        if (text.find(p) == std::string::npos) continue;  // planted elsewhere (DICOM, FHIR)
        ++checked;
        EXPECT_EQ(out.find(p), std::string::npos)
            << "'" << p << "' survived in " << t["encounter_id"] << ":\n"
            << out;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace medscribe::deid
