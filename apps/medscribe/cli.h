// Shared pieces of the `medscribe` command line: global options and the exit-code contract.
//
// Exit codes: 0 success; 1 the command failed while running (I/O, internal error);
// 2 invalid usage or options (nothing was written); 3 (ingest) the output was written and some
// inputs were quarantined.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace medscribe::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string home;                    // --home, else $MEDSCRIBE_HOME, else ~/.medscribe
  std::string config_file;             // --config FILE (YAML)
  std::vector<std::string> overrides;  // --set key=value
  std::string log_level = "info";
  bool log_json = false;
  Config config;  // loaded after parsing
};

// A command registers its options on `app` and returns the function that runs it.
using Runner = std::function<int(GlobalOptions&)>;

// Prints "error: <message>" to stderr and returns the exit code for the status.
int ReportError(const Status& status);

// A duration in seconds: "900", "900s", "15m", "2h" or "7d". InvalidArgument naming `option`
// for anything else (zero and negative durations included).
StatusOr<int64_t> ParseDuration(const std::string& text, const std::string& option);

Runner RegisterSynth(CLI::App& app);
Runner RegisterDicom(CLI::App& app);
Runner RegisterDeid(CLI::App& app);
Runner RegisterAsr(CLI::App& app);
Runner RegisterIngest(CLI::App& app);
Runner RegisterDataset(CLI::App& app);
Runner RegisterTokenizer(CLI::App& app);
Runner RegisterTrain(CLI::App& app);
Runner RegisterPrivacy(CLI::App& app);
Runner RegisterFl(CLI::App& app);
Runner RegisterMonitor(CLI::App& app);
Runner RegisterLaunch(CLI::App& app);
Runner RegisterExport(CLI::App& app);
Runner RegisterRegistry(CLI::App& app);
Runner RegisterEval(CLI::App& app);
Runner RegisterGenerate(CLI::App& app);
Runner RegisterQuantize(CLI::App& app);
Runner RegisterServe(CLI::App& app);
Runner RegisterToken(CLI::App& app);
Runner RegisterGateway(CLI::App& app);
Runner RegisterUp(CLI::App& app);
Runner RegisterAudit(CLI::App& app);
Runner RegisterRules(CLI::App& app);
Runner RegisterKeys(CLI::App& app);
Runner RegisterTune(CLI::App& app);
Runner RegisterPipeline(CLI::App& app);
Runner RegisterFeedback(CLI::App& app);
Runner RegisterDischarge(CLI::App& app);

}  // namespace medscribe::cli
