// `medscribe discharge`: the discharge-summary scenario. `eval` scores summaries of a cohort's
// inpatient stays (drafts from a file, and the baselines) against the cohort's truth.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "common/files.h"
#include "common/rng.h"
#include "crypto/hmac.h"
#include "eval/discharge.h"
#include "eval/discharge_baselines.h"
#include "ingest/stay_record.h"
#include "ingest/stay_sample.h"
#include "model/discharge_prompt.h"

namespace medscribe::cli {
namespace {

using Json = nlohmann::ordered_json;

struct EvalArgs {
  std::string cohort, drafts, split = "test", out;
  int bootstrap = 1000;
};

// A stay is in the test split when its patient's id hashes to 0 mod 10: about a tenth of the
// stays, a patient's readmissions together.
bool InTestSplit(const std::string& patient_id) { return HashString(patient_id) % 10 == 0; }

eval::BaselineStay BaselineView(const ingest::StayRecord& s) {
  eval::BaselineStay b;
  b.encounter_id = s.encounter.id;
  b.patient_id = s.encounter.subject.id;
  for (const fhir::Condition& c : s.conditions)
    if (!c.code.empty()) b.condition_codes.push_back(c.code[0].code);
  for (const fhir::MedicationRequest& m : s.medication_requests) {
    if (m.medication.empty()) continue;
    b.medication_codes.push_back(m.medication[0].code);
    if (m.category == "community")
      b.home_medications.push_back(m.medication[0].display + " " + m.dosage);
  }
  if (const fhir::DocumentReference* pn = s.LatestNote(ingest::kProgressNoteLoinc))
    b.last_progress_note = pn->text;
  if (s.discharge_summary) b.summary = s.discharge_summary->text;
  return b;
}

// Drafts file: one JSON object per line, {"encounter_id": ..., "text": ...}.
StatusOr<std::map<std::string, std::string>> ReadDrafts(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open drafts file '" + path + "'");
  std::map<std::string, std::string> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("encounter_id") ||
        !j["encounter_id"].is_string() || !j.contains("text") || !j["text"].is_string())
      return InvalidArgumentError(fmt::format(
          "{}:{}: not a draft line (a JSON object with string encounter_id and text)", path, n));
    out[j["encounter_id"].get<std::string>()] = j["text"].get<std::string>();
  }
  return out;
}

Json ScoresJson(const eval::DischargeScores& s) {
  auto interval = [](const eval::Interval& i) {
    return Json{{"value", i.value}, {"low", i.low}, {"high", i.high}};
  };
  return Json{{"stays", s.stays},
              {"problem_coverage", interval(s.problem_coverage)},
              {"problem_mentioned", s.problem_mentioned},
              {"med_rec_f1", interval(s.med_f1)},
              {"med_rec_precision", s.med_precision},
              {"med_rec_recall", s.med_recall},
              {"drug_f1", s.drug_f1},
              {"invented_medication_rate", s.invented_medication_rate},
              {"unsupported_rate", s.unsupported_rate},
              {"statements", s.statements},
              {"follow_up_completeness", s.follow_up_completeness},
              {"pending_recall", s.pending_recall},
              {"rouge_l", s.rouge_l}};
}

int RunEval(const EvalArgs& a) {
  if (a.cohort.empty())
    return ReportError(InvalidArgumentError(
        "--cohort is required: the directory of a `medscribe synth --kind inpatient` cohort"));
  if (a.bootstrap < 10) return ReportError(InvalidArgumentError("--bootstrap must be at least 10"));
  const std::string truth_path = a.cohort + "/truth/stays.jsonl";
  if (!std::filesystem::exists(truth_path))
    return ReportError(NotFoundError(
        a.cohort +
        " is not a cohort of inpatient stays (it has no truth/stays.jsonl): write one "
        "with `medscribe synth --kind inpatient --out DIR`"));
  auto truths = eval::ReadDischargeTruth(truth_path);
  if (!truths.ok()) return ReportError(truths.status());
  auto stays = ingest::ReadStays(a.cohort + "/fhir");
  if (!stays.ok()) return ReportError(stays.status());
  std::map<std::string, const ingest::StayRecord*> by_id;
  for (const ingest::StayRecord& s : *stays) by_id[s.encounter.id] = &s;
  std::map<std::string, std::string> drafts;
  if (!a.drafts.empty()) {
    auto d = ReadDrafts(a.drafts);
    if (!d.ok()) return ReportError(d.status());
    drafts = std::move(*d);
  }
  const eval::DischargeLexicon lexicon = eval::BuildDischargeLexicon(*truths);

  std::vector<eval::BaselineStay> pool;
  std::vector<const eval::DischargeTruth*> evaluated;
  std::vector<eval::BaselineStay> evaluated_views;
  for (const eval::DischargeTruth& t : *truths) {
    auto it = by_id.find(t.encounter_id);
    if (it == by_id.end() || !it->second->discharge_summary)
      return ReportError(FailedPreconditionError(
          "stay " + t.encounter_id +
          " of the truth file has no record with a discharge summary in " + a.cohort +
          "/fhir; the truth and the FHIR files are of different cohorts"));
    const bool test = a.split == "all" || InTestSplit(t.patient_id);
    if (test) {
      evaluated.push_back(&t);
      evaluated_views.push_back(BaselineView(*it->second));
    } else {
      pool.push_back(BaselineView(*it->second));
    }
  }
  if (evaluated.empty())
    return ReportError(FailedPreconditionError(fmt::format(
        "the test split of the {} stays is empty (a tenth of the patients); use --split all or a "
        "larger cohort",
        truths->size())));
  if (a.split == "all") pool = evaluated_views;  // retrieval skips the patient's own stays

  struct Row {
    std::string name;
    eval::DischargeScores scores;
  };
  std::vector<Row> rows;
  auto score = [&](const std::string& name, const std::function<std::string(size_t)>& draft) {
    std::vector<eval::DischargeCase> cases;
    for (size_t i = 0; i < evaluated.size(); ++i)
      cases.push_back({evaluated[i], draft(i), evaluated_views[i].summary});
    rows.push_back({name, eval::ScoreDischarge(cases, lexicon, a.bootstrap)});
  };
  int missing = 0;
  if (!a.drafts.empty()) {
    for (const auto* t : evaluated) missing += !drafts.count(t->encounter_id);
    score("drafts", [&](size_t i) {
      auto it = drafts.find(evaluated[i]->encounter_id);
      return it == drafts.end() ? std::string() : it->second;
    });
  }
  score("extractive", [&](size_t i) { return eval::ExtractiveSummary(evaluated_views[i]); });
  score("retrieval", [&](size_t i) { return eval::RetrievalSummary(evaluated_views[i], pool); });
  score("signed summary", [&](size_t i) { return evaluated_views[i].summary; });

  std::printf("Discharge summaries: %zu stays of %zu (%s split), cohort %s\n", evaluated.size(),
              truths->size(), a.split.c_str(), a.cohort.c_str());
  if (missing > 0)
    std::printf("  %d stays have no draft in %s: scored as empty\n", missing, a.drafts.c_str());
  std::printf(
      "\n| summary | problem coverage [95%% CI] | mentioned | med rec F1 [95%% CI] | P | R | drug "
      "F1 | invented | unsupported | follow-up | pending | ROUGE-L |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    const eval::DischargeScores& s = r.scores;
    std::printf(
        "| %s | %.3f [%.3f, %.3f] | %.3f | %.3f [%.3f, %.3f] | %.3f | %.3f | %.3f | %.3f | %.3f "
        "| %.3f | %.3f | %.3f |\n",
        r.name.c_str(), s.problem_coverage.value, s.problem_coverage.low, s.problem_coverage.high,
        s.problem_mentioned, s.med_f1.value, s.med_f1.low, s.med_f1.high, s.med_precision,
        s.med_recall, s.drug_f1, s.invented_medication_rate, s.unsupported_rate,
        s.follow_up_completeness, s.pending_recall, s.rouge_l);
  }
  std::printf(
      "\nextractive: the last progress note's assessment and plan, home medications continued; "
      "retrieval: the signed summary of the most similar other patient's stay%s; signed summary: "
      "the reference itself (the scorer's check: 1.000 but for ROUGE-L's tokenization).\n",
      a.split == "all" ? "" : " of the training split");
  if (!a.out.empty()) {
    Json j{{"cohort", a.cohort}, {"split", a.split}, {"stays", evaluated.size()}};
    for (const Row& r : rows) j["rows"][r.name] = ScoresJson(r.scores);
    if (Status st = WriteFile(a.out, j.dump(2) + "\n"); !st.ok()) return ReportError(st);
  }
  return kExitOk;
}

struct PromptArgs {
  std::string cohort, stay, deid_key;
  size_t max_chars = model::DischargePromptOptions{}.max_chars;
  bool sources = false;
};

int RunPrompt(const PromptArgs& a, const GlobalOptions& g) {
  if (a.cohort.empty() || a.stay.empty())
    return ReportError(InvalidArgumentError(
        "--cohort and --stay are required: a cohort of inpatient stays and the id of one of its "
        "inpatient Encounters (e.g. stay-000001)"));
  auto stays = ingest::ReadStays(a.cohort + "/fhir");
  if (!stays.ok()) return ReportError(stays.status());
  const ingest::StayRecord* stay = nullptr;
  for (const ingest::StayRecord& s : *stays)
    if (s.encounter.id == a.stay) stay = &s;
  if (!stay)
    return ReportError(NotFoundError("no inpatient stay '" + a.stay + "' in " + a.cohort +
                                     "/fhir (the first is " + stays->front().encounter.id + ")"));
  const std::string key_path = a.deid_key.empty()
                                   ? (std::filesystem::path(g.home) / "keys" / "deid.key").string()
                                   : a.deid_key;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(key_path).parent_path(), ec);
  auto key = crypto::LoadOrCreateKeyFile(key_path);
  if (!key.ok()) return ReportError(key.status());
  auto sample = ingest::AssembleStaySample(*stay, deid::Pseudonymizer(*key));
  if (!sample.ok()) return ReportError(sample.status());
  auto parsed = model::json::Parse(sample->json);
  if (!parsed.ok()) return ReportError(parsed.status());
  model::DischargePromptOptions o;
  o.max_chars = a.max_chars;
  auto prompt = model::BuildDischargePrompt(*parsed, o);
  if (!prompt.ok()) return ReportError(prompt.status());
  std::printf("%s\n", prompt->text.c_str());
  std::fprintf(stderr, "prompt %zu characters (limit %zu); target %zu characters; sample %s\n",
               prompt->text.size(), a.max_chars, prompt->target.size(), sample->key.c_str());
  if (a.sources)
    for (const auto& [tag, ref] : sample->sources)
      std::printf("%s\t%s\n", tag.c_str(), ref.c_str());
  return kExitOk;
}

}  // namespace

Runner RegisterDischarge(CLI::App& app) {
  app.require_subcommand(1);
  auto e = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand(
      "eval", "Score discharge summaries of a cohort's stays beside the baselines");
  ev->add_option("--cohort", e->cohort,
                 "Cohort of inpatient stays (`medscribe synth --kind inpatient`): its fhir/ and "
                 "truth/stays.jsonl")
      ->type_name("DIR");
  ev->add_option("--drafts", e->drafts,
                 "Summaries to score, JSONL: {\"encounter_id\": ..., \"text\": ...} per line")
      ->type_name("FILE");
  ev->add_option("--split", e->split,
                 "test: the stays of a tenth of the patients (the rest are the retrieval "
                 "baseline's pool); all: every stay")
      ->check(CLI::IsMember({"test", "all"}))
      ->capture_default_str();
  ev->add_option("--out", e->out, "Also write the scores as JSON")->type_name("FILE");
  ev->add_option("--bootstrap", e->bootstrap, "Bootstrap resamples for the 95% intervals")
      ->capture_default_str();
  ev->footer(
      "Metrics (docs/evaluation.md, Discharge summaries): problem coverage (each problem's "
      "course paragraph states its outcome), medication reconciliation (drug and change against "
      "the truth's discharge list), invented medications, unsupported statements, follow-up "
      "completeness, pending results, ROUGE-L against the signed summary.");
  auto pa = std::make_shared<PromptArgs>();
  CLI::App* pr = app.add_subcommand(
      "prompt", "Print the prompt a stay becomes (de-identified, with source tags)");
  pr->add_option("--cohort", pa->cohort, "Cohort of inpatient stays (its fhir/)")->type_name("DIR");
  pr->add_option("--stay", pa->stay, "Id of the stay's inpatient Encounter, e.g. stay-000001")
      ->type_name("ID");
  pr->add_option("--deid-key", pa->deid_key, "De-identification key (default: HOME/keys/deid.key)")
      ->type_name("FILE");
  pr->add_option("--max-chars", pa->max_chars, "The prompt's length limit in characters")
      ->check(CLI::Range(1000, 1000000))
      ->capture_default_str();
  pr->add_flag("--sources", pa->sources, "Also print each source tag and the resource it names");
  pr->footer(
      "The prompt is what training and serving give the model (model/discharge_prompt.h): the "
      "record selected and compressed to the limit, every quoted item with its source tag.");
  return [=](GlobalOptions& g) -> int {
    if (pr->parsed()) return RunPrompt(*pa, g);
    return RunEval(*e);
  };
}

}  // namespace medscribe::cli
