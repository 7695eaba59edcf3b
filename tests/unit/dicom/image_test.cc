#include "dicom/image.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/files.h"
#include "dicom/info.h"
#include "testing/dicom_bytes.h"
#include "testing/temp_dir.h"

namespace medscribe::dicom {
namespace {

// A 12-bit grayscale image: value = 100 + 10 * column + row (distinct per pixel, < 4096).
DicomDataset MakeImage(int rows, int cols, const std::string& photometric, int frames = 1) {
  std::vector<uint16_t> px(static_cast<size_t>(rows) * cols * frames);
  for (int f = 0; f < frames; ++f)
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x)
        px[(static_cast<size_t>(f) * rows + y) * cols + x] =
            static_cast<uint16_t>(100 + 10 * x + y + f);
  DicomDataset ds;
  EXPECT_TRUE(ds.SetString("SOPClassUID", "1.2.840.10008.5.1.4.1.1.1").ok());
  EXPECT_TRUE(ds.SetString("SOPInstanceUID", "2.25.99").ok());
  EXPECT_TRUE(ds.SetString("Modality", "CR").ok());
  EXPECT_TRUE(ds.SetString("PhotometricInterpretation", photometric).ok());
  EXPECT_TRUE(ds.SetUint16("SamplesPerPixel", 1).ok());
  EXPECT_TRUE(ds.SetUint16("Rows", static_cast<uint16_t>(rows)).ok());
  EXPECT_TRUE(ds.SetUint16("Columns", static_cast<uint16_t>(cols)).ok());
  if (frames > 1) {
    EXPECT_TRUE(ds.SetString("NumberOfFrames", std::to_string(frames)).ok());
  }
  EXPECT_TRUE(ds.SetUint16("BitsAllocated", 16).ok());
  EXPECT_TRUE(ds.SetUint16("BitsStored", 12).ok());
  EXPECT_TRUE(ds.SetUint16("HighBit", 11).ok());
  EXPECT_TRUE(ds.SetUint16("PixelRepresentation", 0).ok());
  EXPECT_TRUE(
      ds.SetPixelData16(px, static_cast<uint16_t>(rows), static_cast<uint16_t>(cols * frames))
          .ok());
  // SetPixelData16 only checks the count; the real geometry is rows x cols x frames.
  EXPECT_TRUE(ds.SetUint16("Columns", static_cast<uint16_t>(cols)).ok());
  return ds;
}

class DicomImageTest : public ::testing::Test {
 protected:
  // Saves and reloads, so decoding starts from a file as in production.
  DicomDataset RoundTrip(DicomDataset& ds, TransferSyntax ts) {
    const std::string path = (tmp_ / "x.dcm").string();
    EXPECT_TRUE(ds.SaveFile(path, ts).ok());
    auto loaded = DicomDataset::LoadFile(path);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return std::move(loaded).value();
  }
  medscribe::testing::TempDir tmp_;
};

TEST_F(DicomImageTest, RawAppliesRescaleExactlyInEveryTransferSyntax) {
  for (TransferSyntax ts :
       {TransferSyntax::kImplicitLittle, TransferSyntax::kExplicitLittle,
        TransferSyntax::kExplicitBig, TransferSyntax::kDeflated, TransferSyntax::kJpegLossless,
        TransferSyntax::kJpegLsLossless, TransferSyntax::kRle, TransferSyntax::kJpeg2000Lossless}) {
    SCOPED_TRACE(std::string(TransferSyntaxName(ts)));
    DicomDataset ds = MakeImage(20, 30, "MONOCHROME2");
    ASSERT_TRUE(ds.SetString("RescaleSlope", "0.5").ok());
    ASSERT_TRUE(ds.SetString("RescaleIntercept", "-100").ok());
    DicomDataset file = RoundTrip(ds, ts);
    ImageDecodeOptions o;
    o.raw = true;
    auto img = DecodeImage(file, o);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    ASSERT_EQ(img->rows, 20);
    ASSERT_EQ(img->cols, 30);
    EXPECT_EQ(img->frames, 1);
    EXPECT_FLOAT_EQ(img->pixels[0], 100 * 0.5f - 100);
    EXPECT_FLOAT_EQ(img->pixels[static_cast<size_t>(3) * 30 + 7],
                    (100 + 70 + 3) * 0.5f - 100);  // 86.5 - 100
  }
}

TEST_F(DicomImageTest, RawKeepsEveryFrame) {
  DicomDataset ds = MakeImage(8, 8, "MONOCHROME2", 3);
  DicomDataset file = RoundTrip(ds, TransferSyntax::kExplicitLittle);
  auto info = ReadInfo(file);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->frames, 3);
  ImageDecodeOptions o;
  o.raw = true;
  auto img = DecodeImage(file, o);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->frames, 3);
  ASSERT_EQ(img->pixels.size(), 3u * 64);
  EXPECT_FLOAT_EQ(img->pixels[2 * 64], 102.0f);
}

TEST_F(DicomImageTest, DisplayInvertsMonochrome1AndKeepsAspect) {
  DicomDataset m2 = MakeImage(32, 64, "MONOCHROME2");
  DicomDataset m1 = MakeImage(32, 64, "MONOCHROME1");
  DicomDataset f2 = RoundTrip(m2, TransferSyntax::kExplicitLittle);
  auto a = DecodeImage(f2, {});
  DicomDataset f1 = RoundTrip(m1, TransferSyntax::kExplicitLittle);
  auto b = DecodeImage(f1, {});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->rows, 256);
  ASSERT_EQ(a->cols, 256);
  // 32 x 64 fills 128 x 256 in the middle; the bands above and below are padding.
  EXPECT_EQ(a->pixels[static_cast<size_t>(10) * 256 + 128], 0.0f);
  EXPECT_EQ(a->pixels[static_cast<size_t>(250) * 256 + 128], 0.0f);
  const size_t mid = static_cast<size_t>(128) * 256;
  // Left is darker than right in MONOCHROME2 (values grow with the column), brighter in
  // MONOCHROME1.
  EXPECT_LT(a->pixels[mid + 10], a->pixels[mid + 240]);
  EXPECT_GT(b->pixels[mid + 10], b->pixels[mid + 240]);
  EXPECT_NEAR(a->pixels[mid + 60] + b->pixels[mid + 60], 1.0f, 0.02f);
}

// A dark square image of n x n pixels of `spacing` mm with a bright block `block` pixels wide
// in the middle, stated as PixelSpacing (or ImagerPixelSpacing when `imager`).
DicomDataset MakeSpacedImage(int n, int block, const std::string& spacing, bool imager = false) {
  DicomDataset ds = MakeImage(n, n, "MONOCHROME2");
  std::vector<uint16_t> px(static_cast<size_t>(n) * n, 0);
  const int lo = (n - block) / 2;
  for (int y = lo; y < lo + block; ++y)
    for (int x = lo; x < lo + block; ++x) px[static_cast<size_t>(y) * n + x] = 4000;
  EXPECT_TRUE(ds.SetPixelData16(px, static_cast<uint16_t>(n), static_cast<uint16_t>(n)).ok());
  EXPECT_TRUE(ds.SetString("WindowCenter", "2000").ok());
  EXPECT_TRUE(ds.SetString("WindowWidth", "4000").ok());
  if (!spacing.empty()) {
    EXPECT_TRUE(ds.SetString(imager ? "ImagerPixelSpacing" : "PixelSpacing", spacing).ok());
  }
  return ds;
}

// Bright pixels (> 0.5) in the middle row of a size x size image.
int BrightInMiddleRow(const DecodedImage& im) {
  int n = 0;
  for (int x = 0; x < im.cols; ++x)
    n += im.pixels[static_cast<size_t>(im.rows / 2) * im.cols + x] > 0.5f;
  return n;
}

TEST_F(DicomImageTest, DisplayAtAFixedSpacingGivesAFindingTheSameSizeOnEveryDetector) {
  // The same 20 mm block on two 40-pixel detectors, of 2 mm pixels and of 1 mm pixels.
  DicomDataset coarse = MakeSpacedImage(40, 10, "2\\2");
  DicomDataset fine = MakeSpacedImage(40, 20, "1\\1", /*imager=*/true);
  ImageDecodeOptions o;
  o.size = 64;
  // Fitted, each detector fills the square and the block's width in pixels depends on it.
  auto fitted_coarse = DecodeImage(coarse, o), fitted_fine = DecodeImage(fine, o);
  ASSERT_TRUE(fitted_coarse.ok() && fitted_fine.ok()) << fitted_coarse.status().ToString();
  EXPECT_EQ(fitted_coarse->mm_per_pixel, 0.0);
  EXPECT_EQ(BrightInMiddleRow(*fitted_coarse), 16);
  EXPECT_EQ(BrightInMiddleRow(*fitted_fine), 32);
  o.mm_per_pixel = 2;
  auto a = DecodeImage(coarse, o), b = DecodeImage(fine, o);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
  EXPECT_EQ(a->rows, 64);
  EXPECT_EQ(a->mm_per_pixel, 2.0);
  EXPECT_EQ(BrightInMiddleRow(*a), 10);
  EXPECT_EQ(BrightInMiddleRow(*b), 10);
  // 80 mm of detector at 2 mm per pixel: 40 pixels in the middle, padding around.
  EXPECT_EQ(a->pixels[static_cast<size_t>(32) * 64 + 5], 0.0f);
  EXPECT_EQ(a->pixels[static_cast<size_t>(5) * 64 + 32], 0.0f);
  // At 0.5 mm per pixel the detector is larger than the square: cropped to its middle, the block
  // 40 pixels wide.
  o.mm_per_pixel = 0.5;
  auto c = DecodeImage(coarse, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(BrightInMiddleRow(*c), 40, 1);
  // No spacing stated: fitted as before, and said so.
  DicomDataset unspaced = MakeSpacedImage(40, 10, "");
  auto d = DecodeImage(unspaced, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mm_per_pixel, 0.0);
  EXPECT_EQ(BrightInMiddleRow(*d), 16);
  o.mm_per_pixel = -1;
  EXPECT_FALSE(DecodeImage(coarse, o).ok());
}

TEST_F(DicomImageTest, DisplayUsesTheFilesWindow) {
  DicomDataset ds = MakeImage(16, 100, "MONOCHROME2");
  ASSERT_TRUE(ds.SetString("WindowCenter", "600").ok());  // covers columns 40..60
  ASSERT_TRUE(ds.SetString("WindowWidth", "200").ok());
  DicomDataset f = RoundTrip(ds, TransferSyntax::kExplicitLittle);
  ImageDecodeOptions o;
  o.size = 100;
  auto img = DecodeImage(f, o);
  ASSERT_TRUE(img.ok());
  const size_t row = static_cast<size_t>(50) * 100;
  EXPECT_EQ(img->pixels[row + 10], 0.0f);  // below the window
  EXPECT_EQ(img->pixels[row + 90], 1.0f);  // above the window
  EXPECT_GT(img->pixels[row + 50], 0.2f);
  EXPECT_LT(img->pixels[row + 50], 0.8f);
}

TEST_F(DicomImageTest, DisplayOfRescaledMonochrome1IsExactAndRepeatable) {
  DicomDataset ds = MakeImage(64, 64, "MONOCHROME1");
  ASSERT_TRUE(ds.SetString("RescaleSlope", "2").ok());
  ASSERT_TRUE(ds.SetString("RescaleIntercept", "-1024").ok());
  ASSERT_TRUE(ds.SetString("WindowCenter", "-300").ok());
  ASSERT_TRUE(ds.SetString("WindowWidth", "1001").ok());
  DicomDataset f = RoundTrip(ds, TransferSyntax::kJpegLossless);
  ImageDecodeOptions o;
  o.size = 64;  // no resampling: every output pixel is one input pixel
  auto a = DecodeImage(f, o);
  auto b = DecodeImage(f, o);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->pixels, b->pixels);
  for (int y = 0; y < 64; y += 7) {
    for (int x = 0; x < 64; x += 5) {
      const double v = 2.0 * (100 + 10 * x + y) - 1024;  // rescaled
      // PS3.3 C.11.2.1.2.1 with c = -300, w = 1001, then MONOCHROME1 inversion.
      const double c = -300.5, w = 1000;
      const double lin = v <= c - w / 2 ? 0 : v > c + w / 2 ? 1 : (v - c) / w + 0.5;
      EXPECT_NEAR(a->pixels[static_cast<size_t>(y) * 64 + x], 1 - lin, 1e-6) << y << "," << x;
    }
  }
}

TEST_F(DicomImageTest, LimitsAndUnsupportedImagesAreRefusedWithReasons) {
  DicomDataset ds = MakeImage(64, 64, "MONOCHROME2");
  DicomDataset f = RoundTrip(ds, TransferSyntax::kExplicitLittle);
  ImageDecodeOptions o;
  o.max_pixels = 1000;
  auto big = DecodeImage(f, o);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted);

  DicomDataset rgb = MakeImage(8, 8, "RGB");
  DicomDataset frgb = RoundTrip(rgb, TransferSyntax::kExplicitLittle);
  auto color = DecodeImage(frgb, {});
  ASSERT_FALSE(color.ok());
  EXPECT_EQ(color.status().code(), ErrorCode::kUnimplemented);
  EXPECT_NE(color.status().message().find("RGB"), std::string::npos);

  DicomDataset no_pixels;
  ASSERT_TRUE(no_pixels.SetString("SOPClassUID", "1.2.840.10008.5.1.4.1.1.1").ok());
  auto none = DecodeImage(no_pixels, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no pixel data"), std::string::npos);
}

// A Part 10 file in Explicit VR Big Endian with 32-bit unsigned pixels, written byte by byte
// (as some archives hold them): PixelData as OW, each value's four bytes most significant first.
std::string BigEndian32(const std::vector<uint32_t>& values, uint16_t rows, uint16_t cols) {
  medscribe::testing::DicomBytes b(/*big_endian=*/true);
  b.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.1").Add(0x0008, 0x0018, "UI", "2.25.5");
  b.Add(0x0008, 0x0060, "CS", "CR").Us(0x0028, 0x0002, 1).Add(0x0028, 0x0004, "CS", "MONOCHROME2");
  b.Us(0x0028, 0x0010, rows).Us(0x0028, 0x0011, cols).Us(0x0028, 0x0100, 32);
  b.Us(0x0028, 0x0101, 32).Us(0x0028, 0x0102, 31).Us(0x0028, 0x0103, 0);
  std::string pixels;
  for (uint32_t v : values) pixels += b.U32(v);
  return b.Add(0x7FE0, 0x0010, "OW", pixels).File();
}

TEST(DicomImageLayouts, ThirtyTwoBitBigEndianValuesAreExact) {
  const std::vector<uint32_t> values = {1249000, 0, 70000, 4294967, 65536, 123456, 1, 999999};
  auto ds = DicomDataset::FromBytes(BigEndian32(values, 2, 4));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ImageDecodeOptions o;
  o.raw = true;
  auto img = DecodeImage(*ds, o);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->pixels.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(img->pixels[i], static_cast<float>(values[i])) << "pixel " << i;
}

TEST_F(DicomImageTest, AShortLastFragmentWithACompleteCodestreamIsReadLeniently) {
  for (TransferSyntax ts : {TransferSyntax::kJpegLossless, TransferSyntax::kJpeg2000Lossless}) {
    SCOPED_TRACE(std::string(TransferSyntaxName(ts)));
    DicomDataset ds = MakeImage(24, 40, "MONOCHROME2");
    const std::string path = (tmp_ / "frag.dcm").string();
    ASSERT_TRUE(ds.SaveFile(path, ts).ok());
    const std::string good = *ReadFile(path);
    // The file as a careless writer leaves it: the last fragment declares 10 bytes more than
    // follow, and the sequence delimiter is missing (the file ends with the codestream).
    const std::string delimiter("\xFE\xFF\xDD\xE0\0\0\0\0", 8);
    ASSERT_EQ(good.substr(good.size() - 8), delimiter);
    std::string cut = good.substr(0, good.size() - 8);
    const size_t item = cut.rfind(std::string("\xFE\xFF\x00\xE0", 4));
    ASSERT_NE(item, std::string::npos);
    uint32_t length = 0;
    std::memcpy(&length, cut.data() + item + 4, 4);
    length += 10;
    std::memcpy(cut.data() + item + 4, &length, 4);
    while (cut.size() > item + 8 && cut.back() == '\0') cut.pop_back();  // the pad byte, if any

    auto lenient = DicomDataset::FromBytes(cut);
    ASSERT_TRUE(lenient.ok()) << lenient.status().ToString();
    ASSERT_EQ(lenient->repairs().size(), 1u);
    auto info = ReadInfo(*lenient);
    ASSERT_TRUE(info.ok());
    ASSERT_EQ(info->warnings.size(), 1u);
    ImageDecodeOptions o;
    o.raw = true;
    auto want = DecodeImage(*DicomDataset::FromBytes(good), o);
    auto got = DecodeImage(*lenient, o);
    ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
    EXPECT_EQ(got->pixels, want->pixels);
    EXPECT_TRUE(DicomDataset::FromBytes(good)->repairs().empty());

    // Cut inside the codestream (no end marker): still refused.
    const std::string truncated = cut.substr(0, cut.size() - 7);
    EXPECT_FALSE(DicomDataset::FromBytes(truncated).ok());
  }
}

TEST(DicomInfoTest, RefusesBytesThatAreNotDicom) {
  auto ds = DicomDataset::FromBytes(std::string(200, 'x'));
  if (ds.ok()) {
    auto info = ReadInfo(*ds);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), ErrorCode::kInvalidArgument);
  } else {
    EXPECT_EQ(ds.status().code(), ErrorCode::kDataLoss);
  }
  EXPECT_EQ(DicomDataset::FromBytes("abc", 2).status().code(), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace medscribe::dicom
