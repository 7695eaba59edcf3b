#include "gateway/audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/civil_time.h"
#include "common/durable_file.h"
#include "common/files.h"
#include "crypto/ed25519.h"
#include "crypto/hmac.h"

namespace medscribe::gateway {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr char kKeyed[] = "hmac-sha256";

// The record's hash covers its serialisation without the "hash" member: HMAC-SHA256 with `key`
// for keyed records, else SHA-256.
std::string HashOf(const Json& without_hash, const std::string& key) {
  const std::string text =
      without_hash.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return crypto::Hex(key.empty() ? crypto::Sha256(text) : crypto::HmacSha256(key, text));
}

struct Line {
  size_t number;
  std::string text;
};

StatusOr<std::vector<Line>> ReadLines(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string s;
  size_t n = 0;
  while (std::getline(in, s)) {
    ++n;
    if (!s.empty()) lines.push_back({n, s});
  }
  return lines;
}

}  // namespace

std::string AuditChainKey(const std::string& audit_key) {
  const crypto::Digest d = crypto::HmacSha256(audit_key, "medscribe-audit-chain");
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

namespace {

// Adds the record's content to `j` in the log's field order (after seq; before prev, chain, hash).
void AddRecordFields(Json& j, const AuditRecord& r, const std::string& time) {
  j["time"] = time;
  j["principal"] = r.principal;
  j["role"] = r.role;
  j["action"] = r.action;
  j["resources"] = r.resources;
  j["model"] = r.model;
  j["deployment"] = r.deployment;
  j["status"] = r.status;
  j["outcome"] = r.outcome;
  j["request"] = r.request_digest;
  j["source"] = r.source;
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What a checkpoint's signature covers.
std::string CheckpointMessage(uint64_t seq, const std::string& hash, const std::string& time) {
  return "medscribe-audit-checkpoint\n" + std::to_string(seq) + "\n" + hash + "\n" + time;
}

Status WriteAll(int fd, const std::string& text, const fs::path& path) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot append to " + path.string() + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const fs::path& path, AuditOptions options) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->path_ = path;
  log->options_ = std::move(options);
  if (fs::exists(path)) {
    ASSIGN_OR_RETURN(auto lines, ReadLines(path));
    if (!lines.empty()) {
      const Json last = Json::parse(lines.back().text, nullptr, /*allow_exceptions=*/false);
      if (!last.is_object() || !last.contains("seq") || !last.contains("hash") ||
          !last["seq"].is_number_unsigned() || !last["hash"].is_string()) {
        return DataLossError("the audit log " + path.string() +
                             " ends with a line that is not a record (line " +
                             std::to_string(lines.back().number) +
                             "); run `medscribe audit verify` and keep the file for investigation");
      }
      log->seq_ = last["seq"].get<uint64_t>();
      log->prev_ = last["hash"].get<std::string>();
      log->checkpointed_ = log->seq_;  // a checkpoint is due after the next records
    }
  }
  log->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log->fd_ < 0)
    return IoError("cannot open the audit log " + path.string() + ": " + std::strerror(errno));
  log->writer_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

AuditLog::~AuditLog() {
  if (writer_.joinable()) {
    (void)Flush(/*all=*/true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
  }
  if (fd_ >= 0) ::close(fd_);
}

uint64_t AuditLog::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

uint64_t AuditLog::Enqueue(Pending p) {
  p.ticket = next_ticket_++;
  queue_.push_back(std::move(p));
  wake_.notify_one();
  return queue_.back().ticket;
}

Status AuditLog::WaitFor(std::unique_lock<std::mutex>& lock, uint64_t ticket) {
  done_.wait(lock, [&] { return committed_ >= ticket || !failed_.ok(); });
  return committed_ >= ticket ? OkStatus() : failed_;
}

Status AuditLog::Append(const AuditRecord& r) {
  Pending p;
  p.record = r;
  p.time = UtcNowIso(true);
  std::unique_lock<std::mutex> lock(mu_);
  if (!failed_.ok()) return failed_;
  const uint64_t ticket = Enqueue(std::move(p));
  return WaitFor(lock, ticket);
}

Status AuditLog::AppendRefusal(const AuditRecord& r) {
  if (options_.refusal_window.count() <= 0) return Append(r);
  const std::string kind = r.source + "\x1f" + r.principal + "\x1f" + r.action + "\x1f" +
                           std::to_string(r.status) + "\x1f" + r.outcome;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.ok()) return failed_;
    auto it = repeats_.find(kind);
    if (it != repeats_.end()) {
      ++it->second.count;
      return OkStatus();
    }
    if (repeats_.size() < options_.max_refusal_kinds) {
      Repeats rep;
      rep.first = r;
      rep.since = UtcNowIso(true);
      rep.ends = std::chrono::steady_clock::now() + options_.refusal_window;
      repeats_.emplace(kind, std::move(rep));
    }
  }
  return Append(r);
}

uint64_t AuditLog::EnqueueDueRepeats(bool all) {
  const auto now = std::chrono::steady_clock::now();
  uint64_t last = 0;
  for (auto it = repeats_.begin(); it != repeats_.end();) {
    if (!all && it->second.ends > now) {
      ++it;
      continue;
    }
    if (it->second.count > 0) {
      Pending p;
      p.record = std::move(it->second.first);
      p.time = UtcNowIso(true);
      p.count = it->second.count;
      p.since = std::move(it->second.since);
      last = Enqueue(std::move(p));
    }
    it = repeats_.erase(it);
  }
  return last;
}

Status AuditLog::Flush(bool all) {
  std::unique_lock<std::mutex> lock(mu_);
  EnqueueDueRepeats(all);
  const uint64_t last = queue_.empty() ? committed_ : queue_.back().ticket;
  return WaitFor(lock, last);
}

void AuditLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || !queue_.empty(); });
    EnqueueDueRepeats(/*all=*/false);
    if (queue_.empty()) {
      if (stopping_) break;
      continue;
    }
    if (!failed_.ok()) {  // its waiters have the failure already
      queue_.clear();
      continue;
    }
    const std::vector<Pending> batch(std::make_move_iterator(queue_.begin()),
                                     std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.unlock();
    Status s = WriteBatch(batch);
    lock.lock();
    if (s.ok()) {
      committed_ = batch.back().ticket;
      ++syncs_;
    } else {
      failed_ = s;
    }
    done_.notify_all();
  }
  lock.unlock();
  if (failed_.ok() && seq_ > checkpointed_) (void)Checkpoint();
}

Status AuditLog::WriteBatch(const std::vector<Pending>& batch) {
  std::string text;
  uint64_t seq = seq_;
  std::string prev = prev_;
  for (const Pending& p : batch) {
    Json j;
    j["seq"] = ++seq;
    AddRecordFields(j, p.record, p.time);
    if (p.count > 0) {
      j["count"] = p.count;
      j["since"] = p.since;
    }
    j["prev"] = prev.empty() ? std::string(64, '0') : prev;
    if (!options_.chain_key.empty()) j["chain"] = kKeyed;
    prev = HashOf(j, options_.chain_key);
    j["hash"] = prev;
    text += Dump(j) + "\n";
  }
  RETURN_IF_ERROR(WriteAll(fd_, text, path_));
  if (::fdatasync(fd_) != 0)
    return IoError("cannot flush the audit log " + path_.string() + ": " + std::strerror(errno));
  seq_ = seq;
  prev_ = prev;
  // The head marks the end of the chain (removing records from the end is detected).
  RETURN_IF_ERROR(
      WriteFileDurably(path_.string() + ".head", std::to_string(seq_) + " " + prev_ + "\n", 0600));
  if (options_.checkpoint_key && seq_ - checkpointed_ >= options_.checkpoint_every)
    RETURN_IF_ERROR(Checkpoint());
  return OkStatus();
}

Status AuditLog::Checkpoint() {
  if (!options_.checkpoint_key) return OkStatus();
  const std::string time = UtcNowIso(true);
  ASSIGN_OR_RETURN(std::string sig,
                   crypto::Sign(*options_.checkpoint_key, CheckpointMessage(seq_, prev_, time)));
  Json j;
  j["seq"] = seq_;
  j["hash"] = prev_;
  j["time"] = time;
  j["key"] = crypto::Hex(options_.checkpoint_key->public_key);
  j["sig"] = crypto::Hex(sig);
  const fs::path file = path_.string() + ".checkpoints";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot open " + file.string() + ": " + std::strerror(errno));
  Status s = WriteAll(fd, Dump(j) + "\n", file);
  if (s.ok() && ::fdatasync(fd) != 0)
    s = IoError("cannot flush " + file.string() + ": " + std::strerror(errno));
  ::close(fd);
  if (s.ok()) checkpointed_ = seq_;
  return s;
}

StatusOr<AuditVerifyResult> VerifyAuditLog(const fs::path& path, const std::string& chain_key) {
  ASSIGN_OR_RETURN(auto lines, ReadLines(path));
  AuditVerifyResult res;
  std::string prev(64, '0');
  uint64_t expected = 1;
  auto fail = [&](std::string why) {
    res.ok = false;
    res.problem = std::move(why);
    return res;
  };
  // Sequence numbers present in the file (to tell a moved record from a removed one).
  std::set<uint64_t> later;
  for (const Line& l : lines) {
    const Json j = Json::parse(l.text, nullptr, false);
    if (j.is_object() && j.contains("seq") && j["seq"].is_number_unsigned())
      later.insert(j["seq"].get<uint64_t>());
  }
  for (const Line& l : lines) {
    Json j = Json::parse(l.text, nullptr, false);
    const std::string at = "line " + std::to_string(l.number);
    if (!j.is_object() || !j.contains("hash") || !j["hash"].is_string() || !j.contains("seq") ||
        !j["seq"].is_number_unsigned() || !j.contains("prev") || !j["prev"].is_string())
      return fail(at + " is not an audit record (altered)");
    const std::string hash = j["hash"].get<std::string>();
    j.erase("hash");
    const uint64_t seq = j["seq"].get<uint64_t>();
    const bool keyed = j.contains("chain") && j["chain"] == kKeyed;
    if (keyed && chain_key.empty())
      return fail("record " + std::to_string(seq) +
                  " is keyed: verify with the audit key (HOME/keys/audit.key)");
    if (!keyed && res.records > res.unkeyed)
      return fail("record " + std::to_string(seq) + " at " + at +
                  " has an unkeyed hash after keyed records (rewritten)");
    res.unkeyed += !keyed;
    if (HashOf(j, keyed ? chain_key : std::string()) != hash)
      return fail("record " + std::to_string(seq) + " at " + at +
                  " was altered (its hash does not match its content)");
    if (seq > expected && later.count(expected)) {
      return fail("records reordered: " + at + " holds record " + std::to_string(seq) +
                  ", expected " + std::to_string(expected) + ", which comes later in the file");
    }
    if (seq > expected) {
      return fail("record " + std::to_string(expected) +
                  (seq > expected + 1 ? "–" + std::to_string(seq - 1) : std::string()) +
                  " removed: " + at + " holds record " + std::to_string(seq) + ", expected " +
                  std::to_string(expected));
    }
    if (seq < expected) {
      return fail("records reordered or duplicated: " + at + " holds record " +
                  std::to_string(seq) + ", expected " + std::to_string(expected));
    }
    if (j["prev"].get<std::string>() != prev) {
      return fail(
          "record " + std::to_string(seq) + " at " + at +
          " does not follow the record before it (a record was removed, reordered or replaced)");
    }
    prev = hash;
    ++expected;
    ++res.records;
  }
  const fs::path head_path = path.string() + ".head";
  if (res.records > 0 && !fs::exists(head_path))
    return fail("the head file " + head_path.string() +
                " is missing: records may have been cut from the end");
  if (fs::exists(head_path)) {
    ASSIGN_OR_RETURN(std::string head, ReadFile(head_path));
    std::istringstream in(head);
    uint64_t seq = 0;
    std::string hash;
    in >> seq >> hash;
    if (seq > res.records) {
      return fail("record " + std::to_string(res.records + 1) +
                  (seq > res.records + 1 ? "–" + std::to_string(seq) : std::string()) +
                  " removed from the end of the log (the head file records " + std::to_string(seq) +
                  ")");
    }
    if (seq == res.records && hash != prev)
      return fail("the last record does not match the head file (replaced)");
  }
  res.ok = true;
  return res;
}

StatusOr<CheckpointVerifyResult> VerifyAuditCheckpoints(const fs::path& path,
                                                        const fs::path& checkpoints,
                                                        const std::string& public_key) {
  ASSIGN_OR_RETURN(auto marks, ReadLines(checkpoints));
  ASSIGN_OR_RETURN(auto lines, ReadLines(path));
  std::map<uint64_t, std::string> hashes;  // seq → hash as the log has it now
  for (const Line& l : lines) {
    const Json j = Json::parse(l.text, nullptr, false);
    if (j.is_object() && j.contains("seq") && j["seq"].is_number_unsigned() && j.contains("hash") &&
        j["hash"].is_string())
      hashes[j["seq"].get<uint64_t>()] = j["hash"].get<std::string>();
  }
  CheckpointVerifyResult res;
  auto fail = [&](std::string why) {
    res.ok = false;
    res.problem = std::move(why);
    return res;
  };
  for (const Line& l : marks) {
    const Json j = Json::parse(l.text, nullptr, false);
    const std::string at = checkpoints.string() + " line " + std::to_string(l.number);
    if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned() ||
        !j.contains("hash") || !j["hash"].is_string() || !j.contains("time") ||
        !j["time"].is_string() || !j.contains("sig") || !j["sig"].is_string())
      return fail(at + " is not a checkpoint");
    const uint64_t seq = j["seq"].get<uint64_t>();
    const std::string hash = j["hash"].get<std::string>();
    auto sig = crypto::FromHex(j["sig"].get<std::string>());
    if (!sig.ok() ||
        !crypto::Verify(public_key, CheckpointMessage(seq, hash, j["time"].get<std::string>()),
                        *sig))
      return fail(at + " (record " + std::to_string(seq) +
                  ") is not signed by this key: the checkpoint was forged or altered");
    auto it = hashes.find(seq);
    if (it == hashes.end())
      return fail("record " + std::to_string(seq) + ", signed at " + at +
                  ", is no longer in the log (records were cut or renumbered)");
    if (it->second != hash)
      return fail("record " + std::to_string(seq) + " differs from the checkpoint signed at " + at +
                  ": the log was rewritten up to or past it");
    ++res.checkpoints;
    res.last_seq = std::max(res.last_seq, seq);
  }
  res.ok = true;
  return res;
}

StatusOr<std::string> ExportAuditFhir(const fs::path& path) {
  ASSIGN_OR_RETURN(auto lines, ReadLines(path));
  nlohmann::json bundle = {
      {"resourceType", "Bundle"}, {"type", "collection"}, {"entry", nlohmann::json::array()}};
  for (const Line& l : lines) {
    const nlohmann::json r = nlohmann::json::parse(l.text, nullptr, false);
    if (!r.is_object() || !r.contains("seq"))
      return DataLossError("line " + std::to_string(l.number) + " of " + path.string() +
                           " is not an audit record; run `medscribe audit verify`");
    const int status = r.value("status", 0);
    nlohmann::json e = {
        {"resourceType", "AuditEvent"},
        {"id", "medscribe-gateway-" + std::to_string(r["seq"].get<uint64_t>())},
        {"type",
         {{"system", "http://terminology.hl7.org/CodeSystem/audit-event-type"},
          {"code", "rest"},
          {"display", "RESTful Operation"}}},
        {"subtype",
         {{{"system", "urn:medscribe:gateway:action"}, {"code", r.value("action", "")}}}},
        {"action", "E"},
        {"recorded", r.value("time", "")},
        {"outcome", status < 400   ? "0"
                    : status < 500 ? "4"
                                   : "8"},
        {"outcomeDesc",
         std::to_string(status) + " " + r.value("outcome", "") +
             (r.contains("count") ? " (repeated " + r["count"].dump() + " more times since " +
                                        r.value("since", "") + ")"
                                  : std::string())},
        {"agent",
         {{{"who",
            {{"identifier",
              {{"system", "urn:medscribe:principal"}, {"value", r.value("principal", "")}}}}},
           {"requestor", true},
           {"role", {{{"text", r.value("role", "")}}}},
           {"network", {{"address", r.value("source", "")}, {"type", "2"}}}}}},
        {"source",
         {{"observer", {{"display", "medscribe-gateway"}}},
          {"type",
           {{{"system", "http://terminology.hl7.org/CodeSystem/security-source-type"},
             {"code", "3"},
             {"display", "Web Server"}}}}}},
    };
    nlohmann::json entities = nlohmann::json::array();
    if (r.contains("resources") && r["resources"].is_array()) {
      for (const auto& res : r["resources"])
        if (res.is_string()) {
          // Pseudonymous ids: logical references (type + identifier), not resolvable URLs.
          const std::string ref = res.get<std::string>();
          const size_t slash = ref.find('/');
          if (slash == std::string::npos) continue;
          const std::string type = ref.substr(0, slash);
          std::string system = "urn:medscribe:pseudonym:";
          for (char ch : type)
            system += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          entities.push_back(
              {{"what",
                {{"type", type},
                 {"identifier", {{"system", system}, {"value", ref.substr(slash + 1)}}}}}});
        }
    }
    if (!r.value("model", std::string()).empty())
      entities.push_back(
          {{"what",
            {{"identifier", {{"system", "urn:medscribe:model"}, {"value", r.value("model", "")}}}}},
           {"description", "model version"}});
    if (!r.value("request", std::string()).empty())
      entities.push_back(
          {{"what",
            {{"identifier",
              {{"system", "urn:medscribe:request-sha256"}, {"value", r.value("request", "")}}}}},
           {"description", "request digest"}});
    if (!entities.empty()) e["entity"] = entities;
    bundle["entry"].push_back(
        {{"fullUrl", "urn:uuid:" + std::string("00000000-0000-4000-8000-") +
                         [&] {
                           char b[13];
                           std::snprintf(b, sizeof(b), "%012llx",
                                         static_cast<unsigned long long>(r["seq"].get<uint64_t>()));
                           return std::string(b);
                         }()},
         {"resource", e}});
  }
  return bundle.dump(2) + "\n";
}

}  // namespace medscribe::gateway
