#include "speech/adapt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/files.h"
#include "speech/audio.h"
#include "testing/temp_dir.h"

namespace medscribe::speech {
namespace {

void PutI32(std::string& s, int32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void PutString(std::string& s, const std::string& text) {
  PutI32(s, static_cast<int32_t>(text.size() + 1));
  s.append(text);
  s.push_back('\0');
}

// A sendump of `features` x `codewords` x `pdfs` quantized weights, laid out as PocketSphinx's.
std::string Sendump(int features, int codewords, int pdfs, const std::vector<unsigned char>& q,
                    int clusters = 0) {
  std::string s;
  PutString(s, "BEGIN FILE FORMAT DESCRIPTION");
  PutString(s, "END FILE FORMAT DESCRIPTION");
  PutString(s, "cluster_count " + std::to_string(clusters));
  PutString(s, "codebook_count 1");
  PutString(s, "feature_count " + std::to_string(features));
  PutI32(s, 0);
  PutI32(s, codewords);
  PutI32(s, pdfs);
  s.append(reinterpret_cast<const char*>(q.data()), q.size());
  return s;
}

// The float array of a mixture_weights file, after checking its header and dimensions.
std::vector<float> Weights(const std::string& file, uint32_t pdfs, uint32_t features,
                           uint32_t codewords) {
  const std::string header = "s3\nversion 1.0\nendhdr\n";
  EXPECT_EQ(file.compare(0, header.size(), header), 0);
  uint32_t v[5];
  std::memcpy(v, file.data() + header.size(), sizeof v);
  EXPECT_EQ(v[0], 0x11223344u);
  EXPECT_EQ(v[1], pdfs);
  EXPECT_EQ(v[2], features);
  EXPECT_EQ(v[3], codewords);
  EXPECT_EQ(v[4], pdfs * features * codewords);
  std::vector<float> w(v[4]);
  EXPECT_EQ(file.size(), header.size() + sizeof v + w.size() * sizeof(float));
  std::memcpy(w.data(), file.data() + header.size() + sizeof v, w.size() * sizeof(float));
  return w;
}

TEST(SendumpTest, ExpandsQuantizedWeightsPerSenoneAndNormalizes) {
  // 1 feature, 2 codewords, 3 senones: stored codeword-major. Senone 0: equal; senone 1:
  // codeword 0 much more likely (smaller -log); senone 2: codeword 1 more likely.
  const std::vector<unsigned char> q = {/*cw0*/ 5, 0, 40, /*cw1*/ 5, 40, 0};
  auto out = SendumpToMixtureWeights(Sendump(1, 2, 3, q));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<float> w = Weights(*out, 3, 1, 2);
  ASSERT_EQ(w.size(), 6u);
  for (int s = 0; s < 3; ++s) EXPECT_NEAR(w[2 * s] + w[2 * s + 1], 1.0, 1e-6) << s;
  EXPECT_NEAR(w[0], 0.5, 1e-6);
  EXPECT_GT(w[2], 0.95);  // 40 steps of 0.1024 nats apart: about e^-4.1
  EXPECT_NEAR(w[2] / w[3], std::exp(40 * 1024 * std::log(1.0001)), 1.0);
  EXPECT_GT(w[5], 0.95);
}

TEST(SendumpTest, RefusesMalformedFiles) {
  const std::vector<unsigned char> q(6, 1);
  std::string good = Sendump(1, 2, 3, q);
  EXPECT_EQ(SendumpToMixtureWeights(good.substr(0, good.size() - 1)).status().code(),
            ErrorCode::kDataLoss);
  EXPECT_EQ(SendumpToMixtureWeights(good.substr(0, 10)).status().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(SendumpToMixtureWeights(Sendump(1, 2, 3, q, /*clusters=*/16)).status().code(),
            ErrorCode::kUnimplemented);
  EXPECT_EQ(SendumpToMixtureWeights(Sendump(0, 2, 3, {})).status().code(), ErrorCode::kDataLoss);
  std::string huge_len;
  PutI32(huge_len, 1 << 30);
  EXPECT_EQ(SendumpToMixtureWeights(huge_len).status().code(), ErrorCode::kDataLoss);
}

TEST(SendumpTest, ReadsTheInstalledEnglishModel) {
  const std::string path = PocketSphinxOptions().acoustic_model + "/sendump";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "pocketsphinx-en-us is not installed";
  auto bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  auto out = SendumpToMixtureWeights(*bytes);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<float> w = Weights(*out, 5126, 3, 128);
  double sum = 0;
  for (int c = 0; c < 128; ++c) sum += w[static_cast<size_t>(4000 * 3 + 2) * 128 + c];
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

TEST(AlignmentTranscriptTest, WordsOfTheLanguageModelWithPausesAtPunctuation) {
  EXPECT_EQ(AlignmentTranscript("Dictation addendum. No prior studies, compared: 12 mm."),
            "<s> dictation addendum <sil> no prior studies <sil> compared <sil> twelve mm </s>");
  EXPECT_EQ(AlignmentTranscript("...Right effusion"), "<s> right effusion </s>");
  EXPECT_EQ(AlignmentTranscript(" .,; "), "");
}

TEST(DitherTest, DeterministicAndKeepsSilenceOffZero) {
  Audio silence;
  silence.samples.assign(4000, 0.0f);
  const std::vector<int16_t> a = ToPcm16(silence, true), b = ToPcm16(silence, true);
  EXPECT_EQ(a, b);
  size_t raised = 0;
  for (int16_t v : a) {
    EXPECT_TRUE(v == 0 || v == 1);
    raised += v == 1;
  }
  EXPECT_GT(raised, 800u);  // about one in four
  EXPECT_LT(raised, 1200u);
  for (int16_t v : ToPcm16(silence, false)) ASSERT_EQ(v, 0);
  Audio loud;
  loud.samples = {1.5f, -1.5f};
  EXPECT_EQ(ToPcm16(loud, true)[0], 32767);  // clipped, never wrapped
  EXPECT_EQ(ToPcm16(loud, false)[1], -32767);
}

TEST(AdaptTest, RefusesBadOptionsBeforeWritingAnything) {
  testing::TempDir tmp;
  AdaptOptions o;
  o.out = (tmp.path() / "am").string();
  EXPECT_EQ(AdaptAcousticModel({}, o).status().code(), ErrorCode::kInvalidArgument);
  const std::vector<AdaptationUtterance> one = {{"u1", (tmp.path() / "a.wav").string(), "hello"}};
  o.method = "vtln";
  EXPECT_EQ(AdaptAcousticModel(one, o).status().code(), ErrorCode::kInvalidArgument);
  o.method = "map";
  o.base_model = (tmp.path() / "no-model").string();
  auto r = AdaptAcousticModel(one, o);
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("no-model"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(o.out));
}

}  // namespace
}  // namespace medscribe::speech
