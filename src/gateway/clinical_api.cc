#include "gateway/clinical_api.h"

#include <openssl/rand.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/base64.h"
#include "common/civil_time.h"
#include "common/files.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/url.h"
#include "crypto/envelope.h"
#include "crypto/hmac.h"
#include "deid/pseudonymizer.h"
#include "gateway/assets.h"
#include "monitor/live.h"
#include "serve/error_body.h"
#include "tpm/sealed_file.h"

namespace medscribe::gateway {
namespace fs = std::filesystem;
using clinical::Json;
using serve::HttpRequest;
using serve::Responder;

namespace {

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

using serve::ErrorBody;

bool SafeId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

// Counts drafts and signatures for drift monitoring; a record that cannot be written is logged,
// never a failed draft.
class DriftRecording : public clinical::DraftObserver {
 public:
  explicit DriftRecording(std::unique_ptr<monitor::LiveRecorder> r) : r_(std::move(r)) {}
  void Drafted(const std::string& sample_json, const std::vector<float>& pixels,
               const std::string& draft, const std::vector<std::string>& hint_rules) override {
    if (Status s = r_->Drafted(sample_json, pixels.data(), pixels.size(), draft, hint_rules);
        !s.ok())
      LOG_WARN("drift recording in {}: {}", r_->dir(), s.message());
  }
  void Signed(const std::string& draft, const std::string& final_text) override {
    if (Status s = r_->Signed(draft, final_text); !s.ok())
      LOG_WARN("drift recording in {}: {}", r_->dir(), s.message());
  }

 private:
  std::unique_ptr<monitor::LiveRecorder> r_;
};

struct BatchItem {
  clinical::EncounterRef ref;
  std::string status = "queued";  // queued, running, drafted, failed, cancelled
  std::string draft_id, error;
  bool hidden = false;  // found by the job's search but refused: left out of every view
};

struct BatchJob {
  std::string id, created_at, status = "queued";  // queued, running, done, cancelled
  clinical::Caller owner;
  std::vector<BatchItem> items;
  ClinicalApi::LaterAuditFn audit;  // one record per encounter drafted (or refused)
  std::chrono::steady_clock::time_point ended;
};

constexpr size_t kMaxJobs = 1000;

// A batch search by a caller without an all-departments grant may not name another department
// (the Encounter's service type). What it finds is drafted under the caller's scope, and what
// that refuses never shows in the job.
Status CheckSearchScope(const std::string& query, const clinical::Caller& caller) {
  if (caller.any_department) return OkStatus();
  for (const auto& [key, value] : SplitQuery(query)) {
    if (key.substr(0, key.find(':')) == "service-type" &&
        AsciiLower(PercentDecode(value)) != AsciiLower(caller.department))
      return PermissionDeniedError("the search names another department than the token's ('" +
                                   caller.department + "')");
  }
  return OkStatus();
}

// The drafts store's key ring: released by the TPM when sealed, else read (created when missing).
StatusOr<crypto::KeyRing> OpenKeyRing(const ClinicalConfig& c) {
  if (c.key_ring_sealed.empty()) return crypto::KeyRing::LoadOrCreate(c.key_ring);
  return tpm::UnsealKeyRing(c.tpm, c.key_ring_sealed);
}

}  // namespace

struct ClinicalApi::Impl {
  ClinicalConfig config;
  std::unique_ptr<clinical::Workflow> workflow;
  std::unique_ptr<deid::Pseudonymizer> pseudo;
  // Drafts (long: sources, ASR, the model) and everything else (reads, edits, signing) on
  // separate threads, so the worklist stays responsive while drafts run.
  std::unique_ptr<boost::asio::thread_pool> interactive, requests, batch;
  std::atomic<bool> stopping{false};
  std::atomic<int> queued{0};  // requests accepted and not yet finished
  static constexpr int kMaxQueued = 256;
  std::mutex jobs_mu;
  std::map<std::string, std::shared_ptr<BatchJob>> jobs;

  void Reply(Responder& res, const AuditFn& audit, int status, const std::string& body,
             const std::vector<std::string>& resources,
             std::map<std::string, std::string> headers = {}) {
    Answered(res, audit, status, body, resources, std::move(headers));
  }
  // Reply; false when the audit record could not be written (the answer is then a 500).
  bool Answered(Responder& res, const AuditFn& audit, int status, const std::string& body,
                const std::vector<std::string>& resources,
                std::map<std::string, std::string> headers = {}) {
    if (!audit(status, status < 400 ? "ok" : "failed", resources)) {
      res.Send(500, "application/json",
               ErrorBody(500, "the audit log cannot be written; the answer is withheld"));
      return false;
    }
    res.Send(status, "application/json", body, std::move(headers));
    return true;
  }
  void Fail(Responder& res, const AuditFn& audit, const Status& s,
            const std::vector<std::string>& resources) {
    const int status = HttpStatusFor(s.code());
    Reply(res, audit, status, ErrorBody(status, s.message()), resources);
  }

  void Serve(HttpRequest req, clinical::Caller caller, std::shared_ptr<Responder> res,
             AuditFn audit, LaterAuditFn later);
  void DraftStreamed(const std::function<StatusOr<Json>(const clinical::ProgressFn&)>& run,
                     bool stream, Responder& res, const AuditFn& audit,
                     const std::vector<std::string>& resources);
  void RunBatch(std::shared_ptr<BatchJob> job);
  Json JobView(const BatchJob& j);
  // REQUIRES: jobs_mu held. Forgets jobs that ended more than config.batch_job_ttl_s ago, then
  // the oldest ended ones while more than kMaxJobs are kept.
  void PruneJobs();
};

ClinicalApi::ClinicalApi() : impl_(std::make_unique<Impl>()) {}
ClinicalApi::~ClinicalApi() { Stop(); }

void ClinicalApi::Stop() {
  impl_->stopping = true;
  if (impl_->batch) impl_->batch->join();
  if (impl_->interactive) impl_->interactive->join();
  if (impl_->requests) impl_->requests->join();
}

StatusOr<std::unique_ptr<ClinicalApi>> ClinicalApi::Create(
    const ClinicalConfig& c, std::shared_ptr<clinical::ReportGenerator> generator) {
  std::unique_ptr<ClinicalApi> api(new ClinicalApi());
  Impl& m = *api->impl_;
  m.config = c;
  clinical::WorkflowParts parts;
  parts.generator = std::move(generator);
  clinical::HttpSourceOptions http;
  http.ca_file = c.ca_file;
  http.timeout_ms = c.source_timeout_ms;
  if (!c.token_file.empty()) {
    ASSIGN_OR_RETURN(http.bearer_token, ReadFile(c.token_file));
    while (!http.bearer_token.empty() &&
           std::isspace(static_cast<unsigned char>(http.bearer_token.back())))
      http.bearer_token.pop_back();
  }
  if (c.records.rfind("cohort:", 0) == 0) {
    ASSIGN_OR_RETURN(parts.records, clinical::OpenCohortRecords(c.records.substr(7)));
  } else {
    http.base_url = c.records;
    ASSIGN_OR_RETURN(parts.records, clinical::OpenFhirServer(http));
  }
  if (c.images.rfind("cohort:", 0) == 0) {
    ASSIGN_OR_RETURN(parts.images, clinical::OpenCohortImages(c.images.substr(7)));
  } else {
    http.base_url = c.images;
    ASSIGN_OR_RETURN(parts.images, clinical::OpenDicomWeb(http));
  }
  for (const std::string& f : {c.key_ring, c.deid_key}) {
    std::error_code ec;
    fs::create_directories(fs::path(f).parent_path(), ec);
  }
  ASSIGN_OR_RETURN(crypto::KeyRing ring, OpenKeyRing(c));
  ASSIGN_OR_RETURN(parts.pseudonym_key, crypto::LoadOrCreateKeyFile(c.deid_key));
  if (c.store.rfind("postgres", 0) != 0) {
    std::error_code ec;
    fs::create_directories(fs::path(c.store).parent_path(), ec);
  }
  // A sealed ring is read once: rotating it means sealing it again and restarting.
  ASSIGN_OR_RETURN(auto store,
                   clinical::OpenDraftStore(c.store, std::move(ring),
                                            c.key_ring_sealed.empty() ? c.key_ring : ""));
  parts.store = std::move(store);
  if (!c.drift_dir.empty()) {
    auto reference = monitor::LoadReferenceProfile(c.drift_reference);
    if (!reference.ok())
      return Status(reference.status().code(),
                    "clinical.drift_reference: " + reference.status().message());
    ASSIGN_OR_RETURN(auto recorder, monitor::LiveRecorder::Open(c.drift_dir, std::move(*reference),
                                                                c.drift_window_s));
    parts.observer = std::make_shared<DriftRecording>(std::move(recorder));
  }
  if (c.rules.empty()) {
    for (const Asset& a : Assets()) {
      if (a.path.rfind("rules/", 0) != 0) continue;
      ASSIGN_OR_RETURN(clinical::RuleSet r,
                       clinical::RuleSet::Parse(std::string(a.content), std::string(a.path)));
      parts.rules.push_back(std::make_shared<const clinical::RuleSet>(std::move(r)));
    }
  } else {
    for (const std::string& f : c.rules) {
      ASSIGN_OR_RETURN(clinical::RuleSet r, clinical::RuleSet::Load(f));
      parts.rules.push_back(std::make_shared<const clinical::RuleSet>(std::move(r)));
    }
  }
  if (c.asr) {
    speech::PocketSphinxOptions ps;
    if (!c.asr_acoustic_model.empty()) ps.acoustic_model = c.asr_acoustic_model;
    if (!c.asr_lm.empty()) {
      ps.language_model = c.asr_lm;
      if (fs::exists(c.asr_lm + ".dict")) ps.dictionary = c.asr_lm + ".dict";
    }
    parts.recognizer = [ps]() -> StatusOr<std::unique_ptr<speech::Recognizer>> {
      ASSIGN_OR_RETURN(auto r, speech::PocketSphinxRecognizer::Create(ps));
      return std::unique_ptr<speech::Recognizer>(std::move(r));
    };
  }
  m.pseudo = std::make_unique<deid::Pseudonymizer>(parts.pseudonym_key);
  clinical::WorkflowOptions wo;
  wo.max_tokens = c.max_tokens;
  wo.mm_per_pixel = c.image_spacing_mm;
  m.workflow = std::make_unique<clinical::Workflow>(std::move(parts), wo);
  m.interactive = std::make_unique<boost::asio::thread_pool>(static_cast<size_t>(c.workers));
  m.requests = std::make_unique<boost::asio::thread_pool>(2);
  m.batch = std::make_unique<boost::asio::thread_pool>(1);
  return api;
}

void ClinicalApi::Handle(HttpRequest req, clinical::Caller caller, std::shared_ptr<Responder> res,
                         AuditFn audit, LaterAuditFn later) {
  Impl* m = impl_.get();
  if (m->queued.fetch_add(1) >= Impl::kMaxQueued) {
    --m->queued;
    m->Reply(*res, audit, 429,
             ErrorBody(429, "the clinical workflow has " + std::to_string(Impl::kMaxQueued) +
                                " requests waiting; retry later"),
             {});
    return;
  }
  const bool drafting =
      req.method == "POST" && (req.path == "/v1/drafts" || req.path.ends_with(":regenerate"));
  boost::asio::post(drafting ? *m->interactive : *m->requests,
                    [m, req = std::move(req), caller = std::move(caller), res = std::move(res),
                     audit = std::move(audit), later = std::move(later)]() mutable {
                      try {
                        m->Serve(std::move(req), std::move(caller), res, audit, later);
                      } catch (const std::exception& e) {
                        LOG_ERROR("clinical API: unexpected exception: {}", e.what());
                        audit(500, "failed", {});
                        res->Send(500, "application/json",
                                  ErrorBody(500, "internal error; see the gateway log"));
                      }
                      --m->queued;
                    });
}

void ClinicalApi::Impl::DraftStreamed(
    const std::function<StatusOr<Json>(const clinical::ProgressFn&)>& run, bool stream,
    Responder& res, const AuditFn& audit, const std::vector<std::string>& resources) {
  // Events before the record and images are in (stage "fetching") are held back so that a
  // missing encounter or an unreachable source still answers with its HTTP status.
  std::vector<std::string> held;
  bool started = false, refused = false;
  auto emit = [&](const Json& event) {
    const std::string line = Dump(event) + "\n";
    if (!started) {
      held.push_back(line);
      if (event.value("stage", "") == "fetching") return;
      if (!audit(200, "ok", resources)) {
        refused = true;
        return;
      }
      started = true;
      res.Begin(200, "application/x-ndjson");
      for (auto& l : held) res.Write(std::move(l));
      held.clear();
      return;
    }
    res.Write(line);
  };
  clinical::ProgressFn progress = [&](const std::string& stage, const Json& detail) {
    if (!stream || refused) return;
    emit({{"stage", stage}, {"detail", detail}});
  };
  auto result = run(progress);
  if (refused) {
    res.Send(500, "application/json",
             ErrorBody(500, "the audit log cannot be written; the answer is withheld"));
    return;
  }
  if (!started) {
    if (!result.ok()) return Fail(res, audit, result.status(), resources);
    if (!stream) return Reply(res, audit, 201, Dump(*result), resources);
    emit({{"stage", "done"}, {"draft", *result}});
    if (refused) {
      res.Send(500, "application/json",
               ErrorBody(500, "the audit log cannot be written; the answer is withheld"));
      return;
    }
    res.End();
    return;
  }
  if (!result.ok()) {
    const int status = HttpStatusFor(result.status().code());
    res.Write(
        Dump({{"stage", "error"}, {"status", status}, {"message", result.status().message()}}) +
        "\n");
  } else {
    res.Write(Dump({{"stage", "done"}, {"draft", *result}}) + "\n");
  }
  res.End();
}

void ClinicalApi::Impl::Serve(HttpRequest req, clinical::Caller caller,
                              std::shared_ptr<Responder> res, AuditFn audit, LaterAuditFn later) {
  const std::string& p = req.path;
  Json body = Json::object();
  if (!req.body.empty()) {
    body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return Reply(*res, audit, 400, ErrorBody(400, "the body must be a JSON object"), {});
  }
  auto str = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const bool stream =
      (body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>()) ||
      req.header("accept").find("application/x-ndjson") != std::string::npos;

  if (p == "/v1/drafts" && req.method == "POST") {
    clinical::DraftRequest dr;
    dr.ref.encounter_id = str("encounter_id");
    dr.ref.accession = str("accession");
    std::vector<std::string> resources;
    if (!dr.ref.encounter_id.empty())
      resources.push_back("Encounter/" + pseudo->Token("encounter", dr.ref.encounter_id));
    if (!dr.ref.accession.empty())
      resources.push_back("Study/" + pseudo->Token("accession", dr.ref.accession));
    if (dr.ref.encounter_id.empty() && dr.ref.accession.empty())
      return Reply(*res, audit, 400,
                   ErrorBody(400,
                             "name the encounter (\"encounter_id\") or the study "
                             "(\"accession\")"),
                   {});
    if (!str("audio").empty()) {
      auto wav = Base64Decode(str("audio"));
      if (!wav.ok())
        return Reply(*res, audit, 400, ErrorBody(400, "\"audio\" must be base64 WAV bytes"),
                     resources);
      dr.audio_wav = std::move(wav).value();
    }
    return DraftStreamed(
        [&](const clinical::ProgressFn& progress) { return workflow->Draft(dr, caller, progress); },
        stream, *res, audit, resources);
  }
  if (p == "/v1/drafts" && req.method == "GET") {
    clinical::DraftQuery q;
    q.status = QueryParam(req.target, "status");
    q.batch_job = QueryParam(req.target, "batch_job");
    const std::string limit = QueryParam(req.target, "limit");
    if (!limit.empty()) {
      try {
        q.limit = std::clamp(std::stoi(limit), 1, 1000);
      } catch (...) {
        return Reply(*res, audit, 400, ErrorBody(400, "limit must be a number 1..1000"), {});
      }
    }
    auto list = workflow->List(q, caller);
    if (!list.ok()) return Fail(*res, audit, list.status(), {});
    return Reply(*res, audit, 200, Dump({{"drafts", *list}}), {"Draft/*"});
  }
  if (p.rfind("/v1/drafts/", 0) == 0) {
    std::string rest = p.substr(11), verb;
    const size_t colon = rest.find(':');
    if (colon != std::string::npos) {
      verb = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
    }
    if (!SafeId(rest)) return Reply(*res, audit, 404, ErrorBody(404, "no such draft"), {});
    const std::vector<std::string> resources = {"Draft/" + rest};
    StatusOr<Json> out = NotFoundError("no route");
    int ok_status = 200;
    // If-Match: the revision (ETag) the client last read; edit and sign refuse with 412 when
    // the draft has changed since.
    int64_t if_revision = 0;
    if (const std::string m = req.header("if-match"); !m.empty() && m != "*") {
      std::string v = m.rfind("W/", 0) == 0 ? m.substr(2) : m;
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
        return Reply(*res, audit, 400,
                     ErrorBody(400, "If-Match must be the draft's ETag, e.g. \"3\""), resources);
      if_revision = std::stoll(v);
    }
    if (req.method == "GET" && verb.empty()) {
      out = workflow->Get(rest, caller);
    } else if (req.method == "PUT" && verb.empty()) {
      if (str("text").empty())
        return Reply(*res, audit, 400, ErrorBody(400, "the body needs \"text\": the edited report"),
                     resources);
      out = workflow->Edit(rest, str("text"), caller, if_revision);
    } else if (req.method == "POST" && verb == "sign") {
      out = workflow->Sign(rest, str("text"), caller, if_revision);
    } else if (req.method == "POST" && verb == "amend") {
      if (str("text").empty() || str("reason").empty())
        return Reply(*res, audit, 400,
                     ErrorBody(400, "the body needs \"text\" (the amended report) and \"reason\""),
                     resources);
      out = workflow->Amend(rest, str("text"), str("reason"), caller);
      ok_status = 201;
    } else if (req.method == "POST" && verb == "preliminary") {
      out = workflow->Preliminary(rest, caller);
    } else if (req.method == "POST" && verb == "regenerate") {
      return DraftStreamed(
          [&](const clinical::ProgressFn& progress) {
            return workflow->Regenerate(rest, caller, progress);
          },
          stream, *res, audit, resources);
    } else {
      return Reply(*res, audit, 404, ErrorBody(404, "no route " + req.method + " " + p), resources);
    }
    if (!out.ok()) return Fail(*res, audit, out.status(), resources);
    std::map<std::string, std::string> headers;
    if (out->contains("revision"))
      headers["ETag"] = "\"" + std::to_string((*out)["revision"].get<int64_t>()) + "\"";
    std::vector<std::string> touched = resources;
    if (verb == "amend" && out->contains("id") && (*out)["id"].is_string())
      touched.push_back("Draft/" + (*out)["id"].get<std::string>());
    return Reply(*res, audit, ok_status, Dump(*out), touched, std::move(headers));
  }
  if (p.rfind("/v1/batch-jobs", 0) == 0 && !caller.patient.empty())
    return Reply(*res, audit, 403,
                 ErrorBody(403,
                           "batch jobs work on a department's worklist; a token limited to one "
                           "patient drafts that patient's encounters one at a time"),
                 {});
  if (p == "/v1/batch-jobs" && req.method == "POST") {
    auto job = std::make_shared<BatchJob>();
    job->audit = later;
    unsigned char r[8];
    RAND_bytes(r, sizeof r);
    job->id = "job-" + crypto::Hex(r, sizeof r);
    job->created_at = UtcNowIso();
    job->owner = caller;
    auto add_list = [&](const char* key, bool accession) -> bool {
      if (!body.contains(key)) return true;
      if (!body[key].is_array()) return false;
      for (const Json& e : body[key]) {
        if (!e.is_string()) return false;
        BatchItem it;
        (accession ? it.ref.accession : it.ref.encounter_id) = e.get<std::string>();
        job->items.push_back(std::move(it));
      }
      return true;
    };
    if (!add_list("encounters", false) || !add_list("accessions", true))
      return Reply(*res, audit, 400,
                   ErrorBody(400, "\"encounters\" and \"accessions\" must be lists of strings"),
                   {});
    if (!str("search").empty()) {
      if (Status scope = CheckSearchScope(str("search"), caller); !scope.ok())
        return Fail(*res, audit, scope, {});
      auto ids = workflow->records().FindEncounters(str("search"), 1000);
      if (!ids.ok()) return Fail(*res, audit, ids.status(), {});
      for (const std::string& id : *ids) {
        BatchItem it;
        it.ref.encounter_id = id;
        it.hidden = true;  // shown once the encounter turns out to be the caller's
        job->items.push_back(std::move(it));
      }
    }
    if (job->items.empty())
      return Reply(*res, audit, 400,
                   ErrorBody(400,
                             "the job has no encounter: give \"encounters\", \"accessions\" "
                             "or a \"search\" that finds some"),
                   {});
    if (job->items.size() > 1000)
      return Reply(*res, audit, 400, ErrorBody(400, "at most 1000 encounters per job"), {});
    std::vector<std::string> resources = {"BatchJob/" + job->id};
    for (const BatchItem& it : job->items)
      resources.push_back(it.ref.accession.empty()
                              ? "Encounter/" + pseudo->Token("encounter", it.ref.encounter_id)
                              : "Study/" + pseudo->Token("accession", it.ref.accession));
    Json view;
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      PruneJobs();
      if (jobs.size() >= kMaxJobs)
        return Reply(*res, audit, 429,
                     ErrorBody(429, "1000 batch jobs are still running or queued; retry later"),
                     {});
      jobs[job->id] = job;
      view = JobView(*job);
    }
    if (!Answered(*res, audit, 202, Dump(view), resources)) {
      std::lock_guard<std::mutex> lock(jobs_mu);
      jobs.erase(job->id);  // unaudited: never runs
      return;
    }
    boost::asio::post(*batch, [this, job] { RunBatch(job); });
    return;
  }
  if (p.rfind("/v1/batch-jobs/", 0) == 0 && req.method == "GET") {
    const std::string id = p.substr(15);
    std::shared_ptr<BatchJob> job;
    Json view;
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      PruneJobs();
      auto it = jobs.find(id);
      if (it != jobs.end()) {
        job = it->second;
        view = JobView(*job);
      }
    }
    if (!job || (!caller.any_department && job->owner.department != caller.department))
      return Reply(*res, audit, 404,
                   ErrorBody(404, "no batch job '" + (SafeId(id) ? id : "") + "'"), {});
    return Reply(*res, audit, 200, Dump(view), {"BatchJob/" + id});
  }
  Reply(*res, audit, 404, ErrorBody(404, "no route " + req.method + " " + p), {});
}

Json ClinicalApi::Impl::JobView(const BatchJob& j) {
  Json items = Json::array();
  size_t drafted = 0, failed = 0;
  for (const BatchItem& it : j.items) {
    if (it.hidden) continue;
    drafted += it.status == "drafted";
    failed += it.status == "failed";
    Json e = {{"status", it.status}};
    if (!it.ref.encounter_id.empty()) e["encounter_id"] = it.ref.encounter_id;
    if (!it.ref.accession.empty()) e["accession"] = it.ref.accession;
    if (!it.draft_id.empty()) e["draft_id"] = it.draft_id;
    if (!it.error.empty()) e["error"] = it.error;
    items.push_back(std::move(e));
  }
  return {{"id", j.id},
          {"status", j.status},
          {"created_at", j.created_at},
          {"total", items.size()},
          {"drafted", drafted},
          {"failed", failed},
          {"items", items}};
}

void ClinicalApi::Impl::RunBatch(std::shared_ptr<BatchJob> job) {
  {
    std::lock_guard<std::mutex> lock(jobs_mu);
    job->status = "running";
  }
  for (size_t i = 0; i < job->items.size(); ++i) {
    clinical::EncounterRef ref;
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      if (stopping) {
        for (size_t k = i; k < job->items.size(); ++k) job->items[k].status = "cancelled";
        job->status = "cancelled";
        job->ended = std::chrono::steady_clock::now();
        return;
      }
      job->items[i].status = "running";
      ref = job->items[i].ref;
    }
    clinical::DraftRequest dr;
    dr.ref = ref;
    dr.batch_job = job->id;
    StatusOr<Json> out = InternalError("not run");
    try {
      out = workflow->Draft(dr, job->owner, [](const std::string&, const Json&) {});
    } catch (const std::exception& e) {
      LOG_ERROR("batch job {}: unexpected exception: {}", job->id, e.what());
      out = InternalError("internal error; see the gateway log");
    }
    // Another department's encounter, or one that does not exist: the same answer, so a job
    // cannot tell them apart.
    const bool refused = !out.ok() && (out.status().code() == ErrorCode::kPermissionDenied ||
                                       out.status().code() == ErrorCode::kNotFound);
    std::vector<std::string> resources = {
        ref.accession.empty() ? "Encounter/" + pseudo->Token("encounter", ref.encounter_id)
                              : "Study/" + pseudo->Token("accession", ref.accession)};
    if (out.ok()) resources.push_back("Draft/" + (*out).value("id", ""));
    bool audited = true;
    if (job->audit) {
      const int status = out.ok() ? 201 : HttpStatusFor(out.status().code());
      audited = job->audit("batch.item", status, out.ok() ? "ok" : "failed", resources);
    }
    std::lock_guard<std::mutex> lock(jobs_mu);
    BatchItem& it = job->items[i];
    if (!audited) {
      it.status = "failed";
      it.error = "the audit log cannot be written; the draft is withheld";
    } else if (out.ok()) {
      it.status = "drafted";
      it.draft_id = (*out).value("id", "");
      it.hidden = false;
    } else {
      it.status = "failed";
      it.error = refused ? "no encounter this token may draft" : out.status().message();
      it.hidden = it.hidden && refused;
    }
  }
  std::lock_guard<std::mutex> lock(jobs_mu);
  job->status = "done";
  job->ended = std::chrono::steady_clock::now();
}

void ClinicalApi::Impl::PruneJobs() {
  const auto now = std::chrono::steady_clock::now();
  const auto ttl = std::chrono::seconds(config.batch_job_ttl_s);
  const auto ended = [](const BatchJob& j) {
    return j.status == "done" || j.status == "cancelled";
  };
  for (auto it = jobs.begin(); it != jobs.end();)
    it = ended(*it->second) && now - it->second->ended >= ttl ? jobs.erase(it) : std::next(it);
  while (jobs.size() > kMaxJobs) {
    auto oldest = jobs.end();
    for (auto it = jobs.begin(); it != jobs.end(); ++it)
      if (ended(*it->second) && (oldest == jobs.end() || it->second->ended < oldest->second->ended))
        oldest = it;
    if (oldest == jobs.end()) break;
    jobs.erase(oldest);
  }
}

bool ServeReviewPage(const std::string& web_root, const HttpRequest& req, Responder& res) {
  if (req.path == "/") {
    res.Send(302, "text/plain", "see /app/\n", {{"Location", "/app/"}});
    return true;
  }
  std::string rel = req.path.substr(std::string("/app/").size());
  if (rel.empty()) rel = "index.html";
  if (rel.find("..") != std::string::npos || rel.find('/') != std::string::npos) return false;
  std::string type = "application/octet-stream";
  if (rel.ends_with(".html")) type = "text/html; charset=utf-8";
  if (rel.ends_with(".js")) type = "text/javascript; charset=utf-8";
  if (rel.ends_with(".css")) type = "text/css; charset=utf-8";
  const std::map<std::string, std::string> headers = {
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Cache-Control", "no-cache"}};
  if (!web_root.empty()) {
    auto bytes = ReadFile(fs::path(web_root) / rel);
    if (!bytes.ok()) return false;
    res.Send(200, type, std::move(bytes).value(), headers);
    return true;
  }
  const Asset* a = FindAsset("web/" + rel);
  if (a == nullptr) return false;
  res.Send(200, type, std::string(a->content), headers);
  return true;
}

}  // namespace medscribe::gateway
