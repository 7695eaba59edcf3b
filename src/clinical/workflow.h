// The clinical workflow: draft a report for an encounter (the orchestrator), then review, edit,
// sign and write back.
//
// Draft, in order (each stage reported through ProgressFn):
//   fetching     the record from the RecordSource (FHIR), the study from the ImageSource (PACS)
//   transcribing the dictation (request audio, else the record's), when there is one
//   drafting     the de-identified sample (ingest's assembly: identifiers scrubbed from notes and
//                transcript, dates relative to the study) and its image go to the ReportGenerator
//   checking     the rule sets run over the draft and the record
//   stored       the draft is sealed in the DraftStore
// Nothing is stored unless every stage succeeded (no partial draft). An unreadable dictation does
// not fail the draft: it is drafted without transcript and a hint says so.
//
// Sign writes the final text as a FHIR DiagnosticReport (status final) to the RecordSource and
// a DICOM SR (TID 2000, verified) to the ImageSource, and keeps the draft-to-final diff. A
// signed report is never changed: Amend makes a new signed draft, a new version of the
// DiagnosticReport (status amended) and a new SR that names its predecessor.
//
// Views returned (JSON): docs/api.md "Drafts". Thread safety: all methods may run concurrently.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clinical/rules.h"
#include "clinical/sources.h"
#include "clinical/store.h"
#include "common/status.h"
#include "speech/asr.h"

namespace medscribe::clinical {

using Json = nlohmann::json;

// Who is asking (from the verified token).
struct Caller {
  std::string sub;              // the user's id (the token's sub)
  std::string name;             // display name (the token's name claim), "" when absent
  std::string pseudonym;        // keyed pseudonym of sub (what is stored in the clear)
  std::string role;             // radiologist, resident, ...
  std::string department;       // the token's department
  std::string patient;          // non-empty: the token is limited to this patient
  bool any_department = false;  // the role may touch every department
  bool may_sign = false;        // the role may sign reports
};

// Drafts a report from a sample (docs/formats/dataset.md) and its image. Implemented by the
// gateway (its routing to the model replicas) and by tests.
class ReportGenerator {
 public:
  struct Result {
    std::string text, model_version, input_digest;
  };
  virtual ~ReportGenerator() = default;
  // `on_text` receives the text piece by piece as it is generated (the pieces concatenate to
  // the result's text; a generator that does not stream calls it once with the whole text).
  // `batch`: scheduled behind interactive requests (batch jobs).
  virtual StatusOr<Result> Generate(const std::string& sample_json,
                                    const std::string& image_data_url, int max_tokens, bool batch,
                                    const std::function<void(const std::string&)>& on_text) = 0;
};

// Told of each draft stored and each report signed (the gateway's drift monitoring,
// monitor/live.h). The workflow never fails for an observer: it reports its own errors.
// Thread safety: called concurrently from the workflow's threads.
class DraftObserver {
 public:
  virtual ~DraftObserver() = default;
  // The de-identified sample the model read (dataset JSON), its image's pixels as the model
  // read them, the draft, and the rule ids of the hints it got (one per hint).
  virtual void Drafted(const std::string& sample_json, const std::vector<float>& pixels,
                       const std::string& draft, const std::vector<std::string>& hint_rules) = 0;
  virtual void Signed(const std::string& draft, const std::string& final_text) = 0;
};

struct DraftRequest {
  EncounterRef ref;
  std::string audio_wav;  // dictation bytes from the request; empty: the record's, if any
  std::string batch_job;  // set by batch jobs
};

using ProgressFn = std::function<void(const std::string& stage, const Json& detail)>;
using RecognizerFactory = std::function<StatusOr<std::unique_ptr<speech::Recognizer>>()>;

struct WorkflowOptions {
  int image_size = 256;
  // > 0: images that state their pixel spacing are resampled to this many mm per pixel, as
  // `medscribe ingest --image-spacing` does (the model's vision.mm_per_pixel); 0: fitted.
  double mm_per_pixel = 0;
  int labs_window_hours = 72;
  int max_tokens = 384;
  std::string organization = "MedScribe";  // verifying organization in SRs
};

struct WorkflowParts {
  std::shared_ptr<RecordSource> records;
  std::shared_ptr<ImageSource> images;
  std::shared_ptr<ReportGenerator> generator;
  std::shared_ptr<DraftStore> store;
  std::vector<std::shared_ptr<const RuleSet>> rules;
  RecognizerFactory recognizer;             // null: dictations are not transcribed (a hint says so)
  std::string pseudonym_key;                // the de-identification key (same as ingest's)
  std::shared_ptr<DraftObserver> observer;  // optional
};

class Workflow {
 public:
  Workflow(WorkflowParts parts, WorkflowOptions options);
  ~Workflow();

  // The draft view of the new draft. NotFound (encounter, accession, study), Unavailable /
  // DeadlineExceeded naming the source, PermissionDenied (another department or patient).
  StatusOr<Json> Draft(const DraftRequest& req, const Caller& caller, const ProgressFn& progress);
  // Drafts again for the same encounter (a new draft id; the old one stays).
  StatusOr<Json> Regenerate(const std::string& id, const Caller& caller,
                            const ProgressFn& progress);
  StatusOr<Json> Get(const std::string& id, const Caller& caller);
  // The worklist: drafts (newest first) the caller may see, without record excerpts.
  StatusOr<Json> List(const DraftQuery& q, const Caller& caller);
  // Replaces the current text (kept in the edit history); the rules run again on it.
  // FailedPrecondition once signed (a signed report is never changed). With `if_revision` > 0,
  // FailedPrecondition unless the draft is still at that revision (the view's "revision", the
  // API's ETag); Aborted when another write lands between reading and writing.
  StatusOr<Json> Edit(const std::string& id, const std::string& text, const Caller& caller,
                      int64_t if_revision = 0);
  // Signs the current text (or `text` when given) and writes it back. PermissionDenied unless
  // caller.may_sign. Idempotent: signing a signed report again with the same text (or none)
  // answers the signed report and writes nothing; another text is FailedPrecondition. One
  // request signs at a time (Aborted for a second while the first writes back). When write-back
  // fails the draft stays unsigned and the error names the system. `if_revision` as for Edit.
  StatusOr<Json> Sign(const std::string& id, const std::string& text, const Caller& caller,
                      int64_t if_revision = 0);
  // Amends a signed report: a new signed draft (its own id, "amends": the original's id and the
  // reason) whose text becomes a new version of the same DiagnosticReport (status amended) and
  // a new verified SR naming the SR it replaces. The signed original is never changed; its view
  // names the amendment ("amended_by"). PermissionDenied unless caller.may_sign;
  // FailedPrecondition when the draft is not signed, was already amended (amend the newest), or
  // the text is unchanged; InvalidArgument without a reason.
  StatusOr<Json> Amend(const std::string& id, const std::string& text, const std::string& reason,
                       const Caller& caller);
  // Posts the current text as a preliminary DiagnosticReport.
  StatusOr<Json> Preliminary(const std::string& id, const Caller& caller);

  // The hints of `rules` on `text` and a record document (the "record" member of a draft).
  std::vector<Json> Check(const std::string& text, const Json& record, const Json& study) const;

  DraftStore& store() { return *p_.store; }
  RecordSource& records() { return *p_.records; }

 private:
  // A row and its sealed document, after the caller's department and patient checks.
  struct Loaded {
    DraftRow row;
    Json doc;
  };
  StatusOr<Loaded> Load(const std::string& id, const Caller& caller);
  // The id of the signed draft that amends `row`, or "" when none does.
  StatusOr<std::string> AmendedBy(const DraftRow& row);
  StatusOr<std::string> Transcribe(const std::string& wav);

  WorkflowParts p_;
  WorkflowOptions o_;
  std::mutex asr_mu_;
  std::mutex amend_mu_;
  std::vector<std::unique_ptr<speech::Recognizer>> idle_asr_;
};

// A line diff of `before` → `after` ("- old", "+ new", "  same" lines).
std::string LineDiff(const std::string& before, const std::string& after);

// FHIR DiagnosticReport (status "final" or "preliminary") for a draft document.
Json DiagnosticReportOf(const Json& doc, const std::string& status, const std::string& text,
                        const std::string& issued);

// The record the rule sets see (`record` in rules, docs/rules.md), built from a dataset sample
// (ingest's format): its labs with their short names, `conditions` (at drafting every condition
// of the encounter, final diagnoses included; for a dataset's reference the sample's own), its
// procedures and `dictation`. Drafts and the reference hint rates use this one definition.
Json RulesRecord(const Json& sample, Json conditions, const std::string& dictation);

// The hints `rule_sets` raise on a report `text` with its record and study, as a draft gets them
// (rule id, severity, messages, evidence).
std::vector<Json> CheckRules(const std::vector<std::shared_ptr<const RuleSet>>& rule_sets,
                             const std::string& text, const Json& record, const Json& study);

}  // namespace medscribe::clinical
