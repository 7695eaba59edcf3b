// Where the orchestrator reads an encounter and writes the signed report: the FHIR side (record
// source) and the PACS side (image source), behind interfaces with two implementations each:
//   - a cohort directory (docs/formats/synthetic-cohort.md) as source, and its writeback/
//     folder as sink, for the embedded default (cohort_source.cc);
//   - a FHIR R4 server and a DICOMweb server over HTTP(S) (fhir_client.cc, dicomweb.cc).
//
// Every fetched byte is untrusted: FHIR JSON goes through fhir::FhirReader's limits, DICOM
// through the dicom bridge, multipart bodies through ParseMultipart.
//
// Thread safety: implementations are safe to call from several threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "fhir/resources.h"

namespace medscribe::clinical {

// Which encounter a draft is for: its FHIR Encounter id, or the accession number of its study.
struct EncounterRef {
  std::string encounter_id, accession;
};

// What the orchestrator gathers about one encounter (minimum necessary: the resource subset of
// fhir/resources.h, which keeps only the elements the model and the reviewer use).
struct EncounterRecord {
  fhir::Patient patient;
  fhir::Encounter encounter;
  std::optional<fhir::ServiceRequest> order;
  std::optional<fhir::ImagingStudy> study;
  std::vector<fhir::Observation> observations;  // the patient's; the window is applied later
  // The encounter's (the order's working diagnosis, the final diagnoses once coded) and the
  // patient's problem list; sample assembly keeps what was recorded before the study.
  std::vector<fhir::Condition> conditions;
  std::vector<fhir::Procedure> procedures;     // the encounter's
  std::vector<fhir::DocumentReference> notes;  // the encounter's
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // "FHIR server https://..." or "cohort directory DIR", for error messages.
  virtual std::string name() const = 0;
  // NotFound naming the encounter or accession; Unavailable / DeadlineExceeded naming the
  // source when it cannot be reached or is too slow.
  virtual StatusOr<EncounterRecord> Fetch(const EncounterRef& ref) = 0;
  // Encounter ids matching a FHIR Encounter search (`query` without "Encounter?", e.g.
  // "service-type=ED&_count=20"), at most `limit`. The cohort source understands service-type
  // and _count.
  virtual StatusOr<std::vector<std::string>> FindEncounters(const std::string& query,
                                                            size_t limit) = 0;
  // The encounter's dictation audio (WAV bytes), NotFound when it has none.
  virtual StatusOr<std::string> Dictation(const EncounterRecord& record) = 0;
  // Creates `resource` (FHIR JSON of any type); returns where it now lives ("DiagnosticReport/id"
  // on a server, a file path in a cohort).
  virtual StatusOr<std::string> Create(const std::string& resource_type,
                                       const std::string& resource_json) = 0;
  // Writes a new version of the resource at `location` (what Create returned) with
  // `resource_json` (which carries the resource's id); returns where that version lives
  // ("DiagnosticReport/id/_history/2" on a server, a new file in a cohort). Earlier versions
  // stay readable.
  virtual StatusOr<std::string> Update(const std::string& location,
                                       const std::string& resource_json) = 0;
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual std::string name() const = 0;
  // The study's instances as DICOM Part 10 bytes, found by Study Instance UID (preferred) or
  // accession number. NotFound naming the accession when the study is not there.
  virtual StatusOr<std::vector<std::string>> FetchStudy(const std::string& study_uid,
                                                        const std::string& accession) = 0;
  // Stores one Part 10 instance (STOW-RS); returns where it now lives.
  virtual StatusOr<std::string> Store(const std::string& part10) = 0;
};

// The cohort directory `dir` as both sides. Reads fhir/*.ndjson once at creation; writes
// resources to DIR/writeback/fhir/<Type>-<id>.json and instances to
// DIR/writeback/dicom/<StudyInstanceUID>/<SOPInstanceUID>.dcm (the inputs are never modified).
StatusOr<std::shared_ptr<RecordSource>> OpenCohortRecords(const std::string& dir);
StatusOr<std::shared_ptr<ImageSource>> OpenCohortImages(const std::string& dir);

struct HttpSourceOptions {
  std::string base_url;      // FHIR base ("https://fhir.example/r4") or DICOMweb root
  std::string bearer_token;  // sent as Authorization: Bearer when set
  std::string ca_file;       // trust anchors for https (system store when empty)
  long timeout_ms = 20000;   // whole request
  size_t max_response_bytes = 512u << 20;
};
StatusOr<std::shared_ptr<RecordSource>> OpenFhirServer(const HttpSourceOptions& o);
StatusOr<std::shared_ptr<ImageSource>> OpenDicomWeb(const HttpSourceOptions& o);

}  // namespace medscribe::clinical
