// `medscribe gateway`, `medscribe up` and `medscribe audit`: the secure front door for model
// servers (src/gateway/gateway.h), the one-command embedded set-up, and the audit log tools.
//
// Signals (gateway and up): SIGHUP reloads the configuration file (policy, limits, endpoints,
// local replicas: new ones start before the ones they replace stop), and so does a change of
// the file with --watch-config;
// SIGTERM or SIGINT stops accepting, lets requests in flight finish, stops local replicas and
// exits 0.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli.h"
#include "clinical/workflow.h"
#include "common/files.h"
#include "common/signals.h"
#include "crypto/ed25519.h"
#include "crypto/hmac.h"
#include "gateway/audit.h"
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "model/config.h"
#include "registry/registry.h"
#include "registry_access.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;

struct GatewayArgs {
  std::string config, home, listen, port_file, pid_file, model;
  bool watch_config = false;
  int port = 8443, replicas = 1;
  // `up`: the clinical workflow over a cohort directory.
  std::string cohort, store, asr_lm, asr_acoustic_model;
  bool no_asr = false;
};

// Writes `number` and a newline to `path` (a port or pid file) through a rename, so that a
// reader never sees it half written. Nothing when `path` is empty.
void WriteNumberFile(const std::string& path, long number) {
  if (path.empty()) return;
  std::ofstream(path + ".tmp") << number << "\n";
  fs::rename(path + ".tmp", path);
}

// The modification time of `path`, or nullopt when it cannot be read.
std::optional<fs::file_time_type> ModifiedAt(const std::string& path) {
  std::error_code ec;
  const fs::file_time_type t = fs::last_write_time(path, ec);
  if (ec) return std::nullopt;
  return t;
}

// Runs the gateway until SIGTERM/SIGINT; SIGHUP calls `reload`, and so does a change of
// `watch` (its modification time, checked every second) when it is not empty.
int RunUntilSignal(SignalWaiter& signals, gateway::Gateway& gw,
                   const std::function<StatusOr<gateway::GatewayConfig>()>& reload,
                   const std::string& watch = "") {
  std::optional<fs::file_time_type> seen = watch.empty() ? std::nullopt : ModifiedAt(watch);
  while (true) {
    int sig = signals.Wait(watch.empty() ? std::chrono::milliseconds(-1)
                                         : std::chrono::milliseconds(1000));
    if (sig == 0) {
      const std::optional<fs::file_time_type> now = ModifiedAt(watch);
      if (!now || now == seen) continue;
      seen = now;
      std::fprintf(stderr, "%s changed: reloading\n", watch.c_str());
      sig = SIGHUP;
    }
    if (sig == SIGHUP) {
      if (!watch.empty()) seen = ModifiedAt(watch);  // this reload reads the change
      auto c = reload ? reload()
                      : StatusOr<gateway::GatewayConfig>(
                            FailedPreconditionError("no configuration file to reload"));
      Status s = c.ok() ? gw.Reload(std::move(*c)) : c.status();
      if (s.ok()) {
        std::fprintf(stderr, "configuration reloaded\n");
      } else {
        std::fprintf(stderr, "reload refused, the previous configuration stays: %s\n",
                     s.message().c_str());
      }
      continue;
    }
    std::fprintf(stderr, "signal %d: stopping (requests in flight finish)\n", sig);
    gw.Stop();
    std::fprintf(stderr, "stopped\n");
    return kExitOk;
  }
}

// Takes SIGTERM, SIGINT and SIGHUP from every thread of the process (common/signals.h): a
// reload signal that arrives while a reload runs waits its turn instead of ending the gateway.
StatusOr<std::unique_ptr<SignalWaiter>> TakeSignals() {
  return SignalWaiter::Create({SIGTERM, SIGINT, SIGHUP});
}

// Pins each local deployment's model to the version its alias names now (NAME@VERSION), so
// that its replicas keep serving that version when restarted, and a reload after the alias
// moved (a promotion) restarts them on the new one. A reference the registry does not resolve
// stays as written: the replica's own start then says why it cannot serve it.
void PinLocalModels(GlobalOptions& g, gateway::GatewayConfig& c) {
  auto reg = OpenRegistry(g);
  if (!reg.ok()) return;
  for (gateway::Endpoint& e : c.endpoints)
    for (gateway::Deployment& d : e.deployments) {
      if (!d.is_local()) continue;
      if (auto entry = reg->Verify(d.local.model); entry.ok())
        d.local.model = entry->name + "@" + std::to_string(entry->version);
    }
}

int RunGateway(GlobalOptions& g, const GatewayArgs& a) {
  if (!a.home.empty()) g.home = ResolveHome(a.home).string();
  auto load = [&]() -> StatusOr<gateway::GatewayConfig> {
    ASSIGN_OR_RETURN(gateway::GatewayConfig c, gateway::LoadGatewayConfig(a.config, g.home));
    PinLocalModels(g, c);
    return c;
  };
  auto c = load();
  if (!c.ok()) return ReportError(c.status());
  if (!a.listen.empty()) c->listen = a.listen;
  auto signals = TakeSignals();  // before the replicas start: a reload signal is queued
  if (!signals.ok()) return ReportError(signals.status());
  auto gw = gateway::Gateway::Create(std::move(*c));
  if (!gw.ok()) return ReportError(gw.status());
  if (Status s = (*gw)->Start(); !s.ok()) return ReportError(s);
  WriteNumberFile(a.port_file, (*gw)->port());
  WriteNumberFile(a.pid_file, getpid());
  std::fprintf(stderr, "gateway on %s%s\n", (*gw)->url().c_str(),
               (*gw)->ca_file().empty() ? "" : (" (trust " + (*gw)->ca_file() + ")").c_str());
  const std::string listen = a.listen;
  return RunUntilSignal(
      **signals, **gw,
      [&]() -> StatusOr<gateway::GatewayConfig> {
        auto r = load();
        if (r.ok() && !listen.empty()) r->listen = listen;
        return r;
      },
      a.watch_config ? a.config : "");
}

// The model `up` serves: the given one, else NAME@production, else the newest registered.
StatusOr<std::string> PickModel(const std::string& home, const std::string& given) {
  if (!given.empty()) return given;
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(home));
  ASSIGN_OR_RETURN(auto all, reg.List());
  if (all.empty()) {
    return NotFoundError(
        "no model is registered in " + home +
        "; train and register one first (scripts/quickstart.sh does), or pass --model");
  }
  for (const auto& e : all)
    for (const auto& al : e.aliases)
      if (al == "production") return e.name + "@production";
  const registry::Entry* newest = &all.front();
  for (const auto& e : all)
    if (e.created_at > newest->created_at ||
        (e.created_at == newest->created_at && e.version > newest->version))
      newest = &e;
  return newest->name + "@" + std::to_string(newest->version);
}

// The pixel spacing (clinical.image_spacing_mm) at which the workflow prepares images for
// `model`: 0 for a model that reads images fitted to the square; else its vision.mm_per_pixel at
// the workflow's image size, which the replica resizes to the model's own.
StatusOr<double> WorkflowImageSpacing(const std::string& home, const std::string& model) {
  ASSIGN_OR_RETURN(auto reg, registry::Registry::Open(home));
  ASSIGN_OR_RETURN(registry::Entry e, reg.Verify(model));
  ASSIGN_OR_RETURN(model::ModelConfig c,
                   model::LoadConfig((fs::path(e.dir) / "config.json").string()));
  if (c.vision.mm_per_pixel <= 0) return 0.0;
  return c.vision.mm_per_pixel * c.vision.image_size / clinical::WorkflowOptions().image_size;
}

int RunUp(GlobalOptions& g, const GatewayArgs& a) {
  if (!a.home.empty()) g.home = ResolveHome(a.home).string();
  auto model = PickModel(g.home, a.model);
  if (!model.ok()) return ReportError(model.status());
  std::string yaml =
      "listen: 127.0.0.1:" + std::to_string(a.port) +
      "\nendpoints:\n  - name: reports\n    paths: [/v1/chat/completions, "
      "\"/v1/reports:generate\", /v1/models]\n"
      "    deployments:\n      - name: production\n        replicas: {local: {model: \"" +
      *model + "\", count: " + std::to_string(a.replicas) + "}}\n";
  if (!a.cohort.empty()) {
    // JSON strings are valid YAML scalars, whatever the path holds.
    yaml += "clinical:\n  records: " + nlohmann::json("cohort:" + a.cohort).dump() +
            "\n  images: " + nlohmann::json("cohort:" + a.cohort).dump() + "\n";
    if (!a.store.empty()) yaml += "  store: " + nlohmann::json(a.store).dump() + "\n";
    if (!a.asr_lm.empty()) yaml += "  asr_lm: " + nlohmann::json(a.asr_lm).dump() + "\n";
    if (!a.asr_acoustic_model.empty())
      yaml += "  asr_acoustic_model: " + nlohmann::json(a.asr_acoustic_model).dump() + "\n";
    if (a.no_asr) yaml += "  asr: false\n";
    auto spacing = WorkflowImageSpacing(g.home, *model);
    if (!spacing.ok()) return ReportError(spacing.status());
    if (*spacing > 0) yaml += "  image_spacing_mm: " + nlohmann::json(*spacing).dump() + "\n";
  }
  auto c = gateway::ParseGatewayConfig(yaml, fs::current_path(), g.home);
  if (!c.ok()) return ReportError(c.status());
  auto signals = TakeSignals();
  if (!signals.ok()) return ReportError(signals.status());
  std::fprintf(stderr, "starting %d local replica(s) of %s ...\n", a.replicas, model->c_str());
  auto gw = gateway::Gateway::Create(std::move(*c));
  if (!gw.ok()) return ReportError(gw.status());
  if (Status s = (*gw)->Start(); !s.ok()) return ReportError(s);
  WriteNumberFile(a.port_file, (*gw)->port());
  const std::string url = (*gw)->url(), ca = (*gw)->ca_file();
  std::printf(
      "MedScribe is up: %s\n"
      "  model:     %s (1 deployment 'production', %d local replica(s); logs in %s/logs)\n"
      "  TLS CA:    %s (clients trust this file)\n"
      "  token:     TOKEN=$(medscribe --home %s token issue --sub you --role radiologist "
      "--department Radiology)\n"
      "  try:       curl --cacert %s -H \"Authorization: Bearer $TOKEN\" %s/v1/models\n"
      "  audit log: %s/audit/gateway.log (medscribe audit verify)\n",
      url.c_str(), model->c_str(), a.replicas, g.home.c_str(), ca.c_str(), g.home.c_str(),
      ca.c_str(), url.c_str(), g.home.c_str());
  if (!a.cohort.empty())
    std::printf("  workflow:  drafts from %s; review page %s/app/ (written back to %s/writeback)\n",
                a.cohort.c_str(), url.c_str(), a.cohort.c_str());
  std::printf("Stop with Ctrl-C.\n");
  std::fflush(stdout);
  return RunUntilSignal(**signals, **gw, nullptr);
}

struct AuditArgs {
  std::string log, out, key, checkpoints, public_key;
  bool fhir = false, allow_unkeyed = false;
};

}  // namespace

Runner RegisterGateway(CLI::App& app) {
  auto a = std::make_shared<GatewayArgs>();
  app.add_option("--config", a->config, "Gateway YAML (docs/gateway.md)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--home", a->home, "State directory (keys, TLS, audit, local replicas' logs)");
  app.add_option("--listen", a->listen,
                 "HOST:PORT, overriding the file's listen (port 0: any free port)");
  app.add_option("--port-file", a->port_file, "Write the port actually bound to this file");
  app.add_option("--pid-file", a->pid_file,
                 "Write the gateway's process id to this file (for SIGHUP: reload)");
  app.add_flag("--watch-config", a->watch_config,
               "Also reload when the configuration file changes (checked every second), e.g. "
               "on a volume another process writes");
  return [a](GlobalOptions& g) { return RunGateway(g, *a); };
}

Runner RegisterUp(CLI::App& app) {
  auto a = std::make_shared<GatewayArgs>();
  app.add_option("--home", a->home, "State directory (default: $MEDSCRIBE_HOME or ~/.medscribe)");
  app.add_option("--port", a->port, "Gateway port (0: any free port)")->capture_default_str();
  app.add_option(
      "--model", a->model,
      "Registry NAME[@VERSION|@ALIAS] (default: the 'production' alias, else the newest)");
  app.add_option("--replicas", a->replicas, "Local model-server replicas")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  app.add_option("--port-file", a->port_file, "Write the port actually bound to this file");
  app.add_option("--cohort", a->cohort,
                 "Serve the clinical workflow (drafts, review page, write-back) over this cohort "
                 "directory as FHIR and PACS source and sink")
      ->check(CLI::ExistingDirectory);
  app.add_option(
      "--store", a->store,
      "Drafts store: SQLite file or postgresql:// URL (default HOME/clinical/drafts.db)");
  app.add_option("--asr-lm", a->asr_lm, "Language model for dictations (PocketSphinx's default)");
  app.add_option("--asr-acoustic-model", a->asr_acoustic_model,
                 "Acoustic model directory for dictations (medscribe asr adapt; en-us default)")
      ->type_name("DIR");
  app.add_flag("--no-asr", a->no_asr, "Do not transcribe dictations");
  return [a](GlobalOptions& g) { return RunUp(g, *a); };
}

Runner RegisterAudit(CLI::App& app) {
  auto a = std::make_shared<AuditArgs>();
  app.require_subcommand(1);
  CLI::App* verify = app.add_subcommand(
      "verify", "Check the hash chain; name the first altered, removed or reordered record");
  CLI::App* exp =
      app.add_subcommand("export", "Write the log as FHIR AuditEvent resources (a Bundle)");
  for (CLI::App* s : {verify, exp})
    s->add_option("--log", a->log, "Audit log (default: HOME/audit/gateway.log)");
  verify->add_option("--key", a->key, "The gateway's audit key (default: HOME/keys/audit.key)");
  verify->add_option("--checkpoints", a->checkpoints,
                     "Signed checkpoints to hold the log to, e.g. a copy kept on another host "
                     "(default: LOG.checkpoints when it exists)");
  verify->add_option("--public-key", a->public_key,
                     "The checkpoint signing key's public half (default: "
                     "HOME/keys/audit_signing.pub)");
  verify->add_flag("--allow-unkeyed", a->allow_unkeyed,
                   "Accept records with plain SHA-256 hashes (logs written before keyed chains)");
  exp->add_flag("--fhir", a->fhir, "FHIR R4 AuditEvent Bundle (the only format)")->required();
  exp->add_option("--out", a->out, "Output file (default: stdout)");
  return [a, verify](GlobalOptions& g) {
    const std::string log = a->log.empty() ? g.home + "/audit/gateway.log" : a->log;
    if (!fs::exists(log))
      return ReportError(NotFoundError("no audit log at " + log + "; pass --log FILE"));
    if (verify->parsed()) {
      const std::string key_file = a->key.empty() ? g.home + "/keys/audit.key" : a->key;
      std::string chain_key;
      if (fs::exists(key_file)) {
        auto key = crypto::LoadOrCreateKeyFile(key_file);
        if (!key.ok()) return ReportError(key.status());
        chain_key = gateway::AuditChainKey(*key);
      }
      auto r = gateway::VerifyAuditLog(log, chain_key);
      if (!r.ok()) return ReportError(r.status());
      if (!r->ok) {
        std::fprintf(stderr, "audit log %s FAILED verification: %s\n", log.c_str(),
                     r->problem.c_str());
        return kExitFailed;
      }
      if (r->unkeyed > 0 && !a->allow_unkeyed) {
        std::fprintf(stderr,
                     "audit log %s FAILED verification: %llu of %llu records have unkeyed "
                     "hashes, which anyone who can write the file could recompute; pass "
                     "--allow-unkeyed for a log written before keyed chains\n",
                     log.c_str(), static_cast<unsigned long long>(r->unkeyed),
                     static_cast<unsigned long long>(r->records));
        return kExitFailed;
      }
      std::string marks = "no checkpoints checked";
      const std::string cp = a->checkpoints.empty() ? log + ".checkpoints" : a->checkpoints;
      if (!a->checkpoints.empty() || fs::exists(cp)) {
        const std::string pub_file =
            a->public_key.empty() ? g.home + "/keys/audit_signing.pub" : a->public_key;
        auto pub = crypto::ReadPublicKeyFile(pub_file);
        if (!pub.ok())
          return ReportError(Status(
              pub.status().code(),
              pub.status().message() + "; pass --public-key with the gateway's audit_signing.pub"));
        auto c = gateway::VerifyAuditCheckpoints(log, cp, *pub);
        if (!c.ok()) return ReportError(c.status());
        if (!c->ok) {
          std::fprintf(stderr, "audit log %s FAILED verification against %s: %s\n", log.c_str(),
                       cp.c_str(), c->problem.c_str());
          return kExitFailed;
        }
        marks = std::to_string(c->checkpoints) + " signed checkpoints match (the last at record " +
                std::to_string(c->last_seq) + ")";
      }
      std::printf("audit log %s: %llu records, chain intact (keyed with the audit key%s); %s\n",
                  log.c_str(), static_cast<unsigned long long>(r->records),
                  r->unkeyed > 0 ? ", but for the older unkeyed records" : "", marks.c_str());
      return kExitOk;
    }
    auto bundle = gateway::ExportAuditFhir(log);
    if (!bundle.ok()) return ReportError(bundle.status());
    if (a->out.empty()) {
      std::fwrite(bundle->data(), 1, bundle->size(), stdout);
      return kExitOk;
    }
    if (Status s = WriteFile(a->out, *bundle); !s.ok()) return ReportError(s);
    std::fprintf(stderr, "wrote %s\n", a->out.c_str());
    return kExitOk;
  };
}

}  // namespace medscribe::cli
