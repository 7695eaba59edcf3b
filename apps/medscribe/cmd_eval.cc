// `medscribe eval`: generates reports for a dataset split and scores them against the references,
// beside baselines (most frequent report, nearest-neighbour retrieval) and ablations.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli.h"
#include "common/files.h"
#include "common/progress.h"
#include "eval/clinical.h"
#include "eval/labeler.h"
#include "eval/text_metrics.h"
#include "model/export.h"
#include "model/generate.h"
#include "model/prompt.h"
#include "registry/registry.h"
#include "report_engine.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;

struct EvalArgs {
  std::string model, dataset, split = "test", out, no_image_model, no_dictation_model, truth;
  int limit = 0, max_new_tokens = 256;
};

struct System {
  std::string name;
  std::vector<std::string> reports;
};

StatusOr<std::vector<std::string>> Generate(const std::string& dir,
                                            const std::vector<train::RawSample>& samples,
                                            const model::PromptOptions& po, int max_new,
                                            const std::string& label) {
  ASSIGN_OR_RETURN(ReportEngine e, LoadReportEngine(dir, {}));
  return GenerateReports(e, samples, po, max_new, label);
}

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

int LabelerAccuracy(const std::string& truth_path) {
  // Cohort finding types -> CheXpert classes.
  const std::map<std::string, std::vector<int>> to_class = {{"cardiomegaly", {2}},
                                                            {"pleural_effusion", {10}},
                                                            {"consolidation", {6, 3}},
                                                            {"edema", {5}},
                                                            {"pneumothorax", {9}},
                                                            {"nodule", {4}},
                                                            {"mass", {4}},
                                                            {"atelectasis", {8}},
                                                            {"rib_fracture", {12}},
                                                            {"endotracheal_tube", {13}},
                                                            {"central_line", {13}},
                                                            {"pacemaker", {13}},
                                                            {"chest_tube", {13}}};
  std::ifstream in(truth_path);
  if (!in) return ReportError(NotFoundError("cannot open '" + truth_path + "'"));
  std::vector<eval::Labels> predicted, truth;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("report_text") || !j.contains("findings")) {
      return ReportError(
          InvalidArgumentError(truth_path + " is not a cohort's truth/labels.jsonl"));
    }
    predicted.push_back(eval::LabelReport(j["report_text"].get<std::string>()));
    eval::Labels t;
    bool any = false;
    for (const auto& f : j["findings"]) {
      auto it = to_class.find(f.value("type", ""));
      if (it == to_class.end()) continue;
      for (int c : it->second) {
        t.mention[c] = eval::Mention::kPositive;
        any |= c != 13;
      }
    }
    t.mention[0] = any ? eval::Mention::kAbsent : eval::Mention::kPositive;
    truth.push_back(t);
  }
  const eval::F1Scores f = eval::ClinicalF1(predicted, truth);
  std::printf("labeler vs truth on %zu reports: micro-F1 %.3f  macro-F1 %.3f  (top-5 micro %.3f)\n",
              truth.size(), f.micro, f.macro, f.micro_top5);
  for (int c = 0; c < eval::kNumClasses; ++c) {
    size_t support = 0;
    for (const auto& t : truth) support += t.positive(c);
    if (support)
      std::printf("  %-28s F1 %.3f  (%zu positive)\n", eval::kClassNames[c], f.per_class[c],
                  support);
  }
  std::printf("labeler_micro_f1=%.4f\n", f.micro);
  return kExitOk;
}

int RunEval(GlobalOptions& g, const EvalArgs& a) {
  if (!a.truth.empty()) return LabelerAccuracy(a.truth);
  if (a.model.empty() || a.dataset.empty()) {
    return ReportError(
        InvalidArgumentError("give --model and --dataset (or --truth to check the labeler)"));
  }
  auto dir = ResolveModelDir(g, a.model);
  if (!dir.ok()) return ReportError(dir.status());
  auto split = train::ReadSplit(a.dataset, a.split);
  if (!split.ok()) return ReportError(split.status());
  auto train_split = train::ReadSplit(a.dataset, "train");
  if (!train_split.ok()) return ReportError(train_split.status());
  std::vector<train::RawSample>& samples = split->samples;
  if (a.limit > 0 && samples.size() > static_cast<size_t>(a.limit))
    samples.resize(static_cast<size_t>(a.limit));
  if (samples.empty())
    return ReportError(FailedPreconditionError("the " + a.split + " split is empty"));
  std::vector<std::string> refs;
  for (const auto& s : samples) refs.push_back(model::BuildPrompt(s.sample).value().target);

  std::vector<System> systems;
  auto gen = Generate(*dir, samples, {}, a.max_new_tokens, "generate");
  if (!gen.ok()) return ReportError(gen.status());
  systems.push_back({"model (" + a.model + ")", *gen});
  // Baselines from the training split.
  std::map<std::string, int> freq;
  std::vector<std::pair<std::map<std::string, double>, std::string>> bank;
  for (const auto& s : train_split->samples) {
    const auto p = model::BuildPrompt(s.sample).value();
    ++freq[p.target];
    bank.emplace_back(Bag(p.text), p.target);
  }
  std::string most;
  int best = -1;
  for (const auto& [text, n] : freq) {
    if (n > best) best = n, most = text;
  }
  systems.push_back(
      {"baseline: most frequent report", std::vector<std::string>(samples.size(), most)});
  System retrieval{"baseline: nearest-neighbour retrieval", {}};
  for (const auto& s : samples) {
    const auto q = Bag(model::BuildPrompt(s.sample).value().text);
    double top = -1;
    std::string pick;
    for (const auto& [bag, report] : bank) {
      if (const double c = Cosine(q, bag); c > top) top = c, pick = report;
    }
    retrieval.reports.push_back(pick);
  }
  systems.push_back(std::move(retrieval));
  for (const auto& [flag, ablation] :
       {std::pair{a.no_image_model, "ablation: without the image"},
        std::pair{a.no_dictation_model, "ablation: without the dictation"}}) {
    if (flag.empty()) continue;
    auto d = ResolveModelDir(g, flag);
    if (!d.ok()) return ReportError(d.status());
    model::PromptOptions po;
    if (std::string(ablation).find("image") != std::string::npos)
      po.image = false;
    else
      po.dictation = false;
    auto r = Generate(*d, samples, po, a.max_new_tokens, "ablation");
    if (!r.ok()) return ReportError(r.status());
    systems.push_back({std::string(ablation) + " (" + flag + ")", *r});
  }

  std::vector<eval::Labels> ref_labels;
  for (const auto& r : refs) ref_labels.push_back(eval::LabelReport(r));
  nlohmann::ordered_json report = {
      {"dataset", a.dataset}, {"split", a.split}, {"samples", samples.size()}};
  std::printf("\n%zu reports of the %s split\n", samples.size(), a.split.c_str());
  std::printf("%-44s %6s %6s %6s %6s %7s %6s %6s %6s %6s %6s %6s %6s\n", "system", "BLEU1", "BLEU4",
              "ROUGEL", "CIDErD", "F1mi14", "F1ma14", "F1mi5", "F1ma5", "later", "labs", "compar",
              "");
  for (const System& s : systems) {
    const eval::TextScores t = eval::ScoreTexts(s.reports, refs);
    std::vector<eval::Labels> labels;
    for (const auto& r : s.reports) labels.push_back(eval::LabelReport(r));
    const eval::F1Scores f = eval::ClinicalF1(labels, ref_labels);
    const eval::ClinicalChecks c = eval::CheckReports(s.reports, refs);
    std::printf("%-44s %6.3f %6.3f %6.3f %6.3f %7.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f\n",
                s.name.substr(0, 44).c_str(), t.bleu[0], t.bleu[3], t.rouge_l, t.cider_d, f.micro,
                f.macro, f.micro_top5, f.macro_top5, c.laterality_accuracy, c.lab_integration,
                c.comparison_accuracy);
    report["systems"].push_back({{"name", s.name},
                                 {"bleu", t.bleu},
                                 {"rouge_l", t.rouge_l},
                                 {"cider_d", t.cider_d},
                                 {"f1_micro_14", f.micro},
                                 {"f1_macro_14", f.macro},
                                 {"f1_micro_top5", f.micro_top5},
                                 {"f1_macro_top5", f.macro_top5},
                                 {"laterality_accuracy", c.laterality_accuracy},
                                 {"lab_integration", c.lab_integration},
                                 {"comparison_accuracy", c.comparison_accuracy},
                                 {"comparison_reports", c.comparison_reports}});
  }
  std::printf(
      "(F1: CheXpert labeler on generated vs reference reports, uncertain = positive; later: "
      "laterality "
      "accuracy; labs: impressions addressing an abnormal lab when the reference does; compar: "
      "comparison "
      "with the prior study as in the reference)\n");
  if (!a.out.empty()) {
    if (Status s = WriteFile(a.out, report.dump(2) + "\n"); !s.ok()) return ReportError(s);
  }
  return kExitOk;
}

}  // namespace

Runner RegisterEval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  app.add_option("--model", a->model,
                 "NAME[@VERSION|@ALIAS] from the registry, or a model directory");
  app.add_option("--dataset", a->dataset, "Dataset directory")->type_name("DIR");
  app.add_option("--split", a->split, "Split to evaluate")->capture_default_str();
  app.add_option("--limit", a->limit, "Evaluate at most this many reports (0: all)")
      ->capture_default_str();
  app.add_option("--max-new-tokens", a->max_new_tokens, "Longest generated report")
      ->capture_default_str();
  app.add_option("--no-image-model", a->no_image_model,
                 "Model trained with --no-image, for the ablation row");
  app.add_option("--no-dictation-model", a->no_dictation_model,
                 "Model trained with --no-dictation, for the ablation row");
  app.add_option("--out", a->out, "Also write the scores as JSON")->type_name("FILE");
  app.add_option("--truth", a->truth,
                 "Instead: the labeler's accuracy on a cohort's truth/labels.jsonl")
      ->type_name("FILE");
  return [a](GlobalOptions& g) { return RunEval(g, *a); };
}

}  // namespace medscribe::cli
