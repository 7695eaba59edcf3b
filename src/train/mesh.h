// The device mesh of a run: the world's ranks as data-parallel x pipeline x tensor-parallel.
//
// Rank r of a world of D x P x T ranks is r = (d x P + p) x T + t: data-parallel replica d,
// pipeline stage p, tensor-parallel rank t. The ranks of a tensor-parallel group are
// consecutive, so that on a node with several GPUs they share its fast links; pipeline stages
// come next, and data parallelism crosses the rest. Every rank of a replica (its stages and
// tensor-parallel ranks) reads the same batches; the replicas read different ones.
//
// Checkpoints and the final model hold whole tensors whatever the degree (MakeWhole gathers the
// decoder's shards and the optimizer's moments over the tensor-parallel group, CutToShards cuts
// them back), so a run written with --tp 2 resumes with --tp 1 or 4.
//
// Thread safety: used from the training thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/multimodal.h"
#include "model/tensor_parallel.h"
#include "train/distributed.h"
#include "train/zero.h"

namespace medscribe::train {

// OK when tp x pp divides a world of `world` ranks.
Status CheckMesh(int world, int tp, int pp = 1);

class Mesh {
 public:
  // Cuts `world` into tensor-parallel groups of `tp` ranks and pipelines of `pp` stages.
  // Collective: REQUIRES every rank calls it with the same arguments. InvalidArgument when
  // tp x pp does not divide the world size.
  static StatusOr<Mesh> Make(Communicator* world, int tp, int pp = 1);

  Communicator& world() const { return *world_; }
  Communicator& data() const { return *dp_; }      // the data-parallel group of this rank
  Communicator& tensor() const { return *tp_; }    // the tensor-parallel group of this rank
  Communicator& pipeline() const { return *pp_; }  // this rank's pipeline (rank = stage)
  int tp_size() const { return tp_->world_size(); }
  int pp_size() const { return pp_->world_size(); }
  // The decoder's view of the tensor-parallel group; null when tp_size() is 1.
  model::TensorParallelGroup* model_group() const { return group_.get(); }

 private:
  Communicator* world_ = nullptr;
  std::unique_ptr<Communicator> dp_owned_, tp_owned_, pp_owned_;
  Communicator *dp_ = nullptr, *tp_ = nullptr, *pp_ = nullptr;
  std::unique_ptr<model::TensorParallelGroup> group_;
};

// Cuts the whole decoder and the optimizer's moments to this rank's shards and routes the
// decoder's forward through the group. REQUIRES: mesh.tp_size() > 1; every rank of the group
// holds the same whole weights; `names[k]` is the optimizer's parameter k's name relative to the
// decoder
// ("model.layers.0.mlp.up_proj.weight"; "" outside it).
void ShardForTensorParallel(model::ReportModel& m, ZeroOptimizer& opt, const Mesh& mesh,
                            const std::vector<std::string>& names);

// Gathers the decoder's shards and the optimizer's moments whole (collective over the
// tensor-parallel group); CutToShards undoes it without communication. Nothing to do when
// mesh.tp_size() is 1.
Status MakeWhole(model::ReportModel& m, ZeroOptimizer& opt, const Mesh& mesh,
                 const std::vector<std::string>& names);
void CutToShards(model::ReportModel& m, ZeroOptimizer& opt, const Mesh& mesh,
                 const std::vector<std::string>& names);

}  // namespace medscribe::train
