#include "train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <torch/torch.h>

#include "model/activation_checkpoint.h"
#include "model/export.h"
#include "model/io.h"
#include "model/multimodal.h"
#include "train/checkpoint.h"
#include "train/ddp.h"
#include "train/image_warmup.h"
#include "train/mesh.h"
#include "train/parameter_server.h"
#include "train/pipeline.h"
#include "train/precision.h"
#include "train/prefetcher.h"
#include "train/tensorboard.h"
#include "train/zero.h"

namespace medscribe::train {
namespace fs = std::filesystem;
namespace json = model::json;

namespace {

constexpr double kPi = 3.14159265358979323846;
// Salts the per-example draw of --reported-read apart from that of --dictation-dropout.
constexpr uint64_t kReportedReadSeed = 0x7265706f72746564ULL;

Status WriteText(const fs::path& path, const std::string& text) {
  return model::WriteBytesAtomic(path.string(), text);
}

StatusOr<std::string> ReadText(const fs::path& path) { return model::ReadBytes(path.string()); }

// The reference drift profile ingest wrote into the dataset's manifest (null when it has none),
// carried in run.json so that a registered model can be monitored where its data is not.
json::Value DriftProfileOf(const std::string& dataset_dir) {
  auto text = ReadText(fs::path(dataset_dir) / "manifest.json");
  if (!text.ok()) return json::Value();
  auto manifest = json::Parse(*text);
  if (!manifest.ok()) return json::Value();
  const json::Value* p = manifest->Find("drift_profile");
  return p ? *p : json::Value();
}

std::string IsoNow() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Names the first parameter whose gradient is not finite, or "".
std::string NonFiniteGradient(model::ReportModel& m) {
  for (const auto& p : m->named_parameters()) {
    const torch::Tensor& g = p.value().grad();
    if (g.defined() && !torch::isfinite(g).all().item<bool>()) return p.key();
  }
  return "";
}

Batch ToDevice(Batch b, const torch::Device& d) {
  if (d.is_cpu()) return b;
  if (b.images.defined()) b.images = b.images.to(d);
  b.input_ids = b.input_ids.to(d);
  b.attention_mask = b.attention_mask.to(d);
  b.labels = b.labels.to(d);
  return b;
}

// The decoder's input embeddings of a batch: the image (from the cached vision tokens when the
// image path is frozen), or the text alone for the image ablation.
struct BatchInputs {
  torch::Tensor embeds, attention_mask, labels;
  torch::Tensor head_outputs;  // the finding head's raw outputs (joint training), or undefined
};

BatchInputs Inputs(model::ReportModel& m, const Batch& b, int image_token, const VisionCache* cache,
                   bool want_head) {
  if (image_token < 0) return {m->decoder->embed(b.input_ids), b.attention_mask, b.labels, {}};
  torch::Tensor tokens;
  if (cache) {
    std::vector<torch::Tensor> rows;
    for (const std::string& k : b.keys) rows.push_back(cache->at(k));
    tokens = torch::stack(rows).to(b.input_ids.device());
  } else {
    tokens = m->vision(b.images);
  }
  BatchInputs in;
  const torch::Tensor image_embeds = model::ImageEmbeddingsFromTokens(
      m->projector, &m->findings, tokens, want_head ? &in.head_outputs : nullptr);
  const model::SplicedInputs s =
      m->SpliceEmbeds(image_embeds, b.input_ids, b.attention_mask, b.labels, image_token);
  in.embeds = s.embeds;
  in.attention_mask = s.attention_mask;
  in.labels = s.labels;
  return in;
}

// The length in tokens of each of the n training examples, as `load` makes them for a first
// draw (length bucketing needs only their order).
StatusOr<std::vector<int>> ExampleLengths(size_t n, const Prefetcher::Load& load) {
  std::vector<int> out(n);
  for (size_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(const Example e, load(i, i));
    out[i] = static_cast<int>(e.input_ids.size());
  }
  return out;
}

double Evaluate(model::ReportModel& m, const std::vector<Example>& val, int64_t batch_size, int pad,
                int image_token, const VisionCache* cache, const torch::Device& device) {
  if (val.empty()) return 0;
  torch::NoGradGuard no_grad;
  m->eval();
  double total = 0;
  int64_t tokens = 0;
  for (size_t i = 0; i < val.size(); i += static_cast<size_t>(batch_size)) {
    std::vector<const Example*> batch;
    for (size_t j = i; j < std::min(val.size(), i + static_cast<size_t>(batch_size)); ++j)
      batch.push_back(&val[j]);
    const Batch b = ToDevice(Collate(batch, pad), device);
    const BatchInputs in = Inputs(m, b, image_token, cache, false);
    total += model::TargetLossSum(
                 m->decoder, m->decoder->forward_hidden(in.embeds, in.attention_mask), in.labels)
                 .item<double>();
    tokens += b.target_tokens;
  }
  m->train();
  return tokens ? total / tokens : 0;
}

// Parameters that AdamW's decoupled weight decay applies to: matrices and convolution kernels,
// not norms, biases or embeddings (token, position, finding kind).
bool Decays(const std::string& name, const torch::Tensor& p) {
  return p.dim() >= 2 && name.find("embed") == std::string::npos;
}

// The image path the warm-up trains and then freezes: the vision encoder and the finding head's
// classifier (its slot projection and kind embeddings stay trainable: they are the decoder's
// way in).
void SetImagePathTrainable(model::ReportModel& m, bool trainable) {
  for (auto& p : m->vision->parameters()) p.set_requires_grad(trainable);
  for (auto& p : m->findings->ReaderParameters()) p.set_requires_grad(trainable);
}

// Warns when the encoder cannot see what the cohort draws: the smallest finding (an 8 mm nodule)
// is about 5 pixels across at 256 px (docs/formats/synthetic-cohort.md).
void WarnIfFindingsTooSmall(const model::ModelConfig& c, int64_t dataset_size) {
  const double smallest = 4.8 * c.vision.image_size / std::max<int64_t>(1, dataset_size);
  std::string why;
  if (smallest < 3.0) {
    why = "the encoder resizes the dataset's " + std::to_string(dataset_size) + " px images to " +
          std::to_string(c.vision.image_size) + " px, where the smallest finding (8 mm) is " +
          std::to_string(smallest).substr(0, 3) + " pixels across";
  } else if (c.vision.type == "vit" && c.vision.patch_size > 2 * smallest) {
    why = "a ViT patch of " + std::to_string(c.vision.patch_size) +
          " pixels is larger than twice the smallest finding (8 mm: " +
          std::to_string(smallest).substr(0, 3) + " pixels)";
  }
  if (!why.empty()) {
    std::fprintf(stderr,
                 "warning: %s; small nodules and fine lines may not be learned (the `base` "
                 "preset reads 256 px with a CNN)\n",
                 why.c_str());
  }
}

// Writes the warm-up's image path (vision and finding head weights, BN statistics included) to
// DIR/image.safetensors and its figures to DIR/metrics.json.
Status SaveImageWarmup(const fs::path& dir, model::ReportModel& m, const WarmupOptions& wo,
                       const WarmupResult& w) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create '" + dir.string() + "': " + ec.message());
  model::NamedTensors image;
  for (const auto& [name, t] : model::NamedWeights(*m))
    if (name.rfind("vision.", 0) == 0 || name.rfind("findings.", 0) == 0)
      image.emplace_back(name, t);
  RETURN_IF_ERROR(
      model::SaveSafetensors((dir / "image.safetensors").string(), image, {{"format", "pt"}}));
  json::Array thresholds;
  for (double t : w.read_thresholds) thresholds.push_back(json::Value(t));
  return WriteText(dir / "metrics.json",
                   json::Dump(json::Value(json::Object{
                                  {"epochs", json::Value(wo.epochs)},
                                  {"train_loss", json::Value(w.train_loss)},
                                  {"val_loss", json::Value(w.val_loss)},
                                  {"val_presence_f1", json::Value(w.val_micro_f1)},
                                  {"val_presence_f1_at_half", json::Value(w.val_micro_f1_at_half)},
                                  {"read_beta", json::Value(wo.read_beta)},
                                  {"read_thresholds", json::Value(std::move(thresholds))},
                                  {"seconds", json::Value(w.seconds)}}),
                              2) +
                       "\n");
}

// FNV-1a: a stable digest for comparing settings across ranks (not a security measure).
int64_t Fingerprint(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return static_cast<int64_t>(h >> 1);
}

// True on every rank when any rank's `local` differs from rank 0's (element-wise); `which`
// receives the indices that differ on this rank.
StatusOr<bool> DiffersFromRankZero(Communicator& comm, const torch::Tensor& local,
                                   std::vector<int64_t>* which) {
  std::vector<torch::Tensor> zero = {local.clone()};
  RETURN_IF_ERROR(comm.Broadcast(zero));
  const torch::Tensor differs = zero[0].ne(local);
  for (int64_t i = 0; i < differs.numel(); ++i)
    if (differs[i].item<bool>()) which->push_back(i);
  std::vector<torch::Tensor> any = {torch::tensor({which->empty() ? 0.0 : 1.0}, torch::kFloat64)};
  RETURN_IF_ERROR(comm.AllReduceSum(any));
  return any[0].item<double>() > 0;
}

// Refuses to train when ranks disagree on what they train (before any step).
Status CheckSameRun(Communicator& comm, const std::string& config_json, const TrainOptions& o,
                    int64_t resumed_step) {
  if (comm.world_size() == 1) return OkStatus();
  const std::string options = std::to_string(o.batch_size) + "/" + std::to_string(o.grad_accum) +
                              "/" + std::to_string(o.tensor_parallel) + "/" +
                              std::to_string(o.zero_stage) + "/" +
                              std::to_string(o.pipeline_parallel) + o.schedule + "/" + o.strategy +
                              std::to_string(o.servers) + "/" + std::to_string(o.staleness) + "/" +
                              std::to_string(o.max_steps) + "/" + std::to_string(o.seed) + "/" +
                              std::to_string(o.learning_rate) + "/" +
                              std::to_string(o.prompt.image) + std::to_string(o.prompt.dictation);
  const torch::Tensor local = torch::tensor(
      {Fingerprint(config_json), Fingerprint(o.dataset_id), Fingerprint(options), resumed_step},
      torch::kInt64);
  std::vector<int64_t> which;
  ASSIGN_OR_RETURN(bool differs, DiffersFromRankZero(comm, local, &which));
  if (!differs) return OkStatus();
  if (which.empty()) {
    return FailedPreconditionError(
        "another rank was started with a different model "
        "configuration, dataset version or options; see its error");
  }
  constexpr const char* kWhat[] = {
      "model configuration (--config, tokenizer vocabulary)", "dataset version (--dataset)",
      "training options (--batch-size, --grad-accum, --tp, --pp, --schedule, --zero, --strategy, "
      "--servers, --staleness, --max-steps, --seed, --lr, ablation flags)",
      "checkpoint step (the run directory must be on storage every node shares)"};
  std::string what;
  for (int64_t i : which) what += (what.empty() ? "" : "; ") + std::string(kWhat[i]);
  return FailedPreconditionError("rank " + std::to_string(comm.rank()) +
                                 " differs from rank 0 in its " + what +
                                 "; start every rank with the same command");
}

// Compares a checksum of the parameters across ranks. REQUIRES: called by every rank.
Status CheckParametersAgree(Communicator& comm, model::ReportModel& m, int64_t step) {
  if (comm.world_size() == 1) return OkStatus();
  torch::NoGradGuard no_grad;
  double sum = 0, squares = 0;
  int64_t k = 1;
  for (const torch::Tensor& p : m->parameters()) {
    const torch::Tensor d = p.to(torch::kFloat64);
    sum += d.sum().item<double>() * static_cast<double>(k++);
    squares += d.square().sum().item<double>();
  }
  std::vector<int64_t> which;
  ASSIGN_OR_RETURN(bool differs, DiffersFromRankZero(
                                     comm, torch::tensor({sum, squares}, torch::kFloat64), &which));
  if (differs) {
    return InternalError("step " + std::to_string(step) +
                         ": the parameters of the ranks have diverged (checksums differ); "
                         "stopped before writing the checkpoint");
  }
  return OkStatus();
}

// Keeps the metrics of steps up to `step` (a resumed run logs the later ones again).
Status TruncateMetrics(const fs::path& path, int64_t step) {
  auto text = ReadText(path);
  if (!text.ok()) return OkStatus();
  std::istringstream in(*text);
  std::string line, kept;
  while (std::getline(in, line)) {
    auto j = json::Parse(line);
    if (!j.ok()) continue;  // a line cut short by a crash
    auto s = json::GetInt(*j, "step");
    if (s.ok() && *s <= step) kept += line + "\n";
  }
  return WriteText(path, kept);
}

// "cpu", "cuda" (the local rank's GPU) or "cuda:N".
StatusOr<torch::Device> ResolveDevice(const std::string& name, int local_rank) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) != 0) {
    return InvalidArgumentError("--device must be cpu, cuda or cuda:N, not '" + name + "'");
  }
  if (!torch::cuda::is_available()) {
    return FailedPreconditionError(
        "--device " + name +
        ": no CUDA device is visible (or this build's LibTorch has no CUDA); use --device cpu");
  }
  try {
    torch::Device d(name);
    if (!d.has_index()) d = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
    if (d.index() >= static_cast<int>(torch::cuda::device_count())) {
      return InvalidArgumentError("--device " + name + ": only " +
                                  std::to_string(torch::cuda::device_count()) + " GPU(s) visible");
    }
    return d;
  } catch (const c10::Error&) {
    return InvalidArgumentError("--device must be cpu, cuda or cuda:N, not '" + name + "'");
  }
}

// Failure testing: MEDSCRIBE_TEST_SLOW_WORKER=RANK:MS[:FROM:COUNT] makes worker RANK of a
// parameter-server run sleep MS milliseconds before each push of steps FROM .. FROM + COUNT - 1
// (every step when FROM and COUNT are left out): a slow or stalled worker on demand.
void SlowWorkerPause(int rank, int64_t step) {
  const char* v = std::getenv("MEDSCRIBE_TEST_SLOW_WORKER");
  if (!v) return;
  long long who = -1, ms = 0, from = 0, count = -1;
  if (std::sscanf(v, "%lld:%lld:%lld:%lld", &who, &ms, &from, &count) < 2 || who != rank) return;
  if (step < from || (count >= 0 && step >= from + count)) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// Peak resident memory of this process (VmHWM), 0 when unknown.
int64_t PeakRssBytes();

// The bytes this rank holds after its last step: parameters, gradients, AdamW state, peak RSS.
void RecordMemory(model::ReportModel& m, const ZeroOptimizer& opt, TrainResult& result) {
  result.optimizer_state_bytes = opt.state_bytes();
  for (const torch::Tensor& p : m->parameters()) {
    result.parameter_bytes += p.numel() * static_cast<int64_t>(p.element_size());
    if (p.grad().defined())
      result.gradient_bytes += p.grad().numel() * static_cast<int64_t>(p.grad().element_size());
  }
  result.peak_rss_bytes = PeakRssBytes();
}

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

// The cut of the model into `stages` pipeline stages whose slowest is fastest, from the forward
// and backward time of each part on a first batch (the best of 3 on each rank, averaged over the
// ranks; train/pipeline.h BalanceStages); rank 0's cut is every rank's. Collective over `world`.
// Leaves no gradients behind and batch norm's running statistics as they were.
StatusOr<StagePlan> CutStages(model::ReportModel& m, const Prefetcher::Load& load, size_t samples,
                              int64_t batch_size, int pad, const torch::Device& device,
                              int image_token, bool frozen_image, int stages, Communicator& world) {
  std::vector<Example> sample;
  for (size_t i = 0; i < std::min<size_t>(samples, batch_size); ++i) {
    ASSIGN_OR_RETURN(Example e, load(i, 0));
    sample.push_back(std::move(e));
  }
  std::vector<const Example*> rows;
  for (const Example& e : sample) rows.push_back(&e);
  const Batch b = ToDevice(Collate(rows, pad), device);
  const auto timed = [](const std::function<void()>& fn) {
    double best = 1e30;
    for (int k = 0; k < 3; ++k) {
      const auto t = std::chrono::steady_clock::now();
      fn();
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
    return best;
  };
  // Forward and backward of each part, as a step runs them; the gradients are dropped after,
  // and evaluation mode leaves batch norm's running statistics as they were.
  m->eval();
  BatchInputs in;
  double before_s = timed([&] {
    in = Inputs(m, b, image_token, nullptr, false);
    in.embeds.sum().backward();
  });
  if (frozen_image && image_token >= 0)  // training reads the image path's cached tokens
    before_s = std::max(0.0, before_s - timed([&] { m->vision(b.images).sum().backward(); }));
  const torch::Tensor x = in.embeds.detach().requires_grad_(true);
  torch::Tensor h;
  const double block_s = timed([&] {
    h = m->decoder->forward_layers(x, in.attention_mask, 0, 1, false);
    h.sum().backward();
  });
  const torch::Tensor y = h.detach().requires_grad_(true);
  const double after_s = timed(
      [&] { model::TargetLossSum(m->decoder, m->decoder->model->norm(y), in.labels).backward(); });
  for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
  m->train();
  // Every rank's times, averaged: one rank's are noisy on a loaded machine.
  std::vector<torch::Tensor> times = {torch::tensor({before_s, block_s, after_s}, torch::kFloat64) /
                                      world.world_size()};
  RETURN_IF_ERROR(world.AllReduceSum(times));
  StagePlan plan =
      BalanceStages(m->decoder->model->layers->size(), stages, times[0][0].item<double>(),
                    times[0][1].item<double>(), times[0][2].item<double>());
  std::vector<torch::Tensor> bounds = {
      torch::tensor(std::vector<int64_t>(plan.bounds.begin(), plan.bounds.end()))};
  RETURN_IF_ERROR(world.Broadcast(bounds));
  for (size_t k = 0; k < plan.bounds.size(); ++k)
    plan.bounds[k] = static_cast<size_t>(bounds[0][static_cast<int64_t>(k)].item<int64_t>());
  return plan;
}

// The longest example (prompt and report) the decoder's positions leave room for beside the
// image tokens.
size_t MaxExampleTokens(const model::ModelConfig& c) {
  return static_cast<size_t>(c.decoder.max_position_embeddings - c.image_tokens() + 1);
}

// The lineage's record of a DP-SGD run (docs/formats/model.md).
json::Value PrivacyJson(const DpSgdPlan& p) {
  return json::Value(json::Object{{"mechanism", json::Value("dp-sgd")},
                                  {"accountant", json::Value("rdp")},
                                  {"epsilon", json::Value(p.epsilon)},
                                  {"delta", json::Value(p.delta)},
                                  {"order", json::Value(p.order)},
                                  {"noise_multiplier", json::Value(p.noise_multiplier)},
                                  {"max_grad_norm", json::Value(p.max_grad_norm)},
                                  {"sample_rate", json::Value(p.sample_rate)},
                                  {"steps", json::Value(p.steps)},
                                  {"sampling", json::Value("poisson")}});
}

// The refusals of DP-SGD: what would see the data without noise, or mix examples.
Status CheckDpSgd(const TrainOptions& o) {
  if (o.strategy != "allreduce" || o.tensor_parallel > 1 || o.pipeline_parallel > 1 ||
      o.zero_stage > 1)
    return InvalidArgumentError(
        "DP-SGD runs with data parallelism (--strategy allreduce) and ZeRO stage 0 or 1; drop "
        "--tp, --pp, --zero 2/3 and --strategy ps");
  if (o.length_buckets > 0)
    return InvalidArgumentError(
        "--length-buckets orders an epoch's batches, but DP-SGD draws each batch by Poisson "
        "sampling; leave one of them out");
  if (o.grad_accum > 1)
    return InvalidArgumentError(
        "DP-SGD draws each step's batch by Poisson sampling; --grad-accum must be 1 (raise "
        "--batch-size or the ranks instead)");
  if (o.precision == "fp16") return InvalidArgumentError("DP-SGD runs in fp32 or bf16, not fp16");
  if (o.config.findings.enabled && o.prompt.image &&
      (o.image_warmup_epochs > 0 || !o.image_from.empty()))
    return InvalidArgumentError(
        "the image warm-up trains the vision encoder on the data without noise, which DP-SGD "
        "would not account for; give --image-warmup-epochs 0 (the image path then trains with "
        "the decoder, privately)");
  if (o.config.vision.norm == "batch")
    return InvalidArgumentError(
        "batch norm mixes the examples of a batch (and its running statistics see them without "
        "noise); DP-SGD needs vision.norm \"group\"");
  return OkStatus();
}

StatusOr<TrainResult> TrainChecked(const TrainOptions& o, const TextEncoder& enc,
                                   const DpSgdPlan* dp_plan) {
  if (o.max_steps < 1) return InvalidArgumentError("--max-steps must be at least 1");
  if (o.batch_size < 1) return InvalidArgumentError("--batch-size must be at least 1");
  if (o.checkpoint_every < 1) return InvalidArgumentError("--checkpoint-every must be at least 1");
  if (o.grad_accum < 1) return InvalidArgumentError("--grad-accum must be at least 1");
  if (o.zero_stage < 0 || o.zero_stage > 3)
    return InvalidArgumentError("--zero must be 0, 1, 2 or 3");
  if (o.bucket_bytes < 1) return InvalidArgumentError("--bucket-mb must be positive");
  model::ModelConfig config = o.config;
  if (!o.init_decoder.empty()) {
    ASSIGN_OR_RETURN(config.decoder, model::ReadHfDecoderConfig(o.init_decoder));
    if (config.decoder.vocab_size != enc.vocab_size()) {
      return FailedPreconditionError(
          "the decoder in '" + o.init_decoder + "' has a vocabulary of " +
          std::to_string(config.decoder.vocab_size) + ", the tokenizer " +
          std::to_string(enc.vocab_size()) + "; use the tokenizer that decoder was trained with");
    }
  }
  config.decoder.vocab_size = enc.vocab_size();
  RETURN_IF_ERROR(model::Validate(config));
  RETURN_IF_ERROR(model::CheckTensorParallel(config.decoder, o.tensor_parallel));
  if (o.tensor_parallel > 1 && o.zero_stage == 3)
    return InvalidArgumentError(
        "--zero 3 with --tp > 1 is not supported; with --tp use --zero 1 or 2 (each "
        "tensor-parallel rank already holds only its shards of the decoder's blocks)");
  RETURN_IF_ERROR(
      CheckPipeline(static_cast<size_t>(config.decoder.num_hidden_layers), o.pipeline_parallel));
  if (o.pipeline_parallel > 1 && o.zero_stage == 3)
    return InvalidArgumentError(
        "--zero 3 with --pp > 1 is not supported; each stage already holds only its blocks (use "
        "--zero 1 or 2 to shard the optimizer state across data-parallel replicas)");
  ASSIGN_OR_RETURN(const Schedule schedule, ParseSchedule(o.schedule));
  if (o.strategy != "allreduce" && o.strategy != "ps")
    return InvalidArgumentError("--strategy must be allreduce or ps, not '" + o.strategy + "'");
  const bool use_ps = o.strategy == "ps";
  if (use_ps) {
    RETURN_IF_ERROR(
        MakePsLayout(o.comm ? o.comm->world_size() : 1, o.servers, o.staleness).status());
    if (o.tensor_parallel > 1 || o.pipeline_parallel > 1 || o.zero_stage > 0)
      return InvalidArgumentError(
          "--strategy ps shards the optimizer state over its servers already; it does not combine "
          "with --tp, --pp or --zero");
    if (o.device != "cpu" || o.precision == "fp16")
      return InvalidArgumentError(
          "--strategy ps runs on CPUs over Gloo in fp32 or bf16; use --strategy allreduce for "
          "--device cuda or --precision fp16");
  }
  RETURN_IF_ERROR(
      CheckMesh(o.comm ? o.comm->world_size() : 1, o.tensor_parallel, o.pipeline_parallel));
  if (o.threads > 0) torch::set_num_threads(o.threads);
  ASSIGN_OR_RETURN(const torch::Device device, ResolveDevice(o.device, o.local_rank));
  ASSIGN_OR_RETURN(const Precision precision, ParsePrecision(o.precision, device));

  // The train split is streamed from its shards; the (small) validation split is held.
  ASSIGN_OR_RETURN(const SplitIndex train, IndexSplit(o.dataset_dir, "train"));
  ASSIGN_OR_RETURN(SplitSamples val_raw, ReadSplit(o.dataset_dir, "val"));
  if (train.samples.empty()) {
    return FailedPreconditionError("the dataset's train split is empty");
  }
  const size_t max_tokens = MaxExampleTokens(config);
  const torch::Tensor token_weights = o.decision_weight != 1
                                          ? DecisionTokenWeights(enc, o.decision_weight).to(device)
                                          : torch::Tensor();
  const bool joint_head = config.findings.enabled && o.prompt.image && o.image_warmup_epochs <= 0 &&
                          o.finding_labeler != nullptr;
  // The head's reading of each image as prompt text (read_as_text), by sample key: filled once
  // the image path is frozen, before any loader thread starts; until then examples carry none.
  std::map<std::string, std::string> image_reads;
  const Prefetcher::Load load = [&train, &enc, &o, max_tokens, joint_head, &image_reads](
                                    size_t i, uint64_t draw) -> StatusOr<Example> {
    ASSIGN_OR_RETURN(RawSample r, ReadSample(train, i));
    model::PromptOptions prompt = o.prompt;
    if (auto it = image_reads.find(r.key); it != image_reads.end()) {
      prompt.image_read = it->second;
      if (o.finding_labeler && DropModality(o.seed ^ kReportedReadSeed, draw, o.reported_read)) {
        const model::json::Value* t = r.sample.Find("target_report");
        prompt.image_read = model::ReportedRead(
            o.finding_labeler->Targets(t && t->is_string() ? t->as_string() : ""));
      }
    }
    if (DropModality(o.seed, draw, o.dictation_dropout)) prompt.dictation = false;
    Example e = MakeExample(r, enc, prompt, max_tokens);
    if (joint_head) {
      const model::json::Value* t = r.sample.Find("target_report");
      const model::FindingTargets y =
          o.finding_labeler->Targets(t && t->is_string() ? t->as_string() : "");
      e.finding_targets = torch::tensor(std::vector<float>(y.begin(), y.end()), torch::kFloat32);
    }
    return e;
  };
  std::vector<Example> val;
  for (const RawSample& s : val_raw.samples)
    val.push_back(MakeExample(s, enc, o.prompt, max_tokens));
  if (o.prompt.dictation) {
    // A dataset ingested without audio has no transcripts: training "with" dictation would
    // silently learn without it.
    bool any = false;
    const size_t probe = std::min<size_t>(train.samples.size(), 64);
    for (size_t i = 0; i < probe && !any; ++i) {
      ASSIGN_OR_RETURN(RawSample r, ReadSample(train, i));
      const model::json::Value* m = r.sample.Find("modalities");
      const model::json::Value* t = m ? m->Find("speech_transcript") : nullptr;
      any = t && t->is_string() && !t->as_string().empty();
    }
    if (!any) {
      return FailedPreconditionError(
          "the dataset has no dictation transcripts (it was ingested without --audio); train "
          "with --no-dictation, or ingest the cohort's audio");
    }
  }
  const bool head = config.findings.enabled && o.prompt.image;
  if (head && o.finding_labeler == nullptr) {
    return FailedPreconditionError(
        "the model's finding head needs a labeler of the training reports");
  }
  // The image path trained first and frozen, the decoder on its cached features.
  const bool frozen_image = head && o.image_warmup_epochs > 0;
  if (config.findings.read_as_text && o.prompt.image && !frozen_image)
    return InvalidArgumentError(
        "findings.read_as_text writes the frozen finding head's reading into the prompt, but this "
        "run has no image warm-up; give --image-warmup-epochs > 0 (or --image-from)");
  if (o.reported_read < 0 || o.reported_read > 1)
    return InvalidArgumentError("--reported-read must be a fraction in [0, 1]");
  if (o.reported_read > 0 &&
      (!config.findings.read_as_text || !o.prompt.image || o.finding_labeler == nullptr))
    return InvalidArgumentError(
        "--reported-read replaces the head's reading in the prompt, but this run has none (it "
        "needs a configuration with findings.read_as_text, such as base, and the image)");
  if (!o.image_from.empty() && !frozen_image)
    return InvalidArgumentError(
        "--image-from takes another run's image warm-up, but this run has none (it needs the "
        "image, a configuration with a finding head such as base, and --image-warmup-epochs > 0)");
  {
    ASSIGN_OR_RETURN(const Example first, load(0, 0));
    if (o.prompt.image) WarnIfFindingsTooSmall(config, first.image.size(-1));
    // The model is served with images prepared as its dataset's were.
    ASSIGN_OR_RETURN(const double spacing, DatasetImageSpacing(o.dataset_dir));
    config.vision.mm_per_pixel =
        spacing * static_cast<double>(first.image.size(-1)) / config.vision.image_size;
    if (o.prompt.image && first.image.size(0) != config.vision.channels) {
      return FailedPreconditionError("dataset images have " + std::to_string(first.image.size(0)) +
                                     " channels, the model expects " +
                                     std::to_string(config.vision.channels));
    }
  }

  const fs::path run(o.run_dir);
  std::error_code ec;
  const std::string config_json = json::Dump(model::ToJson(config), 2);
  if (auto existing = ReadText(run / "config.json");
      existing.ok() && *existing != config_json + "\n") {
    return FailedPreconditionError("'" + run.string() +
                                   "' holds a run with another configuration; "
                                   "choose a new --out or delete it");
  }

  std::unique_ptr<Communicator> single;
  Communicator* comm = o.comm;
  if (!comm) {
    single = SingleProcess();
    comm = single.get();
  }
  const bool leader = comm->rank() == 0;
  ASSIGN_OR_RETURN(const Mesh mesh, Mesh::Make(comm, o.tensor_parallel, o.pipeline_parallel));
  // Data parallelism runs over the data-parallel group (the world without tensor parallelism).
  Communicator* dp = &mesh.data();
  // Parameter servers: the workers are the data-parallel group; a server's group is the servers.
  std::optional<PsLayout> ps;
  std::unique_ptr<Communicator> ps_group;
  if (use_ps) {
    ASSIGN_OR_RETURN(ps, MakePsLayout(comm->world_size(), o.servers, o.staleness));
    std::vector<std::vector<int>> roles(2);
    for (int r = 0; r < comm->world_size(); ++r) roles[ps->IsServer(r) ? 1 : 0].push_back(r);
    ASSIGN_OR_RETURN(ps_group, comm->Subgroup(roles, "ps"));
    dp = ps_group.get();
  }
  const bool server = ps && ps->IsServer(comm->rank());

  torch::manual_seed(o.seed);
  model::ReportModel m(config);
  m->train();
  m->decoder->checkpoint_layers = o.checkpoint_activations;
  m->vision->checkpoint_blocks = o.checkpoint_activations;
  if (!device.is_cpu()) {
    m->to(device);
    m->decoder->rope.cos = m->decoder->rope.cos.to(device);
    m->decoder->rope.sin = m->decoder->rope.sin.to(device);
  }
  const int image_token = o.prompt.image ? enc.image_token() : -1;
  // Pipeline parallelism: the stages cut where the slowest is fastest, timed (forward and
  // backward) on a first batch; rank 0's cut is every rank's.
  std::optional<Pipeline> pipeline;
  if (mesh.pp_size() > 1) {
    ASSIGN_OR_RETURN(StagePlan plan,
                     CutStages(m, load, train.samples.size(), o.batch_size, enc.pad(), device,
                               image_token, frozen_image, mesh.pp_size(), *comm));
    pipeline.emplace(m, std::move(plan), &mesh.pipeline());
  }
  if (frozen_image) SetImagePathTrainable(m, false);
  std::vector<torch::Tensor> trainable, decayed;
  // Each trainable parameter's name relative to the decoder ("" outside it), for cutting and
  // gathering shards; and whether it enters the global gradient norm (a pipeline's last stage
  // leaves out its copy of tied embeddings).
  std::vector<std::string> names;
  std::vector<bool> counted, decays;
  constexpr std::string_view kDecoder = "decoder.";
  for (const auto& p : m->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    if (pipeline && !pipeline->Holds(p.key())) continue;
    names.push_back(p.key().rfind(kDecoder, 0) == 0 ? p.key().substr(kDecoder.size()) : "");
    counted.push_back(!pipeline || pipeline->first() ||
                      p.key() != "decoder.model.embed_tokens.weight");
    trainable.push_back(p.value());
    decays.push_back(Decays(p.key(), p.value()));
    if (decays.back()) decayed.push_back(p.value());
  }
  // Parameter servers: each trainable parameter's server; a server's optimizer holds its own.
  std::vector<int> server_of;
  std::vector<torch::Tensor> served, served_decayed;
  std::unique_ptr<Communicator> alone = server ? SingleProcess() : nullptr;
  if (ps) {
    server_of = PartitionParameters(trainable, ps->servers);
    std::vector<int> count(static_cast<size_t>(ps->servers), 0);
    for (int k : server_of) ++count[static_cast<size_t>(k)];
    if (std::count(count.begin(), count.end(), 0) > 0)
      return InvalidArgumentError("--servers " + std::to_string(ps->servers) + " exceeds the " +
                                  std::to_string(trainable.size()) +
                                  " trainable tensors a server can own; use fewer servers");
    for (size_t k = 0; k < trainable.size() && server; ++k) {
      if (server_of[k] != comm->rank() - ps->workers) continue;
      served.push_back(trainable[k]);
      if (decays[k]) served_decayed.push_back(trainable[k]);
    }
  }
  ZeroOptimizer opt(server ? served : trainable, server ? alone.get() : dp, o.zero_stage,
                    torch::optim::AdamWOptions(o.learning_rate).weight_decay(0).betas({0.9, 0.95}));
  if (server) {
    opt.SetPartitioned(dp, std::vector<bool>(served.size(), true),
                       ".server-" + std::to_string(comm->rank() - ps->workers) + "-of-" +
                           std::to_string(ps->servers));
  } else if (ps) {
    opt.SetRemote();
  }
  if (pipeline)
    opt.SetPipeline(&mesh.pipeline(), counted, pipeline->stage(), pipeline->plan().stages());
  if (!o.init_decoder.empty()) RETURN_IF_ERROR(model::LoadHfDecoder(m->decoder, o.init_decoder));
  if (!o.init_weights.empty()) {
    ASSIGN_OR_RETURN(const model::Safetensors start, model::LoadSafetensors(o.init_weights));
    if (Status s = model::LoadWeights(*m, start); !s.ok())
      return FailedPreconditionError("the start weights in " + o.init_weights +
                                     " do not fit this configuration: " + s.message());
  }
  // FedProx's anchor: the weights this run starts from.
  std::vector<torch::Tensor> anchor;
  if (o.proximal_mu > 0)
    for (const torch::Tensor& p : trainable) anchor.push_back(p.detach().clone());
  ASSIGN_OR_RETURN(Checkpoint ck,
                   LoadCheckpoint(run, m, opt, dp->world_size(), ps ? ps->servers : 0));
  if (ck.step > 0) {
    // A resumed run keeps its inputs: an ablation continued with the image would be neither.
    auto previous = ReadText(run / "run.json");
    if (previous.ok()) {
      auto j = json::Parse(*previous);
      const json::Value* opts = j.ok() ? j->Find("options") : nullptr;
      for (const auto& [key, now] :
           {std::pair{"image", o.prompt.image}, std::pair{"dictation", o.prompt.dictation}}) {
        const json::Value* v = opts ? opts->Find(key) : nullptr;
        if (v && v->is_bool() && v->as_bool() != now) {
          return FailedPreconditionError("'" + run.string() + "' was trained " +
                                         (v->as_bool() ? "with" : "without") + " the " + key +
                                         "; resume it with the same --no-" + key +
                                         " setting or choose a "
                                         "new --out");
        }
      }
    }
  }
  RETURN_IF_ERROR(CheckSameRun(*comm, config_json, o, ck.step));
  TrainResult result;
  if (frozen_image && ck.step == 0) {
    // A run cut short after its warm-up reuses it.
    const fs::path saved = run / "warmup" / "image.safetensors";
    const fs::path from =
        o.image_from.empty() ? saved : fs::path(o.image_from) / "warmup" / "image.safetensors";
    auto st = model::LoadSafetensors(from.string());
    if (!st.ok() && !o.image_from.empty())
      return InvalidArgumentError("--image-from: cannot read " + from.string() + " (" +
                                  st.status().message() +
                                  "); give a run directory whose image warm-up has finished");
    if (st.ok()) {
      Status loaded = model::LoadWeights(*m->vision, *st, true, "vision.");
      if (loaded.ok()) loaded = model::LoadWeights(*m->findings, *st, true, "findings.");
      if (!loaded.ok())
        return InvalidArgumentError("the image warm-up in " + from.string() +
                                    " does not fit this configuration: " + loaded.message());
      if (leader && o.progress) std::fprintf(stderr, "image warm-up: reused %s\n", from.c_str());
    } else {
      SetImagePathTrainable(m, true);
      WarmupOptions wo;
      wo.epochs = o.image_warmup_epochs;
      wo.learning_rate = o.image_learning_rate;
      wo.weight_decay = o.image_weight_decay;
      wo.read_beta = o.read_beta;
      wo.seed = o.seed;
      wo.progress = o.progress && leader;
      ASSIGN_OR_RETURN(WarmupResult w,
                       WarmUpImagePath(m, train, val_raw.samples, *o.finding_labeler, wo));
      SetImagePathTrainable(m, false);
      result.warmup_seconds = w.seconds;
      result.warmup_val_f1 = w.val_micro_f1;
      if (leader) RETURN_IF_ERROR(SaveImageWarmup(run / "warmup", m, wo, w));
    }
  }
  {  // every rank starts from rank 0's weights
    std::vector<torch::Tensor> params;
    for (auto& p : m->parameters()) params.push_back(p.detach());
    torch::NoGradGuard no_grad;
    RETURN_IF_ERROR(comm->Broadcast(params));
  }
  if (mesh.tp_size() > 1) ShardForTensorParallel(m, opt, mesh, names);
  if (pipeline) pipeline->DropOthers();
  if (server) {  // a server holds only the parameters it owns
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : m->parameters()) {
      if (std::none_of(served.begin(), served.end(),
                       [&](const torch::Tensor& s) { return s.is_same(p); }))
        p.set_data(torch::empty({0}, p.options()));
    }
  }
  if (leader) {
    fs::create_directories(run / "checkpoints", ec);
    if (ec) return IoError("cannot create '" + run.string() + "': " + ec.message());
    RETURN_IF_ERROR(WriteText(run / "config.json", config_json + "\n"));
  }
  result.resumed_from = ck.step;
  if (ck.step >= o.max_steps) {
    return FailedPreconditionError("the run in '" + run.string() + "' already reached step " +
                                   std::to_string(ck.step) + "; raise --max-steps to continue");
  }
  // The frozen image path's tokens, computed once for every train and validation sample.
  std::optional<VisionCache> cache;
  if (frozen_image && !server) {
    ASSIGN_OR_RETURN(VisionCache c, CacheVisionTokens(m, train, val_raw.samples));
    cache.emplace(std::move(c));
    if (config.findings.read_as_text) {
      torch::NoGradGuard no_grad;
      m->findings->eval();
      for (const auto& [key, tokens] : *cache) {
        image_reads[key] = model::ImageRead(
            m->findings->Probabilities(m->findings(tokens.unsqueeze(0).to(device)))[0].cpu());
      }
      m->findings->train();
      val.clear();
      for (const RawSample& s : val_raw.samples) {
        model::PromptOptions po = o.prompt;
        po.image_read = image_reads.at(s.key);
        val.push_back(MakeExample(s, enc, po, max_tokens));
      }
    }
  }
  const VisionCache* cached = cache ? &*cache : nullptr;
  if (leader)
    RETURN_IF_ERROR(WriteText(
        run / "run.json",
        json::Dump(
            json::Value(json::Object{
                {"dataset_id", json::Value(o.dataset_id)},
                {"dataset", json::Value(fs::absolute(o.dataset_dir).lexically_normal().string())},
                {"code_commit", json::Value(o.code_commit)},
                {"config", model::ToJson(config)},
                {"options", json::Value(json::Object{
                                {"max_steps", json::Value(o.max_steps)},
                                {"batch_size", json::Value(o.batch_size)},
                                {"learning_rate", json::Value(o.learning_rate)},
                                {"warmup_steps", json::Value(o.warmup_steps)},
                                {"weight_decay", json::Value(o.weight_decay)},
                                {"clip_norm", json::Value(o.clip_norm)},
                                {"seed", json::Value(static_cast<int64_t>(o.seed))},
                                {"image", json::Value(o.prompt.image)},
                                {"dictation", json::Value(o.prompt.dictation)},
                                {"dictation_dropout", json::Value(o.dictation_dropout)},
                                {"reported_read", json::Value(o.reported_read)},
                                {"image_warmup_epochs", json::Value(o.image_warmup_epochs)},
                                {"aux_loss_weight", json::Value(o.aux_loss_weight)},
                                {"image_from", json::Value(o.image_from)}})},
                {"train_samples", json::Value(static_cast<int64_t>(train.samples.size()))},
                {"val_samples", json::Value(static_cast<int64_t>(val.size()))},
                {"resumed_from", json::Value(ck.step)},
                {"world_size", json::Value(comm->world_size())},
                {"tensor_parallel", json::Value(mesh.tp_size())},
                {"pipeline_parallel", json::Value(mesh.pp_size())},
                {"schedule", json::Value(o.schedule)},
                {"strategy", json::Value(o.strategy)},
                {"parameter_servers", json::Value(ps ? ps->servers : 0)},
                {"staleness", json::Value(static_cast<int64_t>(o.staleness))},
                {"grad_accum", json::Value(o.grad_accum)},
                {"privacy", dp_plan ? PrivacyJson(*dp_plan) : json::Value()},
                {"drift_profile", DriftProfileOf(o.dataset_dir)},
                {"restart_count", json::Value(o.restart_count)},
                {"started_at", json::Value(IsoNow())}}),
            2) +
            "\n"));
  std::ofstream metrics;
  std::optional<EventWriter> events;
  if (leader) {
    if (ck.step > 0) {
      RETURN_IF_ERROR(TruncateMetrics(run / "metrics.jsonl", ck.step));
      if (o.progress) {
        std::fprintf(
            stderr, "resuming at step %lld%s\n", static_cast<long long>(ck.step),
            o.restart_count ? (" (restart " + std::to_string(o.restart_count) + ")").c_str() : "");
      }
    }
    metrics.open(run / "metrics.jsonl", std::ios::app);
    ASSIGN_OR_RETURN(EventWriter w, EventWriter::Create(run.string()));
    events.emplace(std::move(w));
  }

  // ZeRO-3: each decoder block is a unit gathered while it runs (its activations recomputed in
  // backward); the other trainable parameters (embeddings, vision encoder, heads, norms) are one
  // more unit, gathered for each step's forward and backward and for validation. Between steps
  // a rank holds only what it owns.
  const bool sharded_blocks = o.zero_stage == 3;
  const size_t outer_unit = m->decoder->model->layers->size();
  if (sharded_blocks) {
    std::vector<std::vector<size_t>> units(outer_unit + 1);
    for (size_t k = 0; k < names.size(); ++k) {
      unsigned layer = 0;
      if (std::sscanf(names[k].c_str(), "model.layers.%u.", &layer) == 1)
        units[layer].push_back(k);
      else
        units[outer_unit].push_back(k);
    }
    opt.SetShardedUnits(std::move(units));
    m->decoder->layer_runner =
        [&opt](size_t layer, const std::function<torch::Tensor(const torch::Tensor&)>& fn,
               const torch::Tensor& x) { return model::Checkpointed(fn, x, opt.HooksFor(layer)); };
  }
  // Every weight on every rank, for the checksum, a checkpoint or the final model (tensor
  // parallelism's shards are gathered by SaveCheckpoint and MakeWhole), and back to this rank's
  // part.
  const auto gather_parts = [&]() -> Status {
    if (sharded_blocks) RETURN_IF_ERROR(opt.GatherAll());
    if (pipeline) RETURN_IF_ERROR(pipeline->GatherWhole());
    return OkStatus();
  };
  const auto drop_parts = [&] {
    if (sharded_blocks) opt.ReleaseAll();
    if (pipeline) pipeline->DropOthers();
  };
  // The steps (counted from 1) after which the run validates and checkpoints.
  const auto validates = [&o](int64_t done) {
    return done % o.eval_every == 0 || done == o.max_steps;
  };
  const auto checkpoints = [&o](int64_t done) {
    return done % o.checkpoint_every == 0 || done == o.max_steps;
  };
  // A parameter server serves its parameters until the last step, joining the workers'
  // validation barriers and checkpoints, and leaves the final model to rank 0.
  if (server) {
    ParameterServer service(served, comm, *ps, o.staleness, ck.step, o.max_steps);
    const auto apply = [&](int64_t clock) -> Status {
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < served.size(); ++k) {
        if (!torch::isfinite(served[k].grad()).all().item<bool>())
          return InternalError("step " + std::to_string(clock + 1) +
                               ": a gradient pushed to this parameter server is not finite; "
                               "stopped, the last checkpoint is kept");
      }
      const double lr = LearningRate(clock, o);
      opt.SetLearningRate(lr);
      // Synchronous: the clip of an all-reduce run, from the norm over every server's share.
      // Asynchronous: each worker clipped its own gradients before pushing them.
      if (o.staleness == 0) RETURN_IF_ERROR(opt.ClipGradNorm(o.clip_norm).status());
      if (o.weight_decay > 0)
        for (torch::Tensor& p : served_decayed) p.mul_(1.0 - lr * o.weight_decay);
      return opt.Step();
    };
    const auto after = [&](int64_t version) -> Status {
      if (validates(version)) RETURN_IF_ERROR(comm->Barrier());
      if (checkpoints(version))
        RETURN_IF_ERROR(SaveCheckpoint(run, version, m, opt, mesh, names, ps->servers));
      return OkStatus();
    };
    ASSIGN_OR_RETURN(const ServerStats stats, service.Run(apply, after));
    result.steps = o.max_steps;
    result.parameter_server = true;
    result.ps_held_pulls = stats.held_pulls;
    result.ps_max_lead = stats.max_lead;
    RecordMemory(m, opt, result);
    RETURN_IF_ERROR(comm->Barrier());
    return result;
  }
  std::optional<ParameterClient> client;
  if (ps) client.emplace(trainable, server_of, comm, *ps);
  const int world = dp->world_size();  // the data-parallel ranks (the batches read at once)
  PrefetchOptions po;
  po.batch_size = o.batch_size;
  po.seed = o.seed;
  po.threads = o.loader_threads;
  po.pad = enc.pad();
  po.rank = dp->rank();
  po.world = world;
  po.sample_rate = dp_plan ? dp_plan->sample_rate : 0;
  if (o.length_buckets > 0 && !dp_plan) {
    ASSIGN_OR_RETURN(po.lengths, ExampleLengths(train.samples.size(), load));
    po.bucket_batches = o.length_buckets;
  }
  Prefetcher prefetch(train.samples.size(), load, po, ck.step * o.grad_accum,
                      o.max_steps * o.grad_accum);
  LossScaler scaler(precision == Precision::kFp16);
  std::optional<GradientReducer> reducer;
  // DP-SGD reduces the noisy clipped sums after the step's examples, not during backward.
  if (world > 1 && o.zero_stage < 2 && !ps)
    reducer.emplace(trainable, dp, o.bucket_bytes, o.overlap && !dp_plan);
  std::optional<PerExampleClipper> clipper;
  if (dp_plan) clipper.emplace(trainable, dp_plan->max_grad_norm);
  // Pipeline parallelism: what the stages need of a step's micro-batches.
  double pipeline_step_s = 0, pipeline_wait_s = 0;
  const auto PipelineIo = [&](std::vector<Batch>& batches, bool head_trains, double targets,
                              double scale, double head_share,
                              std::optional<GradientReducer>* armed) {
    MicroBatchIo io;
    io.first = [&batches, &m, image_token, cached, head_trains, &o, scale, head_share](size_t i) {
      const Batch& b = batches[i];
      const BatchInputs in = Inputs(m, b, image_token, cached, head_trains);
      MicroBatchIo::First f{in.embeds, in.attention_mask, in.labels, {}};
      if (in.head_outputs.defined() && b.finding_targets.defined())
        f.aux = o.aux_loss_weight * m->findings->Loss(in.head_outputs, b.finding_targets) /
                head_share * scale;
      return f;
    };
    io.layout = [&batches, image_token, &config](size_t i) {
      const Batch& b = batches[i];
      if (image_token < 0) return std::make_pair(b.attention_mask, b.labels);
      const model::SplicedInputs s = model::ReportModelImpl::SpliceLayout(
          b.input_ids, b.attention_mask, b.labels, image_token, config.image_tokens());
      return std::make_pair(s.attention_mask, s.labels);
    };
    io.last = [&m, &token_weights, targets, scale](size_t, const torch::Tensor& h,
                                                   const torch::Tensor& labels) {
      const torch::Tensor sum = model::TargetLossSum(m->decoder, h, labels, token_weights);
      return std::make_pair(sum / targets * scale, sum.item<double>());
    };
    if (armed && armed->has_value()) {
      const size_t n = batches.size();
      io.before_backward = [armed, n](size_t i) { (*armed)->Prepare(i + 1 == n); };
    }
    return io;
  };
  // The validation loss through the pipeline (every stage of the first replica takes part).
  const auto EvaluatePipeline = [&](const std::vector<Example>& examples) -> StatusOr<double> {
    torch::NoGradGuard no_grad;
    m->eval();
    double total = 0;
    int64_t tokens = 0;
    for (size_t i = 0; i < examples.size(); i += static_cast<size_t>(o.batch_size)) {
      std::vector<const Example*> rows;
      for (size_t j = i; j < std::min(examples.size(), i + static_cast<size_t>(o.batch_size)); ++j)
        rows.push_back(&examples[j]);
      std::vector<Batch> one = {ToDevice(Collate(rows, enc.pad()), device)};
      tokens += one[0].target_tokens;
      const MicroBatchIo io = PipelineIo(one, false, 1.0, 1.0, 1.0, nullptr);
      ASSIGN_OR_RETURN(const PipelineStats piped, pipeline->Step(1, schedule, io, false));
      total += piped.loss_sum;
    }
    m->train();
    std::vector<torch::Tensor> sum = {torch::tensor({total}, torch::kFloat64)};
    RETURN_IF_ERROR(mesh.pipeline().AllReduceSum(sum));
    return tokens ? sum[0].item<double>() / static_cast<double>(tokens) : 0.0;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto window_start = t0;
  int64_t window_tokens = 0, window_samples = 0, total_tokens = 0, window_padded = 0;
  double paused_s = 0;
  double window_loss = 0;
  int64_t window_steps = 0;
  for (int64_t step = ck.step; step < o.max_steps; ++step) {
    const double lr = LearningRate(step, o);
    opt.SetLearningRate(lr);
    std::vector<Batch> micro;
    int64_t step_tokens = 0, step_samples = 0, step_padded = 0;
    for (int64_t a = 0; a < o.grad_accum; ++a) {
      ASSIGN_OR_RETURN(Batch next, prefetch.Next());
      micro.push_back(std::move(next));
      step_tokens += micro.back().attention_mask.sum().item<int64_t>();
      step_samples += micro.back().input_ids.size(0);
      step_padded += micro.back().input_ids.numel();
    }
    // The loss is a mean over the target tokens of the whole global batch.
    std::vector<torch::Tensor> counts = {torch::zeros({1}, torch::kFloat64)};
    for (const Batch& b : micro) counts[0] += static_cast<double>(b.target_tokens);
    // Asynchronous parameter servers: the workers do not wait for each other; each pushes the
    // gradient of its own batch's mean loss, and logs that loss.
    const bool async_ps = ps && o.staleness > 0;
    const int sharing = async_ps ? 1 : world;  // ranks whose gradients add up to one step
    if (!async_ps) RETURN_IF_ERROR(dp->AllReduceSum(counts));
    const double global_targets = std::max(1.0, counts[0].item<double>());
    opt.ZeroGrad();
    double local_loss = 0;
    if (sharded_blocks) RETURN_IF_ERROR(opt.GatherUnit(outer_unit));
    if (pipeline) {
      std::vector<Batch> on_device;
      for (Batch& b : micro) on_device.push_back(ToDevice(std::move(b), device));
      const MicroBatchIo io = PipelineIo(on_device, joint_head, global_targets, scaler.scale(),
                                         static_cast<double>(o.grad_accum * world), &reducer);
      AutocastScope autocast(precision, device);
      ASSIGN_OR_RETURN(const PipelineStats piped, pipeline->Step(micro.size(), schedule, io));
      local_loss = piped.loss_sum;
      if (step > ck.step) {
        pipeline_step_s += piped.step_s;
        pipeline_wait_s += piped.wait_s;
      }
      micro.clear();
    }
    if (clipper) {
      // DP-SGD: one backward per example, each clipped; the sum gets its noise on rank 0 alone
      // (once per global step) and is divided by the expected global batch.
      for (Batch& next : micro) {
        const Batch b = ToDevice(std::move(next), device);
        for (int64_t i = 0; i < b.input_ids.size(0); ++i) {
          const Batch r = Row(b, i);
          AutocastScope autocast(precision, device);
          const BatchInputs in = Inputs(m, r, image_token, cached, joint_head);
          const torch::Tensor loss_sum = model::TargetLossSum(
              m->decoder, m->decoder->forward_hidden(in.embeds, in.attention_mask), in.labels,
              token_weights);
          torch::Tensor objective =
              loss_sum / static_cast<double>(std::max<int64_t>(1, r.target_tokens));
          if (in.head_outputs.defined() && r.finding_targets.defined())
            objective = objective +
                        o.aux_loss_weight * m->findings->Loss(in.head_outputs, r.finding_targets);
          objective.backward();
          clipper->AddExample();
          local_loss += loss_sum.item<double>();
        }
      }
      micro.clear();
      clipper->Finish(dp->rank() == 0 ? dp_plan->noise_multiplier * dp_plan->max_grad_norm : 0,
                      dp_plan->sample_rate * static_cast<double>(train.samples.size()),
                      DpNoiseSeed(o.seed, step));
      if (reducer) reducer->Prepare(true);  // Finish() below sums the ranks' noisy sums
    }
    for (size_t a = 0; a < micro.size(); ++a) {
      const Batch b = ToDevice(std::move(micro[a]), device);
      if (reducer) reducer->Prepare(a + 1 == micro.size());
      AutocastScope autocast(precision, device);
      const BatchInputs in = Inputs(m, b, image_token, cached, joint_head);
      const torch::Tensor loss_sum =
          model::TargetLossSum(m->decoder, m->decoder->forward_hidden(in.embeds, in.attention_mask),
                               in.labels, token_weights);
      torch::Tensor objective = loss_sum / global_targets;
      if (in.head_outputs.defined() && b.finding_targets.defined()) {
        // The head's mean loss, averaged over micro-batches and ranks like the gradients.
        objective = objective + o.aux_loss_weight *
                                    m->findings->Loss(in.head_outputs, b.finding_targets) /
                                    static_cast<double>(o.grad_accum * sharing);
      }
      (objective * scaler.scale()).backward();
      local_loss += loss_sum.item<double>();
    }
    if (reducer) RETURN_IF_ERROR(reducer->Finish());
    if (sharded_blocks) RETURN_IF_ERROR(opt.ReduceUnitGradients(outer_unit));
    // The copies of tied embeddings on the first and last stage add up their gradients (before
    // ZeRO-2 reduces them to their owners, which may differ between the stages).
    if (pipeline) RETURN_IF_ERROR(pipeline->SyncTiedEmbeddings());
    RETURN_IF_ERROR(opt.ReduceGradients());
    std::vector<torch::Tensor> loss_sum = {torch::tensor({local_loss}, torch::kFloat64)};
    if (pipeline) RETURN_IF_ERROR(mesh.pipeline().AllReduceSum(loss_sum));  // the last stage's
    if (!async_ps) RETURN_IF_ERROR(dp->AllReduceSum(loss_sum));
    const double value = loss_sum[0].item<double>() / global_targets;
    if (!std::isfinite(value)) {
      return InternalError("step " + std::to_string(step + 1) + ": the loss is " +
                           std::to_string(value) +
                           "; stopped, the last checkpoint is kept (lower --learning-rate?)");
    }
    if (precision == Precision::kFp16) {
      // Overflow under loss scaling is expected now and then: skip the step, lower the scale.
      std::vector<torch::Tensor> bad = {
          torch::tensor({scaler.Unscale(trainable) ? 0.0 : 1.0}, torch::kFloat64)};
      RETURN_IF_ERROR(comm->AllReduceSum(bad));
      const bool finite = bad[0].item<double>() == 0;
      scaler.Update(finite);
      if (!finite) {
        if (o.progress && leader) {
          std::fprintf(stderr,
                       "step %lld: gradients overflowed in fp16; step skipped, loss scale %g\n",
                       static_cast<long long>(step + 1), scaler.scale());
        }
        continue;
      }
    } else if (const std::string bad = NonFiniteGradient(m); !bad.empty()) {
      return InternalError("step " + std::to_string(step + 1) + ": the gradient of " + bad +
                           " is not finite; stopped, the last checkpoint is kept");
    }
    if (client) {
      // The servers update; validation and checkpoint steps wait for every worker's push.
      const int64_t done = step + 1;
      const bool sync = validates(done) || checkpoints(done);
      if (async_ps) RETURN_IF_ERROR(opt.ClipGradNorm(o.clip_norm).status());
      SlowWorkerPause(comm->rank(), step);
      ASSIGN_OR_RETURN(const PullResult pulled,
                       client->Exchange(step, sync ? done : done - o.staleness));
      if (pulled.waited) {
        result.ps_wait_s += pulled.seconds;
        ++result.ps_waited_steps;
      }
      result.ps_max_lag = std::max(result.ps_max_lag, done - pulled.oldest_version);
    } else {
      if (!anchor.empty()) {  // FedProx: the gradient of mu/2 |w - w_start|^2
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < trainable.size(); ++k)
          if (trainable[k].grad().defined())
            trainable[k].mutable_grad().add_(trainable[k] - anchor[k], o.proximal_mu);
      }
      // DP-SGD's clip is per example; clipping the noisy mean would change its noise scale.
      if (!clipper) RETURN_IF_ERROR(opt.ClipGradNorm(o.clip_norm).status());
      if (o.weight_decay > 0) {  // decoupled, as AdamW, on the matrices only
        torch::NoGradGuard no_grad;
        for (torch::Tensor& p : decayed) p.mul_(1.0 - lr * o.weight_decay);
      }
      RETURN_IF_ERROR(opt.Step());
    }
    if (step == ck.step) result.first_loss = value;
    result.last_loss = value;
    window_loss += value;
    ++window_steps;
    // Throughput of the whole group (every rank processes a batch of the same size).
    window_tokens += step_tokens * world;
    total_tokens += step_tokens * world;
    window_samples += step_samples * world;
    window_padded += step_padded * world;
    const int64_t done = step + 1;
    if (o.on_step) o.on_step(done, value);
    if (leader && (done % o.log_every == 0 || done == o.max_steps)) {
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::max(1e-9, std::chrono::duration<double>(now - window_start).count());
      const double tps = window_tokens / secs, sps = window_samples / secs;
      const double mean = window_loss / window_steps;
      const double elapsed = std::chrono::duration<double>(now - t0).count();
      const double eta = elapsed / (done - ck.step) * (o.max_steps - done);
      metrics << json::Dump(json::Value(json::Object{
                     {"step", json::Value(done)},
                     {"loss", json::Value(value)},
                     {"loss_mean", json::Value(mean)},
                     {"lr", json::Value(lr)},
                     {"tokens_per_s", json::Value(tps)},
                     {"samples_per_s", json::Value(sps)},
                     {"padded_length", json::Value(static_cast<double>(window_padded) /
                                                   std::max<int64_t>(1, window_samples))}}))
              << "\n";
      metrics.flush();
      RETURN_IF_ERROR(events->Scalar("train/loss", mean, done));
      RETURN_IF_ERROR(events->Scalar("train/lr", lr, done));
      RETURN_IF_ERROR(events->Scalar("train/tokens_per_s", tps, done));
      if (o.progress) {
        std::fprintf(
            stderr,
            "step %lld/%lld  loss %.4f  lr %.2e  %.0f tokens/s  %.1f samples/s  ETA %d:%02d\n",
            static_cast<long long>(done), static_cast<long long>(o.max_steps), mean, lr, tps, sps,
            static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
      }
      result.tokens_per_s = tps;
      result.samples_per_s = sps;
      window_start = now;
      window_tokens = window_samples = window_steps = window_padded = 0;
      window_loss = 0;
    }
    // Validation and checkpoints are left out of the throughput figures.
    const auto pause_start = std::chrono::steady_clock::now();
    if (validates(done)) {
      // The first data-parallel group evaluates (all its tensor-parallel ranks take part); with
      // sharded blocks every rank does, as every rank holds a part of the weights.
      if (pipeline && dp->rank() == 0) {
        ASSIGN_OR_RETURN(result.val_loss, EvaluatePipeline(val));
      } else if (dp->rank() == 0 || sharded_blocks) {
        if (sharded_blocks) RETURN_IF_ERROR(opt.GatherUnit(outer_unit));
        result.val_loss = Evaluate(m, val, o.batch_size, enc.pad(), image_token, cached, device);
        if (sharded_blocks) opt.ReleaseUnit(outer_unit);
      }
      if (leader) {
        metrics << json::Dump(json::Value(json::Object{{"step", json::Value(done)},
                                                       {"loss", json::Value(result.last_loss)},
                                                       {"val_loss", json::Value(result.val_loss)}}))
                << "\n";
        metrics.flush();
        RETURN_IF_ERROR(events->Scalar("val/loss", result.val_loss, done));
        if (o.on_validation) o.on_validation(done, result.val_loss);
      }
      RETURN_IF_ERROR(comm->Barrier());
    }
    if (checkpoints(done)) {
      RETURN_IF_ERROR(gather_parts());
      RETURN_IF_ERROR(CheckParametersAgree(*dp, m, done));
      RETURN_IF_ERROR(SaveCheckpoint(run, done, m, opt, mesh, names, ps ? ps->servers : 0));
      drop_parts();
    }
    const auto paused = std::chrono::steady_clock::now() - pause_start;
    window_start += paused;
    paused_s += std::chrono::duration<double>(paused).count();
  }
  result.steps = o.max_steps;
  const double total_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - paused_s;
  result.tokens_per_s = total_tokens / std::max(1e-9, total_secs);
  result.samples_per_s =
      static_cast<double>((o.max_steps - ck.step) * o.batch_size * o.grad_accum * world) /
      std::max(1e-9, total_secs);
  RecordMemory(m, opt, result);
  if (dp_plan) {
    result.dp = *dp_plan;
    result.dp_examples = clipper->examples();
    result.dp_clipped = clipper->clipped();
  }
  RETURN_IF_ERROR(comm->Barrier());
  if (pipeline) {
    result.pipeline_stage = pipeline->stage();
    result.stage_first_block = pipeline->plan().bounds[static_cast<size_t>(pipeline->stage())];
    result.stage_end_block = pipeline->plan().bounds[static_cast<size_t>(pipeline->stage()) + 1];
    result.pipeline_wait_fraction = pipeline_step_s > 0 ? pipeline_wait_s / pipeline_step_s : 0;
  }
  RETURN_IF_ERROR(gather_parts());
  RETURN_IF_ERROR(MakeWhole(m, opt, mesh, names));
  if (!leader) return result;
  fs::create_directories(run / "model", ec);
  RETURN_IF_ERROR(WriteText(run / "model" / "config.json", config_json + "\n"));
  RETURN_IF_ERROR(model::SaveSafetensors((run / "model" / "model.safetensors").string(),
                                         model::NamedWeights(*m),
                                         {{"format", "pt"}, {"dataset_id", o.dataset_id}}));
  return result;
}

}  // namespace

double LearningRate(int64_t step, const TrainOptions& o) {
  if (step < o.warmup_steps)
    return o.learning_rate * (step + 1) / static_cast<double>(o.warmup_steps);
  const double span = std::max<int64_t>(1, o.max_steps - o.warmup_steps);
  const double progress = std::min(1.0, (step - o.warmup_steps) / span);
  const double min_lr = o.learning_rate * o.min_learning_rate_ratio;
  return min_lr + (o.learning_rate - min_lr) * 0.5 * (1 + std::cos(kPi * progress));
}

StatusOr<SplitLoss> EvaluateLoss(const std::string& model_dir,
                                 const std::vector<std::string>& dataset_dirs,
                                 const std::string& split, const TextEncoder& enc,
                                 const model::PromptOptions& prompt) {
  try {
    ASSIGN_OR_RETURN(const model::ModelConfig config,
                     model::LoadConfig((fs::path(model_dir) / "config.json").string()));
    if (config.findings.read_as_text && prompt.image)
      return InvalidArgumentError(
          "this model reads its findings as text; its loss needs the head's reading of each "
          "image (use medscribe eval)");
    model::ReportModel m(config);
    ASSIGN_OR_RETURN(const model::Safetensors weights,
                     model::LoadSafetensors((fs::path(model_dir) / "model.safetensors").string()));
    RETURN_IF_ERROR(model::LoadWeights(*m, weights));
    const size_t max_tokens = MaxExampleTokens(config);
    SplitLoss out;
    double total = 0;
    for (const std::string& dir : dataset_dirs) {
      ASSIGN_OR_RETURN(const SplitSamples raw, ReadSplit(dir, split));
      std::vector<Example> examples;
      for (const RawSample& r : raw.samples)
        examples.push_back(MakeExample(r, enc, prompt, max_tokens));
      int64_t tokens = 0;
      for (const Example& e : examples)
        for (int64_t l : e.labels) tokens += l != model::kIgnoreIndex;
      const double mean = Evaluate(m, examples, 8, enc.pad(), prompt.image ? enc.image_token() : -1,
                                   nullptr, torch::Device(torch::kCPU));
      total += mean * static_cast<double>(tokens);
      out.tokens += tokens;
    }
    out.loss = out.tokens ? total / static_cast<double>(out.tokens) : 0;
    return out;
  } catch (const c10::Error& e) {
    return InternalError(std::string("evaluation failed: ") + e.what_without_backtrace());
  }
}

StatusOr<TrainResult> Train(const TrainOptions& options, const TextEncoder& encoder) {
  // LibTorch reports shape and device errors as c10::Error; they end here as a Status.
  try {
    if (!options.dp.enabled()) return TrainChecked(options, encoder, nullptr);
    RETURN_IF_ERROR(CheckDpSgd(options));
    ASSIGN_OR_RETURN(const SplitIndex train, IndexSplit(options.dataset_dir, "train"));
    const int ranks = options.comm ? options.comm->world_size() : 1;
    ASSIGN_OR_RETURN(const DpSgdPlan plan,
                     PlanDpSgd(options.dp, static_cast<int64_t>(train.samples.size()),
                               options.batch_size * ranks, options.max_steps));
    const bool leader = !options.comm || options.comm->rank() == 0;
    if (leader && options.progress) {
      std::fprintf(stderr,
                   "DP-SGD: each of %zu examples drawn with probability %.4g per step, gradients "
                   "clipped to %g, noise multiplier %.4g; %lld steps spend epsilon %.3f at delta "
                   "%g\n",
                   train.samples.size(), plan.sample_rate, plan.max_grad_norm,
                   plan.noise_multiplier, static_cast<long long>(plan.steps), plan.epsilon,
                   plan.delta);
      if (plan.steps < options.max_steps)
        std::fprintf(stderr,
                     "DP-SGD: the budget of epsilon %g ends after %lld of the %lld steps asked; "
                     "the run stops there\n",
                     options.dp.epsilon, static_cast<long long>(plan.steps),
                     static_cast<long long>(options.max_steps));
    }
    TrainOptions within = options;
    within.max_steps = plan.steps;
    return TrainChecked(within, encoder, &plan);
  } catch (const c10::Error& e) {
    return InternalError(std::string("training failed: ") + e.what_without_backtrace());
  }
}

}  // namespace medscribe::train
