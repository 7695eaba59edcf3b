// De-identification of free text (notes, report text, transcripts), English and Traditional
// Chinese, for the HIPAA Safe Harbor identifiers that occur in clinical text.
//
// Three layers:
//   1. Known identifiers: every string the structured record holds about the patient (names in
//      all their forms, MRN, phone numbers, e-mail, address parts, national ID, SSN) is replaced
//      wherever it appears, case-insensitively for Latin script.
//   2. Patterns for identifiers the record does not list: URLs, e-mail, IPv4 and IPv6 addresses;
//      dates (ISO, YYYY/MM/DD, MM/DD/YYYY and DD/MM/YYYY, month names in either order, Chinese
//      and ROC-era 民國 dates) shifted by the patient's offset in their own format, day-month or
//      month-year without the other part as [DATE]; phone and fax numbers (international, US,
//      Taiwanese landline and mobile, extensions); SSNs, Taiwan national IDs and resident
//      certificates, long numbers; MRN, health plan, account, licence, certificate, vehicle
//      (plates, VINs) and device (serial, UDI, lot) numbers after the words that name them, in
//      English and Chinese, and by the labels and shapes people use without the usual words
//      (docs/formats/deid-profile.md lists them); biometric and photo references; street and
//      Taiwanese addresses; ages over 89 (-> 90+).
//   3. Names by context and dictionary: after titles (Dr., Mrs., Nurse...), after relatives and
//      roles ("his daughter Jane", "emergency contact: ..."), romanized Chinese names with a
//      surname from the list ("Mei-Ling Chen"); given names and surnames by dictionary
//      (names.h); Chinese names (chinese_names.h).
// Replacements are bracketed tags ([NAME], [PHONE], ...), except dates, which stay dates.
//
// Thread safety: a TextScrubber is immutable after construction; Scrub may run concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace medscribe::deid {

// What a scrub replaced, by category (known, url, email, ip, date, phone, id, mrn, account,
// license, vehicle, device, biometric, address, name, age).
struct ScrubStats {
  std::map<std::string, int> by_category;
};

class TextScrubber {
 public:
  // `known`: identifier strings of the patient, replaced wherever they occur (Latin-script ones
  // as whole words, case-insensitively); strings of fewer than two characters are ignored.
  // `date_shift_days`: the patient's date offset.
  TextScrubber(std::vector<std::string> known, int date_shift_days);
  ~TextScrubber();
  TextScrubber(TextScrubber&&) noexcept;

  // The text with identifiers replaced; `stats` (optional) counts the replacements by category.
  // Never throws; any byte sequence is accepted (invalid UTF-8 passes through).
  std::string Scrub(std::string_view text, ScrubStats* stats = nullptr) const;
  // For a short free-text field (a DICOM description, a protocol name) where a name has no cue
  // words around it: Scrub, then every run of two to four Han characters that starts with a
  // surname is taken for a name.
  std::string ScrubField(std::string_view text, ScrubStats* stats = nullptr) const;
  // For a speech recognition transcript (lower case, numbers spelled out): runs of four or more
  // spoken digits become [NUMBER], a month with an ordinal [DATE], a dictionary name after a cue
  // word [NAME] in any case; then Scrub.
  std::string ScrubTranscript(std::string_view text, ScrubStats* stats = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medscribe::deid
