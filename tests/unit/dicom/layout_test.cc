// Exactness for every stored pixel layout: files written byte by byte (testing/dicom_bytes.h),
// never by the reader's own library, decoded raw and compared value by value, then written again
// by DCMTK in each transfer syntax it writes for every bit depth and compared again.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "dicom/image.h"
#include "dicom/info.h"
#include "testing/dicom_bytes.h"
#include "testing/temp_dir.h"

namespace medscribe::dicom {
namespace {

using medscribe::testing::DicomBytes;

struct Layout {
  int bits_allocated, bits_stored;
  bool is_signed, big_endian;
};

std::string Name(const Layout& l) {
  return std::to_string(l.bits_allocated) + "/" + std::to_string(l.bits_stored) +
         (l.is_signed ? " signed" : " unsigned") +
         (l.big_endian ? " big endian" : " little endian");
}

DicomBytes Header(bool big_endian, int rows, int cols, int frames) {
  DicomBytes b(big_endian);
  b.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7").Add(0x0008, 0x0018, "UI", "2.25.77");
  b.Add(0x0008, 0x0060, "CS", "OT").Us(0x0028, 0x0002, 1).Add(0x0028, 0x0004, "CS", "MONOCHROME2");
  if (frames > 1) b.Add(0x0028, 0x0008, "IS", std::to_string(frames));
  b.Us(0x0028, 0x0010, static_cast<uint16_t>(rows)).Us(0x0028, 0x0011, static_cast<uint16_t>(cols));
  return b;
}

StatusOr<DecodedImage> Raw(const DicomDataset& ds) {
  ImageDecodeOptions o;
  o.raw = true;
  return DecodeImage(ds, o);
}

// `ds` written by DCMTK in `ts` and decoded raw again.
StatusOr<DecodedImage> RawAfterRewrite(DicomDataset& ds, TransferSyntax ts,
                                       const medscribe::testing::TempDir& tmp) {
  const std::string path = (tmp / "again.dcm").string();
  RETURN_IF_ERROR(ds.SaveFile(path, ts));
  ASSIGN_OR_RETURN(const DicomDataset again, DicomDataset::LoadFile(path));
  return Raw(again);
}

// Every combination of 8/16/32 bits allocated, all or fewer bits stored (high bit one below the
// stored bits, random bits above it that a reader must ignore), signed and unsigned, little and
// big endian; 3 frames of 3 x 5, so that 8-bit data has an odd length and is padded.
TEST(DicomPixelLayouts, EveryIntegerLayoutDecodesToItsStoredValues) {
  constexpr int kRows = 3, kCols = 5, kFrames = 3, kCount = kRows * kCols * kFrames;
  std::mt19937_64 rng(11);
  medscribe::testing::TempDir tmp;
  for (const int allocated : {8, 16, 32}) {
    for (const int stored : {allocated, allocated - allocated / 4}) {
      for (const bool is_signed : {false, true}) {
        for (const bool big : {false, true}) {
          const Layout l{allocated, stored, is_signed, big};
          SCOPED_TRACE(Name(l));
          DicomBytes b = Header(big, kRows, kCols, kFrames);
          b.Us(0x0028, 0x0100, static_cast<uint16_t>(allocated));
          b.Us(0x0028, 0x0101, static_cast<uint16_t>(stored));
          b.Us(0x0028, 0x0102, static_cast<uint16_t>(stored - 1));
          b.Us(0x0028, 0x0103, is_signed ? 1 : 0);
          const uint64_t mask = stored == 64 ? ~uint64_t{0} : (uint64_t{1} << stored) - 1;
          std::string pixels;
          std::vector<double> want;
          for (int i = 0; i < kCount; ++i) {
            // The extremes first, then random values; random garbage above the high bit.
            uint64_t v = i == 0   ? 0
                         : i == 1 ? mask
                         : i == 2 ? mask >> 1
                         : i == 3 ? (mask >> 1) + 1
                                  : rng() & mask;
            double value = static_cast<double>(v);
            if (is_signed && (v >> (stored - 1)) != 0) value -= std::ldexp(1.0, stored);
            want.push_back(value);
            const uint64_t garbage = stored < allocated ? (rng() << stored) : 0;
            const uint64_t word =
                (v | garbage) & (allocated == 64 ? ~uint64_t{0} : (uint64_t{1} << allocated) - 1);
            pixels += b.Word(word, allocated / 8);
          }
          b.Add(0x7FE0, 0x0010, allocated == 8 ? "OB" : "OW", pixels);
          auto ds = DicomDataset::FromBytes(b.File());
          ASSERT_TRUE(ds.ok()) << ds.status().ToString();
          auto img = Raw(*ds);
          ASSERT_TRUE(img.ok()) << img.status().ToString();
          ASSERT_EQ(img->frames, kFrames);
          ASSERT_EQ(img->rows, kRows);
          ASSERT_EQ(img->cols, kCols);
          ASSERT_EQ(img->pixels.size(), want.size());
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_EQ(img->pixels[i], static_cast<float>(want[i])) << "pixel " << i;

          // The same values once DCMTK has written the file again, in every syntax it writes
          // for any bit depth.
          for (const TransferSyntax ts :
               {TransferSyntax::kImplicitLittle, TransferSyntax::kExplicitLittle,
                TransferSyntax::kExplicitBig, TransferSyntax::kDeflated, TransferSyntax::kRle}) {
            SCOPED_TRACE(std::string(TransferSyntaxName(ts)));
            auto decoded = RawAfterRewrite(*ds, ts, tmp);
            ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
            ASSERT_EQ(decoded->pixels, img->pixels);
          }
        }
      }
    }
  }
}

// 32-bit RGB, which DCMTK's color images refuse, in both byte orders and both planar
// configurations, then rewritten by DCMTK as RLE (which it decodes itself).
TEST(DicomPixelLayouts, ThirtyTwoBitRgbDecodesToItsStoredValues) {
  constexpr int kRows = 2, kCols = 3;
  std::mt19937 rng(3);
  std::vector<uint32_t> values(kRows * kCols * 3);  // interleaved R G B
  for (uint32_t& v : values) v = static_cast<uint32_t>(rng());
  values[0] = 0xFFFFFFFFu;
  values[1] = 0;
  medscribe::testing::TempDir tmp;
  for (const bool big : {false, true}) {
    for (const uint16_t planar : {0, 1}) {
      SCOPED_TRACE(std::string(big ? "big" : "little") + " endian, planar " +
                   std::to_string(planar));
      DicomBytes b(big);
      b.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7").Add(0x0008, 0x0018, "UI", "2.25.3");
      b.Us(0x0028, 0x0002, 3).Add(0x0028, 0x0004, "CS", "RGB").Us(0x0028, 0x0006, planar);
      b.Us(0x0028, 0x0010, kRows).Us(0x0028, 0x0011, kCols).Us(0x0028, 0x0100, 32);
      b.Us(0x0028, 0x0101, 32).Us(0x0028, 0x0102, 31).Us(0x0028, 0x0103, 0);
      std::string pixels;
      const size_t plane = kRows * kCols;
      for (size_t k = 0; k < values.size(); ++k) {
        const size_t i = planar ? k % plane : k / 3, c = planar ? k / plane : k % 3;
        pixels += b.U32(values[3 * i + c]);
      }
      b.Add(0x7FE0, 0x0010, "OW", pixels);
      auto ds = DicomDataset::FromBytes(b.File());
      ASSERT_TRUE(ds.ok()) << ds.status().ToString();
      auto img = Raw(*ds);
      ASSERT_TRUE(img.ok()) << img.status().ToString();
      ASSERT_EQ(img->channels, 3);
      ASSERT_EQ(img->pixels.size(), values.size());
      for (size_t k = 0; k < values.size(); ++k)
        ASSERT_EQ(img->pixels[k], static_cast<float>(values[k])) << "sample " << k;

      auto decoded = RawAfterRewrite(*ds, TransferSyntax::kRle, tmp);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      ASSERT_EQ(decoded->pixels, img->pixels);
    }
  }
}

std::string FloatFile(int bits, bool big, const std::vector<double>& values, int rows, int cols,
                      int frames, const char* photometric = "MONOCHROME2") {
  DicomBytes b = Header(big, rows, cols, frames);
  b.Add(0x0028, 0x0004, "CS", photometric);
  b.Us(0x0028, 0x0100, static_cast<uint16_t>(bits));
  std::string data;
  for (double v : values) data += bits == 32 ? b.F32(static_cast<float>(v)) : b.F64(v);
  b.Add(0x7FE0, bits == 32 ? 0x0008 : 0x0009, bits == 32 ? "OF" : "OD", data);
  return b.File();
}

TEST(DicomPixelLayouts, FloatAndDoublePixelDataDecodeToTheirValues) {
  const std::vector<double> values = {-1024.5, 0.0,   3.25,      1e6, -0.001, 42.0,
                                      7.5,     -3e-5, 12345.678, 0.5, -2.0,   99.0};
  for (const int bits : {32, 64}) {
    for (const bool big : {false, true}) {
      SCOPED_TRACE(std::to_string(bits) + (big ? " big endian" : " little endian"));
      auto ds = DicomDataset::FromBytes(FloatFile(bits, big, values, 2, 3, 2));
      ASSERT_TRUE(ds.ok()) << ds.status().ToString();
      auto info = ReadInfo(*ds);
      ASSERT_TRUE(info.ok());
      EXPECT_TRUE(info->has_pixel_data);
      EXPECT_EQ(info->float_bits, bits);
      EXPECT_TRUE(info->decodable) << info->why_not_decodable;
      ImageDecodeOptions o;
      o.raw = true;
      auto img = DecodeImage(*ds, o);
      ASSERT_TRUE(img.ok()) << img.status().ToString();
      ASSERT_EQ(img->frames, 2);
      ASSERT_EQ(img->pixels.size(), values.size());
      for (size_t i = 0; i < values.size(); ++i)
        EXPECT_EQ(img->pixels[i], static_cast<float>(values[i])) << "pixel " << i;

      // Display: the first frame, windowed into [0, 1].
      o.raw = false;
      o.size = 8;
      auto shown = DecodeImage(*ds, o);
      ASSERT_TRUE(shown.ok()) << shown.status().ToString();
      ASSERT_EQ(shown->pixels.size(), 64u);
      for (float v : shown->pixels) EXPECT_TRUE(v >= 0 && v <= 1) << v;
    }
  }
}

TEST(DicomPixelLayouts, FloatPixelDataWithNaNShowsAndRefusalsSayWhy) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto ds = DicomDataset::FromBytes(FloatFile(32, false, {nan, 1, 2, 3}, 2, 2, 1));
  ASSERT_TRUE(ds.ok());
  ImageDecodeOptions o;
  o.size = 8;
  auto shown = DecodeImage(*ds, o);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  for (float v : shown->pixels) EXPECT_TRUE(v >= 0 && v <= 1) << v;

  // Too few values for the declared geometry.
  auto short_data = DicomDataset::FromBytes(FloatFile(64, false, {1, 2, 3}, 2, 2, 1));
  ASSERT_TRUE(short_data.ok());
  o.raw = true;
  auto refused = DecodeImage(*short_data, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("holds 3 values"), std::string::npos)
      << refused.status().message();

  // Floating-point color is not a layout DICOM defines.
  auto color = DicomDataset::FromBytes(FloatFile(32, false, {1, 2, 3, 4}, 2, 2, 1, "RGB"));
  ASSERT_TRUE(color.ok());
  auto info = ReadInfo(*color);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->decodable);
  EXPECT_NE(info->why_not_decodable.find("floating-point"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::dicom
