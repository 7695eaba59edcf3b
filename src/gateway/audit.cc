#include "gateway/audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/files.h"
#include "crypto/hmac.h"

namespace medscribe::gateway {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::string NowUtc() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

constexpr char kKeyed[] = "hmac-sha256";

// The record's hash covers its serialisation without the "hash" member: HMAC-SHA256 with `key`
// for keyed records, else SHA-256.
std::string HashOf(const Json& without_hash, const std::string& key) {
  const std::string text =
      without_hash.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return crypto::Hex(key.empty() ? crypto::Sha256(text) : crypto::HmacSha256(key, text));
}

// Writes `text` to `path` so that it survives a crash: a temporary file, fsynced, renamed over
// the target, the directory fsynced.
Status WriteDurably(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return IoError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return IoError("cannot replace " + path.string() + ": " + std::strerror(errno));
  const int dir = ::open(path.has_parent_path() ? path.parent_path().c_str() : ".",
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return OkStatus();
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

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const fs::path& path, std::string chain_key) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->path_ = path;
  log->key_ = std::move(chain_key);
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
    }
  }
  log->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log->fd_ < 0)
    return IoError("cannot open the audit log " + path.string() + ": " + std::strerror(errno));
  return log;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::Append(const AuditRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Json j;
  j["seq"] = seq_ + 1;
  j["time"] = NowUtc();
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
  j["prev"] = prev_.empty() ? std::string(64, '0') : prev_;
  if (!key_.empty()) j["chain"] = kKeyed;
  const std::string hash = HashOf(j, key_);
  j["hash"] = hash;
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return IoError("cannot append to the audit log " + path_.string() + ": " +
                     std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0)
    return IoError("cannot flush the audit log " + path_.string() + ": " + std::strerror(errno));
  ++seq_;
  prev_ = hash;
  // The head marks the end of the chain (removing records from the end is detected).
  return WriteDurably(path_.string() + ".head", std::to_string(seq_) + " " + hash + "\n");
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
        {"outcomeDesc", std::to_string(status) + " " + r.value("outcome", "")},
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
