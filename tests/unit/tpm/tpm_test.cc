#include "tpm/tpm.h"

#include <gtest/gtest.h>

#include "testing/swtpm.h"
#include "tpm/sealed_file.h"

namespace medscribe::tpm {
namespace {

using medscribe::testing::SoftwareTpm;

#define REQUIRE_SWTPM(sim) \
  if (!(sim).ok()) GTEST_SKIP() << "swtpm is not installed (scripts/bootstrap.sh installs it)"

TEST(Tpm, ReleasesASealedSecretOnlyWhileItsPcrsHoldTheirValues) {
  SoftwareTpm sim;
  REQUIRE_SWTPM(sim);
  auto tpm = Tpm::Open(sim.tcti());
  ASSERT_TRUE(tpm.ok()) << tpm.status().message();
  const std::string secret(32, '\x5a');
  auto sealed = (*tpm)->Seal(secret, {0, 7});
  ASSERT_TRUE(sealed.ok()) << sealed.status().message();
  EXPECT_EQ(sealed->policy_digest.size(), 32u);
  EXPECT_EQ(sealed->private_area.find(secret), std::string::npos) << "the TPM encrypts it";
  auto released = (*tpm)->Unseal(*sealed);
  ASSERT_TRUE(released.ok()) << released.status().message();
  EXPECT_EQ(*released, secret);

  // A PCR outside the policy may change.
  ASSERT_TRUE((*tpm)->ExtendPcr(16, "debug").ok());
  EXPECT_TRUE((*tpm)->Unseal(*sealed).ok());

  // A measured component changes: PCR 7 is extended, and the TPM refuses.
  const std::string before = (*tpm)->ReadPcrs({7}).value()[0];
  ASSERT_TRUE((*tpm)->ExtendPcr(7, "another boot loader").ok());
  EXPECT_NE((*tpm)->ReadPcrs({7}).value()[0], before);
  auto refused = (*tpm)->Unseal(*sealed);
  EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("PCRs 0,7 changed"), std::string::npos)
      << refused.status().message();

  // The file's digest is a hint only: the TPM enforces the policy bound into the object.
  SealedObject forged = *sealed;
  auto now = (*tpm)->Seal(secret, {0, 7});
  ASSERT_TRUE(now.ok());
  forged.policy_digest = now->policy_digest;
  EXPECT_EQ((*tpm)->Unseal(forged).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_TRUE((*tpm)->Unseal(*now).ok()) << "sealed again to the new state, it is released";
}

TEST(Tpm, AnotherTpmCannotLoadTheSealedObject) {
  SoftwareTpm a, b;
  REQUIRE_SWTPM(a);
  ASSERT_TRUE(b.ok());
  auto ta = Tpm::Open(a.tcti());
  auto tb = Tpm::Open(b.tcti());
  ASSERT_TRUE(ta.ok() && tb.ok());
  auto sealed = (*ta)->Seal("key", {7});
  ASSERT_TRUE(sealed.ok());
  auto other = (*tb)->Unseal(*sealed);
  EXPECT_EQ(other.status().code(), ErrorCode::kInvalidArgument) << other.status().message();
  EXPECT_NE(other.status().message().find("another TPM"), std::string::npos);
}

TEST(Tpm, BadInputsAreRefused) {
  auto closed =
      Tpm::Open("swtpm:host=127.0.0.1,port=" + std::to_string(medscribe::testing::FreePort()));
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.status().message().find("swtpm:host=127.0.0.1"), std::string::npos)
      << closed.status().message();
  EXPECT_EQ(ParsePcrList("7,0,7").value(), (std::vector<int>{0, 7}));
  EXPECT_NE(ParsePcrList("0,24").status().message().find("'24'"), std::string::npos);
  EXPECT_FALSE(ParsePcrList("").ok());
  EXPECT_FALSE(ParsePcrList("1,,2").ok());
  SoftwareTpm sim;
  REQUIRE_SWTPM(sim);
  auto tpm = Tpm::Open(sim.tcti());
  ASSERT_TRUE(tpm.ok());
  EXPECT_EQ((*tpm)->Seal("", {7}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*tpm)->Seal(std::string(129, 'x'), {7}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*tpm)->Seal("k", {}).status().code(), ErrorCode::kInvalidArgument);
}

TEST(SealedFile, RoundTripsAndFailsClosedOnAlteration) {
  SoftwareTpm sim;
  REQUIRE_SWTPM(sim);
  auto tpm = Tpm::Open(sim.tcti());
  ASSERT_TRUE(tpm.ok());
  const std::string ring = "k1 " + std::string(64, 'a') + "\nk2 " + std::string(64, 'b') + "\n";
  auto text = SealToFile(**tpm, ring, "kek-ring", {0, 7});
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(text->find(std::string(64, 'a')), std::string::npos);
  EXPECT_EQ(ReadSealedObject(*text, "f").value().pcrs, (std::vector<int>{0, 7}));
  auto plain = UnsealFile(**tpm, *text, "kek-ring", "f");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, ring);
  // Another kind of content, a damaged file, an altered ciphertext.
  EXPECT_EQ(UnsealFile(**tpm, *text, "other", "f").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(UnsealFile(**tpm, "{}", "kek-ring", "f").status().code(), ErrorCode::kInvalidArgument);
  std::string altered = *text;
  const size_t at = altered.find("\"ciphertext\": \"") + 20;
  altered[at] = altered[at] == 'A' ? 'B' : 'A';
  EXPECT_EQ(UnsealFile(**tpm, altered, "kek-ring", "f").status().code(), ErrorCode::kDataLoss);
  // And the measured state changes.
  ASSERT_TRUE((*tpm)->ExtendPcr(0, "firmware update").ok());
  EXPECT_EQ(UnsealFile(**tpm, *text, "kek-ring", "f").status().code(),
            ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace medscribe::tpm
