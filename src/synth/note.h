// Clinical notes of the cohort: the note (reason for exam and short history)
// with planted PHI of every Safe Harbor kind that fits free text, in English or Traditional
// Chinese.
//
// Thread safety: pure functions of their inputs and the given Rng.
#pragma once

#include <string>
#include <vector>

#include "common/rng.h"
#include "synth/cohort_types.h"

namespace medscribe::synth {

struct Note {
  std::string text;
  std::string language;          // BCP-47: "en" or "zh-TW"
  std::vector<std::string> phi;  // every PHI string planted in `text`, verbatim
};

Note ComposeNote(const Encounter& e, const CohortPlan& cohort, Rng& rng);

}  // namespace medscribe::synth
