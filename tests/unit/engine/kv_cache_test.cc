#include "engine/kv_cache.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

namespace medscribe::engine {
namespace {

std::vector<int32_t> Tokens(int n, int32_t start = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), start);
  return t;
}

TEST(BlockPool, AllocatesReleasesAndCountsReferences) {
  BlockPool pool(3, 16);
  std::set<BlockId> got;
  for (int i = 0; i < 3; ++i) got.insert(pool.Allocate().value());
  EXPECT_EQ(got.size(), 3u);
  EXPECT_FALSE(pool.Allocate().has_value()) << "every block is referenced";
  pool.Retain(1);
  pool.Release(1);
  EXPECT_EQ(pool.num_available(), 0);
  pool.Release(1);
  EXPECT_EQ(pool.num_available(), 1);
  EXPECT_EQ(pool.Allocate().value(), 1);
}

TEST(BlockPool, PublishedBlocksStayCachedUntilEvictedLeastRecentlyReleasedFirst) {
  BlockPool pool(2, 4);
  const BlockId a = pool.Allocate().value(), b = pool.Allocate().value();
  pool.Publish(a, 11);
  pool.Publish(b, 22);
  pool.Release(a);  // released first: evicted first
  pool.Release(b);
  EXPECT_EQ(pool.num_available(), 2);
  EXPECT_EQ(pool.num_cached(), 2);
  EXPECT_EQ(pool.Lookup(22).value(), b);  // a hit takes it back out of the evictable list
  EXPECT_EQ(pool.ref_count(b), 1);
  EXPECT_EQ(pool.Allocate().value(), a);  // evicts a, forgetting its hash
  EXPECT_FALSE(pool.Lookup(11).has_value());
  EXPECT_FALSE(pool.Allocate().has_value());
}

TEST(BlockHash, ChainsTheParent) {
  const std::vector<int32_t> t = Tokens(4);
  EXPECT_EQ(BlockHash(0, t), BlockHash(0, t));
  EXPECT_NE(BlockHash(0, t), BlockHash(1, t));
  EXPECT_NE(BlockHash(0, t), BlockHash(0, Tokens(4, 101)));
}

TEST(KvCacheManager, BlockTablesGrowByBlocks) {
  KvCacheManager kv(8, 4);
  ASSERT_EQ(kv.Add(1, Tokens(6)).value(), 0);
  EXPECT_EQ(kv.BlockTable(1).size(), 2u);  // 6 tokens in blocks of 4
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(kv.Append(1, 7).value().has_value());
  EXPECT_EQ(kv.BlockTable(1).size(), 2u);  // slots 6 and 7 fit
  EXPECT_FALSE(kv.Append(1, 7).value().has_value());
  EXPECT_EQ(kv.BlockTable(1).size(), 3u);  // slot 8 opens a block
  EXPECT_EQ(kv.Length(1), 9);
  kv.Free(1);
  EXPECT_EQ(kv.usage(), 0.0);
  EXPECT_EQ(kv.Add(2, {}).status().code(), ErrorCode::kInvalidArgument);
}

TEST(KvCacheManager, SharedPromptPrefixesAreComputedOnce) {
  KvCacheManager kv(16, 4);
  std::vector<int32_t> a = Tokens(10);  // blocks: [0..3] [4..7] [8, 9]
  ASSERT_EQ(kv.Add(1, a).value(), 0);
  kv.MarkComputed(1, 10);  // publishes the two full blocks
  std::vector<int32_t> b = Tokens(9);
  b.push_back(999);  // same first 9 tokens, then different
  EXPECT_EQ(kv.Add(2, b).value(), 8) << "two full blocks reused";
  EXPECT_EQ(kv.BlockTable(2)[0], kv.BlockTable(1)[0]);
  EXPECT_EQ(kv.BlockTable(2)[1], kv.BlockTable(1)[1]);
  EXPECT_NE(kv.BlockTable(2)[2], kv.BlockTable(1)[2]);
  EXPECT_EQ(kv.pool().ref_count(kv.BlockTable(1)[0]), 2);
  // The same prefix at another position (different parent) is not a hit.
  std::vector<int32_t> c = {1, 2, 3, 4};
  c.insert(c.end(), a.begin(), a.end());
  EXPECT_EQ(kv.Add(3, c).value(), 0);
  // A prompt of exactly one cached block still computes its last token.
  EXPECT_EQ(kv.Add(4, Tokens(4)).value(), 0);
  EXPECT_EQ(kv.Add(5, Tokens(5)).value(), 4);
  // Cached blocks outlive their sequences until the space is needed.
  kv.Free(1);
  kv.Free(2);
  EXPECT_EQ(kv.Add(6, Tokens(9)).value(), 8);
  EXPECT_GT(kv.prefix_hits(), 0);
  EXPECT_LE(kv.prefix_hits(), kv.prefix_queries());
}

TEST(KvCacheManager, ForksShareBlocksAndCopyOnWrite) {
  KvCacheManager kv(8, 4);
  ASSERT_TRUE(kv.Add(1, Tokens(6)).ok());
  ASSERT_TRUE(kv.Fork(1, 2).ok());
  EXPECT_EQ(kv.BlockTable(1), kv.BlockTable(2));
  // Both write slot 6 in the shared second block: the first writer gets a private copy.
  const auto copy = kv.Append(2, 50).value();
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->from, kv.BlockTable(1)[1]);
  EXPECT_EQ(copy->to, kv.BlockTable(2)[1]);
  EXPECT_EQ(kv.BlockTable(2)[0], kv.BlockTable(1)[0]) << "the full first block stays shared";
  // The other one is now the only owner of the original: no copy.
  EXPECT_FALSE(kv.Append(1, 60).value().has_value());
  EXPECT_EQ(kv.Fork(9, 10).code(), ErrorCode::kNotFound);
  EXPECT_EQ(kv.Fork(1, 2).code(), ErrorCode::kAlreadyExists);
}

TEST(KvCacheManager, RunningOutOfBlocksChangesNothing) {
  KvCacheManager kv(3, 4);
  ASSERT_TRUE(kv.Add(1, Tokens(8)).ok());  // 2 blocks
  EXPECT_FALSE(kv.CanAdd(8));
  EXPECT_EQ(kv.Add(2, Tokens(8, 500)).status().code(), ErrorCode::kResourceExhausted);
  EXPECT_FALSE(kv.Has(2));
  EXPECT_EQ(kv.pool().num_available(), 1) << "the failed Add returned what it took";
  ASSERT_TRUE(kv.Add(3, Tokens(2, 700)).ok());  // the last block
  EXPECT_EQ(kv.Append(1, 1).status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(kv.Length(1), 8);
  kv.Free(3);  // preemption frees room
  EXPECT_TRUE(kv.Append(1, 1).ok());
}

}  // namespace
}  // namespace medscribe::engine
