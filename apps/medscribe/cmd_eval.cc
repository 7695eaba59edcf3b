// `medscribe eval`: generates reports for a dataset split and scores them against the references,
// beside baselines (most frequent report, nearest-neighbour retrieval, record-only classifier),
// ablations and, with the cohort's truth, a perfect image reader; or (--truth alone) checks the
// labeler against a cohort's truth.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli.h"
#include "common/files.h"
#include "crypto/hmac.h"
#include "deid/pseudonymizer.h"
#include "eval/bootstrap.h"
#include "eval/clinical.h"
#include "eval/labeler.h"
#include "eval/phrasebook.h"
#include "eval/record_baseline.h"
#include "eval/text_metrics.h"
#include "eval/truth.h"
#include "head_eval.h"
#include "ingest/manifest.h"
#include "model/json.h"
#include "model/prompt.h"
#include "report_engine.h"
#include "train/data.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct EvalArgs {
  std::string model, dataset, split = "test", out, no_image_model, no_dictation_model, truth,
                              deid_key, reports;
  int limit = 0, max_new_tokens = 0, bootstrap = 1000;
  bool free_change = false, free_size = false, free_side = false, free_findings = false,
       free_found = false;
  int reading_views = engine::EngineOptions{}.reading_views;
  double read_beta = 0, read_threshold = 0;  // 0: the model's own reading thresholds
};

struct System {
  std::string name, id;  // id: the key of its headline figure ("model", "no_image", ...)
  std::vector<std::string> reports;
};

// Word-count cosine between prompts (no image): the retrieval baseline.
std::map<std::string, double> Bag(const std::string& text) {
  std::map<std::string, double> b;
  for (const std::string& w : eval::Words(text)) b[w] += 1;
  return b;
}
double Cosine(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (const auto& [k, v] : a) {
    na += v * v;
    if (auto it = b.find(k); it != b.end()) dot += v * it->second;
  }
  for (const auto& [k, v] : b) nb += v * v;
  return na && nb ? dot / std::sqrt(na * nb) : 0;
}

nlohmann::json Nl(const model::json::Value& v) {
  return nlohmann::json::parse(model::json::Dump(v), nullptr, false);
}

std::string Pct(double x) { return std::isfinite(x) ? std::to_string(x).substr(0, 5) : "-"; }

// Per-class counts as {"class": count} for the classes with any.
Json ByClass(const std::array<int, eval::kNumClasses>& counts) {
  Json out = Json::object();
  for (int k = 0; k < eval::kNumClasses; ++k)
    if (counts[k] > 0) out[eval::kClassNames[k]] = counts[k];
  return out;
}

// " Consolidation 6, Lung Opacity 5" (the classes with any), or " none".
std::string MissesText(const std::array<int, eval::kNumClasses>& counts) {
  std::string out;
  for (int k = 0; k < eval::kNumClasses; ++k) {
    if (counts[k] == 0) continue;
    out += (out.empty() ? " " : ", ") + std::string(eval::kClassNames[k]) + " " +
           std::to_string(counts[k]);
  }
  return out.empty() ? " none" : out;
}

void PrintClassTable(const std::vector<std::pair<std::string, eval::F1Scores>>& rows) {
  const eval::F1Scores& first = rows.front().second;
  std::printf("\n%-27s %7s %6s %6s %6s", "class (F1 unless said)", "support", "P", "R",
              rows.front().first.substr(0, 6).c_str());
  for (size_t i = 1; i < rows.size(); ++i) std::printf(" %8s", rows[i].first.substr(0, 8).c_str());
  std::printf("\n");
  for (int c = 0; c < eval::kNumClasses; ++c) {
    std::printf("%-27s %7d", eval::kClassNames[c], first.support[c]);
    if (!first.present[c]) {
      std::printf("  not present in this cohort (left out of macro-F1)\n");
      continue;
    }
    std::printf(" %6.3f %6.3f %6.3f", first.precision[c], first.recall[c], first.per_class[c]);
    for (size_t i = 1; i < rows.size(); ++i) std::printf(" %8.3f", rows[i].second.per_class[c]);
    std::printf("\n");
  }
  std::printf("macro-F1 over the %d classes present; micro-F1 over all 14\n", first.classes_used);
}

int LabelerAccuracy(const std::string& truth_path) {
  auto truth = eval::ReadTruth(truth_path);
  if (!truth.ok()) return ReportError(truth.status());
  std::vector<eval::Labels> predicted, labels;
  for (const eval::TruthRecord& r : *truth) {
    predicted.push_back(eval::LabelReport(r.report_text));
    labels.push_back(r.labels);
  }
  const eval::F1Scores f = eval::ClinicalF1(predicted, labels);
  std::printf(
      "labeler vs truth on %zu reports: micro-F1 %.4f  macro-F1 %.4f (%d classes present)\n",
      truth->size(), f.micro, f.macro, f.classes_used);
  PrintClassTable({{"labeler", f}});
  std::printf("labeler_micro_f1=%.4f labeler_macro_f1=%.4f classes_used=%d\n", f.micro, f.macro,
              f.classes_used);
  return kExitOk;
}

// Truth labels of each sample, joined through the encounter pseudonyms the de-identification
// key gives; FailedPrecondition when the key is not the dataset's or the truth is of another
// cohort.
StatusOr<std::vector<eval::Labels>> JoinTruth(GlobalOptions& g, const EvalArgs& a,
                                              const std::vector<train::RawSample>& samples) {
  ASSIGN_OR_RETURN(std::vector<eval::TruthRecord> truth, eval::ReadTruth(a.truth));
  const std::string key_path =
      a.deid_key.empty() ? (fs::path(g.home) / "keys" / "deid.key").string() : a.deid_key;
  if (!fs::exists(key_path)) {
    return NotFoundError("the de-identification key '" + key_path +
                         "' does not exist; give the key the dataset was ingested with "
                         "(--deid-key) to join it with the truth");
  }
  ASSIGN_OR_RETURN(std::string key, crypto::LoadOrCreateKeyFile(key_path));
  ASSIGN_OR_RETURN(std::string manifest, ReadFile(fs::path(a.dataset) / "manifest.json"));
  const auto m = nlohmann::json::parse(manifest, nullptr, false);
  const std::string want = m.is_object() ? m["settings"]["deid"].value("key_fingerprint", "") : "";
  const std::string have =
      crypto::Hex(crypto::HmacSha256(key, "medscribe key fingerprint")).substr(0, 16);
  if (want != have) {
    return FailedPreconditionError("the de-identification key '" + key_path + "' is not the one " +
                                   a.dataset + " was ingested with (fingerprint " + have +
                                   ", dataset " + want + "); give that key with --deid-key");
  }
  const deid::Pseudonymizer p(key);
  std::map<std::string, const eval::TruthRecord*> by_key;
  for (const eval::TruthRecord& r : truth) by_key[p.Token("encounter", r.encounter_id)] = &r;
  // The FINDINGS line carries no identifier, so de-identification leaves it as it was: a truth
  // record whose FINDINGS differ from the sample's is another cohort's, even with the same ids.
  const auto findings_of = [](const std::string& report) {
    const size_t at = report.find("FINDINGS:");
    return at == std::string::npos ? std::string() : report.substr(at, report.find('\n', at) - at);
  };
  std::vector<eval::Labels> out;
  size_t missing = 0, differ = 0;
  for (const auto& s : samples) {
    auto it = by_key.find(s.key);
    if (it == by_key.end()) {
      ++missing;
      out.emplace_back();
      continue;
    }
    const std::string target = model::BuildPrompt(s.sample).value().target;
    differ += findings_of(target) != findings_of(it->second->report_text);
    out.push_back(it->second->labels);
  }
  if (missing || differ * 10 > samples.size()) {
    return FailedPreconditionError(
        std::to_string(missing) + " of " + std::to_string(samples.size()) +
        " samples have no record in " + a.truth + " and " + std::to_string(differ) +
        " have another report there: the truth file is of another cohort");
  }
  return out;
}

// The inputs (image, dictation) the model at `dir` was trained with (its run.json; a plain model
// directory: all inputs).
StatusOr<model::PromptOptions> TrainedPromptOptions(const std::string& dir) {
  model::PromptOptions po;
  auto text = ReadFile(fs::path(dir) / "run.json");
  if (!text.ok()) return po;  // a plain model directory: the full inputs
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_object() && j.contains("options") && j["options"].is_object()) {
    po.image = j["options"].value("image", true);
    po.dictation = j["options"].value("dictation", true);
  }
  return po;
}

int RunEval(GlobalOptions& g, const EvalArgs& a) {
  if (!a.truth.empty() && a.model.empty() && a.dataset.empty()) return LabelerAccuracy(a.truth);
  if (a.dataset.empty()) {
    return ReportError(InvalidArgumentError(
        "give --dataset (with --model to score a model; or --truth alone to check the labeler)"));
  }
  if (a.bootstrap < 10) return ReportError(InvalidArgumentError("--bootstrap must be at least 10"));
  if (a.reading_views < 1 || a.reading_views > engine::kMaxReadingViews)
    return ReportError(InvalidArgumentError("--reading-views must be between 1 and " +
                                            std::to_string(engine::kMaxReadingViews)));
  if (a.read_beta > 0 && a.read_threshold > 0)
    return ReportError(InvalidArgumentError(
        "--read-beta and --read-threshold both set how findings are read; give one"));
  if ((a.read_beta > 0 || a.read_threshold > 0) && a.model.empty())
    return ReportError(InvalidArgumentError("--read-beta and --read-threshold need --model"));
  StatusOr<std::string> dir = std::string();
  if (!a.model.empty()) dir = ResolveModelDir(g, a.model);
  if (!dir.ok()) return ReportError(dir.status());
  auto dataset_id = ingest::DatasetId(a.dataset);
  if (!dataset_id.ok()) return ReportError(dataset_id.status());
  auto split = train::ReadSplit(a.dataset, a.split);
  if (!split.ok()) return ReportError(split.status());
  auto train_split = train::ReadSplit(a.dataset, "train");
  if (!train_split.ok()) return ReportError(train_split.status());
  auto val_split = train::ReadSplit(a.dataset, "val");
  if (!val_split.ok()) return ReportError(val_split.status());
  std::vector<train::RawSample>& samples = split->samples;
  if (a.limit > 0 && samples.size() > static_cast<size_t>(a.limit))
    samples.resize(static_cast<size_t>(a.limit));
  if (samples.empty())
    return ReportError(FailedPreconditionError("the " + a.split + " split is empty"));
  std::vector<std::string> refs;
  for (const auto& s : samples) refs.push_back(model::BuildPrompt(s.sample).value().target);
  int schema = 1;
  if (const auto* v = samples.front().sample.Find("schema_version"); v && v->is_number())
    schema = static_cast<int>(v->as_double());

  std::vector<eval::Labels> truth;
  if (!a.truth.empty()) {
    auto t = JoinTruth(g, a, samples);
    if (!t.ok()) return ReportError(t.status());
    truth = std::move(t).value();
  }

  std::vector<System> systems;
  std::optional<train::FindingScores> head;
  int max_new = 0;
  if (!a.model.empty()) {
    engine::EngineOptions options;
    options.reading_views = a.reading_views;
    auto engine = LoadReportEngine(*dir, options,
                                   {.constrain_change = !a.free_change,
                                    .state_read_size = !a.free_size,
                                    .state_read_side = !a.free_side,
                                    .state_read_presence = !a.free_findings,
                                    .state_read_found = !a.free_found});
    if (!engine.ok()) return ReportError(engine.status());
    if (Status s = train::CheckDatasetImageSpacing(a.dataset, engine->engine->config().vision);
        !s.ok())
      return ReportError(s);
    std::string reading;  // how the finding head's presence is read, when not as saved
    char buf[64] = "";
    if (a.read_beta > 0) {
      auto t = CalibrateReading(*engine->engine, val_split->samples, a.read_beta);
      if (!t.ok()) return ReportError(t.status());
      std::printf("reading thresholds (F-%.2f on the %zu validation reports):%s\n", a.read_beta,
                  val_split->samples.size(), model::ReadThresholdsText(*t).c_str());
      std::snprintf(buf, sizeof buf, "read at F-%.2f on val", a.read_beta);
    } else if (a.read_threshold > 0) {
      if (Status st = engine->engine->SetReadThresholds(
              std::vector<double>(model::kNumFindingKinds, a.read_threshold));
          !st.ok())
        return ReportError(st);
      std::snprintf(buf, sizeof buf, "read at %.2f", a.read_threshold);
    }
    reading = buf;
    // Generation runs to the end token or past the longest reference, never shorter.
    max_new = GenerationBudget(*engine, refs, a.max_new_tokens);
    // A model trained as an ablation is given the inputs it was trained with.
    auto po = TrainedPromptOptions(*dir);
    if (!po.ok()) return ReportError(po.status());
    auto gen = GenerateReports(*engine, samples, *po, max_new, "generate");
    if (!gen.ok()) return ReportError(gen.status());
    if (engine->engine->config().findings.enabled) {
      auto h = ScoreHeadBesideDraft(*engine->engine, samples, refs, *gen);
      if (!h.ok()) return ReportError(h.status());
      head = std::move(h).value();
    }
    systems.push_back({"model (" + a.model + (a.free_change ? ", change words free" : "") +
                           (a.free_size ? ", sizes free" : "") +
                           (a.free_side ? ", sides free" : "") +
                           (a.free_findings ? ", findings free" : "") +
                           (a.free_found ? ", found findings free" : "") +
                           (a.reading_views != engine::EngineOptions{}.reading_views
                                ? ", sizes over " + std::to_string(a.reading_views) + " views"
                                : "") +
                           (reading.empty() ? "" : ", " + reading) + ")",
                       "model", *gen});
  }
  for (const auto& [flag, id] :
       {std::pair{a.no_image_model, "no_image"}, std::pair{a.no_dictation_model, "no_dictation"}}) {
    if (flag.empty()) continue;
    if (a.model.empty())
      return ReportError(InvalidArgumentError("ablation rows need --model beside them"));
    auto d = ResolveModelDir(g, flag);
    if (!d.ok()) return ReportError(d.status());
    auto po = TrainedPromptOptions(*d);
    if (!po.ok()) return ReportError(po.status());
    const bool image = std::string(id) == "no_image";
    if (image ? po->image : po->dictation) {
      return ReportError(FailedPreconditionError(
          flag + " was trained with the " + (image ? "image" : "dictation") + "; --" +
          (image ? "no-image" : "no-dictation") + "-model needs a model trained with --" +
          (image ? "no-image" : "no-dictation")));
    }
    auto e = LoadReportEngine(*d, {});
    if (!e.ok()) return ReportError(e.status());
    auto r = GenerateReports(*e, samples, *po, max_new, "ablation");
    if (!r.ok()) return ReportError(r.status());
    systems.push_back({std::string("ablation: without the ") + (image ? "image" : "dictation") +
                           " (" + flag + ")",
                       id, *r});
  }

  if (!a.reports.empty()) {
    // What each model wrote, beside the reference, for reading the errors behind the scores.
    const auto write = [&](const std::string& id, const std::vector<std::string>& reports) {
      std::error_code ec;
      fs::create_directories(fs::path(a.reports) / id, ec);
      for (size_t i = 0; i < samples.size(); ++i)
        RETURN_IF_ERROR(
            WriteFile(fs::path(a.reports) / id / (samples[i].key + ".txt"), reports[i]));
      return OkStatus();
    };
    Status st = write("reference", refs);
    for (const System& sys : systems)
      if (st.ok()) st = write(sys.id, sys.reports);
    if (!st.ok()) return ReportError(st);
  }

  // Baselines from the training split.
  std::map<std::string, int> freq;
  std::vector<std::pair<std::map<std::string, double>, std::string>> bank;
  std::vector<std::string> train_reports;
  std::vector<std::vector<std::string>> train_features;
  std::vector<eval::Labels> train_labels;
  for (const auto& s : train_split->samples) {
    const auto p = model::BuildPrompt(s.sample, {.image = false}).value();
    ++freq[p.target];
    bank.emplace_back(Bag(p.text), p.target);
    train_reports.push_back(p.target);
    train_features.push_back(eval::RecordFeatures(Nl(s.sample)));
    train_labels.push_back(eval::LabelReport(p.target));
  }
  std::string most;
  int best = -1;
  for (const auto& [text, n] : freq) {
    if (n > best) best = n, most = text;
  }
  systems.push_back({"baseline: most frequent report", "most_frequent",
                     std::vector<std::string>(samples.size(), most)});
  System retrieval{"baseline: nearest-neighbour retrieval", "retrieval", {}};
  for (const auto& s : samples) {
    const auto q = Bag(model::BuildPrompt(s.sample, {.image = false}).value().text);
    double top = -1;
    std::string pick;
    for (const auto& [bag, report] : bank) {
      if (const double c = Cosine(q, bag); c > top) top = c, pick = report;
    }
    retrieval.reports.push_back(pick);
  }
  systems.push_back(std::move(retrieval));
  const eval::Phrasebook phrases(train_reports);
  if (schema >= 2) {
    std::vector<std::vector<std::string>> val_features;
    std::vector<eval::Labels> val_labels;
    for (const auto& s : val_split->samples) {
      val_features.push_back(eval::RecordFeatures(Nl(s.sample)));
      val_labels.push_back(eval::LabelReport(model::BuildPrompt(s.sample).value().target));
    }
    const bool tune = val_features.size() >= 50;
    const eval::RecordBaseline rb = eval::RecordBaseline::Train(
        train_features, train_labels, tune ? val_features : decltype(val_features){},
        tune ? val_labels : decltype(val_labels){});
    System record{
        "baseline: record only (labs, history, order, notes, dictation)", "record_only", {}};
    for (const auto& s : samples)
      record.reports.push_back(phrases.Write(rb.Predict(eval::RecordFeatures(Nl(s.sample)))));
    systems.push_back(std::move(record));
  } else {
    std::printf(
        "note: no record-only baseline: the dataset's samples (schema %d) carry the encounter's "
        "final diagnoses, which give the answer away; re-synthesize the cohort and ingest it "
        "again\n",
        schema);
  }
  if (!truth.empty()) {
    System perfect{"truth-label report (perfect image reader)", "truth_report", {}};
    for (const eval::Labels& t : truth) perfect.reports.push_back(phrases.Write(t));
    systems.push_back(std::move(perfect));
  }

  // Scores, with 95% bootstrap intervals over the same resamples for every system.
  std::vector<eval::Labels> ref_labels;
  for (const auto& r : refs) ref_labels.push_back(eval::LabelReport(r));
  const auto resamples = eval::Resamples(samples.size(), a.bootstrap, 20261204);
  Json report = {{"dataset", a.dataset},
                 {"dataset_id", *dataset_id},
                 {"split", a.split},
                 {"samples", samples.size()},
                 {"max_new_tokens", max_new},
                 {"bootstrap_replicates", a.bootstrap},
                 {"truth", a.truth.empty() ? Json(nullptr) : Json(a.truth)}};
  std::printf("\n%zu reports of the %s split; 95%% bootstrap intervals over %d resamples\n",
              samples.size(), a.split.c_str(), a.bootstrap);
  std::printf("%-46s %-19s %-19s %6s %6s %6s %6s %6s %6s %-19s %6s\n", "system", "F1 micro-14",
              "F1 macro", "F1mi5", "later", "sever", "size", "device", "labs", "comparison",
              "halluc");
  std::vector<std::pair<std::string, eval::F1Scores>> class_rows;
  std::string headline, model_misses;
  for (const System& s : systems) {
    std::vector<eval::Labels> labels;
    for (const auto& r : s.reports) labels.push_back(eval::LabelReport(r));
    const eval::F1Scores f = eval::ClinicalF1(labels, ref_labels);
    const auto each = eval::CheckEach(s.reports, refs, truth.empty() ? nullptr : &truth);
    const eval::ClinicalChecks c = eval::Aggregate(each);
    std::vector<double> micro, macro, later, cmp, halluc;
    for (const auto& idx : resamples) {
      std::vector<eval::Labels> gl, rl;
      for (size_t i : idx) gl.push_back(labels[i]), rl.push_back(ref_labels[i]);
      const eval::F1Scores fr = eval::ClinicalF1(gl, rl);
      micro.push_back(fr.micro);
      macro.push_back(fr.macro);
      const eval::ClinicalChecks cr = eval::Aggregate(each, &idx);
      later.push_back(cr.laterality_accuracy);
      cmp.push_back(cr.comparison_accuracy);
      halluc.push_back(cr.hallucination_rate);
    }
    const eval::Interval mi = eval::PercentileInterval(f.micro, micro);
    const eval::Interval ma = eval::PercentileInterval(f.macro, macro);
    const eval::Interval la = eval::PercentileInterval(c.laterality_accuracy, later);
    const eval::Interval co = eval::PercentileInterval(c.comparison_accuracy, cmp);
    const eval::Interval ha = eval::PercentileInterval(c.hallucination_rate, halluc);
    auto ci = [](const eval::Interval& v) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.3f [%.3f,%.3f]", v.value, v.low, v.high);
      return std::string(buf);
    };
    std::printf("%-46s %-19s %-19s %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %-19s %6.3f\n",
                s.name.substr(0, 46).c_str(), ci(mi).c_str(), ci(ma).c_str(), f.micro_top5,
                c.laterality_accuracy, c.severity_accuracy, c.size_accuracy, c.device_accuracy,
                c.lab_integration, ci(co).c_str(), c.hallucination_rate);
    const eval::TextScores t = eval::ScoreTexts(s.reports, refs);
    auto interval = [](const eval::Interval& v) { return Json::array({v.value, v.low, v.high}); };
    Json per_class = Json::object();
    for (int k = 0; k < eval::kNumClasses; ++k) {
      per_class[eval::kClassNames[k]] = f.present[k] ? Json{{"precision", f.precision[k]},
                                                            {"recall", f.recall[k]},
                                                            {"f1", f.per_class[k]},
                                                            {"support", f.support[k]}}
                                                     : Json("not present in this cohort");
    }
    report["systems"].push_back({{"name", s.name},
                                 {"id", s.id},
                                 {"f1_micro_14", interval(mi)},
                                 {"f1_macro", interval(ma)},
                                 {"classes_used", f.classes_used},
                                 {"f1_micro_top5", f.micro_top5},
                                 {"f1_macro_top5", f.macro_top5},
                                 {"laterality", interval(la)},
                                 {"laterality_pairs", c.laterality_pairs},
                                 {"severity", c.severity_accuracy},
                                 {"severity_pairs", c.severity_pairs},
                                 {"lesion_size_2mm", c.size_accuracy},
                                 {"lesion_size_reports", c.size_reports},
                                 {"devices", c.device_accuracy},
                                 {"device_reports", c.device_reports},
                                 {"lab_integration", c.lab_integration},
                                 {"lab_reports", c.lab_reports},
                                 {"comparison", interval(co)},
                                 {"comparison_reports", c.comparison_reports},
                                 {"hallucination_rate", interval(ha)},
                                 {"asserted_findings", c.asserted},
                                 {"laterality_missed_by_class", ByClass(c.side_missed)},
                                 {"made_up_by_class", ByClass(c.made_up_by)},
                                 {"bleu", t.bleu},
                                 {"rouge_l", t.rouge_l},
                                 {"cider_d", t.cider_d},
                                 {"per_class", per_class}});
    class_rows.emplace_back(s.id, f);
    if (headline.empty() && s.id != "model") headline = "model=none";
    if (s.id == "model") {
      model_misses = "the model's laterality misses by class:" + MissesText(c.side_missed) +
                     "\nits made-up assertions by class:" + MissesText(c.made_up_by) + "\n";
      headline += "micro_f1=" + Pct(f.micro) + " micro_f1_low=" + Pct(mi.low) +
                  " macro_f1=" + Pct(f.macro) + " laterality=" + Pct(c.laterality_accuracy) +
                  " comparison=" + Pct(c.comparison_accuracy) + " size=" + Pct(c.size_accuracy) +
                  " hallucination=" + Pct(c.hallucination_rate);
    } else if (s.id != "most_frequent") {
      headline += " " + s.id + "_micro_f1=" + Pct(f.micro);
    }
  }
  std::printf("\n%-46s %6s %6s %6s %6s %6s\n", "system", "BLEU1", "BLEU4", "ROUGEL", "CIDErD",
              "chars");
  for (const System& s : systems) {
    const eval::TextScores t = eval::ScoreTexts(s.reports, refs);
    size_t chars = 0;
    for (const auto& r : s.reports) chars += r.size();
    std::printf("%-46s %6.3f %6.3f %6.3f %6.3f %6zu\n", s.name.substr(0, 46).c_str(), t.bleu[0],
                t.bleu[3], t.rouge_l, t.cider_d, chars / s.reports.size());
  }
  PrintClassTable(class_rows);
  std::printf(
      "(F1: labeler on generated vs reference reports, uncertain = positive; later: laterality; "
      "sever: severity; size: nodule/mass within 2 mm; device: same support devices; labs: "
      "impressions addressing a lab when the reference does; comparison: change against the "
      "prior study; halluc: asserted findings neither the reference nor the truth has)\n");
  std::fputs(model_misses.c_str(), stdout);
  if (head) {
    PrintHeadBesideDraft(*head);
    report["finding_head"] = HeadBesideDraftJson(*head);
  }
  const std::string text = report.dump(2) + "\n";
  if (!a.out.empty()) {
    if (Status s = WriteFile(a.out, text); !s.ok()) return ReportError(s);
  }
  // Beside a registered model, so that its evaluations travel with it (not part of the signed
  // manifest: an evaluation is a statement about the model, not the model).
  if (!dir->empty() && fs::exists(fs::path(*dir) / "manifest.sig")) {
    const fs::path evals = fs::path(*dir) / "evaluations";
    std::error_code ec;
    fs::create_directories(evals, ec);
    const fs::path where = evals / (dataset_id->substr(0, 12) + "-" + a.split + ".json");
    if (Status s = WriteFile(where, text); s.ok())
      std::printf("evaluation written to %s\n", where.string().c_str());
    else
      std::fprintf(stderr, "note: could not write %s: %s\n", where.string().c_str(),
                   s.message().c_str());
  }
  std::printf("%s\n", headline.c_str());
  return kExitOk;
}

}  // namespace

Runner RegisterEval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  app.add_option("--model", a->model,
                 "NAME[@VERSION|@ALIAS] from the registry, or a model directory (without it: "
                 "the baselines only)");
  app.add_option("--dataset", a->dataset, "Dataset directory")->type_name("DIR");
  app.add_option("--split", a->split, "Split to evaluate")->capture_default_str();
  app.add_option("--limit", a->limit, "Evaluate at most this many reports (0: all)")
      ->capture_default_str();
  app.add_option("--max-new-tokens", a->max_new_tokens,
                 "Longest generated report (0: the longest reference plus 48 tokens; a smaller "
                 "value is raised to that)")
      ->capture_default_str();
  app.add_option("--no-image-model", a->no_image_model,
                 "Model trained with --no-image, for the ablation row");
  app.add_option("--no-dictation-model", a->no_dictation_model,
                 "Model trained with --no-dictation, for the ablation row");
  app.add_flag("--free-change", a->free_change,
               "Let the model choose its change words: no constraint to the change the "
               "dictation states (measures what the decoder reads by itself)");
  app.add_flag("--free-size", a->free_size,
               "Let the model write its own lesion sizes instead of stating the size its image "
               "reading measured (measures what the decoder copies by itself)");
  app.add_flag("--free-side", a->free_side,
               "Let the model write its own sides (right, left, bilateral) instead of stating "
               "the side its image reading found for each lung finding it read");
  app.add_flag("--free-findings", a->free_findings,
               "Keep the sentences that assert image findings the model's image reading did not "
               "find (measures what the decoder asserts by itself)");
  app.add_flag("--free-found", a->free_found,
               "Leave drafts that omit or deny image findings the model's image reading found "
               "as written, instead of stating those findings at the end of the FINDINGS section "
               "(measures what the decoder states by itself)");
  app.add_option("--read-beta", a->read_beta,
                 "Read the model's findings at the thresholds that maximize F-beta on the "
                 "dataset's val split instead of the thresholds it was trained with (below 1 "
                 "favours precision); 0: the model's own")
      ->check(CLI::Range(0.0, 4.0));
  app.add_option("--read-threshold", a->read_threshold,
                 "Read every finding of the model at this probability instead of its own "
                 "thresholds (e.g. 0.5: uncalibrated); 0: the model's own")
      ->check(CLI::Range(0.0, 0.99));
  app.add_option("--reading-views", a->reading_views,
                 "Read a lesion's size as the mean over this many shifted views of each image "
                 "(1: the image alone; up to 9)")
      ->capture_default_str();
  app.add_option("--out", a->out, "Also write the scores as JSON")->type_name("FILE");
  app.add_option("--reports", a->reports,
                 "Also write each model's reports and the references as DIR/<system>/<key>.txt")
      ->type_name("DIR");
  app.add_option("--truth", a->truth,
                 "The cohort's truth/labels.jsonl: with --model and --dataset, adds the "
                 "perfect-image-reader row and truth to the hallucination rate; alone, checks "
                 "the labeler against the truth")
      ->type_name("FILE");
  app.add_option("--deid-key", a->deid_key,
                 "The de-identification key the dataset was ingested with, to join it with "
                 "--truth (default: HOME/keys/deid.key)")
      ->type_name("FILE");
  app.add_option("--bootstrap", a->bootstrap, "Bootstrap resamples for the 95% intervals")
      ->capture_default_str();
  return [a](GlobalOptions& g) { return RunEval(g, *a); };
}

}  // namespace medscribe::cli
