// The clinical API without a network: a ClinicalApi over a small cohort directory with a scripted
// report generator, driven through Handle() with a recording responder and audit functions.
#include "gateway/clinical_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/caller.h"
#include "testing/synth_plan.h"

namespace medscribe::gateway {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class ScriptedGenerator : public clinical::ReportGenerator {
 public:
  StatusOr<Result> Generate(const std::string&, const std::string&, int, bool,
                            const std::function<void(const std::string&)>& on_text) override {
    const std::string text = "FINDINGS: Clear lungs.\n\nIMPRESSION: No acute process.";
    on_text(text);
    return Result{text, "tiny@1", "digest"};
  }
};

// Keeps the one answer a request gets; Wait() blocks until it has come.
class Recorder : public serve::Responder {
 public:
  void Send(int status, std::string, std::string body,
            std::map<std::string, std::string>) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    body_ = std::move(body);
    cv_.notify_all();
  }
  void Begin(int status, std::string, std::map<std::string, std::string>) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
  }
  bool Write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    body_ += chunk;
    return true;
  }
  void End() override { cv_.notify_all(); }
  std::pair<int, Json> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return status_ != 0; });
    return {status_, Json::parse(body_, nullptr, false)};
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int status_ = 0;
  std::string body_;
};

struct AuditEntry {
  std::string action;
  int status;
  std::vector<std::string> resources;
};

class ClinicalApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cohort_ = new fs::path(fs::temp_directory_path() /
                           ("medscribe-clinical-api-" + std::to_string(::getpid())));
    fs::remove_all(*cohort_);
    ASSERT_TRUE(medscribe::testing::WriteSmallCohort(*cohort_ / "cohort", 24, 5).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*cohort_);
    delete cohort_;
  }

  void SetUp() override { api_ = Make(86400); }

  std::unique_ptr<ClinicalApi> Make(int64_t ttl_s) {
    const fs::path home =
        *cohort_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ClinicalConfig c;
    c.enabled = true;
    c.records = c.images = "cohort:" + (*cohort_ / "cohort").string();
    c.store = (home / "drafts.db").string();
    c.key_ring = (home / "kek.ring").string();
    c.deid_key = (home / "deid.key").string();
    c.asr = false;
    c.batch_job_ttl_s = ttl_s;
    auto api = ClinicalApi::Create(c, std::make_shared<ScriptedGenerator>());
    EXPECT_TRUE(api.ok()) << api.status().message();
    return api.ok() ? std::move(*api) : nullptr;
  }

  static clinical::Caller Radiologist(const std::string& department) {
    return medscribe::testing::Radiologist(department);
  }

  std::pair<int, Json> Call(const std::string& method, const std::string& target, const Json& body,
                            const clinical::Caller& caller) {
    serve::HttpRequest req;
    req.method = method;
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    if (!body.is_null()) req.body = body.dump();
    auto rec = std::make_shared<Recorder>();
    const auto audit = [this, action = method + " " + req.path](int status, const std::string&,
                                                                const std::vector<std::string>& r) {
      std::lock_guard<std::mutex> lock(audit_mu_);
      audits_.push_back({action, status, r});
      return true;
    };
    const auto later = [this](const std::string& action, int status, const std::string&,
                              const std::vector<std::string>& r) {
      std::lock_guard<std::mutex> lock(audit_mu_);
      audits_.push_back({action, status, r});
      return true;
    };
    api_->Handle(std::move(req), caller, rec, audit, later);
    return rec->Wait();
  }

  // The departments of the cohort's encounters (Encounter.serviceType.text), by encounter id.
  std::map<std::string, std::string> Departments() {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(*cohort_ / "cohort" / "fhir")) {
      if (e.path().filename() != "Encounter.ndjson") continue;
      std::ifstream in(e.path());
      for (std::string line; std::getline(in, line);) {
        const Json j = Json::parse(line);
        out[j["id"]] = j["serviceType"].value("text", "");
      }
    }
    return out;
  }

  Json WaitForJob(const std::string& id, const clinical::Caller& caller) {
    for (int i = 0; i < 600; ++i) {
      auto [status, job] = Call("GET", "/v1/batch-jobs/" + id, Json(), caller);
      if (status != 200) return job;
      if (job["status"] == "done") return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << id << " never finished";
    return Json();
  }

  size_t AuditsOf(const std::string& action) {
    std::lock_guard<std::mutex> lock(audit_mu_);
    size_t n = 0;
    for (const auto& a : audits_) n += a.action == action;
    return n;
  }

  static fs::path* cohort_;
  std::unique_ptr<ClinicalApi> api_;
  std::mutex audit_mu_;
  std::vector<AuditEntry> audits_;
};
fs::path* ClinicalApiTest::cohort_ = nullptr;

TEST_F(ClinicalApiTest, ABatchSearchStaysInTheCallersDepartment) {
  const auto deps = Departments();
  ASSERT_FALSE(deps.empty());
  const std::string mine = deps.begin()->second;
  size_t own = 0;
  for (const auto& [id, d] : deps) own += d == mine;
  ASSERT_LT(own, deps.size()) << "the cohort needs two departments";
  const clinical::Caller me = Radiologist(mine);
  // An open search finds only the caller's department.
  auto [status, job] = Call("POST", "/v1/batch-jobs", {{"search", "_count=100"}}, me);
  ASSERT_EQ(status, 202) << job.dump();
  const Json done = WaitForJob(job["id"], me);
  EXPECT_EQ(done["total"], own) << done.dump();
  EXPECT_EQ(done["drafted"].get<size_t>() + done["failed"].get<size_t>(), own);
  EXPECT_GT(done["drafted"], 0) << done.dump();
  for (const Json& it : done["items"])
    EXPECT_EQ(deps.at(it["encounter_id"].get<std::string>()), mine) << it.dump();
  // Naming another department is refused; naming its own is not.
  std::string other;
  for (const auto& [id, d] : deps)
    if (d != mine) other = d;
  auto [s2, refused] = Call("POST", "/v1/batch-jobs", {{"search", "service-type=" + other}}, me);
  EXPECT_EQ(s2, 403) << refused.dump();
  auto [s3, ok] = Call("POST", "/v1/batch-jobs", {{"search", "service-type=" + mine}}, me);
  EXPECT_EQ(s3, 202) << ok.dump();
  WaitForJob(ok["id"], me);
}

TEST_F(ClinicalApiTest, AnotherDepartmentsEncounterLooksLikeAMissingOne) {
  const auto deps = Departments();
  const std::string mine = deps.begin()->second;
  std::string foreign;
  for (const auto& [id, d] : deps)
    if (d != mine) foreign = id;
  ASSERT_FALSE(foreign.empty());
  const clinical::Caller me = Radiologist(mine);
  auto [status, job] =
      Call("POST", "/v1/batch-jobs", {{"encounters", {foreign, "ENC-does-not-exist"}}}, me);
  ASSERT_EQ(status, 202);
  const Json done = WaitForJob(job["id"], me);
  ASSERT_EQ(done["items"].size(), 2u);
  EXPECT_EQ(done["items"][0]["status"], "failed");
  EXPECT_EQ(done["items"][0]["error"], done["items"][1]["error"]);
  EXPECT_EQ(done["drafted"], 0);
}

TEST_F(ClinicalApiTest, EachEncounterOfAJobIsAudited) {
  const auto deps = Departments();
  std::vector<std::string> ids;
  for (const auto& [id, d] : deps)
    if (ids.size() < 3) ids.push_back(id);
  const clinical::Caller admin = Radiologist("");
  auto [status, job] = Call("POST", "/v1/batch-jobs", {{"encounters", ids}}, admin);
  ASSERT_EQ(status, 202);
  WaitForJob(job["id"], admin);
  EXPECT_EQ(AuditsOf("batch.item"), 3u);
  std::lock_guard<std::mutex> lock(audit_mu_);
  for (const auto& a : audits_) {
    if (a.action == "POST /v1/batch-jobs") {
      EXPECT_EQ(a.resources.size(), 4u);  // the job and its three encounters
    }
    if (a.action == "batch.item") {
      // The encounter (pseudonymous), and the draft when one was made.
      ASSERT_EQ(a.resources.size(), a.status == 201 ? 2u : 1u);
      EXPECT_EQ(a.resources[0].rfind("Encounter/", 0), 0u);
      if (a.status == 201) {
        EXPECT_EQ(a.resources[1].rfind("Draft/", 0), 0u);
      }
      for (const std::string& id : ids) EXPECT_EQ(a.resources[0].find(id), std::string::npos);
    }
  }
}

TEST_F(ClinicalApiTest, ASignedReportIsAmendedAsANewSignedDraft) {
  const auto deps = Departments();
  const clinical::Caller me = Radiologist(deps.begin()->second);
  auto [created, draft] = Call("POST", "/v1/drafts", {{"encounter_id", deps.begin()->first}}, me);
  ASSERT_EQ(created, 201) << draft.dump();
  const std::string id = draft["id"];
  auto [signed_status, signed_view] =
      Call("POST", "/v1/drafts/" + id + ":sign", Json::object(), me);
  ASSERT_EQ(signed_status, 200) << signed_view.dump();
  auto [bad, why] =
      Call("POST", "/v1/drafts/" + id + ":amend", {{"text", "IMPRESSION: Nodule."}}, me);
  EXPECT_EQ(bad, 400);
  EXPECT_NE(why.dump().find("reason"), std::string::npos);
  auto [amended, view] = Call("POST", "/v1/drafts/" + id + ":amend",
                              {{"text", "IMPRESSION: Nodule."}, {"reason", "missed"}}, me);
  ASSERT_EQ(amended, 201) << view.dump();
  EXPECT_EQ(view["amends"]["id"], id);
  EXPECT_EQ(view["status"], "signed");
  auto [got, original] = Call("GET", "/v1/drafts/" + id, Json(), me);
  ASSERT_EQ(got, 200);
  EXPECT_EQ(original["amended_by"], view["id"]);
  std::lock_guard<std::mutex> lock(audit_mu_);
  bool both = false;
  for (const auto& a : audits_)
    if (a.action == "POST /v1/drafts/" + id + ":amend" && a.status == 201)
      both = a.resources ==
             std::vector<std::string>{"Draft/" + id, "Draft/" + view["id"].get<std::string>()};
  EXPECT_TRUE(both) << "the audit names the signed report and its amendment";
}

TEST_F(ClinicalApiTest, PatientLimitedTokensRunNoBatchJobs) {
  const auto deps = Departments();
  clinical::Caller limited = Radiologist(deps.begin()->second);
  limited.patient = "P-1";
  auto [status, body] = Call("POST", "/v1/batch-jobs", {{"search", "_count=5"}}, limited);
  EXPECT_EQ(status, 403);
  auto [s2, b2] = Call("GET", "/v1/batch-jobs/job-0011223344556677", Json(), limited);
  EXPECT_EQ(s2, 403);
}

TEST_F(ClinicalApiTest, FinishedJobsExpire) {
  api_ = Make(0);
  const auto deps = Departments();
  const clinical::Caller admin = Radiologist("");
  auto [status, job] =
      Call("POST", "/v1/batch-jobs", {{"encounters", {deps.begin()->first}}}, admin);
  ASSERT_EQ(status, 202);
  // With a time-to-live of 0 the job is gone as soon as it has ended; its draft stays.
  int last = 200;
  for (int i = 0; i < 600 && last == 200; ++i) {
    last = Call("GET", "/v1/batch-jobs/" + job["id"].get<std::string>(), Json(), admin).first;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(last, 404);
  auto [s2, drafts] =
      Call("GET", "/v1/drafts?batch_job=" + job["id"].get<std::string>(), Json(), admin);
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(drafts["drafts"].size(), 1u);
}

}  // namespace
}  // namespace medscribe::gateway
