#include "train/finding_scores.h"

#include <cmath>

namespace medscribe::train {
namespace {

using model::kFieldsPerKind;

// The side targets state: -1 none; 0 right, 1 left, 2 bilateral.
int StatedSide(const float* f) {
  for (int s = 0; s < 3; ++s)
    if (!std::isnan(f[model::kRight + s]) && f[model::kRight + s] >= 0.5f) return s;
  return -1;
}

int LikeliestSide(const float* f) {
  int best = 0;
  for (int s = 1; s < 3; ++s)
    if (f[model::kRight + s] > f[model::kRight + best]) best = s;
  return best;
}

double F1(int tp, int fp, int fn) { return tp > 0 ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0; }

}  // namespace

void FindingScorer::Add(const torch::Tensor& head, const model::FindingTargets& draft,
                        const model::FindingTargets& reference) {
  const torch::Tensor h = head.to(torch::kFloat32).contiguous();
  for (int k = 0; k < model::kNumFindingKinds; ++k) {
    const float* r = reference.data() + k * kFieldsPerKind;
    const float* p = h.data_ptr<float>() + k * kFieldsPerKind;
    const float* d = draft.data() + k * kFieldsPerKind;
    const bool truth = r[model::kPresent] >= 0.5f;  // NaN compares false: unknown is absent
    const bool found[2] = {p[model::kPresent] >= 0.5f, d[model::kPresent] >= 0.5f};
    Counts& c = counts_[k];
    c.support += truth;
    const int ref_side = StatedSide(r);
    for (int s = 0; s < 2; ++s) {
      c.tp[s] += truth && found[s];
      c.fp[s] += !truth && found[s];
      c.fn[s] += truth && !found[s];
      if (!truth || !found[s] || ref_side < 0) continue;
      const int side = s == 0 ? LikeliestSide(p) : StatedSide(d);
      if (side < 0) continue;
      ++c.side_pairs[s];
      c.side_ok[s] += side == ref_side;
    }
    if (k == static_cast<int>(model::FindingKind::kLesion) && truth &&
        !std::isnan(r[model::kSize])) {
      const double mm = model::DenormalizeSize(r[model::kSize]);
      ++size_reports_;
      size_ok_[0] += found[0] && std::abs(p[model::kSize] - mm) <= 2.0;
      size_ok_[1] += found[1] && !std::isnan(d[model::kSize]) &&
                     std::abs(model::DenormalizeSize(d[model::kSize]) - mm) <= 2.0;
    }
  }
}

FindingScores FindingScorer::Result() const {
  FindingScores out;
  for (int k = 0; k < model::kNumFindingKinds; ++k) {
    const Counts& c = counts_[k];
    out.kinds.push_back({std::string(model::FindingKindName(static_cast<model::FindingKind>(k))),
                         c.support, F1(c.tp[0], c.fp[0], c.fn[0]), F1(c.tp[1], c.fp[1], c.fn[1]),
                         c.fp[0], c.fp[1], c.side_pairs[0], c.side_ok[0], c.side_pairs[1],
                         c.side_ok[1]});
  }
  out.size_reports = size_reports_;
  out.head_size_ok = size_ok_[0];
  out.draft_size_ok = size_ok_[1];
  return out;
}

}  // namespace medscribe::train
