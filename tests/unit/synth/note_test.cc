#include "synth/note.h"

#include <gtest/gtest.h>

#include "testing/synth_plan.h"

namespace medscribe::synth {
namespace {

using medscribe::testing::SmallPlan;

TEST(NoteTest, EveryPlantedPhiStringIsInTheNote) {
  const CohortPlan plan = SmallPlan(300);
  int zh = 0;
  for (const Encounter& e : plan.encounters) {
    Rng rng(Mix64(static_cast<uint64_t>(e.index)));
    const Note note = ComposeNote(e, plan, rng);
    ASSERT_GE(note.phi.size(), 4u);
    for (const std::string& s : note.phi) EXPECT_NE(note.text.find(s), std::string::npos) << s;
    if (e.note_zh) {
      ++zh;
      EXPECT_EQ(note.language, "zh-TW");
      EXPECT_NE(note.text.find(plan.patients[static_cast<size_t>(e.patient)].ZhName()),
                std::string::npos);
      EXPECT_NE(note.text.find("病歷號碼"), std::string::npos);
    } else {
      EXPECT_EQ(note.language, "en");
      EXPECT_NE(note.text.find(plan.patients[static_cast<size_t>(e.patient)].mrn),
                std::string::npos);
    }
  }
  EXPECT_GT(zh, 0);
}

}  // namespace
}  // namespace medscribe::synth
