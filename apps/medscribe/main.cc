// medscribe: the one command-line entry point of MedScribe.
#include <cstdio>
#include <map>

#include "cli.h"
#include "common/blas_kernels.h"
#include "common/files.h"
#include "common/logging.h"

namespace medscribe::cli {

StatusOr<int64_t> ParseDuration(const std::string& text, const std::string& option) {
  const Status bad =
      InvalidArgumentError(option + " must look like 900, 900s, 15m, 2h or 7d, not '" + text + "'");
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (...) {
    return bad;
  }
  const std::string unit = text.substr(used);
  const int64_t scale = unit.empty() || unit == "s" ? 1
                        : unit == "m"               ? 60
                        : unit == "h"               ? 3600
                        : unit == "d"               ? 86400
                                                    : 0;
  if (scale == 0 || n <= 0 || n > (int64_t{1} << 40) / scale) return bad;
  return n * scale;
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kNotFound:
      return kExitUsage;
    default:
      return kExitFailed;
  }
}

}  // namespace medscribe::cli

int main(int argc, char** argv) {
  using namespace medscribe;
  using namespace medscribe::cli;
  EnsureBlasKernels(argv);  // may execute the process again with OPENBLAS_CORETYPE set
  CLI::App app{
      "MedScribe: drafts clinical reports from DICOM images, the FHIR record, notes and "
      "dictation.\n"
      "Run `medscribe <command> --help` for the options of a command."};
  app.require_subcommand(1);
  // Global options may also follow the command ("medscribe ingest ... --log-level warn"):
  // subcommands, which inherit this setting, hand options they do not know to their parent.
  app.fallthrough();
  app.set_version_flag("--version", "medscribe 0.1.0");
  GlobalOptions g;
  app.add_option("--home", g.home,
                 "Directory for all state (registry, warehouse, keys, audit log, caches); "
                 "default $MEDSCRIBE_HOME, else ~/.medscribe")
      ->type_name("DIR");
  app.add_option("--config", g.config_file, "YAML configuration file; command-line options win")
      ->type_name("FILE");
  app.add_option("--set", g.overrides, "Override a configuration key, e.g. --set synth.seed=7")
      ->type_name("KEY=VALUE");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_flag("--log-json", g.log_json, "Write logs as JSON lines");

  std::map<CLI::App*, Runner> runners;
  auto add = [&](const char* name, const char* help, Runner (*reg)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    runners[sub] = reg(*sub);
  };
  add("synth", "Write a synthetic multimodal cohort (DICOM, FHIR, notes, dictation audio)",
      &RegisterSynth);
  add("dicom", "Inspect and decode DICOM files (info, decode)", &RegisterDicom);
  add("deid", "De-identify free text as ingest does (text)", &RegisterDeid);
  add("asr", "Dictation speech recognition (build-lm, adapt, transcribe)", &RegisterAsr);
  add("ingest", "Build a de-identified, versioned dataset from DICOM, FHIR and dictation audio",
      &RegisterIngest);
  add("dataset", "Inspect, verify and merge dataset versions (show, verify, merge)",
      &RegisterDataset);
  add("tokenizer", "Train the report tokenizer (SentencePiece) on a dataset", &RegisterTokenizer);
  add("train", "Train the multimodal report model on a dataset", &RegisterTrain);
  add("privacy", "Differential privacy of DP-SGD training: epsilon spent, noise for a budget",
      &RegisterPrivacy);
  add("fl", "Federated learning across sites: pki, server, client, loss", &RegisterFl);
  add("monitor", "Drift of a dataset against a model's training data (PSI, Jensen-Shannon)",
      &RegisterMonitor);
  add("tune", "Hyperparameter search: TPE or random trials of `train`, pruned by ASHA, resumable",
      &RegisterTune);
  add("pipeline",
      "Continuous training: feedback export, training, evaluation gate, staging (run, show)",
      &RegisterPipeline);
  add("launch", "Start and supervise the training workers of this node (restarts from checkpoints)",
      &RegisterLaunch);
  add("eval", "Score generated reports against a dataset split, beside baselines and ablations",
      &RegisterEval);
  add("discharge", "Discharge summaries of inpatient stays (eval: score them beside baselines)",
      &RegisterDischarge);
  add("generate", "Generate one report with the inference engine, streamed to stdout",
      &RegisterGenerate);
  add("quantize", "Quantize a registered model (int8, int4, bf16) into a child artifact",
      &RegisterQuantize);
  add("serve", "Serve a model over HTTP (OpenAI-compatible chat completions, metrics, health)",
      &RegisterServe);
  add("token", "Development OIDC issuer: issue short-lived ES256 tokens, print its JWKS, verify",
      &RegisterToken);
  add("gateway",
      "The secure gateway in front of model servers (TLS, OIDC, RBAC, limits, routing, audit)",
      &RegisterGateway);
  add("up", "Bring the embedded system up: gateway + local model server + development issuer + TLS",
      &RegisterUp);
  add("rules", "Clinical rule files: check them and run their fixtures (rules test FILE...)",
      &RegisterRules);
  add("keys", "Key-encryption keys of the drafts store (init, rotate, status)", &RegisterKeys);
  add("feedback", "Signed reports as a dataset version for the next training run (export)",
      &RegisterFeedback);
  add("audit", "The gateway's audit log: verify its hash chain, export FHIR AuditEvents",
      &RegisterAudit);
  add("registry", "Signed, versioned model artifacts (register, list, show, alias, verify)",
      &RegisterRegistry);
  add("export", "Export a trained model's decoder for standard LLaMA tooling (--format hf)",
      &RegisterExport);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (Status s = InitLogging({g.log_level, g.log_json}); !s.ok()) return ReportError(s);
  if (!g.config_file.empty()) {
    auto cfg = Config::LoadFile(g.config_file);
    if (!cfg.ok()) return ReportError(cfg.status());
    g.config = std::move(cfg).value();
  }
  for (const std::string& o : g.overrides) {
    if (Status s = g.config.SetOverride(o); !s.ok()) return ReportError(s);
  }
  g.home = ResolveHome(g.home).string();
  return runners.at(app.get_subcommands().front())(g);
}
