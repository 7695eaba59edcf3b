#include "common/base64.h"

#include <gtest/gtest.h>

namespace medscribe {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, RoundTripsUtf8AndBinary) {
  const std::string text = "病人主訴發燒咳嗽三天\n\x01\xff";
  EXPECT_EQ(*Base64Decode(Base64Encode(text)), text);
  EXPECT_EQ(*Base64Decode("Zm8="), "fo");
}

TEST(Base64Test, RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("abc").ok());
  EXPECT_FALSE(Base64Decode("!!!!").ok());
}

}  // namespace
}  // namespace medscribe
