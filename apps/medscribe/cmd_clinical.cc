// `medscribe keys init|rotate|status` (the drafts store's key-encryption keys) and
// `medscribe feedback export` (signed reports as a dataset version for the next training run).
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "clinical/feedback.h"
#include "clinical/store.h"
#include "crypto/envelope.h"

namespace medscribe::cli {
namespace fs = std::filesystem;
namespace {

struct StoreArgs {
  std::string key_ring, store;
  bool retire = false;
  std::string since, out;
  uint64_t seed = 0;
  bool force = false;
};

std::string RingOf(const GlobalOptions& g, const StoreArgs& a) {
  return a.key_ring.empty() ? (fs::path(g.home) / "keys" / "kek.ring").string() : a.key_ring;
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
  for (CLI::App* c : {init, rotate, status}) AddStoreOptions(c, a.get());
  rotate->add_flag("--retire-old", a->retire,
                   "Then remove the old keys from the ring (only once nothing uses them; keep a "
                   "backup of the ring for older database backups)");
  return [a, init, rotate](GlobalOptions& g) {
    const std::string ring_path = RingOf(g, *a), store_path = StoreOf(g, *a);
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
