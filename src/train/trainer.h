// `medscribe train`: trains the report model on a dataset version.
//
// Run directory (docs/formats/model.md):
//   RUN/config.json            the model configuration
//   RUN/run.json               lineage: dataset id and path, options, code commit, times
//   RUN/metrics.jsonl          one object per logged step: step, loss, lr, tokens_per_s, ...
//   RUN/events.out.tfevents.*  the same scalars for TensorBoard
//   RUN/checkpoints/step-NNNNNNNN/ (train/checkpoint.h), latest
//   RUN/model/{config.json, model.safetensors}   the final weights
// Training resumes from RUN/checkpoints/latest when it exists: the batches that follow are the
// ones the interrupted run would have seen (the sample order is a function of seed and epoch),
// so the loss curve continues; metrics.jsonl is cut back to the checkpoint's step. A checkpoint
// is written into a temporary directory, flushed and renamed; `latest` is updated last, so a
// checkpoint cut short is never read.
//
// Loss: the language loss is computed at the target positions only (multimodal.h
// TargetLossSum). Weight decay is decoupled (AdamW) and spares norms, biases and embeddings.
//
// Data parallelism: the loss of each rank is its summed token loss divided by the global number
// of target tokens and the gradients are summed over ranks, so N ranks with batch b train the
// same parameters as one rank with batch N*b. At start every rank's configuration, dataset
// version, options and resumed step are compared with rank 0's (a mismatch is refused); at every
// checkpoint a checksum of the parameters is compared across ranks.
//
// Tensor parallelism (tensor_parallel > 1): each decoder block's matrices and the vocabulary are
// split over groups of consecutive ranks that read the same batches (train/mesh.h); everything
// above holds for the data-parallel groups. Checkpoints and the final model hold whole tensors.
// Pipeline parallelism (pipeline_parallel > 1) cuts the model into stages (train/pipeline.h);
// its checkpoints hold whole weights and one optimizer file per stage. Parameter servers
// (strategy "ps", train/parameter_server.h): the last ranks own the parameters and the optimizer
// state; the workers, the data-parallel group, push gradients and pull weights; checkpoints hold
// the weights from rank 0 and one optimizer file per server.
//
// Errors are returned before any work when the dataset, tokenizer or configuration is unusable;
// a non-finite loss or gradient stops the run with the step and tensor named, keeping the last
// checkpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/config.h"
#include "train/data.h"
#include "train/distributed.h"
#include "train/dp_sgd.h"
#include "train/finding_labels.h"

namespace medscribe::train {

struct TrainOptions {
  std::string dataset_dir;
  std::string dataset_id;  // recorded in the lineage
  std::string run_dir;
  model::ModelConfig config;  // decoder.vocab_size is set from the encoder
  int64_t max_steps = 300;
  int64_t checkpoint_every = 100;
  int64_t eval_every = 100;
  int64_t log_every = 10;
  int64_t batch_size = 8;
  double learning_rate = 1e-3;
  double min_learning_rate_ratio = 0.1;
  int64_t warmup_steps = 30;
  double weight_decay = 0.01;
  double clip_norm = 1.0;
  uint64_t seed = 0;
  int threads = 0;  // 0: all cores
  model::PromptOptions prompt;
  // Fraction of training examples shown without their dictation, drawn anew for every example
  // (modality dropout): the model must read the findings from the image and keeps the dictation
  // for what only it holds (comparisons). 0 shows every dictation; validation always has it.
  double dictation_dropout = 0;
  // For a model that reads its findings as text (findings.read_as_text): the fraction of
  // training examples whose prompt carries the reading of their own report's labels
  // (model::ReportedRead, through finding_labeler) instead of the frozen head's, drawn anew for
  // every example, so that the decoder learns to write what its reading says. 0 shows the
  // head's reading everywhere; validation always has the head's.
  double reported_read = 0;
  // Loss weight of the report's decision tokens (DecisionTokenWeights in train/data.h: sides,
  // sizes, severities, changes against the prior study, negations, digits) against 1 for
  // phrasing; 1 weighs every token alike. Validation loss stays unweighted.
  double decision_weight = 1;
  // A LLaMA-family checkpoint (HF config.json + safetensors, single or sharded) whose weights
  // start the decoder; its shape replaces config.decoder and its vocabulary must be the encoder's.
  std::string init_decoder;
  std::string code_commit;
  bool progress = true;
  // Called after every optimizer step with (step, loss); for tests and progress displays.
  std::function<void(int64_t, double)> on_step;
  // Called on the rank that writes the run directory after every validation with (step,
  // validation loss); for hyperparameter-tuning services' metric reports.
  std::function<void(int64_t, double)> on_validation;
  // Data parallelism: each of the world's ranks takes batch_size samples per step (the global
  // batch is batch_size x world size); gradients are averaged. Null: a single process. Only
  // rank 0 writes to the run directory.
  Communicator* comm = nullptr;
  // Micro-batches of batch_size per rank whose gradients accumulate before each optimizer step
  // (communication only after the last).
  int64_t grad_accum = 1;
  // Gradient buckets of about this many bytes, all-reduced during backward (train/ddp.h);
  // overlap false reduces them after backward instead (the baseline).
  int64_t bucket_bytes = 25 << 20;
  bool overlap = true;
  int restart_count = 0;  // from the launcher, recorded in run.json
  // ZeRO stage (train/zero.h): 0 replicates the optimizer state, 1 shards it, 2 also reduces
  // each gradient to its owner only, 3 also holds each decoder block's weights on its owner only
  // (gathered while the block runs, its activations recomputed in backward).
  int zero_stage = 0;
  // Tensor parallelism (train/mesh.h, model/tensor_parallel.h): ranks of the world that split
  // the decoder's matrices; the world is tensor_parallel x data-parallel ranks. ZeRO stages 0-2.
  int tensor_parallel = 1;
  // Pipeline parallelism (train/pipeline.h): stages the decoder's blocks are cut into (balanced
  // by measured time), and the schedule ("gpipe" or "1f1b") of a step's grad_accum micro-batches
  // through them. The world is data-parallel x pipeline_parallel x tensor_parallel ranks.
  int pipeline_parallel = 1;
  std::string schedule = "1f1b";
  // How gradients meet: "allreduce" (data parallelism, above) or "ps": the last `servers` ranks
  // are parameter servers that own the parameters and their optimizer state, the others workers
  // that push gradients and pull weights (train/parameter_server.h). `staleness` 0 is
  // synchronous (the same training as allreduce); S > 0 lets a worker run on weights up to S
  // updates old. ps: CPU, fp32 or bf16, ZeRO 0, no --tp or --pp.
  std::string strategy = "allreduce";
  int servers = 1;
  int staleness = 0;
  // "cpu", "cuda" (the GPU of this process's local rank) or "cuda:N".
  std::string device = "cpu";
  int local_rank = 0;
  // fp32, bf16 (autocast, fp32 master weights) or fp16 (CUDA, with dynamic loss scaling).
  std::string precision = "fp32";
  // Recompute each transformer block in backward instead of keeping its activations.
  bool checkpoint_activations = false;
  // Threads that read, tokenize and batch training samples from the shards ahead of the steps.
  int loader_threads = 2;
  // > 0: batches of like lengths (less padding): each window of this many global batches of an
  // epoch's order is sorted by length before it is cut (train/data.h LengthBucketed). The
  // lengths are measured once, before the first step. Refused with DP-SGD (Poisson batches).
  int64_t length_buckets = 0;
  // The finding head (config.findings.enabled): its labels come from the training reports
  // through this labeler (required then, unless the image is left out).
  const FindingLabeler* finding_labeler = nullptr;
  // Epochs of the image warm-up (train/image_warmup.h): the vision encoder and finding head are
  // trained first, then frozen, and the decoder trains on their cached features. 0 trains all
  // jointly, the head's loss weighted by aux_loss_weight beside the language loss.
  int image_warmup_epochs = 0;
  double image_learning_rate = 3e-3, image_weight_decay = 5e-4;  // of the warm-up
  // > 0: after the warm-up, each finding kind's presence is read at the threshold that maximizes
  // F-beta on the validation reports (WarmupOptions::read_beta). 0 reads every kind at 0.5.
  double read_beta = 0;
  double aux_loss_weight = 0.5;
  // With a warm-up: another run's directory whose warmup/image.safetensors (same configuration)
  // is taken instead of warming up again (an ablation that keeps the image, e.g. without the
  // dictation, shares the full model's image path). Empty: warm up, or reuse this run's own.
  std::string image_from;
  // DP-SGD (train/dp_sgd.h) when dp.enabled(): Poisson-sampled batches of batch_size x world
  // examples on average, each example's gradient clipped to dp.max_grad_norm, Gaussian noise
  // added once per global step; the run stops early when the budget dp.epsilon would be
  // exceeded. Data parallelism with ZeRO 0 or 1 only; no image warm-up (it would see the data
  // without noise), no gradient accumulation, no batch norm, no fp16.
  DpSgdOptions dp;
  // Federated rounds (federated/): the whole model's weights to start from (a safetensors file
  // with model::NamedWeights' names, e.g. the global model of the round) instead of the seed's
  // initialization; and FedProx's proximal weight mu: every step's gradient gets
  // mu x (w - w_start), which keeps the local weights near the start. 0: plain local training.
  std::string init_weights;
  double proximal_mu = 0;
};

struct TrainResult {
  int64_t steps = 0;
  double warmup_seconds = 0, warmup_val_f1 = 0;  // the image warm-up, when it ran
  int64_t resumed_from = 0;                      // 0 when the run started fresh
  double first_loss = 0, last_loss = 0, val_loss = 0;
  double tokens_per_s = 0, samples_per_s = 0;
  int64_t optimizer_state_bytes = 0;  // AdamW moments held by this rank
  int64_t parameter_bytes = 0;        // parameters held by this rank (its shards under --tp)
  int64_t gradient_bytes = 0;         // gradients held by this rank after the last step
  // Pipeline parallelism: this rank's stage, its decoder blocks [first, end), and the fraction
  // of its step time spent waiting for other stages (steps after the first).
  int pipeline_stage = 0;
  size_t stage_first_block = 0, stage_end_block = 0;
  double pipeline_wait_fraction = 0;
  // Parameter servers: whether this rank served; a worker's time and steps spent waiting for
  // slower workers (pulls a server held back) and the most updates its weights lagged behind its
  // step; a server's held pulls and the most clocks its fastest worker led its slowest.
  bool parameter_server = false;
  double ps_wait_s = 0;
  int64_t ps_waited_steps = 0, ps_max_lag = 0, ps_held_pulls = 0, ps_max_lead = 0;
  int64_t peak_rss_bytes = 0;  // of this process
  // DP-SGD: the run's plan (its epsilon is what the steps taken spent) and how many of this
  // rank's examples were clipped. Zero when the run was not private.
  DpSgdPlan dp;
  int64_t dp_examples = 0, dp_clipped = 0;
};

StatusOr<TrainResult> Train(const TrainOptions& options, const TextEncoder& encoder);

// The mean token loss of the model in `model_dir` (config.json, model.safetensors) on `split`
// of each dataset in `dataset_dirs`, over all their target tokens together, with the prompt
// `prompt` (its image_read aside: a model that reads its findings as text is refused). Also
// the number of target tokens. NotFound / DataLoss for a missing or damaged model or dataset.
struct SplitLoss {
  double loss = 0;
  int64_t tokens = 0;
};
StatusOr<SplitLoss> EvaluateLoss(const std::string& model_dir,
                                 const std::vector<std::string>& dataset_dirs,
                                 const std::string& split, const TextEncoder& encoder,
                                 const model::PromptOptions& prompt);

// Learning rate at `step` (0-based): linear warmup to `lr`, then cosine to lr * min_ratio.
double LearningRate(int64_t step, const TrainOptions& o);

}  // namespace medscribe::train
