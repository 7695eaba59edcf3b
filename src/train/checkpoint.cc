#include "train/checkpoint.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "model/io.h"
#include "model/json.h"

namespace medscribe::train {
namespace fs = std::filesystem;
namespace json = model::json;
namespace {

// Failure testing: MEDSCRIBE_TEST_CHECKPOINT_PAUSE=STEP:MS makes rank 0 wait MS milliseconds in
// the middle of writing checkpoint STEP (shards written, not yet renamed), so that a test can kill
// it there.
void FaultPoint(int64_t step) {
  const char* v = std::getenv("MEDSCRIBE_TEST_CHECKPOINT_PAUSE");
  if (!v) return;
  long long at = -1, ms = 0;
  if (std::sscanf(v, "%lld:%lld", &at, &ms) == 2 && at == step && ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string CheckpointName(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

}  // namespace

Status SaveCheckpoint(const fs::path& run, int64_t step, model::ReportModel& m, ZeroOptimizer& opt,
                      const Mesh& mesh, const std::vector<std::string>& names,
                      int parameter_servers) {
  const std::string name = CheckpointName(step);
  const fs::path dir = run / "checkpoints" / name;
  const fs::path tmp = run / "checkpoints" / ("." + name + ".tmp");
  Communicator& comm = mesh.world();
  const bool leader = comm.rank() == 0;
  std::error_code ec;
  if (leader) {
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) return IoError("cannot create '" + tmp.string() + "': " + ec.message());
  }
  RETURN_IF_ERROR(comm.Barrier());
  RETURN_IF_ERROR(MakeWhole(m, opt, mesh, names));
  // Whole moments are the same on every rank of a tensor-parallel group: its first writes them.
  Status saved = opt.Save(tmp.string(), mesh.tensor().rank() == 0);
  model::NamedTensors weights;
  if (saved.ok() && leader) {
    for (auto& [key, t] : model::NamedWeights(*m)) weights.emplace_back(key, t.clone());
  }
  CutToShards(m, opt, mesh, names);
  RETURN_IF_ERROR(saved);
  RETURN_IF_ERROR(comm.Barrier());
  if (!leader) return OkStatus();
  FaultPoint(step);
  RETURN_IF_ERROR(model::SaveSafetensors((tmp / "model.safetensors").string(), weights));
  std::ostringstream rng;
  torch::save(at::detail::getDefaultCPUGenerator().get_state(), rng);
  RETURN_IF_ERROR(model::WriteBytesAtomic(tmp / "rng.pt", rng.str()));
  RETURN_IF_ERROR(model::WriteBytesAtomic(
      tmp / "state.json", json::Dump(json::Value(json::Object{
                              {"step", json::Value(step)},
                              {"zero_stage", json::Value(opt.stage())},
                              {"world_size", json::Value(mesh.data().world_size())},
                              {"tensor_parallel", json::Value(mesh.tp_size())},
                              {"pipeline_parallel", json::Value(mesh.pp_size())},
                              {"parameter_servers", json::Value(parameter_servers)}}))));
  RETURN_IF_ERROR(model::SyncDirectory(tmp.string()));
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) return IoError("cannot finish checkpoint '" + dir.string() + "': " + ec.message());
  RETURN_IF_ERROR(model::SyncDirectory((run / "checkpoints").string()));
  return model::WriteBytesAtomic(run / "checkpoints" / "latest", name + "\n");
}

StatusOr<Checkpoint> LoadCheckpoint(const fs::path& run, model::ReportModel& m, ZeroOptimizer& opt,
                                    int world_size, int parameter_servers) {
  auto latest = model::ReadBytes(run / "checkpoints" / "latest");
  if (!latest.ok()) return Checkpoint{};  // a fresh run
  std::string name = *latest;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.find('/') != std::string::npos || name.empty()) {
    return DataLossError("checkpoints/latest does not name a checkpoint");
  }
  const fs::path dir = run / "checkpoints" / name;
  ASSIGN_OR_RETURN(std::string state, model::ReadBytes(dir / "state.json"));
  auto j = json::Parse(state);
  if (!j.ok()) return DataLossError(dir.string() + "/state.json: " + j.status().message());
  ASSIGN_OR_RETURN(int64_t step, json::GetInt(*j, "step"));
  if (auto stage = json::GetInt(*j, "zero_stage"); stage.ok() && *stage != opt.stage()) {
    return FailedPreconditionError("checkpoint " + dir.string() + " was written with --zero " +
                                   std::to_string(*stage) + "; resume with --zero " +
                                   std::to_string(*stage));
  }
  if (auto w = json::GetInt(*j, "world_size"); w.ok() && opt.stage() > 0 && *w != world_size) {
    return FailedPreconditionError("checkpoint " + dir.string() + " holds ZeRO shards of " +
                                   std::to_string(*w) + " ranks; resume with " +
                                   std::to_string(*w) + " ranks");
  }
  const auto servers = json::GetInt(*j, "parameter_servers");
  const int64_t written = servers.ok() ? *servers : 0;
  if (written != parameter_servers) {
    return FailedPreconditionError(
        "checkpoint " + dir.string() + " was written " +
        (written > 0 ? "by --strategy ps with --servers " + std::to_string(written)
                     : std::string("by --strategy allreduce")) +
        "; resume with " +
        (written > 0 ? "--strategy ps --servers " + std::to_string(written)
                     : std::string("--strategy allreduce (the default)")));
  }
  auto weights = model::LoadSafetensors((dir / "model.safetensors").string());
  if (!weights.ok()) {
    return DataLossError("checkpoint " + dir.string() +
                         " is corrupted: " + weights.status().message() +
                         "; delete it and point checkpoints/latest at an earlier one");
  }
  RETURN_IF_ERROR(model::LoadWeights(*m, *weights));
  RETURN_IF_ERROR(opt.Load(dir.string()));
  if (auto rng = model::ReadBytes(dir / "rng.pt"); rng.ok()) {
    try {
      std::istringstream in(*rng);
      torch::Tensor saved;
      torch::load(saved, in);
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(saved);
    } catch (const c10::Error& e) {
      return DataLossError("checkpoint " + dir.string() +
                           ": the RNG state cannot be read: " + e.what_without_backtrace());
    }
  }
  return Checkpoint{step};
}

}  // namespace medscribe::train
