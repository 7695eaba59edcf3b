#include "engine/lru_cache.h"

#include <gtest/gtest.h>

namespace medscribe::engine {
namespace {

LruCache<std::string> Cache(int64_t budget) {
  return LruCache<std::string>(budget,
                               [](const std::string& v) { return static_cast<int64_t>(v.size()); });
}

TEST(LruCache, EvictsTheLeastRecentlyUsedWithinTheByteBudget) {
  auto c = Cache(10);
  EXPECT_TRUE(c.Put("a", "aaaa"));
  EXPECT_TRUE(c.Put("b", "bbbb"));
  EXPECT_EQ(c.Get("a").value(), "aaaa");  // a is now the most recent
  EXPECT_TRUE(c.Put("c", "cccc"));        // 12 > 10: b goes
  EXPECT_FALSE(c.Get("b").has_value());
  EXPECT_TRUE(c.Get("a").has_value());
  EXPECT_TRUE(c.Get("c").has_value());
  EXPECT_EQ(c.used_bytes(), 8);
  EXPECT_EQ(c.hits(), 3);
  EXPECT_EQ(c.misses(), 1);
}

TEST(LruCache, ClearDropsEveryEntryAndItsBytes) {
  auto c = Cache(100);
  EXPECT_TRUE(c.Put("a", "xxxx"));
  EXPECT_TRUE(c.Put("b", "yy"));
  c.Clear();
  EXPECT_FALSE(c.Get("a").has_value());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.used_bytes(), 0);
  EXPECT_TRUE(c.Put("a", "zz"));
  EXPECT_EQ(c.size(), 1u);
}

TEST(LruCache, ReplacingAKeyAndOversizedValues) {
  auto c = Cache(10);
  EXPECT_TRUE(c.Put("a", "aaaa"));
  EXPECT_TRUE(c.Put("a", "aaaaaaaa"));
  EXPECT_EQ(c.used_bytes(), 8);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_FALSE(c.Put("big", std::string(11, 'x')));
  EXPECT_FALSE(c.Get("big").has_value());
  EXPECT_TRUE(c.Get("a").has_value()) << "a value that cannot fit evicts nothing";
}

}  // namespace
}  // namespace medscribe::engine
