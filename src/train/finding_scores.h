// Scores of the finding head (what the image path hands the decoder) beside the drafts the
// decoder wrote, both against the targets a labeler reads from the reference reports
// (train/finding_labels.h): a finding the head sees but the draft misses is lost in decoding; one
// both miss is lost in the image path.
//
// Thread safety: a scorer is not thread-safe.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/findings.h"

namespace medscribe::train {

struct FindingKindScores {
  std::string kind;  // model::FindingKindName
  int support = 0;   // references that name it
  double head_f1 = 0, draft_f1 = 0;
  // References that do not name it in which the system finds it (what the drafts' hallucination
  // rate counts, kind by kind).
  int head_fp = 0, draft_fp = 0;
  // Side: references that state one and in which the system finds the kind (and, for a draft,
  // states a side); those it places on the reference's side.
  int head_side_pairs = 0, head_side_ok = 0, draft_side_pairs = 0, draft_side_ok = 0;
};

struct FindingScores {
  std::vector<FindingKindScores> kinds;  // model::FindingKind order
  // Lesions whose size the reference states; those the system finds and sizes within 2 mm.
  int size_reports = 0, head_size_ok = 0, draft_size_ok = 0;
};

class FindingScorer {
 public:
  // One report. REQUIRES: `head` is FindingHeadImpl::Probabilities of one image, float
  // [kNumFindingKinds, kFieldsPerKind] (present at 0.5; side the most likely; size in mm);
  // `draft` and `reference` are a labeler's targets of the draft and of the reference.
  void Add(const torch::Tensor& head, const model::FindingTargets& draft,
           const model::FindingTargets& reference);
  FindingScores Result() const;

 private:
  struct Counts {
    int support = 0, tp[2] = {}, fp[2] = {}, fn[2] = {}, side_pairs[2] = {}, side_ok[2] = {};
  };
  Counts counts_[model::kNumFindingKinds];
  int size_reports_ = 0, size_ok_[2] = {};
};

}  // namespace medscribe::train
