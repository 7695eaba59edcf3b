#include "ingest/stay_record.h"

#include <gtest/gtest.h>

#include "fhir/reader.h"
#include "synth/cohort.h"
#include "testing/temp_dir.h"

namespace medscribe::ingest {
namespace {

TEST(StayRecordTest, GroupsEveryResourceOfAStayUnderItsEncounter) {
  testing::TempDir tmp;
  synth::SynthOptions o;
  o.kind = "inpatient";
  o.out_dir = (tmp / "stays").string();
  o.encounters = 12;
  o.speech = false;
  auto summary = synth::WriteCohort(o, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  auto stays = ReadStays((tmp / "stays" / "fhir").string());
  ASSERT_TRUE(stays.ok()) << stays.status().ToString();
  ASSERT_EQ(stays->size(), 12u);
  size_t grouped = 0;
  for (const StayRecord& s : *stays) {
    EXPECT_EQ(s.encounter.class_code, "IMP");
    ASSERT_TRUE(s.patient.has_value()) << s.encounter.id;
    EXPECT_EQ(s.patient->id, s.encounter.subject.id);
    ASSERT_TRUE(s.discharge_summary.has_value()) << s.encounter.id;
    EXPECT_NE(s.discharge_summary->text.find("DISCHARGE MEDICATIONS:"), std::string::npos);
    for (const auto& n : s.notes) EXPECT_NE(n.type_code, kDischargeSummaryLoinc);
    EXPECT_TRUE(std::is_sorted(s.notes.begin(), s.notes.end(),
                               [](const auto& a, const auto& b) { return a.date < b.date; }));
    EXPECT_TRUE(
        std::is_sorted(s.observations.begin(), s.observations.end(),
                       [](const auto& a, const auto& b) { return a.effective < b.effective; }));
    EXPECT_FALSE(s.conditions.empty());
    EXPECT_FALSE(s.allergies.empty());
    EXPECT_FALSE(s.medication_requests.empty());
    // The latest progress note is the one of the day before discharge.
    if (const fhir::DocumentReference* pn = s.LatestNote(kProgressNoteLoinc)) {
      for (const auto& n : s.notes)
        if (n.type_code == kProgressNoteLoinc) {
          EXPECT_LE(n.date, pn->date);
        }
    }
    grouped += 1 + s.conditions.size() + s.allergies.size() + s.observations.size() +
               s.medication_requests.size() + s.administrations.size() + s.procedures.size() +
               s.reports.size() + s.notes.size() + 1;
  }
  // Every resource but the patients belongs to a stay.
  size_t total = 0;
  for (const auto& [type, n] : summary->resources)
    if (type != "Patient") total += static_cast<size_t>(n);
  EXPECT_EQ(grouped, total);
}

TEST(StayRecordTest, ARadiologyCohortHasNoStays) {
  testing::TempDir tmp;
  synth::SynthOptions o;
  o.out_dir = (tmp / "rad").string();
  o.encounters = 3;
  o.image_size = 64;
  o.speech = false;
  ASSERT_TRUE(synth::WriteCohort(o, nullptr).ok());
  auto stays = ReadStays((tmp / "rad" / "fhir").string());
  EXPECT_EQ(stays.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(stays.status().message().find("--kind inpatient"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::ingest
