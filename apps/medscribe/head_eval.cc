#include "head_eval.h"

#include <cstdio>

#include "finding_labels.h"
#include "model/prompt.h"

namespace medscribe::cli {

StatusOr<train::FindingScores> ScoreHeadBesideDraft(engine::Engine& engine,
                                                    const std::vector<train::RawSample>& samples,
                                                    const std::vector<std::string>& references,
                                                    const std::vector<std::string>& drafts) {
  const ReportFindingLabeler labeler;
  train::FindingScorer scorer;
  for (size_t i = 0; i < samples.size(); ++i) {
    ASSIGN_OR_RETURN(torch::Tensor p, engine.FindingProbabilities(samples[i].image));
    scorer.Add(p, labeler.Targets(drafts[i]), labeler.Targets(references[i]));
  }
  return scorer.Result();
}

StatusOr<std::vector<double>> CalibrateReading(engine::Engine& engine,
                                               const std::vector<train::RawSample>& samples,
                                               double beta) {
  RETURN_IF_ERROR(engine.SetReadThresholds(std::vector<double>(model::kNumFindingKinds, 0.5)));
  const ReportFindingLabeler labeler;
  std::vector<torch::Tensor> present, labels;
  for (const train::RawSample& s : samples) {
    ASSIGN_OR_RETURN(torch::Tensor p, engine.FindingProbabilities(s.image));
    present.push_back(p.select(1, model::kPresent));
    ASSIGN_OR_RETURN(const model::Prompt prompt, model::BuildPrompt(s.sample));
    const model::FindingTargets t = labeler.Targets(prompt.target);
    labels.push_back(torch::tensor(std::vector<float>(t.begin(), t.end()))
                         .view({model::kNumFindingKinds, model::kFieldsPerKind})
                         .select(1, model::kPresent));
  }
  if (samples.empty()) return std::vector<double>(model::kNumFindingKinds, 0.5);
  const std::vector<double> thresholds =
      model::CalibrateReadThresholds(torch::stack(present), torch::stack(labels), beta);
  RETURN_IF_ERROR(engine.SetReadThresholds(thresholds));
  return thresholds;
}

void PrintHeadBesideDraft(const train::FindingScores& s) {
  const auto rate = [](int ok, int n) { return n > 0 ? static_cast<double>(ok) / n : 0.0; };
  std::printf(
      "\nfinding head beside the draft (labels read from the reference reports; side: of the "
      "findings both name; FP: reports that do not name the kind)\n%-18s %7s %7s %8s %7s %8s "
      "%15s %15s\n",
      "kind", "support", "head F1", "draft F1", "head FP", "draft FP", "head side", "draft side");
  for (const train::FindingKindScores& k : s.kinds) {
    std::printf("%-18s %7d %7.3f %8.3f %7d %8d %6.3f (%3d/%3d) %6.3f (%3d/%3d)\n", k.kind.c_str(),
                k.support, k.head_f1, k.draft_f1, k.head_fp, k.draft_fp,
                rate(k.head_side_ok, k.head_side_pairs), k.head_side_ok, k.head_side_pairs,
                rate(k.draft_side_ok, k.draft_side_pairs), k.draft_side_ok, k.draft_side_pairs);
  }
  std::printf("lesion size within 2 mm: head %.3f (%d/%d), draft %.3f (%d/%d)\n",
              rate(s.head_size_ok, s.size_reports), s.head_size_ok, s.size_reports,
              rate(s.draft_size_ok, s.size_reports), s.draft_size_ok, s.size_reports);
}

nlohmann::ordered_json HeadBesideDraftJson(const train::FindingScores& s) {
  nlohmann::ordered_json kinds = nlohmann::ordered_json::object();
  for (const train::FindingKindScores& k : s.kinds) {
    kinds[k.kind] = {{"support", k.support},
                     {"head_f1", k.head_f1},
                     {"draft_f1", k.draft_f1},
                     {"head_fp", k.head_fp},
                     {"draft_fp", k.draft_fp},
                     {"head_side", {k.head_side_ok, k.head_side_pairs}},
                     {"draft_side", {k.draft_side_ok, k.draft_side_pairs}}};
  }
  return {{"kinds", kinds},
          {"lesion_size_2mm",
           {{"reports", s.size_reports}, {"head", s.head_size_ok}, {"draft", s.draft_size_ok}}}};
}

}  // namespace medscribe::cli
