// `medscribe pipeline run PIPELINE.yaml --out WORK` and `medscribe pipeline show WORK`: continuous
// training as recorded steps (docs/pipeline.md): feedback export (joined to the previous dataset
// version with feedback.combine_with) -> training (fine-tuned from
// NAME@production, or from scratch) -> evaluation gate against production -> registration as
// NAME@staging -> canary in the gateway, promoted to NAME@production when its live signals hold
// (monitor/canary.h) or rolled back. Each step runs this binary's own command, and leaves a record
// (its inputs and their digest, the command, its outputs and their digests) in WORK/steps/ and
// WORK/records.jsonl; a rerun skips a step whose record matches its inputs and whose outputs still
// verify.
#include <signal.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli.h"
#include "clinical/feedback.h"
#include "clinical/http_client.h"
#include "clinical/store.h"
#include "common/civil_time.h"
#include "common/files.h"
#include "common/subprocess.h"
#include "common/yaml_fields.h"
#include "crypto/envelope.h"
#include "crypto/hmac.h"
#include "gateway/config.h"
#include "monitor/canary.h"
#include "registry_access.h"
#include "serve/jwt.h"

namespace medscribe::cli {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
namespace {

constexpr int kExitRejected = 5;  // the gate refused the candidate, or the canary rolled back

struct PipelineConfig {
  std::string name, model;
  bool feedback = false;
  std::string store, since;
  uint64_t seed = 0;
  std::string combine_with;         // the previous dataset version the feedback joins ("": alone)
  std::string dataset;              // training data when there is no feedback step
  std::string from = "production";  // or "scratch"
  std::vector<std::string> train_args;
  std::string gate_dataset, gate_split = "test";
  double margin = 0.02;       // micro-F1 the candidate may lose
  double loss_margin = 0.05;  // relative token loss the candidate may add
  int limit = 50;
  // The canary: the gateway sends `weight` of the endpoint's traffic to the deployment serving
  // NAME@staging until its live signals decide (docs/pipeline.md).
  struct Canary {
    bool enabled = false;
    std::string gateway, pid_file, url, ca, token_file, store;
    std::string endpoint = "reports", deployment = "canary", baseline = "production";
    double weight = 10;
    int64_t watch_s = 600, max_watch_s = 0, poll_s = 5, apply_timeout_s = 300;
    monitor::CanaryPolicy policy;
  } canary;
};

using yaml::Get;

StatusOr<PipelineConfig> ParsePipeline(const std::string& text, const std::string& base_dir,
                                       const std::string& home) {
  ASSIGN_OR_RETURN(const YAML::Node root, yaml::Load(text));
  RETURN_IF_ERROR(yaml::KnownKeys(
      root, "", {"pipeline", "model", "feedback", "dataset", "train", "gate", "canary"}));
  const auto path = [&](const std::string& p) {
    return p.empty() || p.rfind("postgres", 0) == 0 || fs::path(p).is_absolute()
               ? p
               : (fs::path(base_dir) / p).string();
  };
  PipelineConfig c;
  if (!root["pipeline"] || !root["model"])
    return InvalidArgumentError(
        "pipeline and model (the registry name of the candidates) are required");
  ASSIGN_OR_RETURN(c.name, Get<std::string>(root["pipeline"], "pipeline"));
  ASSIGN_OR_RETURN(c.model, Get<std::string>(root["model"], "model"));
  if (const YAML::Node f = root["feedback"]) {
    RETURN_IF_ERROR(yaml::KnownKeys(f, "feedback", {"store", "since", "seed", "combine_with"}));
    c.feedback = true;
    c.store = (fs::path(home) / "clinical" / "drafts.db").string();
    if (f["store"]) {
      ASSIGN_OR_RETURN(c.store, Get<std::string>(f["store"], "feedback.store"));
    }
    c.store = path(c.store);
    if (!f["since"])
      return InvalidArgumentError(
          "feedback.since: required (reports signed at or after, YYYY-MM-DD)");
    ASSIGN_OR_RETURN(c.since, Get<std::string>(f["since"], "feedback.since"));
    if (f["seed"]) {
      ASSIGN_OR_RETURN(c.seed, Get<uint64_t>(f["seed"], "feedback.seed"));
    }
    if (f["combine_with"]) {
      ASSIGN_OR_RETURN(c.combine_with,
                       Get<std::string>(f["combine_with"], "feedback.combine_with"));
      c.combine_with = path(c.combine_with);
    }
  }
  if (root["dataset"]) {
    ASSIGN_OR_RETURN(c.dataset, Get<std::string>(root["dataset"], "dataset"));
  }
  c.dataset = path(c.dataset);
  if (c.feedback == !c.dataset.empty())
    return InvalidArgumentError(
        "give the training data as exactly one of feedback (exported from the drafts store) or "
        "dataset (a dataset directory)");
  if (const YAML::Node t = root["train"]) {
    RETURN_IF_ERROR(yaml::KnownKeys(t, "train", {"from", "args"}));
    if (t["from"]) {
      ASSIGN_OR_RETURN(c.from, Get<std::string>(t["from"], "train.from"));
    }
    if (c.from != "production" && c.from != "scratch")
      return InvalidArgumentError("train.from: '" + c.from + "' is not production or scratch");
    if (t["args"]) {
      if (!t["args"].IsSequence()) return InvalidArgumentError("train.args: a list is required");
      for (const auto& v : t["args"]) {
        ASSIGN_OR_RETURN(std::string s, Get<std::string>(v, "train.args"));
        for (const char* owned : {"--dataset", "--out", "--init-from"})
          if (s == owned)
            return InvalidArgumentError(std::string("train.args: ") + owned +
                                        " is set by the pipeline; remove it");
        c.train_args.push_back(std::move(s));
      }
    }
  }
  const YAML::Node gate = root["gate"];
  if (!gate)
    return InvalidArgumentError("gate: required (dataset, split, margin, loss_margin, limit)");
  RETURN_IF_ERROR(
      yaml::KnownKeys(gate, "gate", {"dataset", "split", "margin", "loss_margin", "limit"}));
  if (!gate["dataset"]) return InvalidArgumentError("gate.dataset: required (the held-out data)");
  ASSIGN_OR_RETURN(c.gate_dataset, Get<std::string>(gate["dataset"], "gate.dataset"));
  c.gate_dataset = path(c.gate_dataset);
  if (gate["split"]) {
    ASSIGN_OR_RETURN(c.gate_split, Get<std::string>(gate["split"], "gate.split"));
  }
  if (gate["margin"]) {
    ASSIGN_OR_RETURN(c.margin, Get<double>(gate["margin"], "gate.margin"));
  }
  if (gate["limit"]) {
    ASSIGN_OR_RETURN(c.limit, Get<int>(gate["limit"], "gate.limit"));
  }
  if (gate["loss_margin"]) {
    ASSIGN_OR_RETURN(c.loss_margin, Get<double>(gate["loss_margin"], "gate.loss_margin"));
  }
  if (!(c.loss_margin >= 0)) return InvalidArgumentError("gate.loss_margin: at least 0");
  if (!(c.margin >= 0 && c.margin < 1)) return InvalidArgumentError("gate.margin: in [0, 1)");
  if (c.limit < 1) return InvalidArgumentError("gate.limit: at least 1");
  if (const YAML::Node k = root["canary"]) {
    RETURN_IF_ERROR(yaml::KnownKeys(
        k, "canary",
        {"gateway", "pid_file", "url", "ca", "token_file", "store", "endpoint", "deployment",
         "baseline", "weight", "watch", "max_watch", "poll", "apply_timeout", "min_requests",
         "max_error_rate", "max_latency_ratio", "max_edit_rate", "min_signed"}));
    PipelineConfig::Canary& q = c.canary;
    q.enabled = true;
    for (const char* required : {"gateway", "url"})
      if (!k[required])
        return InvalidArgumentError(std::string("canary.") + required +
                                    ": required (the gateway's configuration file and its URL)");
    const std::vector<std::pair<const char*, std::string*>> strings = {
        {"gateway", &q.gateway},
        {"pid_file", &q.pid_file},
        {"url", &q.url},
        {"ca", &q.ca},
        {"token_file", &q.token_file},
        {"store", &q.store},
        {"endpoint", &q.endpoint},
        {"deployment", &q.deployment},
        {"baseline", &q.baseline}};
    for (const auto& [key, field] : strings)
      if (k[key]) {
        ASSIGN_OR_RETURN(*field, Get<std::string>(k[key], std::string("canary.") + key));
      }
    for (std::string* file : {&q.gateway, &q.pid_file, &q.ca, &q.token_file, &q.store})
      *file = path(*file);
    const std::vector<std::pair<const char*, int64_t*>> durations = {
        {"watch", &q.watch_s},
        {"max_watch", &q.max_watch_s},
        {"poll", &q.poll_s},
        {"apply_timeout", &q.apply_timeout_s}};
    for (const auto& [key, field] : durations)
      if (k[key]) {
        const std::string name = std::string("canary.") + key;
        ASSIGN_OR_RETURN(const std::string given, Get<std::string>(k[key], name));
        ASSIGN_OR_RETURN(*field, ParseDuration(given, name));
        if (*field < 1) return InvalidArgumentError(name + ": at least 1 second");
      }
    if (q.max_watch_s == 0) q.max_watch_s = 4 * q.watch_s;
    if (q.max_watch_s < q.watch_s)
      return InvalidArgumentError("canary.max_watch: at least canary.watch");
    const std::vector<std::pair<const char*, double*>> numbers = {
        {"weight", &q.weight},
        {"min_requests", &q.policy.min_requests},
        {"max_error_rate", &q.policy.max_error_rate},
        {"max_latency_ratio", &q.policy.max_latency_ratio},
        {"max_edit_rate", &q.policy.max_edit_rate}};
    for (const auto& [key, field] : numbers)
      if (k[key]) {
        ASSIGN_OR_RETURN(*field, Get<double>(k[key], std::string("canary.") + key));
        if (!(*field >= 0))
          return InvalidArgumentError(std::string("canary.") + key + ": at least 0");
      }
    if (!(q.weight > 0)) return InvalidArgumentError("canary.weight: more than 0");
    if (k["min_signed"]) {
      ASSIGN_OR_RETURN(q.policy.min_signed, Get<int64_t>(k["min_signed"], "canary.min_signed"));
      if (q.policy.min_signed < 0) return InvalidArgumentError("canary.min_signed: at least 0");
    }
    if (q.store.empty())
      q.store = c.feedback ? c.store : (fs::path(home) / "clinical" / "drafts.db").string();
    if (q.deployment == q.baseline)
      return InvalidArgumentError("canary.deployment and canary.baseline must differ");
  }
  return c;
}

std::string Sha(const std::string& s) { return crypto::Hex(crypto::Sha256(s)); }

// The SHA-256 of a file, or "" when it cannot be read.
std::string FileSha(const fs::path& p) {
  auto data = ReadFile(p);
  return data.ok() ? Sha(*data) : std::string();
}

class Pipeline {
 public:
  // `last_step`: stop after this step ("" runs them all).
  Pipeline(GlobalOptions& g, PipelineConfig c, std::string work, std::string last_step)
      : g_(g), c_(std::move(c)), work_(std::move(work)), last_(std::move(last_step)) {}

  // Runs the steps in order; kExitRejected when the gate refuses the candidate.
  StatusOr<int> Run() {
    std::error_code ec;
    fs::create_directories(fs::path(work_) / "steps", ec);
    fs::create_directories(fs::path(work_) / "logs", ec);
    if (ec) return IoError("cannot create " + work_ + ": " + ec.message());
    ASSIGN_OR_RETURN(auto reg, OpenRegistry(g_));
    // The production model this run compares with and fine-tunes (a new production version
    // changes the training step's inputs: a rerun then trains again).
    std::string production;
    if (auto p = reg.Verify(c_.model + "@production"); p.ok()) {
      production = p->name + "@" + std::to_string(p->version);
      // A run whose canary promoted its candidate is complete: production is then the candidate,
      // and the run's steps keep the version they started from.
      if (const Json canary = Recorded("canary");
          canary.value("status", "") == "done" && canary.contains("outputs") &&
          canary["outputs"].value("decision", "") == "promote" &&
          canary["outputs"].value("model", "") == production) {
        const Json train = Recorded("train");
        if (train.contains("inputs") && train["inputs"].value("from", "") != "scratch")
          production = train["inputs"].value("from", production);
      }
    } else if (c_.from == "production") {
      return FailedPreconditionError("no " + c_.model + "@production to fine-tune (" +
                                     p.status().message() +
                                     "); use train.from: scratch for the first model");
    }
    // 1. The training data.
    std::string dataset = c_.dataset;
    if (c_.feedback) {
      dataset = (fs::path(work_) / "feedback").string();
      Json in = {{"store", c_.store}, {"since", c_.since}, {"seed", c_.seed}};
      const std::vector<std::string> cmd =
          Self({"feedback", "export", "--store", c_.store, "--since", c_.since, "--out", dataset,
                "--seed", std::to_string(c_.seed), "--force"});
      ASSIGN_OR_RETURN(Json out, Step("export", in, {cmd}, [&]() -> StatusOr<Json> {
                         return Json{{"dataset", dataset}, {"dataset_id", DatasetId(dataset)}};
                       }));
      (void)out;
      if (last_ == "export") return kExitOk;
      if (!c_.combine_with.empty()) {
        // 1b. The feedback joins the previous version: a new version with lineage to both.
        const std::string base_id = DatasetId(c_.combine_with);
        if (base_id.empty())
          return NotFoundError("feedback.combine_with: " + c_.combine_with +
                               " is not a dataset (no manifest.json)");
        const std::string combined = (fs::path(work_) / "data").string();
        Json combine_in = {{"base_dataset_id", base_id},
                           {"feedback_dataset_id", DatasetId(dataset)}};
        const std::vector<std::string> combine =
            Self({"dataset", "combine", c_.combine_with, dataset, "--out", combined, "--force"});
        ASSIGN_OR_RETURN(Json combined_out,
                         Step("combine", combine_in, {combine}, [&]() -> StatusOr<Json> {
                           return Json{{"dataset", combined}, {"dataset_id", DatasetId(combined)}};
                         }));
        (void)combined_out;
        dataset = combined;
      }
    }
    if (last_ == "export" || last_ == "combine") return kExitOk;
    const std::string dataset_id = DatasetId(dataset);
    if (dataset_id.empty())
      return NotFoundError("the training data " + dataset + " is not a dataset (no manifest.json)");
    // 2. Training.
    const std::string run = (fs::path(work_) / "run").string();
    std::vector<std::string> train = Self({"train", "--dataset", dataset, "--out", run});
    if (c_.from == "production") train.insert(train.end(), {"--init-from", production});
    train.insert(train.end(), c_.train_args.begin(), c_.train_args.end());
    Json train_in = {{"dataset_id", dataset_id},
                     {"from", c_.from == "production" ? production : "scratch"},
                     {"args", c_.train_args}};
    // A run of other inputs (another dataset, production version or arguments) is not resumed:
    // the trainer would continue it. One of the same inputs that failed is.
    if (const std::string before = RecordedDigest("train");
        !before.empty() && before != Sha(train_in.dump())) {
      std::error_code removed;
      fs::remove_all(run, removed);
      if (removed)
        return IoError("cannot remove the previous run " + run + ": " + removed.message());
    }
    ASSIGN_OR_RETURN(Json trained, Step("train", train_in, {train}, [&]() -> StatusOr<Json> {
                       const std::string sha =
                           FileSha(fs::path(run) / "model" / "model.safetensors");
                       if (sha.empty()) return NotFoundError(run + " has no model");
                       return Json{{"run", run}, {"weights_sha256", sha}};
                     }));
    if (last_ == "train") return kExitOk;
    // 3. The gate.
    const std::string weights = trained["weights_sha256"].get<std::string>();
    Json gate_in = {{"candidate_weights_sha256", weights},
                    {"production", production},
                    {"dataset_id", DatasetId(c_.gate_dataset)},
                    {"split", c_.gate_split},
                    {"margin", c_.margin},
                    {"limit", c_.limit}};
    const fs::path cand_json = fs::path(work_) / "gate-candidate.json";
    const fs::path prod_json = fs::path(work_) / "gate-production.json";
    const std::string cand_dir = (fs::path(run) / "model").string();
    std::string prod_dir;
    if (!production.empty()) {
      ASSIGN_OR_RETURN(registry::Entry e, reg.Resolve(production));  // decrypted while we run
      prod_dir = e.dir;
    }
    const auto eval = [&](const std::string& model, const fs::path& out) {
      return Self({"eval", "--model", model, "--dataset", c_.gate_dataset, "--split", c_.gate_split,
                   "--limit", std::to_string(c_.limit), "--out", out.string()});
    };
    // The token loss with the training's prompt options.
    const auto loss = [&](const std::string& dir) {
      std::vector<std::string> cmd = Self(
          {"fl", "loss", "--model", dir, "--dataset", c_.gate_dataset, "--split", c_.gate_split});
      for (const char* flag : {"--no-dictation", "--no-image"})
        if (std::find(c_.train_args.begin(), c_.train_args.end(), flag) != c_.train_args.end())
          cmd.push_back(flag);
      return cmd;
    };
    std::vector<std::vector<std::string>> gate_cmds = {eval(cand_dir, cand_json), loss(cand_dir)};
    if (!production.empty()) {
      gate_cmds.push_back(eval(production, prod_json));
      gate_cmds.push_back(loss(prod_dir));
    }
    ASSIGN_OR_RETURN(Json gate, Step("gate", gate_in, gate_cmds, [&]() -> StatusOr<Json> {
                       ASSIGN_OR_RETURN(Json cand, MicroF1(cand_json));
                       ASSIGN_OR_RETURN(const double cand_loss, LossOf(Log("gate", 1)));
                       Json out = {{"candidate_micro_f1", cand}, {"candidate_loss", cand_loss}};
                       bool pass = true;
                       if (!production.empty()) {
                         ASSIGN_OR_RETURN(Json prod, MicroF1(prod_json));
                         ASSIGN_OR_RETURN(const double prod_loss, LossOf(Log("gate", 3)));
                         out["production_micro_f1"] = prod;
                         out["production_loss"] = prod_loss;
                         pass = cand[0].get<double>() >= prod[0].get<double>() - c_.margin &&
                                cand_loss <= prod_loss * (1 + c_.loss_margin);
                       }
                       out["decision"] = pass ? "pass" : "reject";
                       return out;
                     }));
    Say("gate: candidate micro-F1 " + Interval(gate["candidate_micro_f1"]) + ", token loss " +
        Fmt(gate["candidate_loss"].get<double>()) +
        (production.empty() ? std::string(" (no production model to compare with)")
                            : "; " + production + " " + Interval(gate["production_micro_f1"]) +
                                  ", " + Fmt(gate["production_loss"].get<double>()) + "; margins " +
                                  Fmt(c_.margin) + " and " + Fmt(100 * c_.loss_margin) + "%") +
        ": " + gate["decision"].get<std::string>());
    if (gate["decision"] != "pass") return kExitRejected;
    if (last_ == "gate") return kExitOk;
    // 4. Registration as staging, with the pipeline in the lineage.
    Json reg_in = {{"candidate_weights_sha256", weights}, {"gate", gate}};
    const auto still_registered = [&](const Json& recorded) {
      return recorded.is_object() && recorded["model"].is_string() &&
             reg.Verify(recorded["model"].get<std::string>()).ok();
    };
    ASSIGN_OR_RETURN(
        Json registered,
        Step(
            "register", reg_in, {},
            [&]() -> StatusOr<Json> {
              ASSIGN_OR_RETURN(const std::string text, ReadFile(fs::path(run) / "run.json"));
              Json j = Json::parse(text, nullptr, false);
              if (!j.is_object()) return DataLossError(run + "/run.json is not JSON");
              j["pipeline"] = {{"name", c_.name},
                               {"work", work_},
                               {"dataset_id", dataset_id},
                               {"from", train_in["from"]},
                               {"gate", gate}};
              RETURN_IF_ERROR(WriteFile(fs::path(run) / "run.json", j.dump(2) + "\n"));
              ASSIGN_OR_RETURN(registry::Entry e, reg.Register(run, c_.model));
              RETURN_IF_ERROR(reg.Alias(e.name, e.version, "staging", "pipeline " + c_.name));
              return Json{{"model", e.name + "@" + std::to_string(e.version)},
                          {"alias", "staging"}};
            },
            still_registered));
    const std::string candidate = registered["model"].get<std::string>();
    if (!c_.canary.enabled || last_ == "register") {
      Say("registered " + candidate + " as " + c_.model + "@staging; promote it with `medscribe " +
          "registry alias " + candidate + " production`" +
          (c_.canary.enabled ? " or the canary step" : ""));
      return kExitOk;
    }
    // 5. The canary: live traffic decides between promotion and roll-back.
    const PipelineConfig::Canary& q = c_.canary;
    Json canary_in = {{"candidate", candidate},
                      {"candidate_weights_sha256", weights},
                      {"gateway", q.gateway},
                      {"endpoint", q.endpoint},
                      {"deployment", q.deployment},
                      {"baseline", q.baseline},
                      {"weight", q.weight},
                      {"watch_s", q.watch_s},
                      {"max_watch_s", q.max_watch_s},
                      {"min_requests", q.policy.min_requests},
                      {"max_error_rate", q.policy.max_error_rate},
                      {"max_latency_ratio", q.policy.max_latency_ratio},
                      {"max_edit_rate", q.policy.max_edit_rate},
                      {"min_signed", q.policy.min_signed}};
    // Done means promoted, and the candidate still is production.
    const auto still_promoted = [&](const Json& recorded) {
      if (!recorded.is_object() || recorded.value("decision", "") != "promote") return false;
      auto p = reg.Verify(c_.model + "@production");
      return p.ok() && p->name + "@" + std::to_string(p->version) == candidate;
    };
    ASSIGN_OR_RETURN(Json canary,
                     Step(
                         "canary", canary_in, {},
                         [&]() { return RunCanary(reg, candidate, production); }, still_promoted));
    if (canary.value("decision", "") != "promote") return kExitRejected;
    return kExitOk;
  }

 private:
  std::vector<std::string> Self(std::vector<std::string> args) const {
    std::vector<std::string> cmd = {SelfExecutable(), "--home", g_.home, "--log-level", "warn"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
  }

  // The step's last record, or an empty object.
  Json Recorded(const std::string& step) const {
    auto text = ReadFile(fs::path(work_) / "steps" / (step + ".json"));
    if (!text.ok()) return Json::object();
    Json r = Json::parse(*text, nullptr, false);
    return r.is_object() ? r : Json::object();
  }
  // The inputs digest of the step's last record, or "".
  std::string RecordedDigest(const std::string& step) const {
    return Recorded(step).value("inputs_digest", "");
  }

  // The log of a step's command `i` (its first command: WORK/logs/STEP.log).
  std::string Log(const std::string& step, int i) const {
    return (fs::path(work_) / "logs" / (step + (i == 0 ? "" : "-" + std::to_string(i)) + ".log"))
        .string();
  }
  // The token loss `fl loss` printed into `log`.
  static StatusOr<double> LossOf(const std::string& log) {
    ASSIGN_OR_RETURN(const std::string text, ReadFile(log));
    const size_t at = text.rfind("loss=");
    if (at == std::string::npos || (at > 0 && text[at - 1] != '\n'))
      return DataLossError(log + " has no token loss");
    return std::strtod(text.c_str() + at + 5, nullptr);
  }

  static std::string DatasetId(const std::string& dir) {
    return FileSha(fs::path(dir) / "manifest.json");
  }

  static StatusOr<Json> MicroF1(const fs::path& eval_json) {
    ASSIGN_OR_RETURN(const std::string text, ReadFile(eval_json));
    const Json j = Json::parse(text, nullptr, false);
    if (j.is_object() && j["systems"].is_array())
      for (const Json& s : j["systems"])
        if (s.value("id", "") == "model" && s["f1_micro_14"].is_array()) return s["f1_micro_14"];
    return DataLossError(eval_json.string() + " has no model scores");
  }
  static std::string Fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", v);
    return buf;
  }
  static std::string Weight(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    return buf;
  }
  static std::string Count(double v) { return std::to_string(static_cast<long long>(v)); }
  static std::string Interval(const Json& v) {
    return Fmt(v[0].get<double>()) + " [" + Fmt(v[1].get<double>()) + ", " +
           Fmt(v[2].get<double>()) + "]";
  }
  static void Say(const std::string& s) {
    std::printf("%s\n", s.c_str());
    std::fflush(stdout);
  }

  using Verify = std::function<bool(const Json&)>;
  using Produce = std::function<StatusOr<Json>()>;

  // Runs a step's commands unless its record matches `inputs` and its recorded outputs still
  // verify (`verify`, or by default `outputs` computing the same again); then `outputs` says
  // what the step produced and the step is recorded.
  StatusOr<Json> Step(const std::string& name, const Json& inputs,
                      const std::vector<std::vector<std::string>>& cmds, const Produce& outputs,
                      const Verify& verify = nullptr) {
    const std::string digest = Sha(inputs.dump());
    const fs::path record = fs::path(work_) / "steps" / (name + ".json");
    if (auto text = ReadFile(record); text.ok()) {
      const Json r = Json::parse(*text, nullptr, false);
      if (r.is_object() && r.value("inputs_digest", "") == digest &&
          r.value("status", "") == "done") {
        bool ok = false;
        if (verify) {
          ok = verify(r["outputs"]);
        } else {
          auto now = outputs();
          ok = now.ok() && *now == r["outputs"];
        }
        if (ok) {
          Say(name + ": skipped (done at " + r.value("finished_at", "?") + ", outputs verified)");
          return r["outputs"];
        }
      }
    }
    Say(name + ": running");
    const std::string started = UtcNowIso();
    Json commands = Json::array();
    std::string log;
    for (size_t i = 0; i < cmds.size(); ++i) {
      const auto& cmd = cmds[i];
      commands.push_back(cmd);
      log = Log(name, static_cast<int>(i));
      std::error_code ec;
      fs::remove(log, ec);
      ASSIGN_OR_RETURN(const int rc, RunLoggedProcess(cmd, log));
      if (rc != 0) {
        RETURN_IF_ERROR(Record(name, {{"step", name},
                                      {"status", "failed"},
                                      {"inputs", inputs},
                                      {"inputs_digest", digest},
                                      {"commands", commands},
                                      {"exit", rc},
                                      {"log", log},
                                      {"started_at", started},
                                      {"finished_at", UtcNowIso()}}));
        return InternalError(name + " failed (exit " + std::to_string(rc) + "); see " + log);
      }
    }
    ASSIGN_OR_RETURN(Json out, outputs());
    RETURN_IF_ERROR(Record(name, {{"step", name},
                                  {"status", "done"},
                                  {"inputs", inputs},
                                  {"inputs_digest", digest},
                                  {"commands", commands},
                                  {"outputs", out},
                                  {"log", log},
                                  {"started_at", started},
                                  {"finished_at", UtcNowIso()}}));
    return out;
  }

  // The gateway's /metrics, read with canary.token_file's token or one the home's development
  // issuer signs (role admin: system/Metrics.read).
  StatusOr<std::vector<monitor::MetricSample>> Scrape() const {
    const PipelineConfig::Canary& q = c_.canary;
    std::string token;
    if (!q.token_file.empty()) {
      ASSIGN_OR_RETURN(token, ReadFile(q.token_file));
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    } else {
      const std::string pem = g_.home + "/keys/dev_issuer.pem";
      if (!fs::exists(pem))
        return FailedPreconditionError(
            "canary: no token for the gateway's /metrics: set canary.token_file (a bearer token "
            "with system/Metrics.read) or use the home's development issuer");
      ASSIGN_OR_RETURN(auto issuer,
                       serve::DevIssuer::LoadOrCreate(pem, "https://medscribe.local/dev-issuer"));
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      ASSIGN_OR_RETURN(token,
                       issuer.Issue("pipeline-" + c_.name, "admin", "", "medscribe", 300, now));
    }
    clinical::HttpClient http({q.ca, 10000, 16u << 20});
    const std::string url = q.url + "/metrics";
    ASSIGN_OR_RETURN(clinical::HttpResponse r,
                     http.Get(url, {{"Authorization", "Bearer " + token}}));
    if (r.status != 200)
      return UnavailableError("canary: " + url + " answered HTTP " + std::to_string(r.status) +
                              (r.status == 401 || r.status == 403
                                   ? " (the token lacks system/Metrics.read; set canary.token_file)"
                                   : ""));
    auto samples = monitor::ParsePrometheusText(r.body);
    if (!samples.ok()) return DataLossError("canary: " + url + ": " + samples.status().message());
    return samples;
  }

  // Weights as the gateway prints them (10 significant digits).
  static bool SameWeight(double a, double b) {
    return std::fabs(a - b) <= 1e-8 * std::max(1.0, std::fabs(b));
  }
  // The weight the gateway gives `deployment` of the canary's endpoint, or -1.
  double WeightOf(const std::vector<monitor::MetricSample>& scrape,
                  const std::string& deployment) const {
    for (const auto& m : scrape)
      if (m.name == "medscribe_gateway_deployment_weight" && m.labels.count("endpoint") &&
          m.labels.at("endpoint") == c_.canary.endpoint && m.labels.count("deployment") &&
          m.labels.at("deployment") == deployment)
        return m.value;
    return -1;
  }
  // The models `deployment`'s replicas serve ("" for a replica not checked yet), and whether
  // every one of them is in rotation.
  std::set<std::string> ModelsOf(const std::vector<monitor::MetricSample>& scrape,
                                 const std::string& deployment, bool& all_up) const {
    std::set<std::string> models;
    all_up = true;
    for (const auto& m : scrape)
      if (m.name == "medscribe_gateway_replica_up" && m.labels.count("endpoint") &&
          m.labels.at("endpoint") == c_.canary.endpoint && m.labels.count("deployment") &&
          m.labels.at("deployment") == deployment) {
        models.insert(m.labels.count("model") ? m.labels.at("model") : "");
        all_up = all_up && m.value == 1;
      }
    return models;
  }
  bool Serves(const std::vector<monitor::MetricSample>& scrape, const std::string& deployment,
              const std::string& model) const {
    bool up = false;
    return ModelsOf(scrape, deployment, up) == std::set<std::string>{model} && up;
  }

  // Writes the gateway's configuration with `deployment`'s weight set and signals the gateway
  // to reload it (without canary.pid_file the gateway watches the file: --watch-config).
  Status SetWeight(const std::string& deployment, double weight) const {
    const PipelineConfig::Canary& q = c_.canary;
    ASSIGN_OR_RETURN(const std::string text, ReadFile(q.gateway));
    ASSIGN_OR_RETURN(const std::string edited,
                     gateway::SetDeploymentWeight(text, q.endpoint, deployment, weight));
    auto parsed =
        gateway::ParseGatewayConfig(edited, fs::absolute(q.gateway).parent_path(), g_.home);
    if (!parsed.ok())
      return Status(parsed.status().code(), q.gateway + ": " + parsed.status().message());
    RETURN_IF_ERROR(WriteFile(q.gateway + ".tmp", edited));
    std::error_code ec;
    fs::rename(q.gateway + ".tmp", q.gateway, ec);
    if (ec) return IoError("cannot replace " + q.gateway + ": " + ec.message());
    if (q.pid_file.empty()) return OkStatus();  // the gateway watches its file (--watch-config)
    ASSIGN_OR_RETURN(const std::string pid_text, ReadFile(q.pid_file));
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid <= 1 || kill(static_cast<pid_t>(pid), SIGHUP) != 0)
      return UnavailableError("canary: cannot signal the gateway (pid '" + pid_text.substr(0, 20) +
                              "' from " + q.pid_file + ") to reload: " + std::strerror(errno));
    return OkStatus();
  }

  // Polls the gateway every second until `done` holds for a scrape; DeadlineExceeded naming
  // `what` after canary.apply_timeout.
  Status WaitFor(const std::function<bool(const std::vector<monitor::MetricSample>&)>& done,
                 const std::string& what) const {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(c_.canary.apply_timeout_s);
    Status last = OkStatus();
    while (std::chrono::steady_clock::now() < deadline) {
      auto scrape = Scrape();
      if (scrape.ok() && done(*scrape)) return OkStatus();
      if (!scrape.ok()) last = scrape.status();
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    return DeadlineExceededError("canary: the gateway did not " + what + " within " +
                                 std::to_string(c_.canary.apply_timeout_s) + " s (see its log)" +
                                 (last.ok() ? std::string() : "; last error: " + last.message()));
  }

  // The clinicians' edits of the reports signed since `since` (ISO), by the model that drafted
  // them; none while the drafts store does not exist.
  StatusOr<std::map<std::string, monitor::DraftEdits>> EditsSince(const std::string& since) const {
    const std::string& store = c_.canary.store;
    if (store.rfind("postgres", 0) != 0 &&
        !fs::exists(store.rfind("sqlite:", 0) == 0 ? store.substr(7) : store))
      return std::map<std::string, monitor::DraftEdits>();
    ASSIGN_OR_RETURN(auto ring, crypto::KeyRing::Load(g_.home + "/keys/kek.ring"));
    ASSIGN_OR_RETURN(auto db, clinical::OpenDraftStore(store, ring));
    return clinical::SignedEditsByModel(*db, since);
  }

  static Json SignalsJson(const monitor::CanarySignals& s) {
    return {{"exchanges", s.traffic.exchanges},
            {"failures", s.traffic.failures},
            {"mean_seconds", s.traffic.mean_seconds()},
            {"signed_reports", s.edits.signed_reports},
            {"edit_rate", s.edits.rate()}};
  }

  struct Watched {
    monitor::CanarySignals canary, baseline;
    monitor::CanaryVerdict verdict;
    int64_t elapsed = 0;
    std::string since;  // when the canary's weight applied (ISO)
  };
  // Waits until the gateway sends the canary its weight with its replicas serving `candidate`,
  // then reads both deployments' signals every canary.poll until a verdict (a roll-back at once;
  // a promotion once canary.watch has passed; a roll-back at canary.max_watch).
  StatusOr<Watched> Watch(const std::string& candidate, const std::string& baseline_model) const {
    const PipelineConfig::Canary& q = c_.canary;
    Say("canary: " + q.deployment + " at weight " + Weight(q.weight) + " of endpoint " +
        q.endpoint + ", waiting for it to serve " + candidate);
    RETURN_IF_ERROR(WaitFor(
        [&](const auto& m) {
          return SameWeight(WeightOf(m, q.deployment), q.weight) &&
                 Serves(m, q.deployment, candidate);
        },
        "send traffic to deployment '" + q.deployment + "' serving " + candidate));
    ASSIGN_OR_RETURN(const auto start, Scrape());
    Watched w;
    w.since = UtcNowIso();
    const auto t0 = std::chrono::steady_clock::now();
    while (true) {
      std::this_thread::sleep_for(std::chrono::seconds(q.poll_s));
      w.elapsed =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0)
              .count();
      auto now = Scrape();
      if (!now.ok()) {
        Say("canary: " + now.status().message() + " (retrying)");
        if (w.elapsed < q.max_watch_s) continue;
        w.verdict.decision = monitor::CanaryDecision::kRollBack;
        w.verdict.reasons = {"the gateway's metrics could not be read: " + now.status().message()};
        return w;
      }
      w.canary.traffic = monitor::TrafficSince(monitor::TrafficOf(*now, q.deployment),
                                               monitor::TrafficOf(start, q.deployment));
      w.baseline.traffic = monitor::TrafficSince(monitor::TrafficOf(*now, q.baseline),
                                                 monitor::TrafficOf(start, q.baseline));
      if (q.policy.min_signed > 0) {
        ASSIGN_OR_RETURN(auto edits, EditsSince(w.since));
        w.canary.edits = edits[candidate];
        w.baseline.edits = edits[baseline_model];
      }
      w.verdict = monitor::JudgeCanary(w.canary, w.baseline, q.policy);
      Say("canary: " + std::to_string(w.elapsed) + " s: " + q.deployment + " " +
          Count(w.canary.traffic.exchanges) + " requests (" + Fmt(w.canary.traffic.error_rate()) +
          " failed, " + Fmt(w.canary.traffic.mean_seconds()) + " s), " + q.baseline + " " +
          Count(w.baseline.traffic.exchanges) + " (" + Fmt(w.baseline.traffic.error_rate()) + ", " +
          Fmt(w.baseline.traffic.mean_seconds()) +
          " s): " + monitor::CanaryDecisionName(w.verdict.decision) +
          (w.verdict.reasons.empty() ? std::string() : " — " + w.verdict.reasons[0]));
      if (w.verdict.decision == monitor::CanaryDecision::kRollBack) return w;
      if (w.verdict.decision == monitor::CanaryDecision::kPromote && w.elapsed >= q.watch_s)
        return w;
      if (w.elapsed >= q.max_watch_s) {
        w.verdict.decision = monitor::CanaryDecision::kRollBack;
        w.verdict.reasons.insert(w.verdict.reasons.begin(),
                                 "no decision after " + std::to_string(w.elapsed) + " s");
        return w;
      }
    }
  }

  // Sends canary.weight of the endpoint's traffic to the canary deployment (which must serve
  // `candidate`), watches both deployments' signals and decides; then promotes the candidate
  // (the production alias moves, the baseline's local replicas restart on it) or rolls back,
  // the canary's weight restored either way. The outputs say what was seen and decided.
  StatusOr<Json> RunCanary(registry::Registry& reg, const std::string& candidate,
                           const std::string& production) {
    const PipelineConfig::Canary& q = c_.canary;
    ASSIGN_OR_RETURN(const std::string text, ReadFile(q.gateway));
    ASSIGN_OR_RETURN(auto config, gateway::ParseGatewayConfig(
                                      text, fs::absolute(q.gateway).parent_path(), g_.home));
    double restore = -1;
    bool has_baseline = false;
    for (const auto& e : config.endpoints)
      if (e.name == q.endpoint)
        for (const auto& d : e.deployments) {
          if (d.name == q.deployment) restore = d.weight;
          if (d.name == q.baseline) has_baseline = true;
        }
    if (restore < 0 || !has_baseline)
      return NotFoundError("canary: " + q.gateway + " has no deployment '" +
                           (restore < 0 ? q.deployment : q.baseline) + "' in endpoint '" +
                           q.endpoint + "'");
    ASSIGN_OR_RETURN(auto before, Scrape());
    bool up = false;
    const std::set<std::string> baseline_models = ModelsOf(before, q.baseline, up);
    const std::string baseline_model =
        baseline_models.size() == 1 ? *baseline_models.begin() : production;
    RETURN_IF_ERROR(SetWeight(q.deployment, q.weight));
    // From here on, every path puts the canary's weight back.
    auto watched = Watch(candidate, baseline_model);
    if (!watched.ok()) {
      (void)SetWeight(q.deployment, restore);
      return watched.status();
    }
    const monitor::CanarySignals& canary = watched->canary;
    const monitor::CanarySignals& baseline = watched->baseline;
    const monitor::CanaryVerdict& verdict = watched->verdict;
    const bool promote = verdict.decision == monitor::CanaryDecision::kPromote;
    Json out = {{"decision", promote ? "promote" : "roll back"},
                {"reasons", verdict.reasons},
                {"watched_s", watched->elapsed},
                {"since", watched->since},
                {"canary", SignalsJson(canary)},
                {"baseline", SignalsJson(baseline)},
                {"baseline_model", baseline_model},
                {"canary_share", canary.traffic.exchanges + baseline.traffic.exchanges > 0
                                     ? canary.traffic.exchanges /
                                           (canary.traffic.exchanges + baseline.traffic.exchanges)
                                     : 0.0},
                {"model", candidate}};
    if (promote) {
      const size_t at = candidate.rfind('@');
      if (Status s = reg.Alias(candidate.substr(0, at), std::stol(candidate.substr(at + 1)),
                               "production", "pipeline " + c_.name + " canary");
          !s.ok()) {
        (void)SetWeight(q.deployment, restore);
        return s;
      }
      Say("canary: promoted " + candidate + " to " + c_.model + "@production");
    }
    // The canary's weight back as it was; after a promotion the baseline's local replicas
    // restart on the new production version.
    RETURN_IF_ERROR(SetWeight(q.deployment, restore));
    if (promote) {
      Status s = WaitFor([&](const auto& m) { return Serves(m, q.baseline, candidate); },
                         "restart deployment '" + q.baseline + "' on " + candidate);
      out["baseline_serves_candidate"] = s.ok();
      if (!s.ok())
        Say("canary: " + s.message() + "; deployment '" + q.baseline +
            "' is not local replicas "
            "of " +
            c_.model + "@production: point it at " + candidate + " by hand");
    } else {
      RETURN_IF_ERROR(
          WaitFor([&](const auto& m) { return SameWeight(WeightOf(m, q.deployment), restore); },
                  "take deployment '" + q.deployment + "' back to weight " + Weight(restore)));
      Say("canary: rolled back (" + q.deployment + " at weight " + Weight(restore) +
          "): " + (verdict.reasons.empty() ? std::string("?") : verdict.reasons[0]));
    }
    return out;
  }

  Status Record(const std::string& name, const Json& r) {
    RETURN_IF_ERROR(WriteFile(fs::path(work_) / "steps" / (name + ".json"), r.dump(2) + "\n"));
    std::ofstream log(fs::path(work_) / "records.jsonl", std::ios::app);
    log << r.dump() << "\n";
    return log ? OkStatus() : IoError("cannot append to " + work_ + "/records.jsonl");
  }

  GlobalOptions& g_;
  PipelineConfig c_;
  std::string work_, last_;
};

int ShowRecords(const std::string& work) {
  for (const char* step : {"export", "combine", "train", "gate", "register", "canary"}) {
    auto text = ReadFile(fs::path(work) / "steps" / (std::string(step) + ".json"));
    if (!text.ok()) {
      std::printf("%-9s -\n", step);
      continue;
    }
    const Json r = Json::parse(*text, nullptr, false);
    std::printf("%-9s %-7s %s  inputs %s  outputs %s\n", step, r.value("status", "?").c_str(),
                r.value("finished_at", "").c_str(),
                r.value("inputs_digest", "").substr(0, 12).c_str(),
                r.contains("outputs") ? r["outputs"].dump().c_str() : "-");
  }
  return kExitOk;
}

}  // namespace

Runner RegisterPipeline(CLI::App& app) {
  app.require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run (or resume) a pipeline: feedback export, training, evaluation gate, staging, canary");
  run->add_option("PIPELINE", *file, "Pipeline file (docs/pipeline.md)")->required();
  run->add_option("--out", *out, "Work directory: step records, logs, the run (a rerun resumes)")
      ->required();
  auto step = std::make_shared<std::string>();
  run->add_option("--step", *step,
                  "Run the steps up to and including this one (one orchestrator task per step)")
      ->check(CLI::IsMember({"export", "combine", "train", "gate", "register", "canary"}));
  CLI::App* show = app.add_subcommand("show", "Show a pipeline run's step records");
  show->add_option("WORK", *out, "Work directory of `pipeline run`")->required();
  return [=](GlobalOptions& g) {
    if (show->parsed()) return ShowRecords(*out);
    auto text = ReadFile(*file);
    if (!text.ok()) return ReportError(text.status());
    auto c = ParsePipeline(*text, fs::absolute(*file).parent_path().string(), g.home);
    if (!c.ok()) return ReportError(Status(c.status().code(), *file + ": " + c.status().message()));
    if (*step == "export" && !c->feedback)
      return ReportError(InvalidArgumentError(
          "--step export: this pipeline has no feedback section (its data is a dataset)"));
    if (*step == "canary" && !c->canary.enabled)
      return ReportError(InvalidArgumentError(
          "--step canary: this pipeline has no canary section (docs/pipeline.md)"));
    if (*step == "combine" && c->combine_with.empty())
      return ReportError(InvalidArgumentError(
          "--step combine: this pipeline has no feedback.combine_with (the previous dataset "
          "version the feedback joins)"));
    Pipeline p(g, std::move(c).value(), fs::absolute(*out).lexically_normal().string(), *step);
    auto rc = p.Run();
    if (!rc.ok()) return ReportError(rc.status());
    return *rc;
  };
}

}  // namespace medscribe::cli
