#include "common/status.h"

#include <gtest/gtest.h>

namespace medscribe {
namespace {

StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgumentError("value must be positive, got " + std::to_string(v));
  return v;
}

StatusOr<int> Doubled(int v) {
  ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status Check(int v) {
  RETURN_IF_ERROR(ParsePositive(v).status());
  return OkStatus();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorTableMapsHttpAndRetry) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_TRUE(IsRetryable(ErrorCode::kUnavailable));
  EXPECT_FALSE(IsRetryable(ErrorCode::kFailedPrecondition));
  EXPECT_EQ(ErrorCodeName(ErrorCode::kDataLoss), "DataLoss");
  EXPECT_FALSE(ErrorCodeDoc(ErrorCode::kDataLoss).empty());
}

TEST(StatusTest, MacrosPropagateErrors) {
  EXPECT_EQ(*Doubled(4), 8);
  auto bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "value must be positive, got -1");
  EXPECT_TRUE(Check(3).ok());
  EXPECT_FALSE(Check(0).ok());
}

TEST(StatusTest, WithContextPrefixesMessage) {
  Status s = NotFoundError("no such file").WithContext("enc-000001");
  EXPECT_EQ(s.ToString(), "NotFound: enc-000001: no such file");
}

}  // namespace
}  // namespace medscribe
