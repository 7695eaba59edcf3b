#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base64.h"
#include "common/png.h"
#include "serve/image_decode.h"
#include "serve/metrics.h"
#include "serve/model_server.h"

namespace medscribe::serve {
namespace {

TEST(ChatRequest, TextImageAndSamplingAreRead) {
  ChatRequest c;
  const Status s = ParseChatRequest(
      R"({"model":"m","messages":[{"role":"system","content":"A"},
          {"role":"assistant","content":"ignored"},
          {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,xx"}},
                                    {"type":"text","text":"B"}]}],
          "max_tokens":7,"temperature":0,"top_p":1,"seed":9,"stop":["\n\n","END"],"stream":true})",
      64, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.prompt, "A\n<image>\nB\n");
  EXPECT_EQ(c.image_url, "data:image/png;base64,xx");
  EXPECT_TRUE(c.stream);
  EXPECT_EQ(c.sampling.max_tokens, 7);
  EXPECT_EQ(c.sampling.seed, 9u);
  EXPECT_EQ(c.sampling.stop.size(), 2u);
}

TEST(ChatRequest, RefusalsSayWhy) {
  const auto why = [](const std::string& body) {
    ChatRequest c;
    return ParseChatRequest(body, 64, &c).message();
  };
  EXPECT_NE(why(R"({"messages":[{"role":"user","content":"x"}],"logprobs":true})").find("logprobs"),
            std::string::npos);
  EXPECT_NE(
      why(R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{}})").find("logit_bias"),
      std::string::npos);
  EXPECT_NE(why(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":65})").find("1..64"),
            std::string::npos);
  EXPECT_NE(why(R"({"messages":[{"role":"user","content":"x"}],"top_p":3})").find("top_p"),
            std::string::npos);
  EXPECT_NE(why(R"({"messages":[]})").find("text"), std::string::npos);
  EXPECT_NE(why("[1,2]").find("object"), std::string::npos);
  EXPECT_NE(why(std::string(1000, '[') + std::string(1000, ']')).find("64 levels"),
            std::string::npos);
  ChatRequest c;
  EXPECT_TRUE(
      ParseChatRequest(R"({"messages":[{"role":"user","content":"x"}],"logprobs":false})", 64, &c)
          .ok());
}

TEST(ImageDecode, PngDataUrlsDecodeAndBadOnesAreRefused) {
  const std::string path = ::testing::TempDir() + "/serve_test.png";
  std::vector<float> pixels(12 * 7);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i % 12) / 11.0f;
  ASSERT_TRUE(WritePngGray(path, pixels, 12, 7).ok());
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto img = DecodeDataUrl("data:image/png;base64," + Base64Encode(bytes.str()));
  ASSERT_TRUE(img.ok()) << img.status().message();
  EXPECT_EQ(img->width, 12);
  EXPECT_EQ(img->height, 7);
  EXPECT_NEAR(img->pixels[11], 1.0f, 1.0f / 255);
  ImageLimits small;
  small.max_pixels = 50;
  EXPECT_FALSE(DecodeDataUrl("data:image/png;base64," + Base64Encode(bytes.str()), small).ok());
  EXPECT_FALSE(DecodeDataUrl("data:image/png;base64,AAAA").ok());
  EXPECT_FALSE(DecodeDataUrl("data:image/jpeg;base64,AAAA").ok());
  EXPECT_FALSE(DecodeDataUrl("data:application/dicom;base64,AAAA").ok());
  EXPECT_NE(DecodeDataUrl("data:image/gif;base64,AAAA").status().message().find("image/gif"),
            std::string::npos);
  EXPECT_FALSE(DecodeDataUrl("https://example.org/x.png").ok());
}

TEST(ImageDecode, AnImagePreparedOtherwiseThanTheModelsDatasetIsRefusedWithTheFix) {
  ImageLimits fits;
  fits.dicom_size = 256;
  ImageLimits resamples = fits;
  resamples.mm_per_pixel = 1.68;
  // As the model's dataset was: fitted for a model that fits, resampled to its spacing (also
  // when sent at another size and resized by the model: 3.36 mm at 128 px is 1.68 at 256).
  EXPECT_TRUE(CheckImageSpacing(0, true, 256, fits).ok());
  EXPECT_TRUE(CheckImageSpacing(1.68, true, 256, resamples).ok());
  EXPECT_TRUE(CheckImageSpacing(3.36, true, 128, resamples).ok());
  // An image without a stated spacing can only be fitted.
  EXPECT_TRUE(CheckImageSpacing(0, false, 256, resamples).ok());
  const Status fitted = CheckImageSpacing(0, true, 256, resamples);
  EXPECT_FALSE(fitted.ok());
  EXPECT_NE(fitted.message().find("image_spacing_mm"), std::string::npos) << fitted.message();
  const Status other = CheckImageSpacing(1.4, true, 256, resamples);
  EXPECT_FALSE(other.ok());
  EXPECT_NE(other.message().find("1.68"), std::string::npos) << other.message();
  EXPECT_FALSE(CheckImageSpacing(1.68, true, 256, fits).ok());
}

TEST(ReportSections, SplitsAtTheHeadingsInOrder) {
  const auto s = ReportSections(
      "Preliminary. EXAMINATION: XR CHEST. FINDINGS: No effusion.  IMPRESSION: 1. Normal. ");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], (std::pair<std::string, std::string>{"", "Preliminary."}));
  EXPECT_EQ(s[1], (std::pair<std::string, std::string>{"EXAMINATION", "XR CHEST."}));
  EXPECT_EQ(s[2], (std::pair<std::string, std::string>{"FINDINGS", "No effusion."}));
  EXPECT_EQ(s[3], (std::pair<std::string, std::string>{"IMPRESSION", "1. Normal."}));
  EXPECT_TRUE(ReportSections("").empty());
}

TEST(Metrics, HistogramsAreCumulativeInTheTextFormat) {
  Histogram h({0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  const std::string text = h.Render("x_seconds", "help");
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_count 3\n"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::serve
