// Pipeline parallelism: the report model cut into stages of consecutive decoder blocks, one
// stage per rank of a pipeline group, with the global batch of a step split into micro-batches
// that flow through the stages (GPipe, Huang et al. 2019; 1F1B, Narayanan et al. 2019).
//
//   stage 0      the vision encoder, projector, finding head and token embeddings, then its
//                blocks;
//   stage s      its blocks; it receives the hidden states [B, T, hidden] from stage s - 1 and
//                sends its output to stage s + 1 (point to point); in backward the gradients go
//                the other way;
//   last stage   its blocks, the final norm and the loss (with tied embeddings it holds a copy
//                of the embedding rows as its output head; the copies' gradients are summed over
//                the group after backward, so both stay equal).
//
// Every rank of a pipeline group reads the same batches, so a stage knows each micro-batch's
// shape and labels without being told; only activations and their gradients travel.
//
// Schedules, for one optimizer step of M micro-batches over P stages:
//   gpipe   every forward, then every backward (M micro-batches' activations held);
//   1f1b    P - s - 1 forwards first on stage s, then one forward and one backward in turn,
//           then the remaining backwards (at most P micro-batches' activations held).
// Backward runs in micro-batch order in both, so the gradients accumulate in the order of one
// process with M accumulation steps. The fraction of a step a stage spends waiting (the bubble)
// is measured; its theoretical value for equal stages is (P - 1) / (M + P - 1).
//
// Thread safety: used from the training thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "model/multimodal.h"
#include "train/distributed.h"

namespace medscribe::train {

enum class Schedule { kGPipe, kOneForwardOneBackward };
// "gpipe" or "1f1b"; InvalidArgument otherwise.
StatusOr<Schedule> ParseSchedule(const std::string& name);

// Stage s runs decoder blocks [bounds[s], bounds[s + 1]).
struct StagePlan {
  std::vector<size_t> bounds;
  int stages() const { return static_cast<int>(bounds.size()) - 1; }
};

// OK when `stages` pipeline stages can be cut from `layers` blocks (at least one block each).
Status CheckPipeline(size_t layers, int stages);

// The cut whose slowest stage is fastest, from the measured seconds of what runs before the
// blocks (stage 0: vision, projector, embeddings), of one block, and of what runs after them
// (last stage: norm and loss). REQUIRES: CheckPipeline(layers, stages) is OK.
StagePlan BalanceStages(size_t layers, int stages, double before_s, double block_s, double after_s);

// Whether `stage` of `plan` holds the report model's parameter `name` ("decoder.model.layers.3.
// mlp.up_proj.weight"). `tied`: the output head is the token embeddings.
bool StageHolds(const std::string& name, int stage, const StagePlan& plan, bool tied);

// What a stage needs of micro-batch i, supplied by the trainer.
struct MicroBatchIo {
  struct First {
    torch::Tensor hidden;          // the decoder's input [B, T, hidden]
    torch::Tensor attention_mask;  // [B, T]
    torch::Tensor labels;          // [B, T]
    torch::Tensor aux;             // a loss term of stage 0 (the finding head's), or undefined
  };
  std::function<First(size_t)> first;  // stage 0
  // The spliced attention mask and labels (stages after the first).
  std::function<std::pair<torch::Tensor, torch::Tensor>(size_t)> layout;
  // The last stage: the objective to back-propagate and the summed loss, from the final hidden
  // states and the labels.
  std::function<std::pair<torch::Tensor, double>(size_t, const torch::Tensor&,
                                                 const torch::Tensor&)>
      last;
  // Called before micro-batch i's backward (data parallelism arms its reducer there).
  std::function<void(size_t)> before_backward;
};

struct PipelineStats {
  double loss_sum = 0;  // the last stage's summed loss over the micro-batches (0 elsewhere)
  double step_s = 0;    // wall time of the step
  double wait_s = 0;    // of which waiting for another stage
};

class Pipeline {
 public:
  // REQUIRES: `group` (the pipeline group, rank = stage) and `m` outlive this object; `plan`
  // has group->world_size() stages.
  Pipeline(model::ReportModel& m, StagePlan plan, Communicator* group);

  int stage() const { return stage_; }
  bool first() const { return stage_ == 0; }
  bool last() const { return stage_ + 1 == plan_.stages(); }
  const StagePlan& plan() const { return plan_; }
  bool Holds(const std::string& name) const;

  // Frees the parameters this stage does not hold (their shapes are kept for GatherWhole).
  void DropOthers();
  // Every parameter whole on every stage (for a checkpoint or the final model), each broadcast
  // by the first stage that holds it; DropOthers() undoes it. Collective.
  Status GatherWhole();

  // Forward (and with `backward`, backward) of `micro` micro-batches in `schedule`'s order;
  // gradients accumulate in the stage's parameters. Collective over the group.
  StatusOr<PipelineStats> Step(size_t micro, Schedule schedule, const MicroBatchIo& io,
                               bool backward = true);

  // With tied embeddings: sums the gradient of the embedding rows held by the first and the
  // last stage over the group. Collective; a no-op with one stage or an untied head.
  Status SyncTiedEmbeddings();

 private:
  Status Forward(size_t i, const MicroBatchIo& io, bool keep, PipelineStats& stats);
  Status Backward(size_t i, const MicroBatchIo& io, PipelineStats& stats);

  model::ReportModel& m_;
  StagePlan plan_;
  Communicator* group_;
  int stage_;
  bool tied_;
  std::vector<std::pair<std::string, std::vector<int64_t>>> dropped_;
  // Per micro-batch in flight: the stage's input (received, requires grad), its output (or the
  // last stage's objective), stage 0's loss term.
  std::vector<torch::Tensor> inputs_, outputs_, aux_;
  std::vector<std::unique_ptr<PendingCollective>> sends_;
};

}  // namespace medscribe::train
