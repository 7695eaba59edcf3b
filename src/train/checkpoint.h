// Training checkpoints (docs/formats/model.md): RUN/checkpoints/step-NNNNNNNN/ with the weights,
// the optimizer state (one file, or one shard per rank with ZeRO), the RNG state and the step.
// A checkpoint is written into .step-NNNNNNNN.tmp by every rank, flushed and renamed, and
// RUN/checkpoints/latest is updated last, so a checkpoint cut short is never read.
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/status.h"
#include "model/multimodal.h"
#include "train/distributed.h"
#include "train/mesh.h"
#include "train/zero.h"

namespace medscribe::train {

struct Checkpoint {
  int64_t step = 0;  // 0: no checkpoint (a fresh run)
};

// Collective: REQUIRES every rank to call it for the same step. Every data-parallel rank writes
// its optimizer shard; rank 0 adds the weights, RNG state and state.json, renames the directory
// into place and updates `latest`. A rank that dies on the way leaves only the temporary
// directory. Under tensor parallelism the weights and moments are written whole (train/mesh.h);
// `names` are the optimizer parameters' names relative to the decoder (train/mesh.h).
// `parameter_servers` > 0: each server writes its optimizer file (train/parameter_server.h) and
// the weights come from rank 0, a worker.
Status SaveCheckpoint(const std::filesystem::path& run, int64_t step, model::ReportModel& m,
                      ZeroOptimizer& opt, const Mesh& mesh, const std::vector<std::string>& names,
                      int parameter_servers = 0);

// Loads RUN/checkpoints/latest into `m` and `opt` (and the CPU generator), or returns step 0 when
// there is none. REQUIRES: `m` whole (not yet sharded); `world_size` is the data-parallel size.
// FailedPrecondition when it was written with another ZeRO stage, world size or number of
// parameter servers, DataLoss when a file is corrupted (with what to do).
StatusOr<Checkpoint> LoadCheckpoint(const std::filesystem::path& run, model::ReportModel& m,
                                    ZeroOptimizer& opt, int world_size, int parameter_servers = 0);

}  // namespace medscribe::train
