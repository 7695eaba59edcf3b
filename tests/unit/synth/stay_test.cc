#include "synth/stay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/files.h"
#include "synth/discharge_summary.h"
#include "synth/stay_cohort.h"
#include "synth/stay_fhir.h"
#include "synth/stay_notes.h"
#include "testing/temp_dir.h"

namespace medscribe::synth {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

SynthOptions Options(const fs::path& out, int stays, int jobs = 2) {
  SynthOptions o;
  o.kind = "inpatient";
  o.out_dir = out.string();
  o.encounters = stays;
  o.seed = 5;
  o.speech = false;
  o.jobs = jobs;
  return o;
}

const InpatientPlan& Plan() {
  static const InpatientPlan plan = PlanInpatientCohort(Options("unused", 400));
  return plan;
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::string Summary(const Stay& s) {
  Rng rng(9);
  return ComposeDischargeSummary(s, Plan().patients[static_cast<size_t>(s.patient)],
                                 Plan().clinicians, rng)
      .text;
}

TEST(StayTest, PlansEveryAcuteProblemWithinTheBoundsOfAStay) {
  std::set<Acute> principals;
  for (const Stay& s : Plan().stays) {
    ASSERT_FALSE(s.problems.empty());
    EXPECT_TRUE(s.problems.front().principal && s.problems.front().acute) << s.id;
    EXPECT_GE(s.days, 2) << s.id;
    EXPECT_LE(s.days, 14) << s.id;
    EXPECT_EQ(s.discharged.date, AddDays(s.admitted.date, s.days)) << s.id;
    principals.insert(s.problems.front().kind);
    for (const StayProblem& pr : s.problems) EXPECT_FALSE(pr.course.empty()) << s.id;
  }
  // 400 stays draw every principal problem (hypokalemia is only ever secondary).
  EXPECT_EQ(principals.size(), static_cast<size_t>(kNumAcute - 1));
}

TEST(StayTest, SamePlanGivesTheSameSummary) {
  const InpatientPlan again = PlanInpatientCohort(Options("unused", 400));
  for (size_t i = 0; i < 20; ++i) {
    Rng a(3), b(3);
    const Stay& s = Plan().stays[i];
    const Patient& p = Plan().patients[static_cast<size_t>(s.patient)];
    EXPECT_EQ(ComposeDischargeSummary(s, p, Plan().clinicians, a).text,
              ComposeDischargeSummary(again.stays[i], p, again.clinicians, b).text);
  }
}

TEST(StayTest, KeyAnalyteIsAbnormalOnAdmissionAndRecovers) {
  // The lab the course quotes for a problem starts outside its range and ends nearer to it.
  auto distance = [](const LabSpec& spec, double v) {
    return v > spec.high ? v - spec.high : v < spec.low ? spec.low - v : 0.0;
  };
  int checked = 0;
  for (const Stay& s : Plan().stays) {
    const StayProblem& pr = s.problems.front();
    std::string_view key = pr.kind == Acute::kKidneyInjury    ? "creatinine"
                           : pr.kind == Acute::kGiBleed       ? "hemoglobin"
                           : pr.kind == Acute::kHyperglycemia ? "glucose"
                                                              : "";
    if (key.empty()) continue;
    for (const LabSeries& ls : s.labs) {
      if (ls.spec->key != key) continue;
      EXPECT_NE(ls.First().flag, 'N') << s.id << " " << key;
      EXPECT_LT(distance(*ls.spec, ls.Last().value), distance(*ls.spec, ls.First().value))
          << s.id << " " << key;
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);
}

TEST(StayTest, SummaryStatesEveryProblemAndEveryDischargeMedication) {
  for (const Stay& s : Plan().stays) {
    const std::string text = Summary(s);
    size_t at = 0;
    for (std::string_view section : DischargeSections()) {
      const size_t next = text.find("\n" + std::string(section) + ":\n", at);
      ASSERT_NE(next, std::string::npos) << s.id << ": no section " << section;
      at = next + 1;
    }
    for (const StayProblem& pr : s.problems) {
      std::string phrase = pr.phrase;
      phrase[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(phrase[0])));
      EXPECT_TRUE(Contains(text, phrase)) << s.id << ": " << phrase;
    }
    const std::string meds = text.substr(text.find("DISCHARGE MEDICATIONS:"));
    for (const DischargeMed& m : s.discharge_meds)
      EXPECT_TRUE(Contains(meds, MedicationLine(m))) << s.id << ": " << MedicationLine(m);
  }
}

TEST(StayTest, InpatientOnlyDrugsNeverReachTheDischargeList) {
  for (const Stay& s : Plan().stays) {
    for (const DischargeMed& m : s.discharge_meds) {
      EXPECT_NE(m.route, "intravenous") << s.id << " " << m.drug->key;
      for (std::string_view key : {"enoxaparin", "ceftriaxone", "cefazolin", "vancomycin",
                                   "methylprednisolone", "diltiazem", "insulin_regular"})
        EXPECT_NE(m.drug->key, key) << s.id;
    }
  }
}

TEST(StayTest, ChangesHaveAReasonAndStopsWereHomeMedications) {
  int stopped = 0, changed = 0;
  for (const Stay& s : Plan().stays) {
    for (const DischargeMed& m : s.discharge_meds) {
      const bool home = std::any_of(s.home_meds.begin(), s.home_meds.end(),
                                    [&](const MedOrder& h) { return h.drug == m.drug; });
      EXPECT_EQ(home, m.change != MedChange::kNew) << s.id << " " << m.drug->key;
      if (m.change == MedChange::kContinued) continue;
      EXPECT_FALSE(m.reason.empty()) << s.id << " " << m.drug->key;
      if (m.change == MedChange::kChanged) {
        ++changed;
        EXPECT_FALSE(m.previous.empty());
        EXPECT_NE(m.previous, m.dose + " " + m.frequency) << s.id;
      }
      stopped += m.change == MedChange::kStopped;
    }
  }
  EXPECT_GT(stopped, 10);
  EXPECT_GT(changed, 5);
}

TEST(StayTest, PenicillinAllergyGetsNoBetaLactam) {
  int allergic = 0;
  for (const Stay& s : Plan().stays) {
    if (s.allergies.empty() || s.allergies.front().substance != "penicillin") continue;
    ++allergic;
    for (const MedOrder& m : s.inpatient_meds)
      for (std::string_view key : {"amoxicillin", "ceftriaxone", "cefazolin", "cephalexin"})
        EXPECT_NE(m.drug->key, key) << s.id;
    for (const DischargeMed& m : s.discharge_meds)
      for (std::string_view key : {"amoxicillin", "cephalexin"})
        EXPECT_NE(m.drug->key, key) << s.id;
  }
  EXPECT_GT(allergic, 30);
}

TEST(StayTest, NotesPlantTheirPhiVerbatimAndSomeAreInChinese) {
  int zh = 0;
  for (size_t i = 0; i < 120; ++i) {
    const Stay& s = Plan().stays[i];
    const Patient& p = Plan().patients[static_cast<size_t>(s.patient)];
    Rng rng(11);
    std::vector<Note> notes = {ComposeAdmissionNote(s, p, Plan().clinicians, rng)};
    for (int d = 1; d < s.days; ++d)
      notes.push_back(ComposeProgressNote(s, d, p, Plan().clinicians, rng));
    for (const Consult& c : s.consults)
      notes.push_back(ComposeConsultNote(s, c, p, Plan().clinicians, rng));
    notes.push_back(ComposeDischargeDictation(s, p, Plan().clinicians, rng));
    for (const Note& n : notes) {
      EXPECT_FALSE(n.phi.empty()) << s.id;
      for (const std::string& phi : n.phi)
        EXPECT_TRUE(Contains(n.text, phi)) << s.id << ": " << phi;
      zh += n.language == "zh-TW";
      if (n.language == "zh-TW") {
        EXPECT_TRUE(Contains(n.text, p.ZhName())) << s.id;
      }
    }
    EXPECT_TRUE(Contains(notes.front().text, p.mrn));
  }
  EXPECT_GT(zh, 0);
}

// Reads every NDJSON file of a written cohort.
std::map<std::string, std::vector<Json>> ReadFhir(const fs::path& root) {
  std::map<std::string, std::vector<Json>> out;
  for (const std::string& type : StayResourceTypes()) {
    std::istringstream in(*ReadFile(root / "fhir" / (type + ".ndjson")));
    for (std::string line; std::getline(in, line);) out[type].push_back(Json::parse(line));
  }
  return out;
}

void CollectReferences(const Json& j, std::vector<std::string>& refs) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "reference" && it->is_string()) refs.push_back(it->get<std::string>());
      CollectReferences(*it, refs);
    }
  } else if (j.is_array()) {
    for (const Json& e : j) CollectReferences(e, refs);
  }
}

TEST(StayCohortTest, WritesResolvableFhirTruthAndSummaries) {
  medscribe::testing::TempDir tmp;
  auto summary = WriteInpatientCohort(Options(tmp.path() / "c", 30), nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->encounters, 30);
  const auto fhir = ReadFhir(tmp.path() / "c");
  std::set<std::string> ids;
  for (const auto& [type, resources] : fhir)
    for (const Json& r : resources)
      EXPECT_TRUE(ids.insert(type + "/" + r["id"].get<std::string>()).second);
  std::vector<std::string> refs;
  for (const auto& [type, resources] : fhir)
    for (const Json& r : resources) CollectReferences(r, refs);
  ASSERT_FALSE(refs.empty());
  for (const std::string& ref : refs) EXPECT_TRUE(ids.count(ref)) << "unresolved " << ref;

  // Each truth line names its summary, a DocumentReference of LOINC 18842-5 whose medication
  // section lists the truth's discharge medications.
  std::istringstream truth(*ReadFile(tmp.path() / "c" / "truth" / "stays.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(truth, line); ++lines) {
    const Json t = Json::parse(line);
    const std::string doc = t["summary_document"].get<std::string>();
    ASSERT_TRUE(ids.count(doc)) << doc;
    for (const Json& d : fhir.at("DocumentReference")) {
      if ("DocumentReference/" + d["id"].get<std::string>() != doc) continue;
      EXPECT_EQ(d["type"]["coding"][0]["code"], std::string(kDischargeSummaryLoinc));
      const std::string text =
          *Base64Decode(d["content"][0]["attachment"]["data"].get<std::string>());
      for (const Json& m : t["discharge_medications"])
        EXPECT_TRUE(Contains(text, m["name"].get<std::string>())) << doc;
      // The patient's record number is in the summary, and the truth lists it as PHI.
      bool mrn = false;
      for (const Json& phi : t["phi"]) {
        const std::string v = phi.get<std::string>();
        mrn = mrn || (v.rfind("MRN", 0) == 0 && Contains(text, v));
      }
      EXPECT_TRUE(mrn) << doc;
    }
    // A new medication continues an order active at discharge in the record.
    for (const Json& m : t["discharge_medications"]) {
      if (m["change"] != "new") continue;
      bool active = false;
      for (const Json& r : fhir.at("MedicationRequest"))
        active = active || (r.contains("encounter") &&
                            r["encounter"]["reference"] ==
                                "Encounter/" + t["encounter_id"].get<std::string>() &&
                            r["status"] == "active" &&
                            r["medicationCodeableConcept"]["coding"][0]["code"] == m["rxnorm"]);
      EXPECT_TRUE(active) << t["encounter_id"] << " " << m["drug"];
    }
  }
  EXPECT_EQ(lines, 30);
}

TEST(StayCohortTest, SameSeedIsByteIdenticalWhateverTheThreadCount) {
  medscribe::testing::TempDir tmp;
  ASSERT_TRUE(WriteInpatientCohort(Options(tmp.path() / "a", 12, 1), nullptr).ok());
  ASSERT_TRUE(WriteInpatientCohort(Options(tmp.path() / "b", 12, 2), nullptr).ok());
  for (const char* f : {"truth/stays.jsonl", "fhir/DocumentReference.ndjson",
                        "fhir/Observation.ndjson", "cohort.json"})
    EXPECT_EQ(*ReadFile(tmp.path() / "a" / f), *ReadFile(tmp.path() / "b" / f)) << f;
}

TEST(StayCohortTest, RefusesRadiologyOptionsAndUnknownKinds) {
  SynthOptions o = Options("out", 5);
  o.departments = {"ED"};
  EXPECT_EQ(ValidateOptions(o).code(), ErrorCode::kInvalidArgument);
  o.departments.clear();
  o.kind = "outpatient";
  const Status st = ValidateOptions(o);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(st.message(), "--kind")) << st.message();
}

}  // namespace
}  // namespace medscribe::synth
