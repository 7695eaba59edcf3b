#include "fhir/reader.h"

#include <gtest/gtest.h>

#include "synth/cohort.h"
#include "synth/stay_cohort.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::fhir {
namespace {

TEST(ParseResourceTest, ReadsTheElementsMedScribeUses) {
  auto r = ParseResource(R"({"resourceType":"Observation","id":"obs-1","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"6690-2","display":"WBC"}]},
    "subject":{"reference":"Patient/pat-1"},"encounter":{"reference":"Encounter/enc-1"},
    "effectiveDateTime":"2024-01-02T03:04:05Z",
    "valueQuantity":{"value":17.5,"unit":"10^3/uL","code":"10*3/uL"},
    "interpretation":[{"coding":[{"code":"H"}]}],
    "referenceRange":[{"low":{"value":4},"high":{"value":11}}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& o = std::get<Observation>(*r);
  EXPECT_EQ(o.id, "obs-1");
  EXPECT_EQ(o.subject.type, "Patient");
  EXPECT_EQ(o.subject.id, "pat-1");
  EXPECT_EQ(o.encounter.id, "enc-1");
  EXPECT_EQ(o.code.at(0).code, "6690-2");
  EXPECT_DOUBLE_EQ(*o.value, 17.5);
  EXPECT_EQ(o.unit, "10*3/uL");
  EXPECT_EQ(o.interpretation, "H");
  EXPECT_DOUBLE_EQ(*o.high, 11);
}

TEST(ParseResourceTest, DecodesAttachmentsAndAccessionNumbers) {
  auto doc = ParseResource(R"({"resourceType":"DocumentReference","id":"d","status":"current",
    "subject":{"reference":"Patient/p"},"context":{"encounter":[{"reference":"Encounter/e"}]},
    "content":[{"attachment":{"contentType":"text/plain; charset=utf-8","language":"zh-TW",
    "data":"55eF5Lq65Li76Ki055m854eS"}}]})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(std::get<DocumentReference>(*doc).text, "病人主訴發燒");
  EXPECT_EQ(std::get<DocumentReference>(*doc).encounter.id, "e");
  EXPECT_EQ(std::get<DocumentReference>(*doc).audio, "");
  // A dictation attached as audio: kept as bytes, never as note text; bad base64 is rejected.
  auto dictation = ParseResource(R"({"resourceType":"DocumentReference","id":"a",
    "content":[{"attachment":{"contentType":"audio/wav","data":"UklGRg=="}},
               {"attachment":{"contentType":"text/plain","data":"bm90ZQ=="}}]})");
  ASSERT_TRUE(dictation.ok()) << dictation.status().ToString();
  EXPECT_EQ(std::get<DocumentReference>(*dictation).audio, "RIFF");
  EXPECT_EQ(std::get<DocumentReference>(*dictation).text, "note");
  EXPECT_FALSE(ParseResource(R"({"resourceType":"DocumentReference","id":"b",
    "content":[{"attachment":{"contentType":"audio/wav","data":"%%%"}}]})")
                   .ok());
  auto sr = ParseResource(
      R"({"resourceType":"ServiceRequest","id":"s","status":"completed","intent":"order",
    "identifier":[{"type":{"coding":[{"code":"ACSN"}]},"value":"ACC123"}],"subject":{"reference":"Patient/p"}})");
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(std::get<ServiceRequest>(*sr).accession, "ACC123");
}

TEST(ParseResourceTest, HostileAndMalformedInputIsRejectedWithAReason) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = ParseResource(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("deeper"), std::string::npos) << r.status().message();

  FhirLimits small;
  small.max_resource_bytes = 100;
  EXPECT_EQ(ParseResource(std::string(200, ' '), small).status().code(),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(ParseResource("{not json").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseResource("[1,2]").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseResource(R"({"resourceType":"Patient"})").status().message(),
            "Patient: has no id");
  auto wrong = ParseResource(R"({"resourceType":"Patient","id":"p","birthDate":19560101})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "Patient.birthDate: must be a string");
  auto b64 = ParseResource(
      R"({"resourceType":"DiagnosticReport","id":"r","presentedForm":[{"contentType":"text/plain","data":"%%%"}]})");
  ASSERT_FALSE(b64.ok());
  EXPECT_NE(b64.status().message().find("base64"), std::string::npos);
  EXPECT_EQ(ParseResource("\xff\xfe{}").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseResource(R"({"resourceType":"Medication","id":"m"})").status().code(),
            ErrorCode::kNotFound);
}

TEST(FhirReaderTest, NdjsonAndBundlesReportEveryRejectedLine) {
  FhirReader reader;
  reader.AddNdjson(
      "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n"
      "\n"
      "{broken\n"
      "{\"resourceType\":\"Medication\",\"id\":\"m\"}\n"
      "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"subject\":{\"reference\":\"Patient/"
      "p1\"}}\r\n",
      "a.ndjson");
  reader.AddJson(R"({"resourceType":"Bundle","type":"collection","entry":[
      {"resource":{"resourceType":"Condition","id":"c1","code":{"coding":[{"code":"J90"}]}}},
      {"fullUrl":"x"},
      {"resource":{"resourceType":"Condition"}}]})",
                 "b.json");
  ASSERT_EQ(reader.resources().size(), 3u);
  EXPECT_EQ(ResourceTypeOf(reader.resources()[2]), "Condition");
  EXPECT_EQ(IdOf(reader.resources()[1]), "e1");
  EXPECT_EQ(reader.skipped(), 1u);
  ASSERT_EQ(reader.rejected().size(), 3u);
  EXPECT_EQ(reader.rejected()[0].source, "a.ndjson:3");
  EXPECT_EQ(reader.rejected()[1].source, "b.json#entry1");
  EXPECT_EQ(reader.rejected()[2].reason, "Condition: has no id");
}

TEST(FhirReaderTest, ReadsTheSyntheticCohortCompletely) {
  testing::TempDir tmp;
  auto summary = testing::WriteSmallCohort(tmp / "cohort", 20, 3);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  FhirReader reader;
  ASSERT_TRUE(reader.AddPath((tmp / "cohort" / "fhir").string()).ok());
  EXPECT_TRUE(reader.rejected().empty())
      << reader.rejected()[0].source << ": " << reader.rejected()[0].reason;
  size_t total = 0;
  for (const auto& [type, n] : summary->resources) total += static_cast<size_t>(n);
  EXPECT_EQ(reader.resources().size(), total);
  int reports_with_text = 0;
  for (const Resource& r : reader.resources()) {
    if (const auto* dr = std::get_if<DiagnosticReport>(&r))
      reports_with_text += dr->text.find("IMPRESSION:") != std::string::npos;
  }
  EXPECT_EQ(reports_with_text, 20);
  EXPECT_EQ(reader.AddPath((tmp / "nope").string()).code(), ErrorCode::kNotFound);
}

TEST(ParseResourceTest, ReadsMedicationsAllergiesAndDocumentTypes) {
  auto rx = ParseResource(R"({"resourceType":"MedicationRequest","id":"rx","status":"stopped",
    "intent":"order","category":[{"coding":[{"code":"community"}]}],
    "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm",
    "code":"29046","display":"lisinopril"}]},"subject":{"reference":"Patient/p"},
    "encounter":{"reference":"Encounter/e"},"statusReason":{"text":"held: acute kidney injury"},
    "dosageInstruction":[{"text":"10 mg oral daily"}],
    "reasonReference":[{"reference":"Condition/c1"}]})");
  ASSERT_TRUE(rx.ok()) << rx.status().ToString();
  const auto& m = std::get<MedicationRequest>(*rx);
  EXPECT_EQ(m.status, "stopped");
  EXPECT_EQ(m.category, "community");
  EXPECT_EQ(m.medication.at(0).code, "29046");
  EXPECT_EQ(m.dosage, "10 mg oral daily");
  EXPECT_EQ(m.status_reason, "held: acute kidney injury");
  EXPECT_EQ(m.reasons.at(0).id, "c1");
  EXPECT_EQ(ResourceTypeOf(*rx), "MedicationRequest");

  auto admin = ParseResource(R"({"resourceType":"MedicationAdministration","id":"ma",
    "status":"completed","subject":{"reference":"Patient/p"},"context":{"reference":"Encounter/e"},
    "request":{"reference":"MedicationRequest/rx"},"medicationCodeableConcept":{"coding":[
    {"code":"2193"}]},"effectivePeriod":{"start":"2024-01-01T00:00:00Z",
    "end":"2024-01-01T23:59:00Z"},"dosage":{"text":"1 g intravenous daily"}})");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  const auto& a = std::get<MedicationAdministration>(*admin);
  EXPECT_EQ(a.encounter.id, "e");
  EXPECT_EQ(a.request.id, "rx");
  EXPECT_EQ(a.end, "2024-01-01T23:59:00Z");
  EXPECT_EQ(a.dosage, "1 g intravenous daily");

  auto allergy = ParseResource(R"({"resourceType":"AllergyIntolerance","id":"al",
    "clinicalStatus":{"coding":[{"code":"active"}]},"patient":{"reference":"Patient/p"},
    "code":{"coding":[{"code":"7980","display":"penicillin"}]},
    "reaction":[{"manifestation":[{"text":"hives"}]}]})");
  ASSERT_TRUE(allergy.ok()) << allergy.status().ToString();
  EXPECT_EQ(std::get<AllergyIntolerance>(*allergy).subject.id, "p");
  EXPECT_EQ(std::get<AllergyIntolerance>(*allergy).reactions.at(0), "hives");

  auto doc = ParseResource(R"({"resourceType":"DocumentReference","id":"ds",
    "type":{"coding":[{"system":"http://loinc.org","code":"18842-5"}]},
    "content":[{"attachment":{"contentType":"text/plain","data":"b2s="}}]})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(std::get<DocumentReference>(*doc).type_code, "18842-5");

  // Elements of the wrong type are rejected with their path.
  auto bad = ParseResource(R"({"resourceType":"MedicationRequest","id":"rx","dosageInstruction":
    [{"text":5}]})");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("dosageInstruction[0].text"), std::string::npos)
      << bad.status().message();
}

TEST(FhirReaderTest, ReadsTheInpatientCohortCompletely) {
  testing::TempDir tmp;
  synth::SynthOptions o;
  o.kind = "inpatient";
  o.out_dir = (tmp / "stays").string();
  o.encounters = 15;
  o.speech = false;
  auto summary = synth::WriteCohort(o, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  FhirReader reader;
  ASSERT_TRUE(reader.AddPath((tmp / "stays" / "fhir").string()).ok());
  EXPECT_TRUE(reader.rejected().empty())
      << reader.rejected()[0].source << ": " << reader.rejected()[0].reason;
  size_t total = 0;
  for (const auto& [type, n] : summary->resources) total += static_cast<size_t>(n);
  EXPECT_EQ(reader.resources().size(), total);
  int summaries = 0, home = 0;
  for (const Resource& r : reader.resources()) {
    if (const auto* d = std::get_if<DocumentReference>(&r))
      summaries +=
          d->type_code == "18842-5" && d->text.find("DISCHARGE MEDICATIONS:") != std::string::npos;
    if (const auto* m = std::get_if<MedicationRequest>(&r)) home += m->category == "community";
  }
  EXPECT_EQ(summaries, 15);
  EXPECT_GT(home, 0);
}

}  // namespace
}  // namespace medscribe::fhir
