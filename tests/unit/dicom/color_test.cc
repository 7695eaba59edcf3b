// Color images: RGB in both planar configurations, YBR_FULL and PALETTE COLOR decode to RGB
// values in raw mode (frames x rows x columns x 3) and to their BT.601 luminance for display.
#include <gtest/gtest.h>

#include <array>
#include <functional>

#include "dicom/image.h"
#include "dicom/info.h"
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
  auto le16 = [](uint16_t v) { return std::string{char(v & 0xFF), char(v >> 8)}; };
  auto le32 = [&](uint32_t v) { return le16(uint16_t(v & 0xFFFF)) + le16(uint16_t(v >> 16)); };
  auto el = [&](uint16_t g, uint16_t e, const char* vr, std::string v) {
    if (v.size() % 2) v += (std::string(vr) == "UI" ? '\0' : ' ');
    if (std::string(vr) == "OW" || std::string(vr) == "OB")
      return le16(g) + le16(e) + vr + std::string(2, '\0') + le32(uint32_t(v.size())) + v;
    return le16(g) + le16(e) + vr + le16(uint16_t(v.size())) + v;
  };
  const std::string meta_body =
      el(2, 1, "OB", std::string{'\0', '\1'}) + el(2, 2, "UI", "1.2.840.10008.5.1.4.1.1.7") +
      el(2, 3, "UI", "2.25.32") + el(2, 0x10, "UI", "1.2.840.10008.1.2.1");
  std::string out(128, '\0');
  out += "DICM" + el(2, 0, "UL", le32(uint32_t(meta_body.size()))) + meta_body;
  out += el(8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.7") + el(8, 0x18, "UI", "2.25.32") +
         el(8, 0x60, "CS", "OT");
  out += el(0x28, 2, "US", le16(1)) + el(0x28, 4, "CS", "PALETTE COLOR") +
         el(0x28, 0x10, "US", le16(2)) + el(0x28, 0x11, "US", le16(2)) +
         el(0x28, 0x100, "US", le16(8)) + el(0x28, 0x101, "US", le16(8)) +
         el(0x28, 0x102, "US", le16(7)) + el(0x28, 0x103, "US", le16(0));
  const std::string descriptor = le16(4) + le16(0) + le16(16);
  for (uint16_t e : {0x1101, 0x1102, 0x1103}) out += el(0x28, e, "US", descriptor);
  auto lut = [&](std::array<uint16_t, 4> v) {
    return le16(v[0]) + le16(v[1]) + le16(v[2]) + le16(v[3]);
  };
  out += el(0x28, 0x1201, "OW", lut({0, 65535, 0, 65535}));
  out += el(0x28, 0x1202, "OW", lut({0, 0, 65535, 65535}));
  out += el(0x28, 0x1203, "OW", lut({0, 0, 0, 65535}));
  out += el(0x7FE0, 0x10, "OB", std::string{'\0', '\1', '\2', '\3'});
  return out;
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
