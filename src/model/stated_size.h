// A draft's lesion measurements, made the image reader's.
//
// A small decoder copies a number from its prompt poorly: it writes a habitual size where the
// reading in its prompt ("left upper nodule 21 mm", FindingsConfig::read_as_text) measured the
// lesion. The finding head measures; the decoder phrases. So every measurement of a nodule or
// mass that a draft states is replaced by the reading's size: "14 mm nodule", "a 14-mm nodular
// opacity", "mass (45 mm)" in mm as whole mm, "4.5 cm" in cm with one decimal. Only sentences
// that name a nodule or mass are touched, and in them only measurements (a number followed by
// mm or cm) that do not state a threshold ("under 6 mm", "larger than 8 mm") or belong to a
// recommendation (a sentence with "recommend" or "follow-up"); a pneumothorax's apical distance
// is never in such a sentence and stays as written.
//
// The same edit serves a whole draft and a stream of pieces: sentences are edited once complete
// (a '.' not followed by a digit, or a line end), so that streamed text equals the whole draft's.
#pragma once

#include <string>
#include <string_view>

namespace medscribe::model {

// The whole draft with its lesion measurements stated as `size_mm`; unchanged when `size_mm` is
// NaN or not positive (no lesion read).
std::string StateLesionSize(std::string_view draft, double size_mm);

// The same over a stream. Thread safety: none (one per stream).
class LesionSizeStatement {
 public:
  explicit LesionSizeStatement(double size_mm) : size_mm_(size_mm) {}
  // Appends `piece`; returns the text now complete (whole sentences, edited), possibly empty.
  std::string Feed(std::string_view piece);
  // The rest of the text, edited. Feed's and Finish's outputs together equal
  // StateLesionSize(all pieces, size_mm).
  std::string Finish();

 private:
  double size_mm_;
  std::string pending_;
};

}  // namespace medscribe::model
