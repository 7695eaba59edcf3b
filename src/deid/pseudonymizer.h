// Consistent pseudonyms from a secret key (keyed HMAC-SHA256).
//
// The same key and input always give the same pseudonym, so a patient keeps one pseudonymous id
// across studies, sites and runs; without the key the mapping cannot be reversed or recomputed.
// The key never leaves the host that de-identifies.
//
// Thread safety: const methods may be called concurrently.
#pragma once

#include <string>
#include <string_view>

namespace medscribe::deid {

class Pseudonymizer {
 public:
  // REQUIRES: key is secret and at least 16 bytes.
  explicit Pseudonymizer(std::string key) : key_(std::move(key)) {}

  // "P" + 15 upper-case hex digits, e.g. "P3F9A0C21B7D4E18".
  std::string PatientId(std::string_view original) const;
  // A pseudonym of the same kind as `kind` ("accession", "physician", ...): KIND-prefix + hex.
  std::string Token(std::string_view kind, std::string_view original) const;
  // A new UID (2.25.<decimal>) for `uid`; the same UID always maps to the same new one.
  std::string Uid(std::string_view uid) const;
  // Days to add to every date of this patient, in [-1095, -30]: a per-patient shift into the past
  // that keeps intervals between a patient's dates (PS3.15 "Modified Dates").
  int DateShiftDays(std::string_view patient_id) const;

 private:
  std::string key_;
};

// Shifts a DICOM DA value (YYYYMMDD) by `days`; "" for an empty or malformed value.
std::string ShiftDicomDate(std::string_view yyyymmdd, int days);

}  // namespace medscribe::deid
