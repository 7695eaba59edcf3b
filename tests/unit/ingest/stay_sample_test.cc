#include "ingest/stay_sample.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "synth/cohort.h"
#include "synth/stay_cohort.h"
#include "testing/temp_dir.h"

namespace medscribe::ingest {
namespace {

using Json = nlohmann::json;

class StaySampleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    synth::SynthOptions o;
    o.kind = "inpatient";
    o.out_dir = (tmp_->path() / "stays").string();
    o.encounters = 24;
    o.seed = 4;
    o.speech = false;
    ASSERT_TRUE(synth::WriteCohort(o, nullptr).ok());
    auto stays = ReadStays((tmp_->path() / "stays" / "fhir").string());
    ASSERT_TRUE(stays.ok()) << stays.status().ToString();
    stays_ = new std::vector<StayRecord>(std::move(*stays));
    plan_ = new synth::InpatientPlan(synth::PlanInpatientCohort(o));
  }
  static void TearDownTestSuite() {
    delete stays_;
    delete plan_;
    delete tmp_;
  }
  static testing::TempDir* tmp_;
  static std::vector<StayRecord>* stays_;
  static synth::InpatientPlan* plan_;
  const deid::Pseudonymizer p_{"0123456789abcdef0123456789abcdef"};
};
testing::TempDir* StaySampleTest::tmp_ = nullptr;
std::vector<StayRecord>* StaySampleTest::stays_ = nullptr;
synth::InpatientPlan* StaySampleTest::plan_ = nullptr;

TEST_F(StaySampleTest, NoIdentifierOfThePatientReachesTheSample) {
  for (size_t i = 0; i < stays_->size(); ++i) {
    auto s = AssembleStaySample((*stays_)[i], p_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    const synth::Patient& patient = plan_->patients[static_cast<size_t>(plan_->stays[i].patient)];
    for (const std::string& phi : {patient.FullName(), patient.family + " ", patient.mrn,
                                   patient.phone, patient.email, patient.address_line}) {
      EXPECT_EQ(s->json.find(phi), std::string::npos) << s->key << ": " << phi;
      EXPECT_EQ(s->summary.find(phi), std::string::npos) << s->key << ": " << phi;
    }
    if (patient.chinese) {
      EXPECT_EQ(s->json.find(patient.ZhName()), std::string::npos) << s->key;
    }
    EXPECT_EQ(s->json.find(plan_->stays[i].id), std::string::npos) << "the stay's id leaks";
    EXPECT_EQ(s->key.rfind("ENC-", 0), 0u);
  }
}

TEST_F(StaySampleTest, TagsAreUniqueAndNameTheirResources) {
  auto s = AssembleStaySample(stays_->front(), p_);
  ASSERT_TRUE(s.ok());
  std::set<std::string> tags;
  for (const auto& [tag, ref] : s->sources) {
    EXPECT_TRUE(tags.insert(tag).second) << tag;
    const char letter = tag[0];
    const std::string type = ref.substr(0, ref.find('/'));
    const std::map<char, std::string> kType = {
        {'P', "Condition"},        {'A', "AllergyIntolerance"}, {'M', "MedicationRequest"},
        {'L', "Observation"},      {'V', "Observation"},        {'R', "Procedure"},
        {'I', "DiagnosticReport"}, {'N', "DocumentReference"}};
    EXPECT_EQ(kType.at(letter), type) << tag << " " << ref;
  }
  const Json j = Json::parse(s->json);
  EXPECT_EQ(j["task"], "discharge_summary");
  const Json& r = j["modalities"]["structured"];
  EXPECT_EQ(r["problems"].size(), stays_->front().conditions.size());
  EXPECT_EQ(r["medications"].size(), stays_->front().medication_requests.size());
  // Every tag the sample carries is in the source map.
  std::set<std::string> in_json;
  for (const char* k :
       {"problems", "allergies", "medications", "pending", "procedures", "imaging", "notes"})
    for (const Json& x : r[k]) in_json.insert(x["id"].get<std::string>());
  for (const char* k : {"labs", "vitals"})
    for (const Json& series : r[k])
      for (const Json& v : series["values"]) in_json.insert(v["id"].get<std::string>());
  EXPECT_EQ(in_json, tags);
}

TEST_F(StaySampleTest, TimesAreHospitalDays) {
  for (size_t i = 0; i < stays_->size(); ++i) {
    auto s = AssembleStaySample((*stays_)[i], p_);
    ASSERT_TRUE(s.ok());
    const Json j = Json::parse(s->json);
    const Json& r = j["modalities"]["structured"];
    const int days = plan_->stays[i].days;
    EXPECT_EQ(r["encounter"]["length_of_stay_days"], days);
    for (const Json& series : r["labs"]) {
      EXPECT_EQ(series["values"].front()["day"], 0);
      EXPECT_LE(series["values"].back()["day"].get<int>(), days);
      // The daily panel runs to the morning of discharge.
      if (series["code"] == "6690-2") {
        EXPECT_EQ(series["values"].back()["day"], days);
      }
    }
    // The hospital orders were given within the stay.
    for (const Json& m : r["medications"])
      for (const Json& d : m["days_given"]) {
        EXPECT_GE(d.get<int>(), 0);
        EXPECT_LE(d.get<int>(), days);
      }
    EXPECT_FALSE(s->summary.empty());
    // Results pending at discharge are in the record, apart from the lab series.
    ASSERT_EQ(r["pending"].size(), plan_->stays[i].pending.size()) << s->key;
    for (size_t k = 0; k < r["pending"].size(); ++k) {
      EXPECT_EQ(r["pending"][k]["code"], plan_->stays[i].pending[k].code.code);
      EXPECT_EQ(r["pending"][k]["status"],
                plan_->stays[i].pending[k].interim.empty() ? "registered" : "preliminary");
    }
  }
}

}  // namespace
}  // namespace medscribe::ingest
