// `medscribe keys init|rotate|status|seal|check-sealed` (the drafts store's key-encryption keys,
// and the ring, the drafts store's or the registry's, sealed to a TPM's measured state) and
// `medscribe feedback export` (signed reports as a dataset version for the next training run).
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "clinical/feedback.h"
#include "clinical/store.h"
#include "common/durable_file.h"
#include "common/files.h"
#include "crypto/envelope.h"
#include "registry/registry.h"
#include "tpm/sealed_file.h"

namespace medscribe::cli {
namespace fs = std::filesystem;
namespace {

struct StoreArgs {
  std::string key_ring, store;
  bool retire = false;
  std::string since, out;
  uint64_t seed = 0;
  bool force = false;
  std::string tpm, pcrs = "0,7", sealed;
  bool remove_plain = false;
  bool registry = false;  // the registry's ring instead of the drafts store's
};

std::string RingOf(const GlobalOptions& g, const StoreArgs& a) {
  if (!a.key_ring.empty()) return a.key_ring;
  if (a.registry) return registry::Registry::KeyRingPath(g.home);
  return (fs::path(g.home) / "keys" / "kek.ring").string();
}
std::string StoreOf(const GlobalOptions& g, const StoreArgs& a) {
  return a.store.empty() ? (fs::path(g.home) / "clinical" / "drafts.db").string() : a.store;
}

void AddStoreOptions(CLI::App* c, StoreArgs* a) {
  c->add_option("--key-ring", a->key_ring, "Key-encryption key ring (default HOME/keys/kek.ring)");
  c->add_option("--store", a->store,
                "Drafts store: SQLite file or postgresql:// URL (default HOME/clinical/drafts.db)");
}

// The store must exist: these commands never create an empty one by mistake.
Status CheckStore(const std::string& store) {
  if (store.rfind("postgres", 0) == 0 ||
      fs::exists(store.rfind("sqlite:", 0) == 0 ? store.substr(7) : store))
    return OkStatus();
  return NotFoundError("no drafts store at " + store + "; pass --store");
}

std::string SealedOf(const std::string& ring_path, const StoreArgs& a) {
  return a.sealed.empty() ? ring_path + ".sealed" : a.sealed;
}

// `keys seal`: seals the ring to the TPM's PCRs, checks that the TPM releases it, and removes the
// plain ring when asked.
int SealRing(const std::string& ring_path, const StoreArgs& a) {
  auto pcrs = tpm::ParsePcrList(a.pcrs);
  if (!pcrs.ok()) return ReportError(pcrs.status());
  auto ring = crypto::KeyRing::Load(ring_path);  // refuses a ring others may read
  if (!ring.ok()) return ReportError(ring.status());
  auto text = ReadFile(ring_path);
  if (!text.ok()) return ReportError(text.status());
  auto t = tpm::Tpm::Open(a.tpm);
  if (!t.ok()) return ReportError(t.status());
  auto sealed = tpm::SealToFile(**t, *text, "kek-ring", *pcrs);
  if (!sealed.ok()) return ReportError(sealed.status());
  const std::string out = SealedOf(ring_path, a);
  if (Status s = WriteFileDurably(out, *sealed, 0600); !s.ok()) return ReportError(s);
  auto back = tpm::UnsealFile(**t, *sealed, "kek-ring", out);
  if (!back.ok() || *back != *text)
    return ReportError(InternalError("the TPM did not give the sealed ring back; " + out +
                                     " is not usable and the plain ring was kept"));
  std::printf("sealed key ring %s (%zu key(s), active %s) to PCRs %s of the TPM at %s: %s\n",
              ring_path.c_str(), ring->ids().size(), ring->active_id().c_str(), a.pcrs.c_str(),
              a.tpm.c_str(), out.c_str());
  if (a.remove_plain) {
    std::error_code ec;
    fs::remove(ring_path, ec);
    if (ec) return ReportError(IoError("cannot remove " + ring_path + ": " + ec.message()));
    std::printf("removed the plain ring %s; keep an offline backup of it\n", ring_path.c_str());
  }
  if (a.registry)
    std::printf(
        "commands that load encrypted models now need the TPM: --set registry.tpm=%s (or "
        "registry.tpm in the configuration)\n",
        a.tpm.c_str());
  else
    std::printf("gateway configuration: clinical.key_ring_sealed: %s, clinical.tpm: %s\n",
                out.c_str(), a.tpm.c_str());
  return kExitOk;
}

// `keys check-sealed`: whether the TPM releases the sealed ring now (keys are never printed).
int CheckSealed(const std::string& ring_path, const StoreArgs& a) {
  const std::string path = SealedOf(ring_path, a);
  auto ring = tpm::UnsealKeyRing(a.tpm, path);
  if (!ring.ok()) return ReportError(ring.status());
  std::printf("released: %s holds %zu key(s), active %s\n", path.c_str(), ring->ids().size(),
              ring->active_id().c_str());
  return kExitOk;
}

}  // namespace

Runner RegisterKeys(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  app.require_subcommand(1);
  CLI::App* init = app.add_subcommand("init", "Create the key ring (one key) when it is missing");
  CLI::App* rotate = app.add_subcommand(
      "rotate",
      "Add a new active key and re-wrap every draft's data key with it (drafts are not "
      "re-encrypted)");
  CLI::App* status =
      app.add_subcommand("status", "Key ids of the ring and how many drafts each wraps");
  CLI::App* seal = app.add_subcommand(
      "seal",
      "Seal the key ring to this machine's TPM and its measured state (PCR values): the gateway "
      "then gets the ring only from that TPM, in that state (clinical.key_ring_sealed); with "
      "--registry, the registry's ring, so that encrypted models load only there");
  CLI::App* check = app.add_subcommand(
      "check-sealed", "Check that the TPM releases the sealed key ring in its present state");
  for (CLI::App* c : {init, rotate, status, seal, check}) AddStoreOptions(c, a.get());
  for (CLI::App* c : {seal, check}) {
    c->add_option("--tpm", a->tpm,
                  "The TPM, as a TCTI: device:/dev/tpmrm0 (this machine's, or a confidential VM's "
                  "virtual TPM), swtpm:host=H,port=P, mssim:host=H,port=P")
        ->required();
    c->add_option("--sealed", a->sealed,
                  "The sealed ring (default: the key ring's path + .sealed)");
    c->add_flag("--registry", a->registry,
                "The model registry's key ring (HOME/keys/registry.ring, which decrypts "
                "encrypted models) instead of the drafts store's");
  }
  seal->add_option("--pcrs", a->pcrs,
                   "PCRs (SHA-256 bank) whose values must hold for the TPM to release the ring, "
                   "e.g. 0,7 (firmware and Secure Boot policy) or 0,2,4,7")
      ->capture_default_str();
  seal->add_flag("--remove-plain", a->remove_plain,
                 "Remove the plain ring once the TPM has given the sealed one back (keep an "
                 "offline backup: a changed PCR or another machine cannot release it)");
  rotate->add_flag("--retire-old", a->retire,
                   "Then remove the old keys from the ring (only once nothing uses them; keep a "
                   "backup of the ring for older database backups)");
  return [a, init, rotate, seal, check](GlobalOptions& g) {
    const std::string ring_path = RingOf(g, *a), store_path = StoreOf(g, *a);
    if (seal->parsed()) return SealRing(ring_path, *a);
    if (check->parsed()) return CheckSealed(ring_path, *a);
    std::error_code ec;
    fs::create_directories(fs::path(ring_path).parent_path(), ec);
    if (init->parsed()) {
      auto ring = crypto::KeyRing::LoadOrCreate(ring_path);
      if (!ring.ok()) return ReportError(ring.status());
      std::printf("key ring %s: active key %s (%zu key(s))\n", ring_path.c_str(),
                  ring->active_id().c_str(), ring->ids().size());
      return kExitOk;
    }
    auto ring = crypto::KeyRing::Load(ring_path);
    if (!ring.ok()) return ReportError(ring.status());
    if (Status s = CheckStore(store_path); !s.ok()) return ReportError(s);
    auto store = clinical::OpenDraftStore(store_path, *ring);
    if (!store.ok()) return ReportError(store.status());
    if (rotate->parsed()) {
      const std::string old = ring->active_id();
      if (Status s = ring->Rotate(ring_path); !s.ok()) return ReportError(s);
      auto n = (*store)->Rewrap(*ring);
      if (!n.ok()) {
        std::fprintf(stderr,
                     "the ring has the new key %s, but re-wrapping stopped; run rotate again to "
                     "finish (nothing is lost: the old key stays in the ring)\n",
                     ring->active_id().c_str());
        return ReportError(n.status());
      }
      std::printf("rotated %s -> %s: %zu draft key(s) re-wrapped\n", old.c_str(),
                  ring->active_id().c_str(), *n);
      if (a->retire) {
        auto usage = (*store)->KeyUsage();
        if (!usage.ok()) return ReportError(usage.status());
        for (const auto& [id, count] : *usage)
          if (id != ring->active_id())
            return ReportError(FailedPreconditionError(
                std::to_string(count) + " draft(s) still use " + id + "; old keys kept"));
        if (Status s = ring->Retire(ring_path); !s.ok()) return ReportError(s);
        std::printf("retired the old keys; the ring holds %s only\n", ring->active_id().c_str());
      }
      return kExitOk;
    }
    auto usage = (*store)->KeyUsage();
    if (!usage.ok()) return ReportError(usage.status());
    std::printf("key ring %s (active: %s)\n", ring_path.c_str(), ring->active_id().c_str());
    for (const std::string& id : ring->ids()) {
      size_t count = 0;
      for (const auto& [u, n] : *usage)
        if (u == id) count = n;
      std::printf("  %s  %zu draft(s)%s\n", id.c_str(), count,
                  id == ring->active_id() ? "  (active)" : "");
    }
    for (const auto& [u, n] : *usage) {
      const auto ids = ring->ids();
      if (std::find(ids.begin(), ids.end(), u) == ids.end())
        std::printf("  %s  %zu draft(s)  MISSING from the ring: they cannot be read\n", u.c_str(),
                    n);
    }
    return kExitOk;
  };
}

Runner RegisterFeedback(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  app.require_subcommand(1);
  CLI::App* exp = app.add_subcommand(
      "export", "Signed reports with their drafts and diffs as a dataset version (ingest format)");
  AddStoreOptions(exp, a.get());
  exp->add_option("--since", a->since, "Reports signed at or after this date (YYYY-MM-DD)")
      ->required();
  exp->add_option("--out", a->out, "Dataset directory to write")->required();
  exp->add_option("--seed", a->seed, "Split assignment seed (as ingest's --seed)")
      ->capture_default_str();
  exp->add_flag("--force", a->force, "Replace --out when it exists");
  return [a](GlobalOptions& g) {
    auto ring = crypto::KeyRing::Load(RingOf(g, *a));
    if (!ring.ok()) return ReportError(ring.status());
    const std::string store_path = StoreOf(g, *a);
    if (Status s = CheckStore(store_path); !s.ok()) return ReportError(s);
    auto store = clinical::OpenDraftStore(store_path, *ring);
    if (!store.ok()) return ReportError(store.status());
    clinical::FeedbackOptions o;
    o.since = a->since;
    o.out = a->out;
    o.seed = a->seed;
    o.force = a->force;
    auto r = clinical::ExportFeedback(**store, o);
    if (!r.ok()) return ReportError(r.status());
    std::printf(
        "feedback dataset %s: %zu signed report(s)%s\n  id: %s\n", a->out.c_str(), r->samples,
        r->skipped ? (", " + std::to_string(r->skipped) + " skipped (quarantine.jsonl)").c_str()
                   : "",
        r->dataset_id.c_str());
    return kExitOk;
  };
}

}  // namespace medscribe::cli
