#include "train/pipeline.h"

#include <gtest/gtest.h>

namespace medscribe::train {
namespace {

std::vector<size_t> Bounds(size_t layers, int stages, double before, double block, double after) {
  return BalanceStages(layers, stages, before, block, after).bounds;
}

TEST(Pipeline, StagesAreCutWhereTheSlowestIsFastest) {
  // The image path costs 3 blocks: stage 0 takes 2 blocks (3 + 2) and stage 1 the other 4 (1 + 4).
  EXPECT_EQ(Bounds(6, 2, 3, 1, 1), (std::vector<size_t>{0, 2, 6}));
  // Nothing before or after the blocks: an even cut.
  EXPECT_EQ(Bounds(8, 4, 0, 1, 0), (std::vector<size_t>{0, 2, 4, 6, 8}));
  // A costly loss leaves the last stage one block (stages cost 2, 3 and 1 + 2).
  EXPECT_EQ(Bounds(6, 3, 0, 1, 2), (std::vector<size_t>{0, 2, 5, 6}));
  EXPECT_EQ(Bounds(2, 2, 10, 1, 0), (std::vector<size_t>{0, 1, 2}));  // one block each at least
  EXPECT_EQ(Bounds(5, 1, 1, 1, 1), (std::vector<size_t>{0, 5}));
}

TEST(Pipeline, EachStageHoldsItsBlocksAndTheEndsHoldTheirParts) {
  StagePlan plan;
  plan.bounds = {0, 2, 4, 6};
  EXPECT_TRUE(StageHolds("vision.stem.weight", 0, plan, true));
  EXPECT_FALSE(StageHolds("vision.stem.weight", 2, plan, true));
  EXPECT_TRUE(StageHolds("decoder.model.layers.3.mlp.up_proj.weight", 1, plan, true));
  EXPECT_FALSE(StageHolds("decoder.model.layers.3.mlp.up_proj.weight", 2, plan, true));
  EXPECT_FALSE(StageHolds("decoder.model.layers.13.mlp.up_proj.weight", 1, plan, true));
  // Tied embeddings: the first stage looks tokens up, the last uses the rows as its head.
  EXPECT_TRUE(StageHolds("decoder.model.embed_tokens.weight", 0, plan, true));
  EXPECT_TRUE(StageHolds("decoder.model.embed_tokens.weight", 2, plan, true));
  EXPECT_FALSE(StageHolds("decoder.model.embed_tokens.weight", 1, plan, true));
  EXPECT_FALSE(StageHolds("decoder.model.embed_tokens.weight", 2, plan, false));
  EXPECT_TRUE(StageHolds("decoder.lm_head.weight", 2, plan, false));
  EXPECT_TRUE(StageHolds("decoder.model.norm.weight", 2, plan, true));
  EXPECT_FALSE(StageHolds("decoder.model.norm.weight", 0, plan, true));
}

TEST(Pipeline, MoreStagesThanBlocksOrAnUnknownScheduleIsRefused) {
  EXPECT_TRUE(CheckPipeline(2, 2).ok());
  const Status s = CheckPipeline(2, 3);
  EXPECT_NE(s.message().find("more stages than the 2 decoder blocks"), std::string::npos);
  EXPECT_TRUE(ParseSchedule("1f1b").ok());
  EXPECT_FALSE(ParseSchedule("interleaved").ok());
}

}  // namespace
}  // namespace medscribe::train
