#include "registry/registry.h"

#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/civil_time.h"
#include "common/files.h"
#include "crypto/hmac.h"
#include "registry/plaintext_dir.h"

namespace medscribe::registry {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS versions (
  name TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL, path TEXT NOT NULL,
  dataset_id TEXT, code_commit TEXT, run_id TEXT, manifest_sha256 TEXT NOT NULL,
  PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (name, alias));
CREATE TABLE IF NOT EXISTS alias_moves (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, alias TEXT NOT NULL,
  version INTEGER NOT NULL, moved_by TEXT NOT NULL, moved_at TEXT NOT NULL, sig TEXT NOT NULL);
)sql";

// What an alias move's signature covers: the move and the signature of the move before it on
// the same alias ("" for the first), so moves cannot be reordered or replayed in another chain.
std::string AliasMessage(const std::string& name, const std::string& alias, long version,
                         const std::string& moved_by, const std::string& moved_at,
                         const std::string& prev_sig) {
  return "medscribe-registry-alias\n" + name + "\n" + alias + "\n" + std::to_string(version) +
         "\n" + moved_by + "\n" + moved_at + "\n" + prev_sig;
}

constexpr const char* kFiles[] = {"config.json", "model.safetensors", "tokenizer.model", "run.json",
                                  "metrics.jsonl"};

bool ValidName(const std::string& s) {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  return std::regex_match(s, re);
}

std::string Sha256File(const std::string& data) { return crypto::Hex(crypto::Sha256(data)); }

// The files an encrypted entry keeps encrypted: what training data can be read back from.
constexpr const char* kEncryptedFiles[] = {"model.safetensors", "tokenizer.model"};
constexpr const char* kEncryptedSuffix = ".enc";

bool IsEncryptedFile(const std::string& f) {
  for (const char* e : kEncryptedFiles)
    if (f == e) return true;
  return false;
}

// What an encrypted file's ciphertext and the wrapped data key are bound to: the entry and the
// file, so that neither can be moved to another entry or swapped with another file.
std::string FileContext(const std::string& name, long version, const std::string& file) {
  return "medscribe-registry\n" + name + "@" + std::to_string(version) + "\n" + file;
}
std::string KeyContext(const std::string& name, long version) {
  return "medscribe-registry-key\n" + name + "@" + std::to_string(version);
}

}  // namespace

StatusOr<ModelRef> ParseModelRef(const std::string& text) {
  ModelRef r;
  const size_t at = text.find('@');
  r.name = text.substr(0, at);
  if (!ValidName(r.name)) {
    return InvalidArgumentError("'" + text +
                                "' is not a model reference (NAME, NAME@VERSION or NAME@ALIAS)");
  }
  if (at == std::string::npos) return r;
  const std::string rest = text.substr(at + 1);
  if (!rest.empty() && rest.find_first_not_of("0123456789") == std::string::npos &&
      rest.size() < 10) {
    r.version = std::stol(rest);
  } else if (ValidName(rest)) {
    r.alias = rest;
  } else {
    return InvalidArgumentError("'" + text +
                                "' is not a model reference (NAME, NAME@VERSION or NAME@ALIAS)");
  }
  return r;
}

StatusOr<Registry> Registry::Open(const std::string& home) {
  const fs::path root = fs::path(home) / "registry";
  std::error_code ec;
  fs::create_directories(root / "models", ec);
  fs::create_directories(fs::path(home) / "keys", ec);
  if (ec) return IoError("cannot create the registry under '" + home + "': " + ec.message());
  ASSIGN_OR_RETURN(auto db, sqlite::SqliteDb::Open((root / "registry.sqlite").string(), kSchema));
  const std::string ring_path = KeyRingPath(home);
  KeySource source = [ring_path]() -> StatusOr<crypto::KeyRing> {
    auto ring = crypto::KeyRing::Load(ring_path);
    if (ring.status().code() == ErrorCode::kNotFound)
      return NotFoundError("the model is encrypted and this host has no registry key ring (" +
                           ring_path +
                           "); copy it from the host that registered the model, or release the "
                           "sealed one with the TPM (--set registry.tpm=TCTI)");
    return ring;
  };
  const fs::path private_file = fs::path(home) / "keys" / "registry_signing.key";
  const fs::path public_file = fs::path(home) / "keys" / "registry_signing.pub";
  crypto::Ed25519Key key;
  if (!fs::exists(private_file) && fs::exists(public_file)) {
    // A serving host: the public key verifies; nothing here can sign.
    auto pub = crypto::ReadPublicKeyFile(public_file.string());
    if (!pub.ok())
      return Status(pub.status().code(),
                    pub.status().message() + "; copy it again from the host that registers models");
    key.public_key = std::move(pub).value();
  } else {
    ASSIGN_OR_RETURN(key, crypto::LoadOrCreateSigningKey(private_file.string()));
    // Best effort: a read-only home (a serving host given the signing key) still opens.
    if (!fs::exists(public_file)) (void)crypto::WritePublicKeyFile(public_file.string(), key);
  }
  return Registry(root.string(), std::move(db), std::move(key), std::move(source));
}

std::string Registry::KeyRingPath(const std::string& home) {
  return (fs::path(home) / "keys" / "registry.ring").string();
}

StatusOr<Entry> Registry::Register(const std::string& run_dir, const std::string& name,
                                   const RegisterOptions& options) {
  if (key_.private_seed.empty())
    return FailedPreconditionError(
        "this host holds only the registry's public key (keys/registry_signing.pub): register "
        "models where the signing key is, then copy the registry here");
  if (!ValidName(name)) {
    return InvalidArgumentError("model name '" + name +
                                "' must be 1-64 letters, digits, '.', '_' or '-'");
  }
  const fs::path run(run_dir);
  std::map<std::string, fs::path> sources = {
      {"config.json", run / "model" / "config.json"},
      {"model.safetensors", run / "model" / "model.safetensors"},
      {"tokenizer.model", run / "model" / "tokenizer.model"},
      {"run.json", run / "run.json"},
      {"metrics.jsonl", run / "metrics.jsonl"}};
  for (const auto& [f, p] : sources) {
    if (!fs::exists(p)) {
      return NotFoundError("'" + run_dir + "' is not a finished training run: " + p.string() +
                           " is missing");
    }
  }
  ASSIGN_OR_RETURN(std::string run_json, ReadFile(run / "run.json"));
  const Json lineage_in = Json::parse(run_json, nullptr, false);
  if (!lineage_in.is_object()) return DataLossError(run_dir + "/run.json is not JSON");
  Entry e;
  e.name = name;
  e.created_at = UtcNowIso();
  e.dataset_id = lineage_in.value("dataset_id", "");
  e.code_commit = lineage_in.value("code_commit", "");
  e.run_id = Sha256File(run_json).substr(0, 16);
  Status s = db_->Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(
        auto rows,
        db_->Query("SELECT coalesce(max(version), 0) FROM versions WHERE name = ?", {name}));
    e.version = std::stol(rows[0][0]) + 1;
    const fs::path dir = fs::path(root_) / "models" / name / std::to_string(e.version);
    const fs::path tmp =
        fs::path(root_) / "models" / name / ("." + std::to_string(e.version) + ".tmp");
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) return IoError("cannot create '" + tmp.string() + "': " + ec.message());
    Json files = Json::object();
    std::string data_key;
    if (options.encrypt_with != nullptr) {
      ASSIGN_OR_RETURN(data_key, crypto::RandomKey());
    }
    for (const char* f : kFiles) {
      ASSIGN_OR_RETURN(std::string data, ReadFile(sources[f]));
      std::string stored = f;
      if (!data_key.empty() && IsEncryptedFile(f)) {
        ASSIGN_OR_RETURN(data, crypto::Seal(data_key, data, FileContext(name, e.version, f)));
        stored += kEncryptedSuffix;
      }
      RETURN_IF_ERROR(WriteFile(tmp / stored, data));
      files[stored] = Sha256File(data);
    }
    Json manifest = {
        {"format", "medscribe-model"},
        {"name", name},
        {"version", e.version},
        {"created_at", e.created_at},
        {"files", files},
        {"lineage",
         {{"dataset_id", e.dataset_id},
          {"dataset", lineage_in.value("dataset", "")},
          {"code_commit", e.code_commit},
          {"run_id", e.run_id},
          {"started_at", lineage_in.value("started_at", "")},
          {"config", lineage_in.contains("config") ? lineage_in["config"] : Json()},
          {"options", lineage_in.contains("options") ? lineage_in["options"] : Json()}}}};
    // A derived artifact (a quantized model) names its parent and how it was derived; a
    // private one, the privacy its training spent; a federated one, its sites; a tuned one, its
    // study; a pipeline's candidate, the pipeline and its gate.
    for (const char* k : {"parent", "quantization", "privacy", "federated", "tuning", "pipeline"}) {
      if (lineage_in.contains(k) && !lineage_in[k].is_null())
        manifest["lineage"][k] = lineage_in[k];
    }
    if (!data_key.empty()) {
      ASSIGN_OR_RETURN(const std::string wrapped,
                       options.encrypt_with->Wrap(data_key, KeyContext(name, e.version)));
      Json encrypted = Json::array();
      for (const char* f : kEncryptedFiles) encrypted.push_back(f);
      manifest["encryption"] = {{"algorithm", "AES-256-GCM"},
                                {"kek_id", options.encrypt_with->active_id()},
                                {"wrapped_key", crypto::Hex(wrapped)},
                                {"files", encrypted}};
    }
    const std::string text = manifest.dump(2) + "\n";
    ASSIGN_OR_RETURN(std::string sig, crypto::Sign(key_, text));
    RETURN_IF_ERROR(WriteFile(tmp / "manifest.json", text));
    RETURN_IF_ERROR(
        WriteFile(tmp / "manifest.sig",
                  crypto::Hex(reinterpret_cast<const uint8_t*>(sig.data()), sig.size()) + "\n"));
    for (const auto& f : fs::directory_iterator(tmp)) chmod(f.path().c_str(), 0444);
    fs::rename(tmp, dir, ec);
    if (ec) return IoError("cannot finish '" + dir.string() + "': " + ec.message());
    e.dir = e.stored_dir = dir.string();
    e.encrypted = !data_key.empty();
    return db_->Run("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    {name, e.version, e.created_at, e.dir, e.dataset_id, e.code_commit, e.run_id,
                     Sha256File(text)});
  });
  RETURN_IF_ERROR(s);
  return e;
}

StatusOr<Entry> Registry::Load(const std::string& name, long version) {
  ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT created_at, path, dataset_id, code_commit, run_id FROM versions "
                 "WHERE name = ? AND version = ?",
                 {name, version}));
  if (rows.empty()) {
    return NotFoundError("no model " + name + "@" + std::to_string(version) +
                         " (see `medscribe registry list`)");
  }
  Entry e;
  e.name = name;
  e.version = version;
  e.dir = e.stored_dir = rows[0][1];
  e.created_at = rows[0][0];
  e.dataset_id = rows[0][2];
  e.code_commit = rows[0][3];
  e.run_id = rows[0][4];
  ASSIGN_OR_RETURN(
      auto aliases,
      db_->Query("SELECT DISTINCT alias FROM alias_moves WHERE name = ? ORDER BY alias", {name}));
  for (const auto& a : aliases) {
    auto target = AliasTarget(name, a[0]);
    if (target.ok() && *target == version) e.aliases.push_back(a[0]);
  }
  return e;
}

StatusOr<std::vector<AliasMove>> Registry::AliasHistory(const std::string& name) {
  ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT alias, version, moved_by, moved_at, sig FROM "
                                         "alias_moves WHERE name = ? ORDER BY seq",
                                         {name}));
  std::map<std::string, std::string> prev;  // alias → signature of its last move (hex)
  std::vector<AliasMove> out;
  for (const auto& r : rows) {
    AliasMove m{name, r[0], std::stol(r[1]), r[2], r[3], false};
    auto sig = crypto::FromHex(r[4]);
    m.signature_ok = sig.ok() && crypto::Verify(key_.public_key,
                                                AliasMessage(name, m.alias, m.version, m.moved_by,
                                                             m.moved_at, prev[m.alias]),
                                                *sig);
    prev[m.alias] = r[4];
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<long> Registry::AliasTarget(const std::string& name, const std::string& alias) {
  ASSIGN_OR_RETURN(std::vector<AliasMove> moves, AliasHistory(name));
  std::optional<long> version;
  for (const AliasMove& m : moves) {
    if (m.alias != alias) continue;
    if (!m.signature_ok)
      return DataLossError(name + "@" + alias + ": the move to version " +
                           std::to_string(m.version) + " by " + m.moved_by + " at " + m.moved_at +
                           " is not signed by the registry's key (or its chain was cut); the "
                           "alias was changed outside `medscribe registry alias` — do not use it");
    version = m.version;
  }
  if (!version) {
    ASSIGN_OR_RETURN(auto legacy, db_->Query("SELECT version FROM aliases WHERE name = ? AND "
                                             "alias = ?",
                                             {name, alias}));
    if (!legacy.empty())
      return DataLossError(name + "@" + alias +
                           " was set without a signature (by an older MedScribe or outside it); "
                           "set it again with `medscribe registry alias " +
                           name + "@" + legacy[0][0] + " " + alias + "`");
    return NotFoundError("no alias " + name + "@" + alias +
                         " (set one with `medscribe registry alias`)");
  }
  return *version;
}

StatusOr<std::vector<Entry>> Registry::List() {
  ASSIGN_OR_RETURN(auto rows,
                   db_->Query("SELECT name, version FROM versions ORDER BY name, version"));
  std::vector<Entry> out;
  for (const auto& r : rows) {
    ASSIGN_OR_RETURN(Entry e, Load(r[0], std::stol(r[1])));
    out.push_back(std::move(e));
  }
  return out;
}

// What verification read of an encrypted entry, for its decryption: the manifest and the bytes of
// every file it lists (each read once).
struct Registry::Verified {
  Json manifest;
  std::map<std::string, std::string> files;
};

StatusOr<Entry> Registry::Resolve(const std::string& text) {
  Verified v;
  ASSIGN_OR_RETURN(Entry e, Check(text, &v));
  if (e.encrypted) {
    ASSIGN_OR_RETURN(e.dir, Decrypt(e, v));
  }
  return e;
}

StatusOr<Entry> Registry::Verify(const std::string& text) { return Check(text, nullptr); }

StatusOr<std::string> Registry::Decrypt(const Entry& e, Verified& v) {
  const std::string what = e.name + "@" + std::to_string(e.version);
  const Json& enc = v.manifest["encryption"];
  if (!enc.is_object() || !enc.value("kek_id", Json()).is_string() ||
      !enc.value("wrapped_key", Json()).is_string() || enc.value("algorithm", "") != "AES-256-GCM")
    return DataLossError(what + ": the manifest's encryption section is malformed");
  if (!ring_) {
    if (!key_source_) return FailedPreconditionError(what + " is encrypted and no key ring is set");
    auto ring = key_source_();
    if (!ring.ok()) return Status(ring.status().code(), what + ": " + ring.status().message());
    ring_ = std::move(ring).value();
  }
  auto wrapped = crypto::FromHex(enc["wrapped_key"].get<std::string>());
  if (!wrapped.ok()) return DataLossError(what + ": the manifest's wrapped key is not hex");
  auto data_key =
      ring_->Unwrap(enc["kek_id"].get<std::string>(), *wrapped, KeyContext(e.name, e.version));
  if (!data_key.ok())
    return Status(data_key.status().code(),
                  what + ": its data key does not unwrap with the registry key ring (" +
                      data_key.status().message() + "); use the ring it was registered with");
  ASSIGN_OR_RETURN(const std::string dir, MakePlaintextDir("model"));
  for (auto& [f, data] : v.files) {
    const bool encrypted = f.size() > std::strlen(kEncryptedSuffix) &&
                           f.ends_with(kEncryptedSuffix) &&
                           IsEncryptedFile(f.substr(0, f.size() - std::strlen(kEncryptedSuffix)));
    std::string out = f;
    if (encrypted) {
      out = f.substr(0, f.size() - std::strlen(kEncryptedSuffix));
      auto plain = crypto::Open(*data_key, data, FileContext(e.name, e.version, out));
      if (!plain.ok())
        return DataLossError(what + ": " + f +
                             " does not decrypt with its data key; the "
                             "artifact was modified — do not use it");
      data = std::move(plain).value();
    }
    RETURN_IF_ERROR(WriteFile(fs::path(dir) / out, data));
    chmod((fs::path(dir) / out).c_str(), 0400);
  }
  return dir;
}

StatusOr<Entry> Registry::Check(const std::string& text, Verified* keep) {
  ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(text));
  long version = 0;
  if (ref.version) {
    version = *ref.version;
  } else if (!ref.alias.empty()) {
    ASSIGN_OR_RETURN(version, AliasTarget(ref.name, ref.alias));
  } else {
    ASSIGN_OR_RETURN(auto rows,
                     db_->Query("SELECT max(version) FROM versions WHERE name = ?", {ref.name}));
    if (rows.empty() || rows[0][0].empty()) return NotFoundError("no model named " + ref.name);
    version = std::stol(rows[0][0]);
  }
  ASSIGN_OR_RETURN(Entry e, Load(ref.name, version));
  const fs::path dir(e.dir);
  const std::string what = ref.name + "@" + std::to_string(version);
  auto manifest = ReadFile(dir / "manifest.json");
  auto sig_hex = ReadFile(dir / "manifest.sig");
  if (!manifest.ok() || !sig_hex.ok())
    return DataLossError(what + ": manifest or signature missing in " + e.dir);
  std::string hex = *sig_hex;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto sig = crypto::FromHex(hex);
  if (!sig.ok() || !crypto::Verify(key_.public_key, *manifest, *sig)) {
    return DataLossError(
        what +
        ": the manifest's signature is not valid; the artifact was modified or signed "
        "with another key — do not use it");
  }
  const Json m = Json::parse(*manifest, nullptr, false);
  if (!m.is_object() || !m.contains("files") || !m["files"].is_object()) {
    return DataLossError(what + ": manifest.json is malformed");
  }
  // The signature covers the manifest, the manifest names the entry: a signed directory moved
  // under another name or version (or an alias pointed at it) is refused.
  if (m.value("name", "") != ref.name || !m.contains("version") ||
      !m["version"].is_number_integer() || m["version"].get<long>() != version) {
    return DataLossError(what + ": the signed manifest names " + m.value("name", "?") + "@" +
                         (m.contains("version") ? m["version"].dump() : std::string("?")) +
                         ", not this entry; the registry's files were moved — do not use it");
  }
  e.encrypted = m.contains("encryption");
  for (const auto& [f, sha] : m["files"].items()) {
    auto data = ReadFile(dir / f);
    if (!data.ok() || !sha.is_string() || Sha256File(*data) != sha.get<std::string>()) {
      return DataLossError(what + ": " + f +
                           " does not match its SHA-256 in the signed manifest; the artifact "
                           "was modified — do not use it");
    }
    if (keep != nullptr && e.encrypted) keep->files[f] = std::move(data).value();
  }
  if (keep != nullptr) keep->manifest = m;
  return e;
}

Status Registry::Alias(const std::string& name, long version, const std::string& alias,
                       const std::string& moved_by) {
  if (!ValidName(alias) || alias.find_first_not_of("0123456789") == std::string::npos) {
    return InvalidArgumentError("alias '" + alias +
                                "' must be a name (letters first), e.g. staging or production");
  }
  if (key_.private_seed.empty())
    return FailedPreconditionError(
        "this host holds only the registry's public key (keys/registry_signing.pub): move "
        "aliases where the signing key is, then copy the registry here");
  if (moved_by.empty() || moved_by.size() > 200 ||
      moved_by.find_first_of("\n\r") != std::string::npos)
    return InvalidArgumentError("say who moves the alias (--by NAME, one line, at most 200 bytes)");
  RETURN_IF_ERROR(Load(name, version).status());
  ASSIGN_OR_RETURN(
      auto last,
      db_->Query("SELECT sig FROM alias_moves WHERE name = ? AND alias = ? ORDER BY seq DESC "
                 "LIMIT 1",
                 {name, alias}));
  const std::string prev = last.empty() ? std::string() : last[0][0];
  const std::string at = UtcNowIso();
  ASSIGN_OR_RETURN(std::string sig,
                   crypto::Sign(key_, AliasMessage(name, alias, version, moved_by, at, prev)));
  return db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(
        db_->Run("INSERT INTO alias_moves (name, alias, version, moved_by, moved_at, "
                 "sig) VALUES (?, ?, ?, ?, ?, ?)",
                 {name, alias, version, moved_by, at, crypto::Hex(sig)}));
    return db_->Run("INSERT OR REPLACE INTO aliases VALUES (?, ?, ?)", {name, alias, version});
  });
}

}  // namespace medscribe::registry
