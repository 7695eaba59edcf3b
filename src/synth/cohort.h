// `medscribe synth`: plans and writes a synthetic multimodal cohort.
//
// Layout of the output directory:
//   dicom/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm
//   fhir/<ResourceType>.ndjson
//   audio/<encounter>.wav            (16 kHz mono 16-bit PCM; absent with speech off)
//   transcripts/dictations.txt       (transcripts of past dictations, not of this cohort)
//   truth/labels.jsonl               (ground truth; tests and evaluation only)
//   cohort.json                      (seed, options, counts, generator version, prevalence)
//
// Determinism: the same options (and the same build) give byte-identical files, whatever `jobs`
// is: every encounter draws from its own random streams, and shared files are written in
// encounter order after the parallel part.
//
// All or nothing: the cohort is written into a staging directory that replaces `out_dir` only
// when everything succeeded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "synth/cohort_types.h"
#include "synth/plan.h"

namespace medscribe::synth {

inline constexpr std::string_view kGeneratorVersion = "medscribe-synth 2";

struct SynthSummary {
  std::string kind = "radiology";
  int patients = 0;
  int encounters = 0;
  int dicom_files = 0;
  int audio_files = 0;
  int accession_missing = 0;
  int burned_in = 0;
  int zh_notes = 0;
  int coding_discrepancies = 0;
  int historical_transcripts = 0;          // lines of transcripts/dictations.txt
  std::map<std::string, int> resources;    // by resource type
  std::map<std::string, int> findings;     // by finding name
  std::map<std::string, int> departments;  // by department name
  std::map<std::string, int> devices;      // by manufacturer/model
  std::map<std::string, int> problems;     // inpatient: stays by principal problem
  int dictated = 0;                        // inpatient: stays with a dictated discharge note
  double seconds = 0;
};

// Checks the options without touching the file system. InvalidArgument says which is wrong.
Status ValidateOptions(const SynthOptions& options);
// Plans and writes the cohort. `progress` may be null.
StatusOr<SynthSummary> WriteCohort(const SynthOptions& options, ProgressBar* progress);
// Human-readable multi-line summary.
std::string FormatSummary(const SynthSummary& s, const std::string& out_dir);

}  // namespace medscribe::synth
