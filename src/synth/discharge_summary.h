// The signed discharge summary of a synthetic inpatient stay: the training target of the
// discharge scenario, written from the stay's plan in the usual sections (admission diagnosis,
// hospital course by problem, procedures, consults, discharge diagnoses, discharge medications
// with changes marked, allergies, condition, disposition, follow-up, pending results), with
// the paraphrase variety of the hospital's physicians.
//
// Every statement is one of the plan's facts: a drug the summary lists is on the plan's discharge
// list, a problem's outcome is its plan's outcome.
//
// Thread safety: pure function of its inputs and the given Rng.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/rng.h"
#include "synth/people.h"
#include "synth/stay.h"

namespace medscribe::synth {

struct DischargeSummary {
  std::string text;
  std::vector<std::string> phi;  // every PHI string in `text`, verbatim
};

// Section headings, in order; each appears on a line of its own, upper case, followed by ":".
const std::vector<std::string_view>& DischargeSections();

// REQUIRES: `clinicians` holds the stay's attending and consultants.
DischargeSummary ComposeDischargeSummary(const Stay& s, const Patient& p,
                                         const std::vector<Clinician>& clinicians, Rng& rng);

// One line of a discharge medication list as the summary writes it, in its canonical form:
// "amoxicillin 1 g oral three times daily for 3 more days" (no change marker).
std::string MedicationLine(const DischargeMed& m);

}  // namespace medscribe::synth
