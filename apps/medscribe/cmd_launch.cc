// `medscribe launch`: starts and supervises the training workers of one node
// (train/launcher.h).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "cli.h"
#include "common/subprocess.h"
#include "train/launcher.h"

namespace medscribe::cli {
namespace {

struct LaunchArgs {
  int nproc = 1, nnodes = 1, node_rank = 0, max_restarts = 0;
  double stop_grace = 10;
  std::string master;
  std::vector<std::string> command;
  std::map<std::string, std::string> pet_errors;  // option -> why its PET_* default is unusable
};

// Kubeflow Trainer v2 describes the node in PET_* variables; they are the defaults here. A value
// that is not an integer (PET_NPROC_PER_NODE=auto, an elastic PET_NNODES=1:4) is kept in
// `pet_errors` and reported only when the matching option is not given.
void PetDefaults(LaunchArgs& a) {
  auto get = [](const char* n) -> const char* {
    const char* v = std::getenv(n);
    return v && *v ? v : nullptr;
  };
  auto integer = [&](const char* var, const char* option, int& out) {
    const char* v = get(var);
    if (!v) return;
    char* end = nullptr;
    const long x = std::strtol(v, &end, 10);
    if (*end || x < 0 || x > 1 << 20) {
      a.pet_errors[option] = std::string(var) + "='" + v + "' is not a count; pass " + option;
      return;
    }
    out = static_cast<int>(x);
  };
  integer("PET_NPROC_PER_NODE", "--nproc", a.nproc);
  integer("PET_NNODES", "--nnodes", a.nnodes);
  integer("PET_NODE_RANK", "--node-rank", a.node_rank);
  if (const char* h = get("PET_MASTER_ADDR"))
    a.master = std::string(h) + ":" + (get("PET_MASTER_PORT") ? get("PET_MASTER_PORT") : "29500");
}

int RunLaunch(const LaunchArgs& a) {
  train::LaunchOptions o;
  o.nproc = a.nproc;
  o.nnodes = a.nnodes;
  o.node_rank = a.node_rank;
  o.max_restarts = a.max_restarts;
  o.stop_grace_s = a.stop_grace;
  o.command = a.command;
  if (!a.master.empty()) {
    const size_t colon = a.master.rfind(':');
    char* end = nullptr;
    const long port =
        colon == std::string::npos ? -1 : std::strtol(a.master.c_str() + colon + 1, &end, 10);
    if (colon == std::string::npos || colon == 0 || *end || port < 1 || port > 65535) {
      return ReportError(InvalidArgumentError("--master '" + a.master +
                                              "' is not HOST:PORT (e.g. 10.0.0.2:29500)"));
    }
    o.master_addr = a.master.substr(0, colon);
    o.master_port = static_cast<int>(port);
  }
  // `medscribe` as the worker command means this very binary.
  if (!o.command.empty() && o.command[0] == "medscribe") o.command[0] = SelfExecutable();
  auto r = train::Launch(o);
  if (!r.ok()) return ReportError(r.status());
  if (r->exit_code != 0) {
    std::fprintf(stderr, "error: %s\n", r->cause.c_str());
    return r->exit_code;
  }
  std::fprintf(
      stderr, "launch: all workers finished%s\n",
      r->restarts ? (" after " + std::to_string(r->restarts) + " restart(s)").c_str() : "");
  return kExitOk;
}

}  // namespace

Runner RegisterLaunch(CLI::App& app) {
  auto a = std::make_shared<LaunchArgs>();
  PetDefaults(*a);
  app.add_option("--nproc", a->nproc, "Worker processes on this node (default $PET_NPROC_PER_NODE)")
      ->capture_default_str();
  app.add_option("--nnodes", a->nnodes, "Nodes in the job (default $PET_NNODES)")
      ->capture_default_str();
  app.add_option("--node-rank", a->node_rank, "This node's index (default $PET_NODE_RANK)")
      ->capture_default_str();
  app.add_option("--master", a->master,
                 "Rendezvous HOST:PORT of rank 0 (default $PET_MASTER_ADDR:$PET_MASTER_PORT; on "
                 "one node a free local port)")
      ->type_name("HOST:PORT");
  app.add_option("--max-restarts", a->max_restarts,
                 "Restarts of all workers after a failure; each resumes from the last complete "
                 "checkpoint")
      ->capture_default_str();
  app.add_option("--stop-grace", a->stop_grace,
                 "Seconds between SIGTERM and SIGKILL when workers are stopped")
      ->capture_default_str();
  app.add_option("command", a->command, "Worker command after `--`, e.g. -- medscribe train ...")
      ->required();
  app.footer(
      "Example: medscribe launch --nproc 2 --max-restarts 3 -- medscribe train --dataset DS "
      "--out RUN --tokenizer TOK");
  return [a, &app](GlobalOptions&) {
    for (const auto& [option, why] : a->pet_errors)
      if (app.count(option) == 0) return ReportError(InvalidArgumentError(why));
    return RunLaunch(*a);
  };
}

}  // namespace medscribe::cli
