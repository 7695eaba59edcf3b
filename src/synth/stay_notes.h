// The notes of a synthetic inpatient stay, as the record holds them: the admission history and
// physical, one progress note per hospital day (the patient's of Chinese origin often in
// Traditional Chinese with English drug names, as Taiwanese wards write them), consult notes, the
// imaging reports, and the attending's dictated discharge note. Each note states only facts of
// the stay's plan and carries planted PHI of the kinds free text holds (names, record numbers,
// dates, phone numbers, addresses, relatives).
//
// Thread safety: pure functions of their inputs and the given Rng.
#pragma once

#include <string>
#include <vector>

#include "common/rng.h"
#include "synth/note.h"
#include "synth/people.h"
#include "synth/stay.h"

namespace medscribe::synth {

// REQUIRES (all): `clinicians` holds the stay's attending and consultants.
Note ComposeAdmissionNote(const Stay& s, const Patient& p, const std::vector<Clinician>& clinicians,
                          Rng& rng);
// REQUIRES: 1 <= day < s.days (the days between admission and discharge).
Note ComposeProgressNote(const Stay& s, int day, const Patient& p,
                         const std::vector<Clinician>& clinicians, Rng& rng);
Note ComposeConsultNote(const Stay& s, const Consult& c, const Patient& p,
                        const std::vector<Clinician>& clinicians, Rng& rng);
// The imaging report's text (no PHI).
std::string ImagingReportText(const Stay& s, const Imaging& im);
// What the attending says into the recorder on the day of discharge (spoken style, English).
Note ComposeDischargeDictation(const Stay& s, const Patient& p,
                               const std::vector<Clinician>& clinicians, Rng& rng);

// The value of `key` on `day` in the stay's labs or vital signs, if measured that day.
const LabPoint* ValueOn(const Stay& s, std::string_view key, int day);

}  // namespace medscribe::synth
