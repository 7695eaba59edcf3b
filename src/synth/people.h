// Synthetic people: patients with every identifier a hospital record carries, and clinicians.
//
// Everything here is invented from the cohort's random streams; any resemblance to a real person
// is chance. The identifiers are deliberately realistic (formats of MRNs, phone numbers, e-mail,
// national ID numbers such as Taiwan's A123456789, US SSNs) because later stages must prove that
// de-identification removes them.
#pragma once

#include <string>

#include "common/civil_time.h"
#include "common/rng.h"

namespace medscribe::synth {

struct Patient {
  std::string id;         // FHIR logical id, e.g. "pat-000042" (not PHI)
  std::string mrn;        // medical record number, e.g. "MRN4820193"
  std::string family;     // romanized family name, e.g. "Chen"
  std::string given;      // romanized given name(s), e.g. "Mei-Ling"
  std::string zh_family;  // Traditional Chinese name parts (empty unless chinese)
  std::string zh_given;
  bool chinese = false;
  char sex = 'F';  // 'F' or 'M'
  Date birth_date;
  std::string address_line, city, state, postal_code;
  std::string phone;  // "(555) 013-4477"
  std::string email;
  std::string national_id;  // "A123456789"
  std::string ssn;          // "123-45-6789"

  std::string DicomName() const;  // "CHEN^MEI-LING" or "CHEN^MEI-LING=陳^美玲"
  std::string FullName() const;   // "Mei-Ling Chen"
  std::string ZhName() const { return zh_family + zh_given; }
};

struct Clinician {
  std::string family, given;
  std::string DicomName() const;  // "SMITH^JOHN"
  std::string Display() const;    // "Dr. John Smith"
};

// Makes patient `index` from its own stream: stable whatever other patients exist.
Patient MakePatient(uint64_t seed, int index);
// A fixed roster of clinicians for the cohort (radiologists and referring physicians).
Clinician MakeClinician(uint64_t seed, int index);

}  // namespace medscribe::synth
