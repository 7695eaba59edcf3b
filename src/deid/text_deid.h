// De-identification of free text (notes, report text, transcripts), English and Traditional
// Chinese, for the HIPAA Safe Harbor identifiers that occur in clinical text.
//
// Two layers:
//   1. Known identifiers: every string the structured record holds about the patient (names in
//      all their forms, MRN, phone numbers, e-mail, address parts, national ID, SSN) is replaced
//      wherever it appears, case-insensitively for Latin script.
//   2. Patterns for identifiers the record does not list: dates (ISO, US, written out, Chinese)
//      shifted by the patient's offset in their own format, phone and fax numbers (US and Taiwan),
//      e-mail addresses, SSNs, national ID numbers, MRN and accession numbers, street addresses,
//      physicians' names after "Dr." or before 醫師, ages over 89 (-> 90+).
// Replacements are bracketed tags ([NAME], [PHONE], ...), except dates, which stay dates.
//
// Thread safety: a TextScrubber is immutable after construction; Scrub may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace medscribe::deid {

class TextScrubber {
 public:
  // `known`: identifier strings of the patient (empty strings and strings shorter than 3
  // characters are ignored). `date_shift_days`: the patient's date offset.
  TextScrubber(std::vector<std::string> known, int date_shift_days);
  ~TextScrubber();
  TextScrubber(TextScrubber&&) noexcept;

  std::string Scrub(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medscribe::deid
