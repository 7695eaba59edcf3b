#include "federated/federation.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/base64.h"
#include "common/durable_file.h"
#include "common/files.h"
#include "common/url.h"
#include "federated/secure_aggregation.h"
#include "model/json.h"
#include "model/multimodal.h"
#include "model/safetensors.h"

namespace medscribe::federated {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The model's weights in one vector, in the (sorted) order of their names.
std::vector<float> Flatten(const model::Safetensors& st) {
  std::vector<float> out;
  for (const auto& [name, t] : st.tensors) {
    const torch::Tensor f = t.to(torch::kFloat32).contiguous().reshape({-1});
    out.insert(out.end(), f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
  }
  return out;
}

// Adds `delta` (Flatten's order) into the weights.
void AddFlat(model::Safetensors& st, const std::vector<double>& delta) {
  size_t at = 0;
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : st.tensors) {
    const int64_t n = t.numel();
    std::vector<float> d(delta.begin() + static_cast<int64_t>(at),
                         delta.begin() + static_cast<int64_t>(at) + n);
    t = (t.to(torch::kFloat32) + torch::tensor(d).reshape(t.sizes())).to(t.scalar_type());
    at += static_cast<size_t>(n);
  }
}

model::NamedTensors Named(const model::Safetensors& st) {
  model::NamedTensors out;
  for (const auto& [name, t] : st.tensors) out.emplace_back(name, t);
  return out;
}

Response Json200(const Json& j) { return {200, "application/json", j.dump()}; }
Response Error(int status, const std::string& message) {
  return {status, "application/json", Json{{"error", message}}.dump()};
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// ---------------------------------------------------------------------------------------------
// The server.

enum class Phase { kKeys, kTrain, kUnmask, kDone };
const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kKeys:
      return "keys";
    case Phase::kTrain:
      return "train";
    case Phase::kUnmask:
      return "unmask";
    case Phase::kDone:
      return "done";
  }
  return "";
}

class Coordinator {
 public:
  Coordinator(const ServerOptions& o, model::Safetensors global)
      : o_(o), global_(std::move(global)) {}

  Status Start() {
    RETURN_IF_ERROR(Publish());
    size_ = Flatten(global_).size() + 1;  // the weighted change, then the weight
    StartKeys();
    return OkStatus();
  }

  Response Handle(const Request& req) {
    const int id = SiteId(req.peer);
    if (id < 0) return Error(403, "site '" + req.peer + "' is not a member of this federation");
    Response r;
    try {
      r = Route(req, id);
    } catch (const Json::exception& e) {  // a member of the wrong type
      r = Error(400, std::string("malformed request: ") + e.what());
    }
    record_.bytes_in += static_cast<int64_t>(req.body.size());
    record_.bytes_out += static_cast<int64_t>(r.body.size());
    return r;
  }

  // Moves the round on when its phase is complete or past its deadline. False once done and
  // every site was told (or a grace period passed).
  bool Tick() {
    if (!status_.ok()) return false;
    const bool late = Clock::now() > deadline_;
    switch (phase_) {
      case Phase::kKeys:
        if (keys_.size() == o_.sites.size() ||
            (late && static_cast<int>(keys_.size()) >= o_.min_sites)) {
          StartTrain();
        } else if (late) {
          Log("round %d: %zu of the %d sites needed have published keys; waiting", round_,
              keys_.size(), o_.min_sites);
          deadline_ = Clock::now() + Timeout();
        }
        break;
      case Phase::kTrain:
        if (sum_->Survivors().size() == keys_.size()) {
          Finish();
        } else if (late && sum_->Survivors().empty() && ++idle_timeouts_ < kIdleTimeouts) {
          Log("round %d: no update yet; waiting", round_);
          deadline_ = Clock::now() + Timeout();
        } else if (late) {
          if (static_cast<int>(sum_->Survivors().size()) < o_.min_sites) {
            Void("only " + std::to_string(sum_->Survivors().size()) + " update(s) arrived");
          } else {
            phase_ = Phase::kUnmask;
            deadline_ = Clock::now() + Timeout();
            Log("round %d: %s sent no update; asking the others to unmask", round_,
                Join(Names(sum_->Dropped())).c_str());
          }
        }
        break;
      case Phase::kUnmask:
        if (revealed_.size() == sum_->Survivors().size()) {
          Finish();
        } else if (late) {
          Void("the survivors did not all reveal their seeds");
        }
        break;
      case Phase::kDone:
        // Until the last round's sites have heard that the federation is done (or 30 s).
        return told_done_.size() < sum_->Survivors().size() && Clock::now() < deadline_;
    }
    return status_.ok();
  }

  const Status& status() const { return status_; }
  const std::vector<RoundRecord>& records() const { return records_; }
  const std::map<std::string, std::string>& dataset_ids() const { return dataset_ids_; }
  const model::Safetensors& global() const { return global_; }

 private:
  std::chrono::milliseconds Timeout() const {
    return std::chrono::milliseconds(static_cast<int64_t>(o_.round_timeout_s * 1000));
  }
  template <typename... Args>
  void Log(const char* fmt, Args... args) const {
    if (!o_.progress) return;
    std::fprintf(stderr, fmt, args...);
    std::fprintf(stderr, "\n");
  }
  int SiteId(const std::string& cn) const {
    for (size_t i = 0; i < o_.sites.size(); ++i)
      if (o_.sites[i] == cn) return static_cast<int>(i);
    return -1;
  }
  std::vector<std::string> Names(const std::vector<int>& ids) const {
    std::vector<std::string> out;
    for (int i : ids) out.push_back(o_.sites[static_cast<size_t>(i)]);
    return out;
  }

  Status Publish() {
    ASSIGN_OR_RETURN(model_bytes_, model::EncodeSafetensors(Named(global_)));
    return OkStatus();
  }

  void StartKeys() {
    phase_ = Phase::kKeys;
    ++attempt_;
    keys_.clear();
    revealed_.clear();
    val_ = {};
    sum_.reset();
    round_start_ = Clock::now();
    deadline_ = round_start_ + Timeout();
    record_ = {};
    record_.round = round_;
    Log("round %d of %d: waiting for the sites' keys", round_, o_.rounds);
  }

  void StartTrain() {
    std::vector<int> ids;
    for (const auto& [id, key] : keys_) ids.push_back(id);
    sum_ = std::make_unique<MaskedSum>(size_, ids);
    phase_ = Phase::kTrain;
    idle_timeouts_ = 0;
    deadline_ = Clock::now() + Timeout();  // restarted by the first update
    record_.participants = Names(ids);
    double loss = 0;
    int64_t tokens = 0;
    for (const auto& [id, v] : val_) {
      loss += v.first * static_cast<double>(v.second);
      tokens += v.second;
    }
    record_.val_loss = tokens ? loss / static_cast<double>(tokens) : 0;
    record_.val_tokens = tokens;
    Log("round %d: %zu sites train (%s); global model's validation loss %.4f over %lld tokens",
        round_, ids.size(), Join(record_.participants).c_str(), record_.val_loss,
        static_cast<long long>(tokens));
  }

  void Void(const std::string& why) {
    Log("round %d is void: %s; repeating it", round_, why.c_str());
    StartKeys();
  }

  void Finish() {
    auto sum = sum_->Sum();
    if (!sum.ok()) {
      Void(sum.status().message());
      return;
    }
    const std::vector<double> total = DecodeFixed(*sum, o_.scale);
    const double weight = total.back();
    if (!(weight > 0)) {
      Void("the updates' weights sum to " + std::to_string(weight));
      return;
    }
    std::vector<double> mean(total.begin(), total.end() - 1);
    for (double& v : mean) v /= weight;
    AddFlat(global_, mean);
    if (Status s = Publish(); !s.ok()) {
      status_ = s;
      return;
    }
    record_.survivors = Names(sum_->Survivors());
    record_.dropped = Names(sum_->Dropped());
    record_.seconds = std::chrono::duration<double>(Clock::now() - round_start_).count();
    records_.push_back(record_);
    Log("round %d: aggregated %zu updates (%s%s) in %.1f s; %.1f MiB in, %.1f MiB out", round_,
        record_.survivors.size(), Join(record_.survivors).c_str(),
        record_.dropped.empty() ? "" : ("; dropped: " + Join(record_.dropped)).c_str(),
        record_.seconds, record_.bytes_in / 1048576.0, record_.bytes_out / 1048576.0);
    if (round_ == o_.rounds) {
      phase_ = Phase::kDone;
      deadline_ = Clock::now() + std::chrono::seconds(30);
      return;
    }
    ++round_;
    StartKeys();
  }

  Response Route(const Request& req, int id) {
    const std::string path = req.target.substr(0, req.target.find('?'));
    if (req.method == "GET" && path == "/fl/state") return State(id);
    if (req.method == "GET" && path == "/fl/model")
      return {200, "application/octet-stream", model_bytes_};
    if (req.method == "GET" && path == "/fl/config")
      return {200, "application/json", model::json::Dump(model::ToJson(o_.config))};
    if (req.method != "POST") return Error(404, "no such resource: " + req.method + " " + path);
    const Json body = path == "/fl/update" ? Json() : Json::parse(req.body, nullptr, false);
    if (path != "/fl/update" && !body.is_object())
      return Error(400, "the body is not a JSON object");
    if (path == "/fl/key") return Key(id, body);
    if (path == "/fl/update") return Update(id, req);
    if (path == "/fl/seeds") return Seeds(id, body);
    return Error(404, "no such resource: " + path);
  }

  Response State(int id) {
    Json j = {{"round", round_},
              {"attempt", attempt_},
              {"phase", PhaseName(phase_)},
              {"id", id},
              {"size", size_},
              {"scale", o_.scale},
              {"fedprox_mu", o_.fedprox_mu},
              {"rounds", o_.rounds}};
    Json participants = Json::object();
    for (const auto& [pid, key] : keys_) participants[std::to_string(pid)] = Base64Encode(key);
    j["participants"] = participants;
    if (sum_) {
      j["survivors"] = sum_->Survivors();
      j["dropped"] = sum_->Dropped();
    }
    if (phase_ == Phase::kDone) told_done_[id] = true;
    return Json200(j);
  }

  Response Key(int id, const Json& b) {
    if (phase_ != Phase::kKeys || b.value("attempt", -1) != attempt_)
      return Error(409, "keys are taken in the keys phase of attempt " + std::to_string(attempt_));
    const auto key = Base64Decode(b.value("key", ""));
    if (!key.ok() || key->size() != 32) return Error(400, "key: 32 bytes of base64 expected");
    const std::string dataset = b.value("dataset_id", "");
    if (dataset.empty()) return Error(400, "dataset_id is required");
    keys_[id] = *key;
    dataset_ids_[o_.sites[static_cast<size_t>(id)]] = dataset;
    const double loss = b.value("val_loss", 0.0);
    const int64_t tokens = b.value("val_tokens", int64_t{0});
    if (std::isfinite(loss) && tokens > 0) val_[id] = {loss, tokens};
    return Json200({{"ok", true}});
  }

  Response Update(int id, const Request& req) {
    if (phase_ != Phase::kTrain || QueryParam(req.target, "attempt") != std::to_string(attempt_))
      return Error(409,
                   "updates are taken in the train phase of attempt " + std::to_string(attempt_));
    if (req.body.size() != size_ * 4)
      return Error(400, "an update of " + std::to_string(size_) + " 32-bit words expected");
    std::vector<uint32_t> words(size_);
    std::memcpy(words.data(), req.body.data(), req.body.size());
    if (Status s = sum_->Add(id, words); !s.ok()) return Error(409, s.message());
    if (sum_->Survivors().size() == 1) deadline_ = Clock::now() + Timeout();  // for the others
    return Json200({{"ok", true}});
  }

  Response Seeds(int id, const Json& b) {
    if (phase_ != Phase::kUnmask || b.value("attempt", -1) != attempt_)
      return Error(409,
                   "seeds are taken in the unmask phase of attempt " + std::to_string(attempt_));
    if (!b.contains("seeds") || !b["seeds"].is_object()) return Error(400, "seeds: an object");
    for (int d : sum_->Dropped()) {
      const std::string key = std::to_string(d);
      if (!b["seeds"].contains(key) || !b["seeds"][key].is_string())
        return Error(400, "no seed with dropped site " + key);
      const auto seed = Base64Decode(b["seeds"][key].get<std::string>());
      if (!seed.ok()) return Error(400, "seed with site " + key + " is not base64");
      if (Status s = sum_->RemoveMask(id, d, *seed); !s.ok()) return Error(409, s.message());
    }
    revealed_[id] = true;
    return Json200({{"ok", true}});
  }

  const ServerOptions& o_;
  model::Safetensors global_;
  std::string model_bytes_;
  size_t size_ = 0;
  int round_ = 1;
  int attempt_ = 0;  // counts the rounds begun, repeated ones included
  // Timeouts the train phase has waited through without any update: local training may be
  // slow, but participants that all died (and restarted, waiting for a new attempt) must not
  // hold the round forever.
  static constexpr int kIdleTimeouts = 5;
  int idle_timeouts_ = 0;
  Phase phase_ = Phase::kKeys;
  Clock::time_point deadline_, round_start_;
  std::map<int, std::string> keys_;
  std::map<int, bool> revealed_, told_done_;
  std::map<int, std::pair<double, int64_t>> val_;
  std::map<std::string, std::string> dataset_ids_;
  std::unique_ptr<MaskedSum> sum_;
  RoundRecord record_;
  std::vector<RoundRecord> records_;
  Status status_;
};

Status WriteRun(const ServerOptions& o, const Coordinator& c, const fs::path& dir) {
  const fs::path model_dir = dir / "model";
  std::error_code ec;
  fs::create_directories(model_dir, ec);
  if (ec) return IoError("cannot create " + model_dir.string() + ": " + ec.message());
  RETURN_IF_ERROR(
      WriteFile(model_dir / "config.json", model::json::Dump(model::ToJson(o.config), 2) + "\n"));
  RETURN_IF_ERROR(model::SaveSafetensors((model_dir / "model.safetensors").string(),
                                         Named(c.global()), {{"format", "pt"}}));
  ASSIGN_OR_RETURN(const std::string tok, ReadFile(o.tokenizer_model));
  RETURN_IF_ERROR(WriteFile(model_dir / "tokenizer.model", tok));
  Json sites = Json::array();
  std::string ids;
  for (const auto& [site, id] : c.dataset_ids()) {
    sites.push_back({{"site", site}, {"dataset_id", id}});
    ids += (ids.empty() ? "" : "+") + id.substr(0, 16);
  }
  Json rounds = Json::array();
  for (const RoundRecord& r : c.records())
    rounds.push_back({{"round", r.round},
                      {"participants", r.participants},
                      {"survivors", r.survivors},
                      {"dropped", r.dropped},
                      {"val_loss", r.val_loss},
                      {"val_tokens", r.val_tokens},
                      {"bytes_in", r.bytes_in},
                      {"bytes_out", r.bytes_out},
                      {"seconds", r.seconds}});
  const Json run = {{"dataset_id", "federated:" + ids},
                    {"dataset", ""},
                    {"code_commit", ""},
                    {"config", Json::parse(model::json::Dump(model::ToJson(o.config)))},
                    {"options",
                     {{"rounds", o.rounds},
                      {"min_sites", o.min_sites},
                      {"seed", o.seed},
                      {"fedprox_mu", o.fedprox_mu}}},
                    {"federated",
                     {{"algorithm", o.fedprox_mu > 0 ? "fedprox" : "fedavg"},
                      {"secure_aggregation", "pairwise-masks-x25519"},
                      {"sites", sites},
                      {"rounds", rounds}}},
                    {"started_at", ""}};
  RETURN_IF_ERROR(WriteFile(dir / "run.json", run.dump(2) + "\n"));
  // One line per round, as a training run's metrics: the global model's validation loss at the
  // round's start over the sites' validation splits.
  std::string metrics;
  for (const RoundRecord& r : c.records())
    metrics +=
        Json{{"step", r.round}, {"val_loss", r.val_loss}, {"sites", r.survivors.size()}}.dump() +
        "\n";
  return WriteFile(dir / "metrics.jsonl", metrics);
}

// ---------------------------------------------------------------------------------------------
// A site.

class Site {
 public:
  Site(const ClientOptions& o, const train::TextEncoder& enc, std::unique_ptr<HttpsClient> http)
      : o_(o), enc_(enc), http_(std::move(http)) {}

  StatusOr<ClientResult> Run() {
    ASSIGN_OR_RETURN(const train::SplitIndex index, train::IndexSplit(o_.dataset_dir, "train"));
    examples_ = static_cast<int64_t>(index.samples.size());
    ASSIGN_OR_RETURN(Json cfg, GetJson("/fl/config"));
    auto parsed = model::json::Parse(cfg.dump());
    if (!parsed.ok()) return parsed.status();
    ASSIGN_OR_RETURN(config_, model::FromJson(*parsed));
    fs::create_directories(o_.work_dir);
    ClientResult result;
    // Attempts (a round repeated after too few updates is a new attempt) this site took part in.
    int keyed = 0, delivered = 0, revealed = 0;
    for (;;) {
      ASSIGN_OR_RETURN(const Json st, GetJson("/fl/state"));
      const std::string phase = st.value("phase", "");
      const int round = st.value("round", 0), attempt = st.value("attempt", 0);
      if (phase == "done") break;
      if (st.value("id", -1) < 0)
        return PermissionDeniedError("the server does not list this site");
      id_ = st.value("id", -1);
      if (phase == "keys" && keyed != attempt) {
        RETURN_IF_ERROR(PublishKey(round, attempt));
        keyed = attempt;
      } else if (phase == "train" && keyed == attempt && delivered != attempt &&
                 st.at("participants").contains(std::to_string(id_))) {
        ASSIGN_OR_RETURN(const bool taken, TrainAndSend(round, attempt, st));
        delivered = attempt;
        if (taken) ++result.rounds;
      } else if (phase == "unmask" && delivered == attempt && revealed != attempt) {
        RETURN_IF_ERROR(Reveal(round, attempt, st));
        revealed = attempt;
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(static_cast<int64_t>(o_.poll_s * 1000)));
    }
    return result;
  }

 private:
  // A request, retried while the server is unreachable (up to 60 s).
  StatusOr<Response> Send(const std::string& method, const std::string& target,
                          const std::string& body, const std::string& type) {
    const auto until = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      auto r = http_->Send(method, target, body, type);
      if (r.ok() || Clock::now() > until) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  StatusOr<Json> GetJson(const std::string& target) {
    ASSIGN_OR_RETURN(const Response r, Send("GET", target, "", "application/json"));
    if (r.status != 200) return FailedPreconditionError("GET " + target + ": " + r.body);
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return DataLossError("GET " + target + ": not JSON");
    return j;
  }
  // False when the server answers 409: the phase or attempt the request was meant for is over
  // (the round went on without this site, or was repeated).
  StatusOr<bool> Post(const std::string& target, const std::string& body, const std::string& type) {
    ASSIGN_OR_RETURN(const Response r, Send("POST", target, body, type));
    if (r.status == 409) return false;
    if (r.status != 200) return FailedPreconditionError("POST " + target + ": " + r.body);
    return true;
  }
  void Late(int round, const char* what) const {
    if (o_.progress)
      std::fprintf(stderr, "round %d: the server went on without this site's %s\n", round, what);
  }

  Status PublishKey(int round, int attempt) {
    ASSIGN_OR_RETURN(const Response r, Send("GET", "/fl/model", "", "application/json"));
    if (r.status != 200) return FailedPreconditionError("GET /fl/model: " + r.body);
    const fs::path dir = fs::path(o_.work_dir) / "global";
    fs::create_directories(dir);
    RETURN_IF_ERROR(WriteFile(dir / "model.safetensors", r.body));
    RETURN_IF_ERROR(WriteFile(dir / "config.json", model::json::Dump(model::ToJson(config_), 2)));
    ASSIGN_OR_RETURN(global_, model::DecodeSafetensors(r.body));
    ASSIGN_OR_RETURN(const train::SplitLoss val, train::EvaluateLoss(dir.string(), {o_.dataset_dir},
                                                                     "val", enc_, o_.local.prompt));
    ASSIGN_OR_RETURN(MaskingClient m, MaskingClient::Create(attempt, id_));
    masker_ = std::make_unique<MaskingClient>(std::move(m));
    if (o_.progress)
      std::fprintf(stderr, "round %d: the global model's validation loss here: %.4f\n", round,
                   val.loss);
    ASSIGN_OR_RETURN(const bool taken, Post("/fl/key",
                                            Json{{"round", round},
                                                 {"attempt", attempt},
                                                 {"key", Base64Encode(masker_->public_key())},
                                                 {"dataset_id", o_.dataset_id},
                                                 {"val_loss", val.loss},
                                                 {"val_tokens", val.tokens}}
                                                .dump(),
                                            "application/json"));
    if (!taken) Late(round, "key");
    return OkStatus();
  }

  // Whether the server took the update (false: it came after the round went on).
  StatusOr<bool> TrainAndSend(int round, int attempt, const Json& st) {
    const fs::path run = fs::path(o_.work_dir) / ("round-" + std::to_string(round));
    fs::remove_all(run);
    train::TrainOptions t = o_.local;
    t.run_dir = run.string();
    t.config = config_;
    t.init_weights = (fs::path(o_.work_dir) / "global" / "model.safetensors").string();
    t.proximal_mu = st.value("fedprox_mu", 0.0);
    t.dataset_dir = o_.dataset_dir;
    t.dataset_id = o_.dataset_id;
    t.seed = o_.local.seed + static_cast<uint64_t>(round);
    if (o_.progress) std::fprintf(stderr, "round %d: training locally\n", round);
    ASSIGN_OR_RETURN(const train::TrainResult tr, train::Train(t, enc_));
    ASSIGN_OR_RETURN(const model::Safetensors local,
                     model::LoadSafetensors((run / "model" / "model.safetensors").string()));
    const std::vector<float> a = Flatten(local), b = Flatten(global_);
    if (a.size() != b.size()) return InternalError("the local model's shape changed");
    std::vector<float> update(a.size() + 1);
    double norm = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      update[i] = a[i] - b[i];
      norm += static_cast<double>(update[i]) * update[i];
    }
    norm = std::sqrt(norm);
    if (o_.dp_clip > 0) {  // client-side DP: the update clipped, then noised
      const double s = norm > o_.dp_clip ? o_.dp_clip / norm : 1.0;
      std::mt19937_64 rng(std::random_device{}());
      std::normal_distribution<double> noise(0, o_.dp_noise * o_.dp_clip);
      for (size_t i = 0; i + 1 < update.size(); ++i)
        update[i] = static_cast<float>(update[i] * s + (o_.dp_noise > 0 ? noise(rng) : 0.0));
    }
    const double w = static_cast<double>(examples_);
    for (size_t i = 0; i + 1 < update.size(); ++i) update[i] = static_cast<float>(update[i] * w);
    update.back() = static_cast<float>(w);
    const double scale = st.value("scale", 65536.0);
    double peak = 0;
    for (float v : update) peak = std::max(peak, std::abs(static_cast<double>(v)));
    if (peak * scale * static_cast<double>(st.at("participants").size()) >= 2147483647.0)
      return OutOfRangeError(
          "the weighted update (" + std::to_string(peak) +
          ") is too large for the fixed-point encoding; lower the learning rate");
    std::map<int, std::string> peers;
    for (const auto& [k, v] : st.at("participants").items()) {
      ASSIGN_OR_RETURN(std::string key, Base64Decode(v.get<std::string>()));
      peers[std::stoi(k)] = std::move(key);
    }
    ASSIGN_OR_RETURN(const std::vector<uint32_t> masked,
                     masker_->Mask(EncodeFixed(update, scale), peers));
    if (o_.progress)
      std::fprintf(stderr,
                   "round %d: trained %lld steps (loss %.4f -> %.4f); sending the masked update "
                   "(%.1f MiB, change norm %.4f)\n",
                   round, static_cast<long long>(tr.steps), tr.first_loss, tr.last_loss,
                   masked.size() * 4 / 1048576.0, norm);
    ASSIGN_OR_RETURN(
        const bool taken,
        Post("/fl/update?round=" + std::to_string(round) + "&attempt=" + std::to_string(attempt),
             std::string(reinterpret_cast<const char*>(masked.data()), masked.size() * 4),
             "application/octet-stream"));
    if (!taken) Late(round, "update");
    return taken;
  }

  Status Reveal(int round, int attempt, const Json& st) {
    const std::vector<int> survivors = st.value("survivors", std::vector<int>{});
    Json seeds = Json::object();
    for (int d : st.value("dropped", std::vector<int>{})) {
      ASSIGN_OR_RETURN(const std::string seed, masker_->RevealSeed(d, survivors));
      seeds[std::to_string(d)] = Base64Encode(seed);
    }
    if (o_.progress)
      std::fprintf(stderr, "round %d: revealing the seeds with dropped sites\n", round);
    ASSIGN_OR_RETURN(
        const bool taken,
        Post("/fl/seeds", Json{{"round", round}, {"attempt", attempt}, {"seeds", seeds}}.dump(),
             "application/json"));
    if (!taken) Late(round, "seeds");
    return OkStatus();
  }

  const ClientOptions& o_;
  const train::TextEncoder& enc_;
  std::unique_ptr<HttpsClient> http_;
  model::ModelConfig config_;
  model::Safetensors global_;
  std::unique_ptr<MaskingClient> masker_;
  int64_t examples_ = 0;
  int id_ = -1;
};

}  // namespace

StatusOr<ServerResult> RunServer(const ServerOptions& o) {
  if (o.sites.size() < 2) return InvalidArgumentError("a federation needs at least 2 sites");
  if (o.min_sites < 2 || o.min_sites > static_cast<int>(o.sites.size()))
    return InvalidArgumentError(
        "--min-sites must be at least 2 (secure aggregation hides an update only in a sum) and "
        "at most the number of sites");
  if (o.rounds < 1) return InvalidArgumentError("--rounds must be at least 1");
  torch::manual_seed(o.seed);
  model::ReportModel m(o.config);
  model::Safetensors global;
  for (auto& [name, t] : model::NamedWeights(*m)) global.tensors[name] = t.detach().clone();
  Coordinator c(o, std::move(global));
  ASSIGN_OR_RETURN(auto server, HttpsServer::Listen(o.host, o.port, o.tls, 1LL << 31));
  if (o.progress)
    std::fprintf(stderr, "federation server on https://%s:%d: %zu sites, %d rounds\n",
                 o.host.c_str(), server->port(), o.sites.size(), o.rounds);
  RETURN_IF_ERROR(c.Start());
  if (!o.port_file.empty())
    RETURN_IF_ERROR(WriteFileDurably(o.port_file, std::to_string(server->port()) + "\n"));
  server->Serve([&](const Request& r) { return c.Handle(r); }, [&] { return c.Tick(); });
  RETURN_IF_ERROR(c.status());
  if (static_cast<int>(c.records().size()) < o.rounds)
    return InternalError("the federation stopped before its last round");
  RETURN_IF_ERROR(WriteRun(o, c, o.out_dir));
  return ServerResult{c.records(), (fs::path(o.out_dir) / "model").string()};
}

StatusOr<ClientResult> RunClient(const ClientOptions& o, const train::TextEncoder& encoder) {
  ASSIGN_OR_RETURN(auto http, HttpsClient::Create(o.server, o.tls));
  Site site(o, encoder, std::move(http));
  try {
    return site.Run();
  } catch (const c10::Error& e) {
    return InternalError(std::string("local training failed: ") + e.what_without_backtrace());
  } catch (const Json::exception& e) {
    return DataLossError(std::string("the federation server sent a malformed state: ") + e.what());
  }
}

}  // namespace medscribe::federated
