#include "model/stated_reading.h"

#include <cmath>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

namespace medscribe::model {
namespace {

// The draft fed to a ReadingStatement in pieces of `piece` bytes.
std::string Streamed(std::string_view draft, const StatedReading& read, size_t piece) {
  ReadingStatement s(read);
  std::string out;
  for (size_t i = 0; i < draft.size(); i += piece) out += s.Feed(draft.substr(i, piece));
  return out + s.Finish();
}

StatedReading Size(double mm) {
  StatedReading r;
  r.lesion_mm = mm;
  return r;
}

TEST(StatedReadingTest, LesionMeasurementsBecomeTheReadingsSize) {
  const std::string draft =
      "FINDINGS: 14 mm nodule in the right middle zone. There is a 12-mm pulmonary nodule "
      "projecting over the left upper zone. Right apical pneumothorax measuring approximately 25 "
      "mm. The heart is mildly enlarged, with a cardiothoracic ratio of 0.55.\n"
      "IMPRESSION:\n1. 14 mm right middle nodule.\n2. Left upper zone mass (45 mm), suspicious "
      "for malignancy. A 4.5 cm mass.\n"
      "RECOMMENDATION: Chest CT in 3 months is recommended for the nodule under 6 mm.";
  EXPECT_EQ(StateReading(draft, Size(20.6)),
            "FINDINGS: 21 mm nodule in the right middle zone. There is a 21-mm pulmonary nodule "
            "projecting over the left upper zone. Right apical pneumothorax measuring "
            "approximately 25 mm. The heart is mildly enlarged, with a cardiothoracic ratio of "
            "0.55.\n"
            "IMPRESSION:\n1. 21 mm right middle nodule.\n2. Left upper zone mass (21 mm), "
            "suspicious for malignancy. A 2.1 cm mass.\n"
            "RECOMMENDATION: Chest CT in 3 months is recommended for the nodule under 6 mm.");
  // No lesion read: the draft as written.
  EXPECT_EQ(StateReading(draft, Size(std::nan(""))), draft);
  EXPECT_EQ(StateReading(draft, Size(0)), draft);
  // Thresholds are not measurements, even outside a recommendation.
  EXPECT_EQ(StateReading("A nodule larger than 8 mm. Nodule of 9 mm.", Size(15)),
            "A nodule larger than 8 mm. Nodule of 15 mm.");
  // A number that is not a length stays.
  EXPECT_EQ(StateReading("Two nodules, 3 of them calcified", Size(15)),
            "Two nodules, 3 of them calcified");
}

TEST(StatedReadingTest, AStreamGivesTheWholeDraftsText) {
  const std::string draft =
      "There is a 1.4 cm nodule. Right pneumothorax (30 mm at the apex).\n1. 14 mm nodule. "
      "Stable";
  const std::string whole = StateReading(draft, Size(22));
  EXPECT_EQ(whole,
            "There is a 2.2 cm nodule. Right pneumothorax (30 mm at the apex).\n1. 22 mm nodule. "
            "Stable");
  for (size_t piece : {1, 2, 3, 7})
    EXPECT_EQ(Streamed(draft, Size(22), piece), whole) << "pieces of " << piece;
  // A sentence is held back until it is complete: "1." could still become "1.4".
  ReadingStatement s(Size(22));
  EXPECT_EQ(s.Feed("There is a 1."), "");
  EXPECT_EQ(s.Feed("4 cm nodule. Next"), "There is a 2.2 cm nodule.");
  EXPECT_EQ(s.Finish(), " Next");
}

// FindingKind order (findings.h): 1 pleural effusion, 2 consolidation, 4 pneumothorax, 5 lesion,
// 6 atelectasis, 11 chest tube.
StatedReading Sides(std::initializer_list<std::pair<int, ReadSide>> sides) {
  StatedReading r;
  for (const auto& [kind, side] : sides) r.side[static_cast<size_t>(kind)] = side;
  return r;
}

TEST(StatedReadingTest, SidesBecomeTheReadingsForTheFindingsItRead) {
  const StatedReading read = Sides({{1, ReadSide::kLeft}, {2, ReadSide::kRight}});
  // Each side word goes with the finding of its clause.
  EXPECT_EQ(StateReading("FINDINGS: Small right pleural effusion and left lower zone "
                         "consolidation.",
                         read),
            "FINDINGS: Small left pleural effusion and right lower zone consolidation.");
  // A clause without a finding: the nearest finding of the sentence.
  EXPECT_EQ(StateReading("Right pleural fluid, small in volume, obscuring the right "
                         "costophrenic angle.",
                         read),
            "Left pleural fluid, small in volume, obscuring the left costophrenic angle.");
  // Bilateral both ways, and capitals kept.
  EXPECT_EQ(StateReading("Bilateral pleural effusions. RIGHT LOWER ZONE CONSOLIDATION.",
                         Sides({{1, ReadSide::kRight}, {2, ReadSide::kBilateral}})),
            "Right pleural effusions. BILATERAL LOWER ZONE CONSOLIDATION.");
  EXPECT_EQ(StateReading("Bibasilar atelectasis.", Sides({{6, ReadSide::kLeft}})),
            "Left basilar atelectasis.");
  EXPECT_EQ(StateReading("Right basilar atelectasis.", Sides({{6, ReadSide::kBilateral}})),
            "Bilateral basilar atelectasis.");
  // The elevated hemidiaphragm goes with its collapse.
  EXPECT_EQ(StateReading("Right lower lobe collapse with volume loss and elevation of the right "
                         "hemidiaphragm.",
                         Sides({{6, ReadSide::kLeft}})),
            "Left lower lobe collapse with volume loss and elevation of the left hemidiaphragm.");
}

TEST(StatedReadingTest, WordsThatAreNotTheReadingsStay) {
  const StatedReading read = Sides({{1, ReadSide::kLeft}, {5, ReadSide::kLeft}});
  // Devices and anatomy with a side of their own.
  for (const char* kept :
       {"Right-sided central venous catheter with tip in the superior vena cava.",
        "Left chest wall pacemaker with leads in the right atrium and right ventricle.",
        "Bilateral perihilar vascular blurring consistent with mild pulmonary edema."}) {
    EXPECT_EQ(StateReading(kept, read), kept);
  }
  // A finding the reading did not find, or found without a side, keeps its side.
  EXPECT_EQ(StateReading("Right apical pneumothorax. Right lower zone consolidation.", read),
            "Right apical pneumothorax. Right lower zone consolidation.");
  // A negation is not a reading.
  EXPECT_EQ(StateReading("No right pleural effusion. Left pneumothorax, no right effusion.", read),
            "No right pleural effusion. Left pneumothorax, no right effusion.");
  // The record's sections repeat the record.
  EXPECT_EQ(StateReading("INDICATION: Right pleural effusion on CT, 9 mm nodule.\n"
                         "COMPARISON: Right effusion.\n"
                         "FINDINGS: Right pleural effusion. A 9 mm right upper zone nodule.",
                         [] {
                           StatedReading r = Sides({{1, ReadSide::kLeft}, {5, ReadSide::kLeft}});
                           r.lesion_mm = 14;
                           return r;
                         }()),
            "INDICATION: Right pleural effusion on CT, 9 mm nodule.\n"
            "COMPARISON: Right effusion.\n"
            "FINDINGS: Left pleural effusion. A 14 mm left upper zone nodule.");
  // "massive" is a severity, not a mass.
  EXPECT_EQ(StateReading("Massive right pleural effusion.", read),
            "Massive left pleural effusion.");
  EXPECT_TRUE(StatedReading().empty());
  EXPECT_FALSE(read.empty());
}

TEST(StatedReadingTest, AKindReadWithASideGetsItWhereTheDraftGivesNone) {
  // 1 pleural effusion, 2 consolidation, 9 central line, 10 pacemaker.
  const StatedReading read = Sides(
      {{1, ReadSide::kRight}, {2, ReadSide::kLeft}, {9, ReadSide::kRight}, {10, ReadSide::kLeft}});
  // Before the noun phrase, after its severity; a capital moves to the side word.
  EXPECT_EQ(StateReading("FINDINGS: Small pleural effusion. Patchy airspace opacity in the lower "
                         "zone. Dual-chamber cardiac pacemaker, leads in expected position.",
                         read),
            "FINDINGS: Small right pleural effusion. Patchy left airspace opacity in the lower "
            "zone. Left dual-chamber cardiac pacemaker, leads in expected position.");
  EXPECT_EQ(StateReading("There is a 14 mm nodule.", Sides({{5, ReadSide::kLeft}})),
            "There is a 14 mm left nodule.");
  EXPECT_EQ(StateReading("There is a pleural effusion. PICC line in place.", read),
            "There is a right pleural effusion. Right PICC line in place.");
  // A phrase that has a side word keeps it: the chest wall's, the catheter's own.
  for (const char* kept :
       {"Left chest wall pacemaker with leads in the right atrium and right ventricle.",
        "Right-sided central venous catheter with tip in the superior vena cava.",
        "Right central line terminating in the SVC."}) {
    EXPECT_EQ(StateReading(kept, read), kept);
  }
  // Once per kind and sentence; never into a negation or a kind read without a side.
  EXPECT_EQ(StateReading("Pleural effusion, with fluid tracking along the effusion.", read),
            "Right pleural effusion, with fluid tracking along the effusion.");
  EXPECT_EQ(StateReading("No pleural effusion. Endotracheal tube in place. Pneumothorax.", read),
            "No pleural effusion. Endotracheal tube in place. Pneumothorax.");
  // The record's sections stay as written.
  EXPECT_EQ(StateReading("INDICATION: Pacemaker check.\nFINDINGS: Pacemaker in place.", read),
            "INDICATION: Pacemaker check.\nFINDINGS: Left pacemaker in place.");
}

TEST(StatedReadingTest, AStreamOfSidesGivesTheWholeDraftsText) {
  const StatedReading read = Sides({{1, ReadSide::kLeft}, {11, ReadSide::kLeft}});
  const std::string draft =
      "EXAMINATION: XR CHEST.\nINDICATION: right effusion.\nFINDINGS: Right pleural effusion. "
      "Right chest tube in place.\nIMPRESSION:\n1. Small right pleural effusion";
  const std::string whole = StateReading(draft, read);
  EXPECT_EQ(whole,
            "EXAMINATION: XR CHEST.\nINDICATION: right effusion.\nFINDINGS: Left pleural "
            "effusion. Left chest tube in place.\nIMPRESSION:\n1. Small left pleural effusion");
  for (size_t piece : {1, 2, 5, 11})
    EXPECT_EQ(Streamed(draft, read, piece), whole) << "pieces of " << piece;
}

TEST(StatedReadingTest, SentencesOfFindingsTheReadingDidNotFindAreLeftOut) {
  StatedReading read = Sides({{1, ReadSide::kLeft}});
  for (int k = 0; k <= 7; ++k) read.presence[static_cast<size_t>(k)] = ReadPresence::kNotFound;
  read.presence[1] = ReadPresence::kFound;  // the effusion
  const std::string draft =
      "INDICATION: Fall. Rule out fracture.\n"
      "FINDINGS: Left 7th posterior rib fracture with slight displacement. Small right pleural "
      "effusion. There is a 5.1 cm mass in the left upper zone. No pneumothorax. Right central "
      "line and a right 6th rib fracture.\n"
      "IMPRESSION:\n1. Left upper zone mass (42 mm), suspicious for malignancy.\n2. Small right "
      "pleural effusion.\n3. Acute left 7th rib fracture.\n4. Cardiomegaly.\n"
      "RECOMMENDATION: None.";
  // The record's sections, negations, and a sentence that also names a device stay.
  const std::string want =
      "INDICATION: Fall. Rule out fracture.\n"
      "FINDINGS: Small left pleural effusion. No pneumothorax. Right central line and a right 6th "
      "rib fracture.\n"
      "IMPRESSION:\n1. Small left pleural effusion.\n"
      "RECOMMENDATION: None.";
  EXPECT_EQ(StateReading(draft, read), want);
  for (size_t piece : {1, 3, 8})
    EXPECT_EQ(Streamed(draft, read, piece), want) << "pieces of " << piece;
  // Items on one line are renumbered the same way; undecided kinds stay.
  EXPECT_EQ(StateReading("IMPRESSION: 1. Acute left 7th rib fracture. 2. Small left pleural "
                         "effusion. 3. Endotracheal tube in place.",
                         read),
            "IMPRESSION: 1. Small left pleural effusion. 2. Endotracheal tube in place.");
  // Nothing decided: nothing left out.
  EXPECT_EQ(StateReading("FINDINGS: Acute left 7th rib fracture.", Sides({{1, ReadSide::kLeft}})),
            "FINDINGS: Acute left 7th rib fracture.");
}

TEST(StatedReadingTest, FoundFindingsTheDraftLeavesOutAreStated) {
  StatedReading read;
  for (int k = 0; k <= 7; ++k) read.presence[static_cast<size_t>(k)] = ReadPresence::kNotFound;
  read.presence[1] = ReadPresence::kFound;  // the effusion, which the draft states
  read.statement[1] = "Small left pleural effusion.";
  read.presence[2] = ReadPresence::kFound;  // a consolidation, which it denies
  read.statement[2] = "Moderate right lower zone consolidation.";
  const std::string draft =
      "INDICATION: Cough. Rule out pneumonia.\n"
      "FINDINGS: Small left pleural effusion. No focal consolidation. No pneumothorax.\n"
      "IMPRESSION: 1. Small left pleural effusion.\n"
      "RECOMMENDATION: None.";
  // The denial goes; the consolidation is stated at the end of the findings. The indication's
  // "pneumonia" is the record's, not the draft's assertion.
  const std::string want =
      "INDICATION: Cough. Rule out pneumonia.\n"
      "FINDINGS: Small left pleural effusion. No pneumothorax. Moderate right lower zone "
      "consolidation.\n"
      "IMPRESSION: 1. Small left pleural effusion.\n"
      "RECOMMENDATION: None.";
  EXPECT_EQ(StateReading(draft, read), want);
  for (size_t piece : {1, 2, 5, 11})
    EXPECT_EQ(Streamed(draft, read, piece), want) << "pieces of " << piece;
  // A draft that asserts it in its findings, in its own words, is left as it is.
  const std::string asserted =
      "FINDINGS: Small left pleural effusion. Patchy airspace disease at the right base.\n"
      "IMPRESSION: Right basilar pneumonia.";
  EXPECT_EQ(StateReading(asserted, read), asserted);
  // Findings that run to the draft's end, or no FINDINGS section: the statement comes last,
  // before the draft's closing line end.
  EXPECT_EQ(StateReading("FINDINGS: Small left pleural effusion.\n", read),
            "FINDINGS: Small left pleural effusion. Moderate right lower zone consolidation.\n");
  EXPECT_EQ(StateReading("Small left pleural effusion.", read),
            "Small left pleural effusion. Moderate right lower zone consolidation.");
  EXPECT_EQ(StateReading("FINDINGS:\nIMPRESSION: Effusion.", read),
            "FINDINGS: Small left pleural effusion. Moderate right lower zone "
            "consolidation.\nIMPRESSION: Effusion.");
  // An impression whose every sentence was left out states what the reading found.
  const std::string lost =
      "FINDINGS: Airspace disease at the right base.\nIMPRESSION: 1. Left upper zone nodule.\n"
      "RECOMMENDATION: None.";
  const std::string stated =
      "FINDINGS: Airspace disease at the right base. Small left pleural effusion.\n"
      "IMPRESSION: Small left pleural effusion. Moderate right lower zone consolidation. "
      "RECOMMENDATION: None.";
  EXPECT_EQ(StateReading(lost, read), stated);
  for (size_t piece : {1, 4, 9}) EXPECT_EQ(Streamed(lost, read, piece), stated);
  EXPECT_EQ(StateReading("FINDINGS: Effusion. Consolidation.\nIMPRESSION: 1. Nodule.", read),
            "FINDINGS: Effusion. Consolidation.\nIMPRESSION: Small left pleural effusion. "
            "Moderate right lower zone consolidation.");
  // Devices the reading found are stated as the findings are; a device the draft names in its
  // own words ("right internal jugular catheter") is not stated again.
  StatedReading devices = read;
  devices.statement[9] = "Central line in place.";
  devices.statement[10] = "Pacemaker in place.";
  EXPECT_EQ(StateReading("FINDINGS: Effusion. Consolidation. Right internal jugular catheter "
                         "tip in the SVC.\nIMPRESSION: Effusion.",
                         devices),
            "FINDINGS: Effusion. Consolidation. Right internal jugular catheter tip in the SVC. "
            "Pacemaker in place.\nIMPRESSION: Effusion.");
  // Every image finding decided absent: an emptied impression reads a normal study.
  StatedReading none;
  for (int k = 0; k <= 7; ++k) none.presence[static_cast<size_t>(k)] = ReadPresence::kNotFound;
  EXPECT_EQ(StateReading("FINDINGS: Clear lungs.\nIMPRESSION: Left lower zone pneumonia.\n"
                         "RECOMMENDATION: None.",
                         none),
            "FINDINGS: Clear lungs.\nIMPRESSION: No acute cardiopulmonary abnormality.\n"
            "RECOMMENDATION: None.");
  // A denial that also names a finding not found stays (it says something true as well).
  EXPECT_EQ(StateReading("FINDINGS: Effusion. No consolidation or pneumothorax.", read),
            "FINDINGS: Effusion. No consolidation or pneumothorax. Moderate right lower zone "
            "consolidation.");
}

TEST(StatedReadingTest, AnyTextStreamsAsItsWhole) {
  // Drafts assembled from words and marks the edits look at, in any order.
  const char* words[] = {"1.",
                         " 2.",
                         "\n",
                         " right",
                         " Left",
                         " bibasilar",
                         " effusion",
                         " mass",
                         " no",
                         ",",
                         " and",
                         " 12 mm",
                         " 4.5 cm",
                         ".",
                         " FINDINGS:",
                         "IMPRESSION:",
                         " INDICATION:",
                         " fracture",
                         " central",
                         ":",
                         " 3",
                         "mm",
                         " nodule",
                         " ",
                         " edema",
                         "\n\n",
                         " Heart is enlarged"};
  StatedReading read = Sides({{1, ReadSide::kBilateral}, {5, ReadSide::kRight}});
  read.lesion_mm = 17;
  for (int k = 0; k <= 7; ++k) read.presence[static_cast<size_t>(k)] = ReadPresence::kNotFound;
  read.presence[1] = ReadPresence::kFound;
  read.presence[3] = ReadPresence::kFound;
  read.statement[3] = "Mild pulmonary edema.";
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::string draft;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) draft += words[rng() % std::size(words)];
    const std::string whole = StateReading(draft, read);
    EXPECT_EQ(Streamed(draft, read, 1 + rng() % 6), whole) << draft;
  }
}

}  // namespace
}  // namespace medscribe::model
