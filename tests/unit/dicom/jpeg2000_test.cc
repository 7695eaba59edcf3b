// JPEG 2000 through OpenJPEG: files written with the lossless transfer syntax decode to exactly
// the values they were given, in every grayscale layout; codestreams whose header disagrees with
// the DICOM header, cut short or not JPEG 2000 at all are refused with the reason.
#include "dicom/jpeg2000.h"

#include <gtest/gtest.h>

#include <openjpeg.h>

#include <cstdlib>
#include <random>

#include "common/files.h"
#include "dicom/image.h"
#include "dicom/info.h"
#include "testing/dicom_bytes.h"
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

// A JPEG 2000 Part 2 codestream such as the multi-component transfer syntaxes (.92, .93) may
// carry: three 8-bit planes through an array-based multi-component transform (a permutation of
// the components), reversible wavelet. Written by OpenJPEG itself.
std::string Part2Codestream(const std::vector<int32_t>& planes, int rows, int cols,
                            const std::string& path) {
  std::vector<opj_image_cmptparm_t> comps(3);
  for (auto& c : comps) {
    c = opj_image_cmptparm_t{};
    c.dx = c.dy = 1;
    c.w = static_cast<OPJ_UINT32>(cols);
    c.h = static_cast<OPJ_UINT32>(rows);
    c.prec = 8;
  }
  opj_image_t* image = opj_image_create(3, comps.data(), OPJ_CLRSPC_SRGB);
  image->x1 = static_cast<OPJ_UINT32>(cols);
  image->y1 = static_cast<OPJ_UINT32>(rows);
  const size_t plane = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  for (size_t c = 0; c < 3; ++c)
    std::copy_n(planes.begin() + static_cast<long>(c * plane), plane, image->comps[c].data);
  opj_cparameters_t p;
  opj_set_default_encoder_parameters(&p);
  p.tcp_numlayers = 1;
  p.tcp_rates[0] = 0;
  p.cp_disto_alloc = 1;
  p.numresolution = 3;
  float matrix[9] = {0, 1, 0, 0, 0, 1, 1, 0, 0};
  OPJ_INT32 shift[3] = {0, 0, 0};
  EXPECT_TRUE(opj_set_MCT(&p, matrix, shift, 3));
  opj_codec_t* codec = opj_create_compress(OPJ_CODEC_J2K);
  opj_stream_t* stream = opj_stream_create_default_file_stream(path.c_str(), OPJ_FALSE);
  const bool ok = opj_setup_encoder(codec, &p, image) && opj_start_compress(codec, image, stream) &&
                  opj_encode(codec, stream) && opj_end_compress(codec, stream);
  opj_stream_destroy(stream);
  opj_destroy_codec(codec);
  opj_image_destroy(image);
  free(p.mct_data);
  EXPECT_TRUE(ok);
  auto bytes = ReadFile(path);
  return bytes.ok() ? *bytes : std::string();
}

// The multi-component syntaxes (.92, .93) holding codestreams without an array-based transform
// decode exactly; one with such a transform is refused with the reason.
TEST_F(Jpeg2000Test, MulticomponentSyntaxesDecodeWhatOpenJpegReads) {
  constexpr int kRows = 7, kCols = 9;
  const size_t plane = kRows * kCols;
  std::vector<int32_t> planes(3 * plane);
  for (size_t i = 0; i < planes.size(); ++i) planes[i] = static_cast<int32_t>((i * 37) % 256);
  auto rct = EncodeJpeg2000Lossless(planes, kRows, kCols, 8, false, 3);
  ASSERT_TRUE(rct.ok());
  const std::string custom = Part2Codestream(planes, kRows, kCols, (tmp_ / "part2.j2k").string());
  ASSERT_FALSE(custom.empty());
  auto file = [&](const char* uid, const std::string& codestream, const char* photometric) {
    medscribe::testing::DicomBytes b;
    b.Syntax(uid);
    b.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7").Add(0x0008, 0x0018, "UI", "2.25.8");
    b.Us(0x0028, 0x0002, 3).Add(0x0028, 0x0004, "CS", photometric).Us(0x0028, 0x0006, 0);
    b.Us(0x0028, 0x0010, kRows).Us(0x0028, 0x0011, kCols).Us(0x0028, 0x0100, 8);
    b.Us(0x0028, 0x0101, 8).Us(0x0028, 0x0102, 7).Us(0x0028, 0x0103, 0);
    return b.Encapsulated({codestream}).File();
  };
  ImageDecodeOptions o;
  o.raw = true;
  for (const char* uid : {"1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93"}) {
    SCOPED_TRACE(uid);
    auto ds = DicomDataset::FromBytes(file(uid, *rct, "YBR_RCT"));
    ASSERT_TRUE(ds.ok()) << ds.status().ToString();
    auto info = ReadInfo(*ds);
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->decodable) << info->why_not_decodable;
    auto img = DecodeImage(*ds, o);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    ASSERT_EQ(img->channels, 3);
    ASSERT_EQ(img->pixels.size(), planes.size());
    for (size_t i = 0; i < plane; ++i)
      for (size_t c = 0; c < 3; ++c)
        ASSERT_EQ(img->pixels[3 * i + c], static_cast<float>(planes[c * plane + i]))
            << "pixel " << i << " component " << c;

    auto part2 = DicomDataset::FromBytes(file(uid, custom, "RGB"));
    ASSERT_TRUE(part2.ok());
    auto refused = DecodeImage(*part2, o);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), ErrorCode::kUnimplemented);
    EXPECT_NE(refused.status().message().find("multi-component transform"), std::string::npos)
        << refused.status().message();
  }
}

// A codestream written unsigned under a header that says signed (as some CT encoders do): the
// values are read as the header declares them, two's complement in BitsStored bits.
TEST_F(Jpeg2000Test, TheHeadersSignednessWinsOverTheCodestreams) {
  const Layout l{16, 13, false, 1};
  DicomDataset plain = RandomImage(l, 12, 10, 5);
  auto unsigned_values = WriteAndDecode(plain, TransferSyntax::kExplicitLittle);
  ASSERT_TRUE(unsigned_values.ok());
  DicomDataset j2k = RandomImage(l, 12, 10, 5);
  const std::string path = (tmp_ / "mismatch.dcm").string();
  ASSERT_TRUE(j2k.SaveFile(path, TransferSyntax::kJpeg2000Lossless).ok());
  auto loaded = DicomDataset::LoadFile(path);
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->SetUint16("PixelRepresentation", 1).ok());
  ImageDecodeOptions o;
  o.raw = true;
  auto got = DecodeImage(*loaded, o);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->pixels.size(), unsigned_values->pixels.size());
  int negative = 0;
  for (size_t i = 0; i < got->pixels.size(); ++i) {
    const float u = unsigned_values->pixels[i];
    EXPECT_EQ(got->pixels[i], u >= 4096 ? u - 8192 : u) << "pixel " << i;
    negative += got->pixels[i] < 0;
  }
  EXPECT_GT(negative, 0);
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
