// A draft's findings, sides and lesion measurements, made the image reader's.
//
// A small decoder copies a decision from its prompt poorly: it writes a habitual size or side
// where the reading in its prompt ("right lower consolidation; left upper nodule 21 mm",
// FindingsConfig::read_as_text) says otherwise. The finding head decides; the decoder phrases.
// So a draft is edited, sentence by sentence, to state what the reading read:
//
// - Sizes: every measurement of a nodule or mass becomes the reading's size: "14 mm nodule",
//   "a 14-mm nodular opacity", "mass (45 mm)" in mm as whole mm, "4.5 cm" in cm with one
//   decimal. Only sentences that name a nodule or mass are touched, and in them only
//   measurements (a number followed by mm or cm) that do not state a threshold ("under 6 mm",
//   "larger than 8 mm") or belong to a recommendation (a sentence with "recommend" or
//   "follow-up"); a pneumothorax's apical distance is never in such a sentence and stays.
// - Sides: each side word ("right", "left", "bilateral", "bibasilar") belongs to the nearest
//   thing the sentence names: a finding or device the reading may give a side (pleural
//   effusion, consolidation or airspace disease, pneumothorax, nodule or mass, atelectasis, rib
//   fracture, central line or catheter, pacemaker, chest tube; which of them it gives one is the
//   reader's choice, findings.h), or something else that keeps its word (an endotracheal tube,
//   the heart's chambers, the chest wall, the breast, the shoulder, edema). A word that belongs
//   to a kind the reading found, with a side, becomes that side ("bibasilar" becomes "right
//   basilar", and back); the costophrenic angle or hemidiaphragm a sentence names beside its
//   finding goes with it. A kind the reading found with a side, asserted by a sentence that
//   gives it no side word, gets one before its noun phrase ("Small right pleural effusion.",
//   "Left dual-chamber cardiac pacemaker."), unless a side word already stands in that phrase
//   ("Left chest wall pacemaker"). A finding named in a negated clause ("no left effusion")
//   keeps its words: a negation is not a reading.
// - Findings: a sentence that asserts nothing but findings the reading decided it did not find
//   (cardiomegaly, pleural effusion, consolidation, edema, pneumothorax, nodule or mass,
//   atelectasis, rib fracture; StatedReading::presence) is left out, with its item number where
//   it was a numbered item (the items after it renumbered): the decoder made it up from the
//   record ("rule out fracture", "follow-up of nodule"). A sentence that also names something
//   else (a finding the reading found, a device) stays whole.
// - Found findings: a finding the reading found and gives a sentence for
//   (StatedReading::statement) that the draft's image sections do not assert by the end of its
//   FINDINGS section gets that sentence there, after the section's last sentence (at the end of
//   a draft that has no FINDINGS section, or whose FINDINGS section runs to its end); the
//   decoder left it out. A sentence that denies nothing but such findings ("No focal
//   consolidation.") is left out as above: it contradicts the reading. An IMPRESSION (or
//   CONCLUSION) section left without a sentence (the decoder's were left out) states every
//   finding the reading found and gives a sentence for, or "No acute cardiopulmonary
//   abnormality." where the reading decided every image finding (kinds 0..7) absent.
//
// Sentences under a header that does not describe the image (INDICATION, HISTORY, REASON,
// COMPARISON, TECHNIQUE, EXAMINATION, PROCEDURE) are left as written: they repeat the record.
//
// The same edit serves a whole draft and a stream of pieces: sentences are edited once complete
// (a '.' not followed by a digit, or a line end), so that streamed text equals the whole draft's.
#pragma once

#include <array>
#include <cmath>
#include <string>
#include <string_view>

namespace medscribe::model {

enum class ReadSide { kNone, kRight, kLeft, kBilateral };
// kUndecided: the reading does not decide this kind (the draft's word stands).
enum class ReadPresence { kUndecided, kFound, kNotFound };

// What a draft must state: indices of `side` follow model::FindingKind (findings.h, which
// asserts that the counts agree).
struct StatedReading {
  static constexpr int kKinds = 12;
  static constexpr size_t kImageFindings = 8;   // kinds 0..7, the findings; 8..11 are devices
  double lesion_mm = std::nan("");              // NaN or not positive: no lesion size to state
  std::array<ReadSide, kKinds> side{};          // kNone: that kind's side words stay as written
  std::array<ReadPresence, kKinds> presence{};  // kNotFound: sentences asserting it alone go
  // Non-empty: the kind was found, and a draft that does not assert it states it in these words
  // (one sentence, e.g. "Moderate right pleural effusion."; kinds 0..7, as `presence`).
  std::array<std::string, kKinds> statement{};

  bool empty() const;  // nothing to state: the draft passes unchanged
};

// The whole draft with the reading's sizes and sides stated.
std::string StateReading(std::string_view draft, const StatedReading& reading);

// The same over a stream. Thread safety: none (one per stream).
class ReadingStatement {
 public:
  explicit ReadingStatement(StatedReading reading) : reading_(reading) {}
  // Appends `piece`; returns the text now complete (whole sentences, edited), possibly empty.
  std::string Feed(std::string_view piece);
  // The rest of the text, edited. Feed's and Finish's outputs together equal
  // StateReading(all pieces, reading).
  std::string Finish();

 private:
  std::string Edit(std::string_view sentence);
  std::string Renumbered(std::string_view number);  // the next item's number, as `number` spaced

  StatedReading reading_;
  std::string pending_;
  std::string held_;  // an item's number whose text has not yet come
  // The statements of the found kinds (only those the draft has not asserted, with
  // `unasserted_only`), each after a space, or empty; marks them asserted and given out.
  std::string Statements(bool unasserted_only);
  // What an emptied impression states: Statements(false), after "No acute cardiopulmonary
  // abnormality." where the reading decided every image finding absent.
  std::string Found();

  bool describes_image_ = true;    // the section the stream is in
  bool in_findings_ = false;       // ... and it is the FINDINGS section
  bool stated_ = false;            // the statements of unasserted findings were given out
  bool in_impression_ = false;     // the section is the IMPRESSION (or CONCLUSION)
  bool impression_empty_ = false;  // ... and has no sentence yet
  char last_ = '\0';               // the last byte given out
  std::string space_;              // white space held back (Edit)
  std::array<bool, StatedReading::kKinds> asserted_{};  // kinds the image sections assert
  int item_ = 0;                                        // items of the section given out
  bool dropped_item_ = false;  // an item was left out; the line end after it goes too
};

}  // namespace medscribe::model
