#include "ingest/sample.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "dicom/dataset.h"

namespace medscribe::ingest {
namespace {

using Json = nlohmann::json;

struct Fixture {
  fhir::Patient patient;
  fhir::Encounter encounter;
  fhir::DiagnosticReport report;
  fhir::Observation lab_in, lab_old, lab_after;
  fhir::Condition device, finding, problem, working, undated;
  fhir::Procedure intubation, later_procedure;
  fhir::ServiceRequest order;
  fhir::DocumentReference note, later_note;
  SampleInputs in;

  Fixture() {
    patient.id = "pat-1";
    patient.gender = "female";
    patient.birth_date = "1930-05-01";
    patient.identifiers = {{"urn:mrn", "MR", "MRN1234567"}};
    patient.names = {{"Lovelace", "", {"Ada"}}};
    encounter.id = "enc-1";
    encounter.service_type = "Emergency Department";
    encounter.class_code = "EMER";
    encounter.start = "2024-03-05T10:00:00Z";
    encounter.subject = {"Patient", "pat-1"};
    report.id = "dr-1";
    report.status = "final";
    report.text = "FINDINGS: Clear lungs. Discussed with Ada Lovelace on 2024-03-05.";
    report.interpreter = "Practitioner/rad-07";
    auto lab = [](const char* code, const char* when, double v) {
      fhir::Observation o;
      o.code = {{"http://loinc.org", code, "lab"}};
      o.effective = when;
      o.value = v;
      o.unit = "u";
      return o;
    };
    lab_in = lab("6690-2", "2024-03-05T08:30:00Z", 17.2);
    lab_old = lab("1988-5", "2024-02-20T08:00:00Z", 3.0);     // 14 days before: outside 72 h
    lab_after = lab("30934-4", "2024-03-05T12:00:00Z", 900);  // after the study
    // The final diagnoses, coded after the report.
    device.code = {{"http://hl7.org/fhir/sid/icd-10-cm", "Z95.0", "pacemaker"}};
    device.category = "encounter-diagnosis";
    device.verification = "confirmed";
    device.recorded = "2024-03-05T18:00:00Z";
    finding = device;
    finding.code = {{"http://hl7.org/fhir/sid/icd-10-cm", "J18.9", "pneumonia"}};
    // Known before the study: the problem list and the order's working diagnosis.
    problem.code = {{"http://hl7.org/fhir/sid/icd-10-cm", "I50.9", "Heart failure, unspecified"}};
    problem.category = "problem-list-item";
    problem.onset = "2019-06-01";
    working.code = {{"http://hl7.org/fhir/sid/icd-10-cm", "R05.9", "Cough, unspecified"}};
    working.category = "encounter-diagnosis";
    working.verification = "provisional";
    working.recorded = "2024-03-05T09:50:00Z";
    undated.code = {{"http://hl7.org/fhir/sid/icd-10-cm", "J93.9", "Pneumothorax"}};
    intubation.code = {{"http://www.ama-assn.org/go/cpt", "31500", "Intubation"}};
    intubation.performed = "2024-03-05T09:00:00Z";
    later_procedure.code = {{"http://www.ama-assn.org/go/cpt", "32551", "Tube thoracostomy"}};
    later_procedure.performed = "2024-03-05T11:30:00Z";
    order.reason = "Cough. Rule out pneumonia. Ada Lovelace called.";
    order.authored_on = "2024-03-05T09:50:00Z";
    order.reason_codes = {{"http://hl7.org/fhir/sid/icd-10-cm", "R05.9", "Cough, unspecified"}};
    note.text = "Ada Lovelace, MRN1234567, seen on 03/05/2024 for cough.";
    note.language = "en";
    note.date = "2024-03-05T09:30:00Z";
    later_note = note;
    later_note.text = "Discharge summary: pneumonia treated.";
    later_note.date = "2024-03-06T09:30:00Z";
    in.patient = &patient;
    in.encounter = &encounter;
    in.report = &report;
    in.observations = {&lab_in, &lab_old, &lab_after};
    in.conditions = {&device, &finding, &problem, &working, &undated};
    in.procedures = {&intubation, &later_procedure};
    in.order = &order;
    in.notes = {&note, &later_note};
    in.transcripts = {"no prior studies ada lovelace"};
    in.image_size = 4;
    SampleImage im;
    im.pixels.assign(16, 0.5f);
    im.deid_dicom = "DICM";
    im.device_model = "AcmeDR 500";
    im.modality = "DX";
    im.study_datetime = "2024-03-05T10:30:00";
    in.images.push_back(im);
  }
};

const deid::Pseudonymizer kP("0123456789abcdef0123456789abcdef");

TEST(SampleTest, FollowsTheSchemaWithPseudonymsAndRelativeTimes) {
  Fixture f;
  auto s = AssembleSample(f.in, kP);
  ASSERT_TRUE(s.ok()) << s.status().message();
  const Json j = Json::parse(s->json);
  EXPECT_EQ(j["key"], kP.Token("encounter", "enc-1"));
  EXPECT_EQ(j["patient_id"], kP.PatientId("MRN1234567"));
  EXPECT_EQ(j["task"], "radiology_report");
  EXPECT_EQ(j["meta"]["department"], "Emergency Department");
  EXPECT_EQ(j["meta"]["device_model"], "AcmeDR 500");
  EXPECT_EQ(j["meta"]["modality_type"], "DX");
  EXPECT_EQ(j["meta"]["annotator_id"], kP.Token("annotator", "Practitioner/rad-07"));
  EXPECT_EQ(j["meta"]["primary_finding"], "J18");  // the Z code is skipped
  // Only the lab 1.5 h before the study is in the window.
  ASSERT_EQ(j["modalities"]["structured"]["labs"].size(), 1u);
  EXPECT_EQ(j["modalities"]["structured"]["labs"][0]["code"], "6690-2");
  EXPECT_DOUBLE_EQ(j["modalities"]["structured"]["labs"][0]["hours_before_study"], 2.0);
  EXPECT_EQ(j["modalities"]["structured"]["patient"]["age"], "90+");
  EXPECT_EQ(j["modalities"]["image"]["shape"], Json::array({1, 4, 4}));
  // The study date is shifted by the patient's offset.
  const int shift = kP.DateShiftDays("MRN1234567");
  EXPECT_LE(shift, -30);
  EXPECT_NE(j["meta"]["date_time"].get<std::string>().substr(0, 10), "2024-03-05");
  EXPECT_EQ(s->dicoms.size(), 1u);
  EXPECT_EQ(s->npy.substr(1, 5), "NUMPY");
}

TEST(SampleTest, HoldsOnlyWhatExistedBeforeTheStudy) {
  Fixture f;
  auto s = AssembleSample(f.in, kP);
  ASSERT_TRUE(s.ok()) << s.status().message();
  const Json j = Json::parse(s->json);
  EXPECT_EQ(j["schema_version"], 2);
  const Json& st = j["modalities"]["structured"];
  std::vector<std::string> codes;
  for (const Json& c : st["conditions"]) {
    codes.push_back(c["code"]);
    EXPECT_GT(c["hours_before_study"].get<double>(), 0) << c;
  }
  // The final diagnoses (recorded after the report) and the undated condition are left out.
  EXPECT_EQ(codes, (std::vector<std::string>{"I50.9", "R05.9"}));
  EXPECT_EQ(st["conditions"][0]["category"], "problem-list-item");
  ASSERT_EQ(st["procedures"].size(), 1u);
  EXPECT_EQ(st["procedures"][0]["code"], "31500");
  EXPECT_EQ(st["order"]["codes"][0]["code"], "R05.9");
  const std::string reason = st["order"]["reason"];
  EXPECT_NE(reason.find("Rule out pneumonia"), std::string::npos);
  EXPECT_EQ(reason.find("Lovelace"), std::string::npos) << reason;
  // The note written after the study stays out; the one before is in.
  EXPECT_EQ(s->json.find("Discharge summary"), std::string::npos);
  EXPECT_NE(s->json.find("for cough"), std::string::npos);
  // The strata still see the final diagnosis.
  EXPECT_EQ(j["meta"]["primary_finding"], "J18");
}

TEST(SampleTest, ScrubsNamesIdentifiersAndDatesFromAllText) {
  Fixture f;
  auto s = AssembleSample(f.in, kP);
  ASSERT_TRUE(s.ok());
  for (const std::string& text : {s->json, s->report}) {
    EXPECT_EQ(text.find("Lovelace"), std::string::npos) << text;
    EXPECT_EQ(text.find("lovelace"), std::string::npos) << text;
    EXPECT_EQ(text.find("MRN1234567"), std::string::npos) << text;
    EXPECT_EQ(text.find("2024-03-05"), std::string::npos) << text;
    EXPECT_EQ(text.find("03/05/2024"), std::string::npos) << text;
    EXPECT_EQ(text.find("1930"), std::string::npos) << text;
  }
  EXPECT_NE(s->report.find("Clear lungs"), std::string::npos);
  EXPECT_NE(s->json.find("no prior studies"), std::string::npos);
}

TEST(SampleTest, RejectsIncompleteInputs) {
  Fixture f;
  f.in.images.clear();
  EXPECT_EQ(AssembleSample(f.in, kP).status().code(), ErrorCode::kInvalidArgument);
  Fixture g;
  g.in.patient = nullptr;
  EXPECT_EQ(AssembleSample(g.in, kP).status().code(), ErrorCode::kInvalidArgument);
  // Without a report: a sample to draft, with an empty target and no annotator.
  Fixture d;
  d.in.report = nullptr;
  auto s = AssembleSample(d.in, kP);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->report, "");
  EXPECT_NE(s->json.find("\"target_report\":\"\""), std::string::npos);
  EXPECT_NE(s->json.find("\"annotator_id\":null"), std::string::npos);
  Fixture h;
  h.in.images[0].pixels.resize(3);
  EXPECT_EQ(AssembleSample(h.in, kP).status().code(), ErrorCode::kInternal);
}

TEST(SampleTest, HelpersForStrataAndAge) {
  fhir::Patient p;
  p.id = "x";
  EXPECT_EQ(PatientKeyOf(p), "fhir:x");
  p.identifiers = {{"", "SS", "123-45-6789"}, {"", "MR", "MRN9"}};
  EXPECT_EQ(PatientKeyOf(p), "MRN9");
  EXPECT_EQ(PrimaryFindingOf({}), "none");
  EXPECT_EQ(AgeAt("2000-06-15", "2024-06-14T10:00:00Z"), "23");
  EXPECT_EQ(AgeAt("2000-06-15", "2024-06-15"), "24");
  EXPECT_EQ(AgeAt("1920-01-01", "2024-06-15"), "90+");
  EXPECT_EQ(AgeAt("garbage", "2024-06-15"), "");
}

// A small CR image whose BurnedInAnnotation is `burned_in`.
std::string ImageBytes(const char* burned_in) {
  dicom::DicomDataset ds;
  EXPECT_TRUE(ds.SetString("SOPClassUID", "1.2.840.10008.5.1.4.1.1.1").ok());
  EXPECT_TRUE(ds.SetString("SOPInstanceUID", "1.2.3.4").ok());
  EXPECT_TRUE(ds.SetString("Modality", "CR").ok());
  EXPECT_TRUE(ds.SetString("PatientID", "MRN1234567").ok());
  EXPECT_TRUE(ds.SetString("StudyDescription", "Chest for Ada Lovelace").ok());
  EXPECT_TRUE(ds.SetString("BurnedInAnnotation", burned_in).ok());
  EXPECT_TRUE(ds.SetString("PhotometricInterpretation", "MONOCHROME2").ok());
  for (auto [k, v] : {std::pair{"Rows", 32},
                      {"Columns", 32},
                      {"SamplesPerPixel", 1},
                      {"BitsAllocated", 16},
                      {"BitsStored", 12},
                      {"HighBit", 11},
                      {"PixelRepresentation", 0}})
    EXPECT_TRUE(ds.SetUint16(k, static_cast<uint16_t>(v)).ok()) << k;
  std::vector<uint16_t> pixels(32 * 32, 1000);
  EXPECT_TRUE(ds.SetPixelData16(pixels, 32, 32).ok());
  auto bytes = ds.ToBytes();
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(PrepareImageTest, BurnedInAnnotationIsRefusedUnlessAllowed) {
  const deid::Pseudonymizer p(std::string(32, 'k'));
  std::string reason;
  auto refused =
      PrepareImageBytes(ImageBytes("YES"), "2024-03-05T10:00:00Z", {16, false}, p, &reason);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(reason, "burned_in_annotation");
  auto allowed =
      PrepareImageBytes(ImageBytes("YES"), "2024-03-05T10:00:00Z", {16, true}, p, &reason);
  EXPECT_TRUE(allowed.ok()) << allowed.status().ToString();
  const deid::TextScrubber scrubber({"Ada Lovelace", "Lovelace"}, 0);
  auto clean = PrepareImageBytes(ImageBytes("NO"), "2024-03-05T10:00:00Z", {16, false, &scrubber},
                                 p, &reason);
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_EQ(clean->pixels.size(), 16u * 16u);
  EXPECT_EQ(clean->deid_dicom.find("Lovelace"), std::string::npos);
  EXPECT_NE(clean->deid_dicom.find("Chest for"), std::string::npos);  // scrubbed, not dropped
}

}  // namespace
}  // namespace medscribe::ingest
