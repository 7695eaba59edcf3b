// The clinical workflow's HTTP API, served by the gateway after its authentication,
// authorization and limits (routes in the shipped policy; docs/api.md "Drafts"):
//   POST /v1/drafts                 {encounter_id | accession, audio?: base64 WAV}
//                                   → the draft; with "stream": true (or Accept:
//                                   application/x-ndjson) progress events, one JSON per line
//   GET  /v1/drafts[?status=&limit=]  the worklist
//   GET  /v1/drafts/ID              one draft with its evidence
//   PUT  /v1/drafts/ID              {text} an edit
//   POST /v1/drafts/ID:sign         {text?} sign and write back
//   POST /v1/drafts/ID:regenerate   a new draft for the same encounter (streams like create)
//   POST /v1/drafts/ID:preliminary  post the current text as a preliminary DiagnosticReport
//   POST /v1/batch-jobs             {encounters: [...]} | {accessions: [...]} | {search: "..."}
//   GET  /v1/batch-jobs/ID          status and results
// and the review page under /app/ (static files, public; data comes from the API with the
// user's token).
//
// Work runs on the API's own threads (interactive drafts on `workers` threads, batch jobs on
// one more, one draft at a time), never on the gateway's I/O threads.
//
// Thread safety: Handle may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "clinical/workflow.h"
#include "gateway/config.h"
#include "serve/http_server.h"

namespace medscribe::gateway {

class ClinicalApi {
 public:
  // Writes the audit record of the request: exactly once, before the first byte of the answer.
  // False when it could not be written (the answer then becomes a 500).
  using AuditFn = std::function<bool(int status, const std::string& outcome,
                                     const std::vector<std::string>& resources)>;
  // Writes one more audit record for work the request started that finishes after its answer (a
  // batch job's encounters): the request's principal, role and source with this action. Callable
  // from any thread, any number of times, until Stop() returns. False when it could not be
  // written.
  using LaterAuditFn =
      std::function<bool(const std::string& action, int status, const std::string& outcome,
                         const std::vector<std::string>& resources)>;

  // Opens the sources, the store (creating the key ring and de-identification key when
  // missing) and the rule sets. InvalidArgument / NotFound / Unavailable naming what failed.
  static StatusOr<std::unique_ptr<ClinicalApi>> Create(
      const ClinicalConfig& config, std::shared_ptr<clinical::ReportGenerator> generator);
  ~ClinicalApi();

  // REQUIRES: `req` is on a clinical route (action draft.* or batch.*), authorized.
  void Handle(serve::HttpRequest req, clinical::Caller caller,
              std::shared_ptr<serve::Responder> res, AuditFn audit, LaterAuditFn later = {});

  // Waits for running work to finish; queued batch items are dropped (their jobs say so).
  void Stop();

 private:
  ClinicalApi();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serves GET / (a redirect) and /app/... from `web_root`, or from the built-in copy when it is
// empty. Returns false when the path is not a page file (the caller answers 404).
bool ServeReviewPage(const std::string& web_root, const serve::HttpRequest& req,
                     serve::Responder& res);

}  // namespace medscribe::gateway
