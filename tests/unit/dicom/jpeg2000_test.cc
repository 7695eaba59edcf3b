// JPEG 2000 through OpenJPEG: files written with the lossless transfer syntax decode to exactly
// the values they were given, in every grayscale layout; codestreams whose header disagrees with
// the DICOM header, cut short or not JPEG 2000 at all are refused with the reason.
#include "dicom/jpeg2000.h"

#include <gtest/gtest.h>

#include <random>

#include "dicom/image.h"
#include "dicom/info.h"
#include "testing/temp_dir.h"

namespace medscribe::dicom {
namespace {

struct Layout {
  int bits_allocated, bits_stored;
  bool is_signed;
  int frames;
};

// A grayscale image of random values over the whole range of `l`.
DicomDataset RandomImage(const Layout& l, int rows, int cols, uint32_t seed) {
  std::mt19937 rng(seed);
  const int lo = l.is_signed ? -(1 << (l.bits_stored - 1)) : 0;
  const int hi = l.is_signed ? (1 << (l.bits_stored - 1)) - 1 : (1 << l.bits_stored) - 1;
  std::uniform_int_distribution<int> value(lo, hi);
  const size_t n = static_cast<size_t>(rows) * cols * l.frames;
  DicomDataset ds;
  EXPECT_TRUE(ds.SetString("SOPClassUID", "1.2.840.10008.5.1.4.1.1.1").ok());
  EXPECT_TRUE(ds.SetString("SOPInstanceUID", "2.25.77").ok());
  EXPECT_TRUE(ds.SetString("Modality", "CR").ok());
  EXPECT_TRUE(ds.SetString("PhotometricInterpretation", "MONOCHROME2").ok());
  EXPECT_TRUE(ds.SetUint16("SamplesPerPixel", 1).ok());
  EXPECT_TRUE(ds.SetUint16("BitsAllocated", static_cast<uint16_t>(l.bits_allocated)).ok());
  EXPECT_TRUE(ds.SetUint16("BitsStored", static_cast<uint16_t>(l.bits_stored)).ok());
  EXPECT_TRUE(ds.SetUint16("HighBit", static_cast<uint16_t>(l.bits_stored - 1)).ok());
  EXPECT_TRUE(ds.SetUint16("PixelRepresentation", l.is_signed ? 1 : 0).ok());
  if (l.frames > 1) {
    EXPECT_TRUE(ds.SetString("NumberOfFrames", std::to_string(l.frames)).ok());
  }
  std::vector<uint16_t> words(n);
  for (auto& w : words) {
    const int v = value(rng);
    // Two's complement in the stored bits; the bits above are the sign's, as writers store it.
    w = static_cast<uint16_t>(v);
  }
  if (l.bits_allocated == 8) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(words[i]);
    EXPECT_TRUE(
        ds.SetPixelData8(bytes, static_cast<uint16_t>(rows), static_cast<uint16_t>(cols * l.frames))
            .ok());
  } else {
    EXPECT_TRUE(ds.SetPixelData16(words, static_cast<uint16_t>(rows),
                                  static_cast<uint16_t>(cols * l.frames))
                    .ok());
  }
  EXPECT_TRUE(ds.SetUint16("Columns", static_cast<uint16_t>(cols)).ok());
  EXPECT_TRUE(ds.SetUint16("Rows", static_cast<uint16_t>(rows)).ok());
  return ds;
}

class Jpeg2000Test : public ::testing::Test {
 protected:
  StatusOr<DecodedImage> WriteAndDecode(DicomDataset& ds, TransferSyntax ts) {
    const std::string path =
        (tmp_ / ("x-" + std::string(TransferSyntaxName(ts)) + ".dcm")).string();
    RETURN_IF_ERROR(ds.SaveFile(path, ts));
    ASSIGN_OR_RETURN(DicomDataset loaded, DicomDataset::LoadFile(path));
    ImageDecodeOptions o;
    o.raw = true;
    return DecodeImage(loaded, o);
  }
  medscribe::testing::TempDir tmp_;
};

TEST_F(Jpeg2000Test, LosslessFilesDecodeToExactlyTheirValuesInEveryLayout) {
  for (const Layout& l :
       {Layout{8, 8, false, 1}, Layout{16, 12, false, 1}, Layout{16, 16, false, 2},
        Layout{16, 12, true, 1}, Layout{16, 16, true, 3}, Layout{8, 8, true, 1}}) {
    SCOPED_TRACE(std::to_string(l.bits_allocated) + "/" + std::to_string(l.bits_stored) +
                 (l.is_signed ? " signed" : " unsigned") + ", " + std::to_string(l.frames) +
                 " frame(s)");
    DicomDataset plain = RandomImage(l, 37, 53, 11);
    DicomDataset j2k = RandomImage(l, 37, 53, 11);
    auto want = WriteAndDecode(plain, TransferSyntax::kExplicitLittle);
    auto got = WriteAndDecode(j2k, TransferSyntax::kJpeg2000Lossless);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->frames, l.frames);
    ASSERT_EQ(got->pixels.size(), want->pixels.size());
    EXPECT_EQ(got->pixels, want->pixels);
    float lo = 1e9f, hi = -1e9f;
    for (float v : got->pixels) lo = std::min(lo, v), hi = std::max(hi, v);
    if (l.is_signed) {
      EXPECT_LT(lo, 0) << "negative values survive";
    }
    EXPECT_GT(hi - lo, (1 << l.bits_stored) * 0.9f) << "the whole range is exercised";
  }
}

TEST_F(Jpeg2000Test, TheFileSaysItsSyntaxAndIngestWouldTakeIt) {
  DicomDataset ds = RandomImage({16, 12, false, 1}, 16, 16, 3);
  const std::string path = (tmp_ / "j.dcm").string();
  ASSERT_TRUE(ds.SaveFile(path, TransferSyntax::kJpeg2000Lossless).ok());
  auto loaded = DicomDataset::LoadFile(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->FileTransferSyntaxUid(), "1.2.840.10008.1.2.4.90");
  auto info = ReadInfo(*loaded);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->decodable) << info->why_not_decodable;
  ImageDecodeOptions display;
  auto img = DecodeImage(*loaded, display);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->rows, 256);
}

TEST(Jpeg2000, CodestreamsThatDisagreeAreCutOrAreNotJpeg2000AreRefused) {
  std::vector<int32_t> v(64 * 32);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>(i % 4096);
  auto cs = EncodeJpeg2000Lossless(v, 32, 64, 12, false);
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  auto ok = DecodeJpeg2000(*cs, {32, 64, 1, 16});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->samples, v);
  EXPECT_EQ(ok->precision, 12);

  auto wrong = DecodeJpeg2000(*cs, {64, 64, 1, 16});
  EXPECT_EQ(wrong.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(wrong.status().message().find("64 x 32"), std::string::npos)
      << wrong.status().message();
  auto narrow = DecodeJpeg2000(*cs, {32, 64, 1, 8});
  EXPECT_EQ(narrow.status().code(), ErrorCode::kDataLoss) << "12-bit samples in 8 allocated bits";
  auto color = DecodeJpeg2000(*cs, {32, 64, 3, 16});
  EXPECT_EQ(color.status().code(), ErrorCode::kDataLoss);

  for (size_t keep : {cs->size() / 2, cs->size() - 3, size_t{20}}) {
    auto cut = DecodeJpeg2000(cs->substr(0, keep), {32, 64, 1, 16});
    EXPECT_FALSE(cut.ok()) << "cut to " << keep << " bytes decoded";
  }
  EXPECT_EQ(DecodeJpeg2000("\xFF\xD8\xFF\xE0 jpeg", {32, 64, 1, 16}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeJpeg2000("", {32, 64, 1, 16}).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace medscribe::dicom
