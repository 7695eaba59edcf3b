#include "synth/radiograph.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "dicom/dataset.h"
#include "synth/cohort.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::synth {
namespace {

namespace fs = std::filesystem;

class RadiographTest : public ::testing::Test {
 protected:
  void SetUp() override { plan_ = medscribe::testing::SmallPlan(4, 5); }
  medscribe::testing::TempDir tmp_;
  const fs::path& dir_ = tmp_.path();
  CohortPlan plan_;
};

TEST_F(RadiographTest, EachDeviceProfileWritesItsFormatAndPixelsRoundTrip) {
  for (int d = 0; d < static_cast<int>(DeviceProfiles().size()); ++d) {
    const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(d)];
    SCOPED_TRACE(dev.model);
    Encounter e = plan_.encounters[0];
    e.device = d;
    e.burned_in = false;
    const Radiograph img = RenderRadiograph(e, 128, plan_.seed);
    EXPECT_EQ(img.rows, MatrixSize(dev, 128));
    const std::string path = (dir_ / (std::to_string(d) + ".dcm")).string();
    ASSERT_TRUE(WriteRadiographDicom(e, plan_, img, path).ok());
    auto ds = dicom::DicomDataset::LoadFile(path);
    ASSERT_TRUE(ds.ok());
    EXPECT_EQ(ds->FileTransferSyntaxUid(), dicom::TransferSyntaxUid(dev.transfer_syntax));
    EXPECT_EQ(*ds->GetString("Modality"), dev.modality);
    EXPECT_EQ(*ds->GetString("PhotometricInterpretation"),
              dev.monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
    EXPECT_EQ(*ds->GetString("PatientID"), plan_.patients[static_cast<size_t>(e.patient)].mrn);
    EXPECT_EQ(*ds->GetString("StudyInstanceUID"), e.study_uid);
    EXPECT_EQ(*ds->GetString("BitsStored"), "12");
    EXPECT_EQ(*ds->DecodePixels16(), img.pixels);
    for (uint16_t v : img.pixels) ASSERT_LE(v, kMaxStored);
  }
}

TEST_F(RadiographTest, MonochromeOneInvertsTheImage) {
  Encounter e = plan_.encounters[0];
  e.device = 0;  // MONOCHROME2
  const Radiograph mono2 = RenderRadiograph(e, 128, plan_.seed);
  e.device = 1;  // MONOCHROME1
  const Radiograph mono1 = RenderRadiograph(e, 128, plan_.seed);
  // The lungs (dark in display) hold high stored values in MONOCHROME1, low in MONOCHROME2.
  auto at = [](const Radiograph& r, double u, double v) {
    return r.pixels[static_cast<size_t>(v * r.rows) * r.cols + static_cast<size_t>(u * r.cols)];
  };
  EXPECT_LT(at(mono2, 0.3, 0.4), kMaxStored / 2);
  EXPECT_GT(at(mono1, 0.3, 0.4), kMaxStored / 2);
}

TEST_F(RadiographTest, BurnedInAnnotationAndMissingAccessionAreWritten) {
  Encounter e = plan_.encounters[1];
  e.device = 0;
  e.burned_in = true;
  e.accession_in_dicom = false;
  const Radiograph img = RenderRadiograph(e, 256, plan_.seed);
  const std::string path = (dir_ / "burned.dcm").string();
  ASSERT_TRUE(WriteRadiographDicom(e, plan_, img, path).ok());
  auto ds = dicom::DicomDataset::LoadFile(path);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(*ds->GetString("BurnedInAnnotation"), "YES");
  EXPECT_EQ(*ds->GetString("AccessionNumber"), "");  // present (Type 2) but empty
  const auto px = *ds->DecodePixels16();
  int changed = 0;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 200; ++x)
      changed += px[static_cast<size_t>(y) * img.cols + x] !=
                 img.pixels[static_cast<size_t>(y) * img.cols + x];
  EXPECT_GT(changed, 100);  // the patient's name and MRN are burned into the corner
}

}  // namespace
}  // namespace medscribe::synth
