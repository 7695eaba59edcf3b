// Alignment of images to encounters.
//
// An image belongs to the encounter of its imaging order. It is matched by accession number
// (ImagingStudy or ServiceRequest with that ACSN identifier); when the image has none, by patient
// (DICOM Patient ID = the Patient's MRN identifier) and acquisition time within a window around
// ImagingStudy.started. A match must be unique: two candidates in the window is an ambiguity, not
// a guess.
//
// Example:
//   EncounterIndex index(resources);
//   auto m = index.Match(image);
//   if (!m.ok()) quarantine(image, m.status().message());
//
// Thread safety: an EncounterIndex is immutable after construction; Match may run concurrently.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "fhir/resources.h"

namespace medscribe::dataset {

// What alignment needs of a DICOM image (identifiers included: alignment runs before
// de-identification, inside the ingest host).
struct ImageKey {
  std::string accession;   // AccessionNumber, may be empty
  std::string patient_id;  // PatientID (the MRN)
  std::string study_date;  // StudyDate, YYYYMMDD
  std::string study_time;  // StudyTime, hhmmss[.frac]
};

struct EncounterMatch {
  std::string encounter_id;
  std::string patient_id;  // FHIR Patient id
  std::string method;      // "accession" or "patient+time"
};

class EncounterIndex {
 public:
  // `window_minutes`: how far an image may be from ImagingStudy.started to match by time.
  explicit EncounterIndex(const std::vector<fhir::Resource>& resources, int window_minutes = 360);

  // NotFound (no candidate) or FailedPrecondition (ambiguous), with the reason.
  StatusOr<EncounterMatch> Match(const ImageKey& image) const;

 private:
  struct Study {
    std::string encounter_id, patient_id;
    long started = 0;  // seconds since the epoch, from ImagingStudy.started
  };
  int window_s_;
  std::map<std::string, EncounterMatch> by_accession_;
  std::map<std::string, std::string> patient_by_mrn_;     // MRN -> Patient id
  std::multimap<std::string, Study> studies_by_patient_;  // Patient id -> studies
};

// Seconds since the epoch for a FHIR dateTime ("2024-03-05T14:30:00Z", offset ignored) or a
// DICOM date and time ("20240305", "143000"); -1 when malformed.
long ParseFhirDateTime(const std::string& s);
long ParseDicomDateTime(const std::string& date, const std::string& time);

}  // namespace medscribe::dataset
