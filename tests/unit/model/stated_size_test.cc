#include "model/stated_size.h"

#include <cmath>

#include <gtest/gtest.h>

namespace medscribe::model {
namespace {

TEST(StatedSizeTest, LesionMeasurementsBecomeTheReadingsSize) {
  const std::string draft =
      "FINDINGS: 14 mm nodule in the right middle zone. There is a 12-mm pulmonary nodule "
      "projecting over the left upper zone. Right apical pneumothorax measuring approximately 25 "
      "mm. The heart is mildly enlarged, with a cardiothoracic ratio of 0.55.\n"
      "IMPRESSION:\n1. 14 mm right middle nodule.\n2. Left upper zone mass (45 mm), suspicious "
      "for malignancy. A 4.5 cm mass.\n"
      "RECOMMENDATION: Chest CT in 3 months is recommended for the nodule under 6 mm.";
  EXPECT_EQ(StateLesionSize(draft, 20.6),
            "FINDINGS: 21 mm nodule in the right middle zone. There is a 21-mm pulmonary nodule "
            "projecting over the left upper zone. Right apical pneumothorax measuring "
            "approximately 25 mm. The heart is mildly enlarged, with a cardiothoracic ratio of "
            "0.55.\n"
            "IMPRESSION:\n1. 21 mm right middle nodule.\n2. Left upper zone mass (21 mm), "
            "suspicious for malignancy. A 2.1 cm mass.\n"
            "RECOMMENDATION: Chest CT in 3 months is recommended for the nodule under 6 mm.");
  // No lesion read: the draft as written.
  EXPECT_EQ(StateLesionSize(draft, std::nan("")), draft);
  EXPECT_EQ(StateLesionSize(draft, 0), draft);
  // Thresholds are not measurements, even outside a recommendation.
  EXPECT_EQ(StateLesionSize("A nodule larger than 8 mm. Nodule of 9 mm.", 15),
            "A nodule larger than 8 mm. Nodule of 15 mm.");
  // A number that is not a length stays.
  EXPECT_EQ(StateLesionSize("Two nodules, 3 of them calcified", 15),
            "Two nodules, 3 of them calcified");
}

TEST(StatedSizeTest, AStreamGivesTheWholeDraftsText) {
  const std::string draft =
      "There is a 1.4 cm nodule. Right pneumothorax (30 mm at the apex).\n1. 14 mm nodule. "
      "Stable";
  const std::string whole = StateLesionSize(draft, 22);
  EXPECT_EQ(whole,
            "There is a 2.2 cm nodule. Right pneumothorax (30 mm at the apex).\n1. 22 mm nodule. "
            "Stable");
  for (size_t piece : {1, 2, 3, 7}) {
    LesionSizeStatement s(22);
    std::string streamed;
    for (size_t i = 0; i < draft.size(); i += piece)
      streamed += s.Feed(std::string_view(draft).substr(i, piece));
    streamed += s.Finish();
    EXPECT_EQ(streamed, whole) << "pieces of " << piece;
  }
  // A sentence is held back until it is complete: "1." could still become "1.4".
  LesionSizeStatement s(22);
  EXPECT_EQ(s.Feed("There is a 1."), "");
  EXPECT_EQ(s.Feed("4 cm nodule. Next"), "There is a 2.2 cm nodule.");
  EXPECT_EQ(s.Finish(), " Next");
}

}  // namespace
}  // namespace medscribe::model
