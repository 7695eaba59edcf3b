#include "dicom/dataset.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "testing/temp_dir.h"

namespace medscribe::dicom {
namespace {

namespace fs = std::filesystem;

class DicomDatasetTest : public ::testing::Test {
 protected:
  // A 12-bit image with structure (gradient + noise), as the synthetic cohort writes.
  static std::vector<uint16_t> TestImage(int rows, int cols) {
    std::vector<uint16_t> px(static_cast<size_t>(rows) * cols);
    std::mt19937 gen(1);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x)
        px[static_cast<size_t>(y) * cols + x] =
            static_cast<uint16_t>((x * 13 + y * 7 + gen() % 64) % 4096);
    return px;
  }

  static DicomDataset MakeImage(const std::vector<uint16_t>& px, uint16_t rows, uint16_t cols) {
    DicomDataset ds;
    EXPECT_TRUE(ds.SetString("SOPClassUID", "1.2.840.10008.5.1.4.1.1.1").ok());
    EXPECT_TRUE(ds.SetString("SOPInstanceUID", "2.25.1234").ok());
    EXPECT_TRUE(ds.SetString("PatientName", "DOE^JANE").ok());
    EXPECT_TRUE(ds.SetString("PhotometricInterpretation", "MONOCHROME2").ok());
    EXPECT_TRUE(ds.SetUint16("SamplesPerPixel", 1).ok());
    EXPECT_TRUE(ds.SetUint16("Rows", rows).ok());
    EXPECT_TRUE(ds.SetUint16("Columns", cols).ok());
    EXPECT_TRUE(ds.SetUint16("BitsAllocated", 16).ok());
    EXPECT_TRUE(ds.SetUint16("BitsStored", 12).ok());
    EXPECT_TRUE(ds.SetUint16("HighBit", 11).ok());
    EXPECT_TRUE(ds.SetUint16("PixelRepresentation", 0).ok());
    EXPECT_TRUE(ds.SetPixelData16(px, rows, cols).ok());
    return ds;
  }

  medscribe::testing::TempDir tmp_;
  const fs::path& dir_ = tmp_.path();
};

TEST_F(DicomDatasetTest, EveryTransferSyntaxRoundTripsPixelsLosslessly) {
  const auto px = TestImage(64, 80);
  for (TransferSyntax ts :
       {TransferSyntax::kImplicitLittle, TransferSyntax::kExplicitLittle,
        TransferSyntax::kExplicitBig, TransferSyntax::kDeflated, TransferSyntax::kJpegLossless,
        TransferSyntax::kJpegLsLossless, TransferSyntax::kRle}) {
    SCOPED_TRACE(std::string(TransferSyntaxName(ts)));
    DicomDataset ds = MakeImage(px, 64, 80);
    const std::string path = (dir_ / (std::string(TransferSyntaxName(ts)) + ".dcm")).string();
    ASSERT_TRUE(ds.SaveFile(path, ts).ok());
    auto loaded = DicomDataset::LoadFile(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->FileTransferSyntaxUid(), TransferSyntaxUid(ts));
    EXPECT_EQ(*loaded->GetString("PatientName"), "DOE^JANE");
    auto decoded = loaded->DecodePixels16();
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, px);
  }
}

TEST_F(DicomDatasetTest, SequencePathsAndPrivateTagsAreWritten) {
  DicomDataset ds = MakeImage(TestImage(8, 8), 8, 8);
  ASSERT_TRUE(ds.SetString("AnatomicRegionSequence[0].CodeValue", "43799004").ok());
  ASSERT_TRUE(ds.SetString("AnatomicRegionSequence[0].CodingSchemeDesignator", "SCT").ok());
  ASSERT_TRUE(ds.SetEmpty("AcquisitionContextSequence").ok());
  ASSERT_TRUE(ds.SetPrivate(0x0029, "ACME 1.0", 0x01, "LO", "Jane Doe").ok());
  const std::string path = (dir_ / "seq.dcm").string();
  ASSERT_TRUE(ds.SaveFile(path, TransferSyntax::kExplicitLittle).ok());
  auto loaded = DicomDataset::LoadFile(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded->GetString("AnatomicRegionSequence[0].CodeValue"), "43799004");
  EXPECT_EQ(loaded->GetString("AnatomicRegionSequence[1].CodeValue").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(loaded->GetString("PatientID").status().code(), ErrorCode::kNotFound);
}

TEST_F(DicomDatasetTest, BadPathsAndKeywordsAreRejected) {
  DicomDataset ds;
  EXPECT_EQ(ds.SetString("NoSuchKeyword", "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds.SetString("AnatomicRegionSequence.CodeValue", "x").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds.SetString("AnatomicRegionSequence[x].CodeValue", "x").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds.SetPrivate(0x0028, "X", 1, "LO", "v").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds.SetPixelData16(std::vector<uint16_t>(3), 2, 2).code(), ErrorCode::kInvalidArgument);
}

TEST_F(DicomDatasetTest, NonDicomAndMissingFilesGiveClearErrors) {
  const fs::path junk = dir_ / "junk.dcm";
  std::ofstream(junk) << "this is not a DICOM file at all";
  auto bad = DicomDataset::LoadFile(junk.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(DicomDataset::LoadFile((dir_ / "missing.dcm").string()).status().code(),
            ErrorCode::kNotFound);
}

TEST(TransferSyntaxTest, NamesAndUidsParseBack) {
  for (TransferSyntax ts :
       {TransferSyntax::kExplicitLittle, TransferSyntax::kJpegLsLossless, TransferSyntax::kRle}) {
    EXPECT_EQ(*ParseTransferSyntax(TransferSyntaxName(ts)), ts);
    EXPECT_EQ(*ParseTransferSyntax(TransferSyntaxUid(ts)), ts);
  }
  auto bad = ParseTransferSyntax("jpeg2000");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("jpeg-ls-lossless"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::dicom
