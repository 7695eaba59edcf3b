#include "synth/fhir_export.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "synth/cohort.h"
#include "testing/synth_plan.h"

namespace medscribe::synth {
namespace {

TEST(FhirExportTest, PatientCarriesIdentifiersAndDemographics) {
  const Patient p = MakePatient(1, 0);
  const Json j = PatientResource(p);
  EXPECT_EQ(j["resourceType"], "Patient");
  EXPECT_EQ(j["id"], p.id);
  EXPECT_EQ(j["identifier"][0]["value"], p.mrn);
  EXPECT_EQ(j["identifier"][0]["type"]["coding"][0]["code"], "MR");
  EXPECT_EQ(j["birthDate"], p.birth_date.Iso());
  EXPECT_TRUE(j["gender"] == "female" || j["gender"] == "male");
  EXPECT_EQ(j["name"][0]["family"], p.family);
}

TEST(FhirExportTest, EncounterResourcesHaveRequiredElementsCodesAndLinks) {
  const CohortPlan plan = testing::SmallPlan(30, 2);
  for (const Encounter& e : plan.encounters) {
    Rng rng(1);
    const Note note = ComposeNote(e, plan, rng);
    std::vector<std::string> phi;
    const Report report = ComposeReport(e, plan, rng, &phi);
    auto res = EncounterResources(e, plan, note, report);
    const std::string pat_ref = "Patient/" + plan.patients[static_cast<size_t>(e.patient)].id;

    ASSERT_EQ(res["Encounter"].size(), 1u);
    EXPECT_EQ(res["Encounter"][0]["status"], "finished");
    EXPECT_EQ(res["Encounter"][0]["subject"]["reference"], pat_ref);

    const Json& sr = res["ServiceRequest"].at(0);
    const Json& is = res["ImagingStudy"].at(0);
    EXPECT_EQ(sr["identifier"][0]["value"], e.accession);
    EXPECT_EQ(is["identifier"][1]["value"], e.accession);
    EXPECT_EQ(is["identifier"][0]["value"], "urn:oid:" + e.study_uid);
    EXPECT_EQ(is["series"][0]["uid"], e.series_uid);
    EXPECT_EQ(is["series"][0]["instance"][0]["uid"], e.sop_uid);
    EXPECT_EQ(is["basedOn"][0]["reference"], "ServiceRequest/" + sr["id"].get<std::string>());

    ASSERT_EQ(res["Observation"].size(), e.labs.size());
    for (const Json& obs : res["Observation"]) {
      EXPECT_EQ(obs["code"]["coding"][0]["system"], "http://loinc.org");
      EXPECT_EQ(obs["valueQuantity"]["system"], "http://unitsofmeasure.org");
      EXPECT_TRUE(obs["interpretation"][0]["coding"][0]["code"].is_string());
      EXPECT_EQ(obs["encounter"]["reference"], "Encounter/" + e.id);
    }
    // Problem list (first visit, no encounter), working diagnosis before the study, final
    // diagnoses recorded after the report.
    const size_t problems = e.visit == 0 ? e.history.size() : 0;
    ASSERT_EQ(res["Condition"].size(), problems + 1 + e.conditions.size());
    for (const Json& c : res["Condition"]) {
      EXPECT_EQ(c["code"]["coding"][0]["system"], "http://hl7.org/fhir/sid/icd-10-cm");
      const std::string category = c["category"][0]["coding"][0]["code"];
      if (category == "problem-list-item") {
        EXPECT_FALSE(c.contains("encounter"));
        EXPECT_LT(c["onsetDateTime"].get<std::string>(), e.study_time.date.Iso());
        continue;
      }
      ASSERT_EQ(category, "encounter-diagnosis");
      const std::string recorded = c["recordedDate"];
      if (c["verificationStatus"]["coding"][0]["code"] == "provisional") {
        EXPECT_EQ(c["code"]["coding"][0]["code"], e.working_diagnosis.code);
        EXPECT_LT(recorded, e.study_time.Iso() + "Z");
      } else {
        EXPECT_GT(recorded, e.report_time.Iso() + "Z");
      }
    }
    EXPECT_EQ(sr["reasonCode"][0]["text"], e.reason);
    EXPECT_EQ(sr["reasonCode"][0]["coding"][0]["code"], e.working_diagnosis.code);
    EXPECT_EQ(sr["priority"], e.priority);
    for (const Json& p : res["Procedure"])
      EXPECT_EQ(p["code"]["coding"][0]["system"], "http://www.ama-assn.org/go/cpt");

    const Json& doc = res["DocumentReference"].at(0);
    EXPECT_EQ(*Base64Decode(doc["content"][0]["attachment"]["data"].get<std::string>()), note.text);
    const Json& dr = res["DiagnosticReport"].at(0);
    EXPECT_EQ(dr["status"], "final");
    EXPECT_EQ(dr["category"][0]["coding"][0]["code"], "RAD");
    EXPECT_EQ(*Base64Decode(dr["presentedForm"][0]["data"].get<std::string>()), report.Text());
    EXPECT_EQ(dr["imagingStudy"][0]["reference"], "ImagingStudy/" + is["id"].get<std::string>());
  }
}

}  // namespace
}  // namespace medscribe::synth
