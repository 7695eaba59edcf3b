#include "train/finding_scores.h"

#include <gtest/gtest.h>

#include <cmath>

namespace medscribe::train {
namespace {

using model::FindingKind;

constexpr int kConsolidation = static_cast<int>(FindingKind::kConsolidation);
constexpr int kLesion = static_cast<int>(FindingKind::kLesion);

model::FindingTargets Absent() {
  model::FindingTargets t;
  t.fill(NAN);
  for (int k = 0; k < model::kNumFindingKinds; ++k) t[k * model::kFieldsPerKind] = 0;
  return t;
}

// Marks `kind` present in targets, with a side (0 right, 1 left, 2 bilateral; -1 unstated) and
// a size in mm (0: unstated).
void Mark(model::FindingTargets& t, int kind, int side, double mm = 0) {
  float* f = t.data() + kind * model::kFieldsPerKind;
  f[model::kPresent] = 1;
  if (side >= 0)
    for (int s = 0; s < 3; ++s) f[model::kRight + s] = s == side;
  if (mm > 0) f[model::kSize] = static_cast<float>(model::NormalizeSize(mm));
}

// Head probabilities: every kind at 0.1, `kind` at `present` with side probabilities and size.
torch::Tensor Head(int kind, float present, std::array<float, 3> side, float mm = 10) {
  torch::Tensor p = torch::full({model::kNumFindingKinds, model::kFieldsPerKind}, 1.0f / 3);
  p.select(1, model::kPresent).fill_(0.1f);
  p.select(1, model::kSize).fill_(10.0f);
  p[kind][model::kPresent] = present;
  for (int s = 0; s < 3; ++s) p[kind][model::kRight + s] = side[s];
  p[kind][model::kSize] = mm;
  return p;
}

TEST(FindingScorerTest, HeadAndDraftAreScoredApartAgainstTheReference) {
  FindingScorer scorer;
  // 1. Right consolidation: the head sees it on the right, the draft misses it.
  model::FindingTargets ref = Absent(), draft = Absent();
  Mark(ref, kConsolidation, 0);
  scorer.Add(Head(kConsolidation, 0.7f, {0.8f, 0.1f, 0.1f}), draft, ref);
  // 2. Left consolidation: the head places it on the right, the draft on the left.
  ref = Absent(), draft = Absent();
  Mark(ref, kConsolidation, 1);
  Mark(draft, kConsolidation, 1);
  scorer.Add(Head(kConsolidation, 0.9f, {0.6f, 0.3f, 0.1f}), draft, ref);
  // 3. No consolidation: the draft names one, the head does not.
  ref = Absent(), draft = Absent();
  Mark(draft, kConsolidation, -1);
  scorer.Add(Head(kConsolidation, 0.2f, {0.3f, 0.3f, 0.4f}), draft, ref);
  // 4. A 14 mm nodule: the head sizes it 15.4 mm, the draft writes 18 mm.
  ref = Absent(), draft = Absent();
  Mark(ref, kLesion, 1, 14);
  Mark(draft, kLesion, 1, 18);
  scorer.Add(Head(kLesion, 0.95f, {0.1f, 0.8f, 0.1f}, 15.4f), draft, ref);

  const FindingScores s = scorer.Result();
  ASSERT_EQ(s.kinds.size(), static_cast<size_t>(model::kNumFindingKinds));
  const FindingKindScores& c = s.kinds[kConsolidation];
  EXPECT_EQ(c.kind, "consolidation");
  EXPECT_EQ(c.support, 2);
  EXPECT_DOUBLE_EQ(c.head_f1, 1.0);         // tp 2
  EXPECT_DOUBLE_EQ(c.draft_f1, 2.0 / 4.0);  // tp 1, fp 1, fn 1
  EXPECT_EQ(c.head_fp, 0);
  EXPECT_EQ(c.draft_fp, 1);
  EXPECT_EQ(c.head_side_pairs, 2);
  EXPECT_EQ(c.head_side_ok, 1);
  EXPECT_EQ(c.draft_side_pairs, 1);
  EXPECT_EQ(c.draft_side_ok, 1);
  EXPECT_EQ(s.kinds[kLesion].support, 1);
  EXPECT_EQ(s.size_reports, 1);
  EXPECT_EQ(s.head_size_ok, 1);
  EXPECT_EQ(s.draft_size_ok, 0);
  // A kind nobody names scores 0, not NaN.
  EXPECT_EQ(s.kinds[static_cast<int>(FindingKind::kFracture)].head_f1, 0.0);
}

}  // namespace
}  // namespace medscribe::train
