#include "common/status.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

TEST(StatusTest, ErrorDocsListEveryCodeWithItsHttpStatus) {
  std::ifstream in(std::string(MEDSCRIBE_SOURCE_DIR) + "/docs/errors.md");
  ASSERT_TRUE(in) << "docs/errors.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (int c = 1; c <= static_cast<int>(ErrorCode::kIoError); ++c) {
    const auto code = static_cast<ErrorCode>(c);
    const std::string row =
        "| " + std::string(ErrorCodeName(code)) + " | " + std::to_string(HttpStatusFor(code)) +
        " | " + (IsRetryable(code) ? "yes" : "no") + " | " + std::string(ErrorCodeDoc(code)) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/errors.md lacks: " << row;
  }
}

}  // namespace
}  // namespace medscribe
