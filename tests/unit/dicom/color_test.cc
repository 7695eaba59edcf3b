// Color images: RGB in both planar configurations, YBR_FULL and PALETTE COLOR decode to RGB
// values in raw mode (frames x rows x columns x 3) and to their BT.601 luminance for display.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "dicom/image.h"
#include "dicom/info.h"
#include "testing/dicom_bytes.h"
#include "testing/temp_dir.h"

namespace medscribe::dicom {
namespace {

// An 8-bit, 3-sample image of rows x cols whose pixel i holds (r, g, b) = rgb(i), stored in
// `planar` configuration and labelled `photometric`.
DicomDataset ColorImage(int rows, int cols, int planar, const std::string& photometric,
                        const std::function<std::array<uint8_t, 3>(int)>& rgb) {
  const size_t n = static_cast<size_t>(rows) * cols;
  std::vector<uint8_t> bytes(n * 3);
  for (size_t i = 0; i < n; ++i) {
    const auto p = rgb(static_cast<int>(i));
    for (size_t c = 0; c < 3; ++c) bytes[planar ? c * n + i : 3 * i + c] = p[c];
  }
  DicomDataset ds;
  EXPECT_TRUE(ds.SetString("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7").ok());
  EXPECT_TRUE(ds.SetString("SOPInstanceUID", "2.25.31").ok());
  EXPECT_TRUE(ds.SetString("Modality", "OT").ok());
  EXPECT_TRUE(ds.SetString("PhotometricInterpretation", photometric).ok());
  EXPECT_TRUE(ds.SetUint16("SamplesPerPixel", 3).ok());
  EXPECT_TRUE(ds.SetUint16("PlanarConfiguration", static_cast<uint16_t>(planar)).ok());
  EXPECT_TRUE(ds.SetUint16("BitsAllocated", 8).ok());
  EXPECT_TRUE(ds.SetUint16("BitsStored", 8).ok());
  EXPECT_TRUE(ds.SetUint16("HighBit", 7).ok());
  EXPECT_TRUE(ds.SetUint16("PixelRepresentation", 0).ok());
  EXPECT_TRUE(
      ds.SetPixelData8(bytes, static_cast<uint16_t>(rows), static_cast<uint16_t>(cols * 3)).ok());
  EXPECT_TRUE(ds.SetUint16("Columns", static_cast<uint16_t>(cols)).ok());
  EXPECT_TRUE(ds.SetUint16("Rows", static_cast<uint16_t>(rows)).ok());
  return ds;
}

class ColorTest : public ::testing::Test {
 protected:
  StatusOr<DecodedImage> Decode(DicomDataset& ds, bool raw,
                                TransferSyntax ts = TransferSyntax::kExplicitLittle) {
    const std::string path = (tmp_ / "c.dcm").string();
    RETURN_IF_ERROR(ds.SaveFile(path, ts));
    ASSIGN_OR_RETURN(DicomDataset loaded, DicomDataset::LoadFile(path));
    ImageDecodeOptions o;
    o.raw = raw;
    o.size = 16;
    return DecodeImage(loaded, o);
  }
  medscribe::testing::TempDir tmp_;
};

std::array<uint8_t, 3> Pattern(int i) {
  return {static_cast<uint8_t>(i * 7), static_cast<uint8_t>(255 - i), static_cast<uint8_t>(i * 13)};
}

TEST_F(ColorTest, RgbInBothPlanarConfigurationsDecodesExactly) {
  for (int planar : {0, 1}) {
    SCOPED_TRACE("planar " + std::to_string(planar));
    DicomDataset ds = ColorImage(4, 6, planar, "RGB", Pattern);
    auto img = Decode(ds, true);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_EQ(img->channels, 3);
    ASSERT_EQ(img->pixels.size(), 4u * 6 * 3);
    for (int i = 0; i < 24; ++i)
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(img->pixels[static_cast<size_t>(3 * i + c)], Pattern(i)[static_cast<size_t>(c)])
            << "pixel " << i << " channel " << c;
  }
}

TEST_F(ColorTest, Jpeg2000WithTheReversibleColorTransformIsExact) {
  for (int planar : {0, 1}) {
    DicomDataset ds = ColorImage(9, 11, planar, "RGB", Pattern);
    auto img = Decode(ds, true, TransferSyntax::kJpeg2000Lossless);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    auto loaded = DicomDataset::LoadFile((tmp_ / "c.dcm").string());
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(*loaded->GetString("PhotometricInterpretation"), "YBR_RCT");
    ASSERT_EQ(img->channels, 3);
    ASSERT_EQ(img->pixels.size(), 9u * 11 * 3);
    for (int i = 0; i < 99; ++i)
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(img->pixels[static_cast<size_t>(3 * i + c)], Pattern(i)[static_cast<size_t>(c)])
            << "planar " << planar << " pixel " << i << " channel " << c;
  }
}

TEST_F(ColorTest, Jpeg2000InYbrFullIsConvertedLikeTheUncompressedFile) {
  // YBR_FULL planes stored without a color transform: exactly the BT.601 full-range conversion,
  // rounded; DCMTK's integer conversion of the uncompressed file is within 2 of it.
  auto bt601 = [](std::array<uint8_t, 3> ybr) {
    const double y = ybr[0], cb = ybr[1] - 128.0, cr = ybr[2] - 128.0;
    auto clamp = [](double v) { return static_cast<float>(std::clamp(std::round(v), 0.0, 255.0)); };
    return std::array<float, 3>{clamp(y + 1.402 * cr), clamp(y - 0.344136 * cb - 0.714136 * cr),
                                clamp(y + 1.772 * cb)};
  };
  for (int planar : {0, 1}) {
    DicomDataset ds = ColorImage(9, 11, planar, "YBR_FULL", Pattern);
    auto want = Decode(ds, true);
    auto got = Decode(ds, true, TransferSyntax::kJpeg2000Lossless);
    ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
    auto loaded = DicomDataset::LoadFile((tmp_ / "c.dcm").string());
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(*loaded->GetString("PhotometricInterpretation"), "YBR_FULL");
    ASSERT_EQ(got->channels, 3);
    ASSERT_EQ(got->pixels.size(), want->pixels.size());
    for (size_t i = 0; i < want->pixels.size(); ++i) {
      EXPECT_EQ(got->pixels[i], bt601(Pattern(static_cast<int>(i / 3)))[i % 3])
          << "planar " << planar << " sample " << i;
      EXPECT_NEAR(got->pixels[i], want->pixels[i], 2.0) << "planar " << planar << " sample " << i;
    }
  }
}

TEST_F(ColorTest, DisplayIsTheLuminance) {
  // A uniform image: pure red, green or blue give 0.299, 0.587 and 0.114 of full brightness.
  const std::array<std::pair<std::array<uint8_t, 3>, float>, 3> cases = {
      {{{255, 0, 0}, 0.299f}, {{0, 255, 0}, 0.587f}, {{0, 0, 255}, 0.114f}}};
  for (const auto& [color, want] : cases) {
    DicomDataset ds = ColorImage(16, 16, 0, "RGB", [&](int) { return color; });
    auto img = Decode(ds, false);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_EQ(img->channels, 1);
    ASSERT_EQ(img->pixels.size(), 256u);
    EXPECT_NEAR(img->pixels[8 * 16 + 8], want, 1e-3);
  }
}

TEST_F(ColorTest, DisplayKeepsColorWhenAsked) {
  // Left half red, right half blue, 16 x 8: fitted into 16 x 16, padded above and below.
  DicomDataset ds = ColorImage(8, 16, 0, "RGB", [](int i) {
    return i % 16 < 8 ? std::array<uint8_t, 3>{255, 0, 0} : std::array<uint8_t, 3>{0, 0, 255};
  });
  const std::string path = (tmp_ / "k.dcm").string();
  ASSERT_TRUE(ds.SaveFile(path, TransferSyntax::kExplicitLittle).ok());
  auto loaded = DicomDataset::LoadFile(path);
  ASSERT_TRUE(loaded.ok());
  ImageDecodeOptions o;
  o.size = 16;
  o.keep_color = true;
  auto img = DecodeImage(*loaded, o);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->channels, 3);
  ASSERT_EQ(img->pixels.size(), 16u * 16 * 3);
  auto at = [&](int y, int x, int c) {
    return img->pixels[(static_cast<size_t>(y) * 16 + x) * 3 + c];
  };
  EXPECT_NEAR(at(8, 2, 0), 1.0f, 1e-3);  // red on the left
  EXPECT_NEAR(at(8, 2, 2), 0.0f, 1e-3);
  EXPECT_NEAR(at(8, 13, 0), 0.0f, 1e-3);  // blue on the right
  EXPECT_NEAR(at(8, 13, 2), 1.0f, 1e-3);
  EXPECT_EQ(at(0, 8, 0) + at(0, 8, 1) + at(0, 8, 2), 0.0f);  // padding
}

TEST_F(ColorTest, YbrFullIsConvertedToRgb) {
  // Neutral chroma (Cb = Cr = 128) is gray: R = G = B = Y; a red pixel in YBR comes out red.
  DicomDataset gray = ColorImage(2, 2, 0, "YBR_FULL", [](int i) {
    return std::array<uint8_t, 3>{static_cast<uint8_t>(40 * i + 10), 128, 128};
  });
  auto img = Decode(gray, true);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(img->pixels[static_cast<size_t>(3 * i + c)], 40 * i + 10, 1) << i << "," << c;
  // Y = 76, Cb = 85, Cr = 255 is (nearly) pure red in BT.601 full range.
  DicomDataset red = ColorImage(1, 1, 0, "YBR_FULL", [](int) {
    return std::array<uint8_t, 3>{76, 85, 255};
  });
  auto r = Decode(red, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->pixels[0], 240);
  EXPECT_LT(r->pixels[1], 15);
  EXPECT_LT(r->pixels[2], 15);
}

// A PALETTE COLOR file written byte by byte (the descriptors' VR depends on the pixel
// representation, which DCMTK's string setter cannot choose): four 16-bit entries, index 0
// black, 1 red, 2 green, 3 white; pixels 0 1 2 3.
std::string PaletteFile() {
  medscribe::testing::DicomBytes b;
  b.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7").Add(0x0008, 0x0018, "UI", "2.25.32");
  b.Add(0x0008, 0x0060, "CS", "OT")
      .Us(0x0028, 0x0002, 1)
      .Add(0x0028, 0x0004, "CS", "PALETTE COLOR");
  b.Us(0x0028, 0x0010, 2).Us(0x0028, 0x0011, 2).Us(0x0028, 0x0100, 8).Us(0x0028, 0x0101, 8);
  b.Us(0x0028, 0x0102, 7).Us(0x0028, 0x0103, 0);
  const std::string descriptor = b.U16(4) + b.U16(0) + b.U16(16);
  for (uint16_t e : {0x1101, 0x1102, 0x1103}) b.Add(0x0028, e, "US", descriptor);
  auto lut = [&](std::array<uint16_t, 4> v) {
    return b.U16(v[0]) + b.U16(v[1]) + b.U16(v[2]) + b.U16(v[3]);
  };
  b.Add(0x0028, 0x1201, "OW", lut({0, 65535, 0, 65535}));
  b.Add(0x0028, 0x1202, "OW", lut({0, 0, 65535, 65535}));
  b.Add(0x0028, 0x1203, "OW", lut({0, 0, 0, 65535}));
  return b.Add(0x7FE0, 0x0010, "OB", std::string{'\0', '\1', '\2', '\3'}).File();
}

TEST(ColorPalette, PaletteColorIsLookedUp) {
  auto ds = DicomDataset::FromBytes(PaletteFile());
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  auto info = ReadInfo(*ds);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->decodable) << info->why_not_decodable;
  ImageDecodeOptions o;
  o.raw = true;
  auto img = DecodeImage(*ds, o);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->channels, 3);
  const std::vector<float> want = {0, 0, 0, 65535, 0, 0, 0, 65535, 0, 65535, 65535, 65535};
  EXPECT_EQ(img->pixels, want);
}

TEST_F(ColorTest, InfoSaysColorIsDecodableAndRleKeepsIt) {
  DicomDataset ds = ColorImage(8, 8, 1, "RGB", Pattern);
  auto img = Decode(ds, true, TransferSyntax::kRle);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->pixels[3 * 5 + 1], Pattern(5)[1]);
  auto loaded = DicomDataset::LoadFile((tmp_ / "c.dcm").string());
  ASSERT_TRUE(loaded.ok());
  auto info = ReadInfo(*loaded);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->decodable) << info->why_not_decodable;
}

}  // namespace
}  // namespace medscribe::dicom
