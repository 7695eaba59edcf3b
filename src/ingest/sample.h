// One training sample per encounter: the de-identified record in the schema of DESIGN.md §4.
//
// A sample is assembled from what alignment gathered for one encounter (its FHIR resources, its
// decoded images, its transcripts) and is written to a shard as adjacent members:
//   <key>.json      the sample (schema below), no PHI
//   <key>.txt       the target report, scrubbed
//   <key>.img.npy   float32 [images, size, size], values in [0, 1]
//   <key>.N.dcm     the de-identified DICOM image N (N = 0, 1, ...)
// The key is the encounter's pseudonym ("ENC-" + 12 hex digits), so a dataset's sample order
// carries no information about the source order.
//
// Thread safety: AssembleSample is a pure function of its inputs; it may run concurrently.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "deid/pseudonymizer.h"
#include "deid/text_deid.h"
#include "dicom/info.h"
#include "fhir/resources.h"

namespace medscribe::ingest {

// 2: the record holds only what existed before the study (conditions and procedures dated before
// it, the order's reason); version 1 samples carried the encounter's final diagnoses.
inline constexpr int kSampleSchemaVersion = 2;
inline constexpr const char* kTaskRadiologyReport = "radiology_report";

// An image that alignment matched to the encounter, decoded and de-identified.
struct SampleImage {
  std::string deid_dicom;      // Part 10 bytes after de-identification
  std::vector<float> pixels;   // size x size, display-decoded
  std::string device_model;    // ManufacturerModelName
  std::string modality;        // DX, CR, ...
  std::string view_position;   // AP, PA, LL, ... ("" when the file does not say)
  std::string study_datetime;  // original StudyDate + StudyTime as FHIR dateTime (PHI; not copied)
  std::string transfer_syntax;
  std::string photometric;
  int rows = 0, cols = 0;
  double row_spacing_mm = 0, column_spacing_mm = 0;  // the file's pixel spacing; 0: not stated
  double mm_per_pixel = 0;  // of `pixels` when resampled to a fixed spacing; 0: fitted
};

struct SampleInputs {
  const fhir::Patient* patient = nullptr;              // REQUIRES: non-null
  const fhir::Encounter* encounter = nullptr;          // REQUIRES: non-null
  const fhir::DiagnosticReport* report = nullptr;      // final report; null for a sample to draft
  const fhir::ServiceRequest* order = nullptr;         // the imaging order, if known
  std::vector<const fhir::Observation*> observations;  // the patient's, any time
  // The encounter's and the patient's (problem list), any time: only those recorded (or with
  // onset) before the study enter the sample, so the final diagnoses coded after the report
  // never do.
  std::vector<const fhir::Condition*> conditions;
  std::vector<const fhir::Procedure*> procedures;     // the encounter's; performed by the study
  std::vector<const fhir::DocumentReference*> notes;  // the encounter's; written by the study
  std::vector<SampleImage> images;                    // REQUIRES: at least one
  std::vector<std::string> transcripts;               // raw ASR output, one per audio file
  int image_size = 256;
  int labs_window_hours = 72;  // labs taken within this many hours before the study
};

struct Sample {
  std::string key;
  std::string patient_pseudonym;
  std::string department, device_model, primary_finding;  // strata
  std::string json;                                       // <key>.json
  std::string report;                                     // <key>.txt
  std::string npy;                                        // <key>.img.npy
  std::vector<std::string> dicoms;                        // <key>.N.dcm
  size_t bytes() const;
};

struct ImagePolicy {
  int image_size = 256;
  // Keep images with BurnedInAnnotation = YES (text in the pixels is not removed).
  bool allow_burned_in = false;
  // The patient's scrubber for the free-text attributes (null: they are removed). Not owned.
  const deid::TextScrubber* scrubber = nullptr;
  // > 0: images that state their pixel spacing are resampled to this many mm per pixel
  // (dicom::ImageDecodeOptions::mm_per_pixel); 0: every image is fitted to the square.
  double mm_per_pixel = 0;
};

// Why ingest refuses an instance from its metadata alone ("no_pixel_data",
// "unsupported_transfer_syntax", "undecodable_pixels"), or "" when its pixels can be decoded.
std::string RefusalFromInfo(const dicom::DicomInfo& info);

// Decodes one DICOM instance (`bytes`, untrusted) to `image_size` square display pixels and
// de-identifies a copy of it. Every path that takes images goes through here, so an image whose
// BurnedInAnnotation is YES is refused (FailedPrecondition) unless the policy allows it. On
// failure `*reason` names the stage that failed ("dicom_unreadable", "burned_in_annotation",
// "undecodable_pixels", "deid_failed").
StatusOr<SampleImage> PrepareImageBytes(std::string_view bytes, const std::string& study_datetime,
                                        const ImagePolicy& policy, const deid::Pseudonymizer& p,
                                        std::string* reason);

// The patient's pseudonym: from the MRN identifier (type MR) when present (the same value DICOM
// carries as PatientID, so image and record agree), else from the FHIR id.
std::string PatientKeyOf(const fhir::Patient& p);

// The stratum "primary finding" of an encounter: the three-character ICD-10 category of its first
// confirmed encounter diagnosis that is not a Z code (status, devices), or "none". The final
// diagnoses serve only to stratify the splits; they never enter the sample.
std::string PrimaryFindingOf(const std::vector<const fhir::Condition*>& conditions);

// Age in whole years at `when` (FHIR date/dateTime strings), "90+" above 89, "" when unknown.
std::string AgeAt(const std::string& birth_date, const std::string& when);

// Builds the sample. Text (notes, report, transcripts, the order's reason) goes through a
// TextScrubber keyed on the patient's identifiers and date shift; dates become hours relative to
// the study. Only what existed before the study enters the record (labs in the window,
// conditions, procedures and notes dated before the study; undated ones are left out).
StatusOr<Sample> AssembleSample(const SampleInputs& in, const deid::Pseudonymizer& p);

}  // namespace medscribe::ingest
