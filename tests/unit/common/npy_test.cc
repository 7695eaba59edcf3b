#include "common/npy.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/blas_kernels.h"
#include "common/files.h"
#include "common/png.h"
#include "testing/temp_dir.h"

namespace medscribe {
namespace {

TEST(NpyTest, HeaderIsVersion1AlignedWithShapeAndData) {
  const float data[6] = {0, 1, 2, 3, 4, 5.5f};
  const std::string npy = EncodeNpyFloat32(data, {2, 3});
  ASSERT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len =
      static_cast<unsigned char>(npy[8]) | (static_cast<unsigned char>(npy[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = npy.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos);
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(npy.size(), 10 + header_len + 6 * sizeof(float));
  float last;
  std::memcpy(&last, npy.data() + npy.size() - 4, 4);
  EXPECT_EQ(last, 5.5f);
  EXPECT_NE(EncodeNpyFloat32(data, {6}).find("'shape': (6,)"), std::string::npos);
}

TEST(NpyTest, ParsingFindsTheShapeAndDataAndRefusesDamagedFiles) {
  const float data[6] = {0, 1, 2, 3, 4, 5.5f};
  const std::string npy = EncodeNpyFloat32(data, {1, 2, 3});
  auto layout = ParseNpyFloat32(npy);
  ASSERT_TRUE(layout.ok()) << layout.status().message();
  EXPECT_EQ(layout->shape, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(layout->count, 6u);
  float last;
  std::memcpy(&last, npy.data() + layout->data_offset + 5 * 4, 4);
  EXPECT_EQ(last, 5.5f);
  EXPECT_EQ(ParseNpyFloat32(npy.substr(0, npy.size() - 1)).status().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(ParseNpyFloat32("not an array").status().code(), ErrorCode::kDataLoss);
  std::string f8 = npy;
  f8.replace(f8.find("<f4"), 3, "<f8");
  EXPECT_NE(ParseNpyFloat32(f8).status().message().find("float32"), std::string::npos);
  std::string huge = npy;
  huge.replace(huge.find("(1, 2, 3)"), 9, "(99999999)");
  EXPECT_EQ(ParseNpyFloat32(huge).status().code(), ErrorCode::kDataLoss);
}

TEST(BlasKernelsTest, AGenericFallbackIsReplacedByWhatTheProcessorRuns) {
  EXPECT_EQ(BetterBlasCore("Prescott", true, true), "SkylakeX");
  EXPECT_EQ(BetterBlasCore("Prescott", false, true), "Haswell");
  EXPECT_EQ(BetterBlasCore("Nehalem", false, false), "");
  EXPECT_EQ(BetterBlasCore("SkylakeX", true, true), "");  // the library chose well
  EXPECT_EQ(BetterBlasCore("Haswell", true, true), "");   // a real choice is kept
  EXPECT_EQ(BetterBlasCore("Zen", true, true), "");
}

TEST(PngTest, WritesAValidGrayscalePng) {
  testing::TempDir tmp;
  std::vector<float> px(16 * 8, 0.5f);
  ASSERT_TRUE(WritePngGray((tmp / "a.png").string(), px, 16, 8).ok());
  const std::string bytes = *ReadFile(tmp / "a.png");
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  EXPECT_FALSE(WritePngGray((tmp / "b.png").string(), px, 5, 5).ok());
  EXPECT_EQ(WritePngGray((tmp / "missing" / "c.png").string(), px, 16, 8).code(),
            ErrorCode::kIoError);
}

}  // namespace
}  // namespace medscribe
