#include "tune/study.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace medscribe::tune {
namespace {

StudyConfig Config(int trials) {
  auto c = ParseStudyConfig("trials: " + std::to_string(trials) + R"(
steps: 90
sampler: random
asha: {min_steps: 10, reduction_factor: 3}
space:
  lr: {type: loguniform, low: 1e-4, high: 1e-2}
)",
                            "s");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

const auto kAlive = [](const std::string&) { return true; };

TEST(StudyTest, ClaimsEachTrialOnceAndPrunesAtRungs) {
  medscribe::testing::TempDir dir;
  const std::string db = (dir / "study.sqlite").string();
  auto a = Study::Open(db, Config(3), true);
  auto b = Study::Open(db, Config(3), false);  // a second worker on the same study
  ASSERT_TRUE(a.ok() && b.ok());
  auto t1 = a->Claim("host/1/0", 100, 30, kAlive);
  auto t2 = b->Claim("host/2/0", 100, 30, kAlive);
  auto t3 = a->Claim("host/1/1", 100, 30, kAlive);
  ASSERT_TRUE(t1.ok() && t2.ok() && t3.ok());
  ASSERT_TRUE(*t1 && *t2 && *t3);
  EXPECT_EQ((*t1)->id, 1);
  EXPECT_EQ((*t2)->id, 2);
  EXPECT_EQ((*t3)->id, 3);
  EXPECT_FALSE(*b->Claim("host/2/1", 100, 30, kAlive));  // all three are taken
  EXPECT_NE((*t1)->params, (*t2)->params);
  // Rung 10: the first goes on, a worse second does not, a better third does.
  EXPECT_TRUE(*a->Report(1, "host/1/0", 10, 2.0));
  EXPECT_FALSE(*b->Report(2, "host/2/0", 10, 3.0));
  EXPECT_TRUE(*a->Report(3, "host/1/1", 10, 1.0));
  EXPECT_TRUE(*a->Report(1, "host/1/0", 20, 1.5));  // not a rung
  // Another worker's trial cannot be reported into.
  EXPECT_EQ(a->Report(2, "host/1/0", 20, 1.0).status().code(), ErrorCode::kAborted);
  ASSERT_TRUE(b->Finish(2, "host/2/0", TrialState::kPruned, 3.0, 5, "pruned at step 10").ok());
  ASSERT_TRUE(a->Finish(1, "host/1/0", TrialState::kCompleted, 1.2, 9, "").ok());
  EXPECT_FALSE(*a->Done());
  ASSERT_TRUE(a->Finish(3, "host/1/1", TrialState::kCompleted, 0.9, 9, "").ok());
  EXPECT_TRUE(*a->Done());
  auto all = a->Trials();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].state, TrialState::kPruned);
  EXPECT_EQ((*all)[0].reports, (std::vector<std::pair<int64_t, double>>{{10, 2.0}, {20, 1.5}}));
  EXPECT_DOUBLE_EQ(*(*all)[2].value, 0.9);
}

TEST(StudyTest, ATrialWhoseOwnerIsGoneIsResumedNeverAFinishedOne) {
  medscribe::testing::TempDir dir;
  const std::string db = (dir / "study.sqlite").string();
  auto s = Study::Open(db, Config(2), true);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Claim("host/1/0", 100, 30, kAlive));
  ASSERT_TRUE(*s->Claim("host/1/1", 100, 30, kAlive));
  ASSERT_TRUE(s->Finish(1, "host/1/0", TrialState::kCompleted, 1.0, 3, "").ok());
  // The tuner is killed; a new one finds trial 2 running under a dead process.
  auto again = Study::Open(db, Config(2), false);
  ASSERT_TRUE(again.ok());
  const auto dead = [](const std::string& owner) { return owner.rfind("host/1/", 0) != 0; };
  auto resumed = again->Claim("host/9/0", 101, 30, dead);
  ASSERT_TRUE(resumed.ok() && *resumed);
  EXPECT_EQ((*resumed)->id, 2);
  EXPECT_EQ((*resumed)->starts, 2);
  EXPECT_FALSE(*again->Claim("host/9/1", 101, 30, dead));
  // The old owner's late report is refused.
  EXPECT_EQ(s->Heartbeat(2, "host/1/1", 102).code(), ErrorCode::kAborted);
  // Without a liveness check, only a missed heartbeat frees a trial.
  ASSERT_TRUE(again->Heartbeat(2, "host/9/0", 110).ok());
  EXPECT_FALSE(*again->Claim("other/1/0", 130, 30, nullptr));
  auto stale = again->Claim("other/1/0", 141, 30, nullptr);
  ASSERT_TRUE(stale.ok() && *stale);
  EXPECT_EQ((*stale)->id, 2);
}

TEST(StudyTest, AStudyOfAnotherDefinitionIsRefused) {
  medscribe::testing::TempDir dir;
  const std::string db = (dir / "study.sqlite").string();
  EXPECT_EQ(Study::Open(db, Config(2), false).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(Study::Open(db, Config(2), true).ok());
  auto other = Study::Open(db, Config(5), true);  // trials is not part of the definition
  EXPECT_TRUE(other.ok());
  StudyConfig wider = Config(2);
  wider.space[0].high = 1e-1;
  auto refused = Study::Open(db, wider, true);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("another definition"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::tune
