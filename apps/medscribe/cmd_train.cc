// `medscribe tokenizer train` and `medscribe train`: the report model's tokenizer and training.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "common/files.h"
#include "finding_labels.h"
#include "ingest/manifest.h"
#include "model/config.h"
#include "model/dictated_change.h"
#include "model/export.h"
#include "model/gguf.h"
#include "report_engine.h"
#include "sentencepiece_encoder.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/distributed.h"
#include "train/trainer.h"

#ifndef MEDSCRIBE_GIT_COMMIT
#define MEDSCRIBE_GIT_COMMIT "unknown"
#endif

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;

// Trains a tokenizer on the training split's prompts and reports into `out_dir`.
Status TrainTokenizer(const std::string& dataset, int vocab, const std::string& out_dir, int jobs) {
  ASSIGN_OR_RETURN(train::SplitSamples split, train::ReadSplit(dataset, "train"));
  if (split.samples.empty()) return FailedPreconditionError("the dataset's train split is empty");
  std::vector<std::string> texts;
  for (const train::RawSample& s : split.samples) {
    auto p = model::BuildPrompt(s.sample);
    if (!p.ok()) continue;
    texts.push_back(p->text);
    texts.push_back(p->target);
  }
  std::vector<std::string> symbols(std::begin(model::kChangeTokens),
                                   std::end(model::kChangeTokens));
  for (std::string& p : model::ChangeWordPieces()) symbols.push_back(std::move(p));
  return tokenizer::Tokenizer::Train(
      texts, out_dir, {.vocab_size = vocab, .threads = jobs > 0 ? jobs : 1, .symbols = symbols});
}

struct TrainArgs {
  std::string dataset, config = "tiny", out, tokenizer;
  int64_t max_steps = 300, checkpoint_every = 100, eval_every = 100, batch_size = 8, warmup = 30;
  double lr = 1e-3;
  uint64_t seed = 0;
  int jobs = 0, vocab = 8000;
  int64_t grad_accum = 1, micro_batches = 0;
  double bucket_mb = 25;
  int timeout_s = 300, zero = 0, tp = 1, pp = 1, servers = 1, staleness = 0;
  std::string device = "cpu", precision = "fp32", schedule = "1f1b", strategy = "allreduce";
  bool checkpoint_activations = false;
  int loader_threads = 2;
  int64_t length_buckets = 0;
  bool no_overlap = false;
  bool no_image = false, no_dictation = false, print_topology = false;
  double dictation_dropout = 0;
  double reported_read = -1;  // -1: 0.5 for a configuration that reads its findings as text
  double decision_weight = 1;
  std::string init_decoder;
  std::string
      init_from;  // a model to fine-tune: its weights (and, unless given, config and tokenizer)
  std::string init_dir;  // init_from resolved
  std::string image_from;
  int image_warmup_epochs = -1;  // -1: 25 for a configuration with the finding head, else 0
  double image_lr = 3e-3, image_weight_decay = 5e-4;
  double read_beta = 0;
  std::string report_metrics;   // "", "stdout" or "vertex"
  std::string hyperparameters;  // a JSON file of option values (SageMaker's)
  double aux_loss_weight = 0.5;
  double weight_decay = 0.01;
  double dp_max_grad_norm = 0, dp_noise = 0, dp_epsilon = 0, dp_delta = 1e-5;
};

// LibTorch's --jobs sets its own thread pools; the BLAS it calls (OpenBLAS on Debian) keeps a
// pool of its own, sized at load time. Resize it too when the library offers the call.
void LimitBlasThreads(int jobs) {
  if (jobs <= 0) return;
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    fn(jobs);
}

int RunTrain(const TrainArgs& a) {
  if (a.print_topology) {
    auto t = train::WorldFromEnv();
    if (!t.ok()) return ReportError(t.status());
    std::printf("%s\n", train::TopologyJson(*t).c_str());
    return kExitOk;
  }
  if (a.dataset.empty() || a.out.empty()) {
    return ReportError(InvalidArgumentError("--dataset DIR and --out RUN_DIR are required"));
  }
  LimitBlasThreads(a.jobs);
  auto config = model::LoadConfig(a.config);
  if (!config.ok()) return ReportError(config.status());
  auto world = train::WorldFromEnv();
  if (!world.ok()) return ReportError(world.status());
  if (world->world_size > 1 && a.tokenizer.empty()) {
    return ReportError(
        InvalidArgumentError("with WORLD_SIZE > 1 pass --tokenizer DIR (train it once with "
                             "`medscribe tokenizer train`)"));
  }
  auto dataset_id = ingest::DatasetId(a.dataset);
  if (!dataset_id.ok()) return ReportError(dataset_id.status());
  std::string tokenizer_dir = a.tokenizer;
  if (tokenizer_dir.empty()) {
    tokenizer_dir = (fs::path(a.out) / "tokenizer").string();
    if (!fs::exists(fs::path(tokenizer_dir) / "tokenizer.model")) {
      std::fprintf(stderr, "training a tokenizer (vocabulary %d) on the train split...\n", a.vocab);
      if (Status s = TrainTokenizer(a.dataset, a.vocab, tokenizer_dir, a.jobs); !s.ok())
        return ReportError(s);
    }
  }
  auto tok = tokenizer::Tokenizer::Load((fs::path(tokenizer_dir) / "tokenizer.model").string());
  if (!tok.ok()) return ReportError(tok.status());
  const std::string serialized = tok->Serialized();
  SentencePieceEncoder enc(std::move(tok).value());
  train::TrainOptions o;
  o.dataset_dir = a.dataset;
  o.dataset_id = *dataset_id;
  o.run_dir = a.out;
  o.config = *config;
  o.max_steps = a.max_steps;
  o.checkpoint_every = a.checkpoint_every;
  o.eval_every = a.eval_every;
  o.batch_size = a.batch_size;
  o.learning_rate = a.lr;
  o.warmup_steps = a.warmup;
  if (a.report_metrics == "stdout") {
    o.on_validation = [](int64_t step, double loss) {
      std::printf("step=%lld val_loss=%.6f\n", static_cast<long long>(step), loss);
      std::fflush(stdout);
    };
  } else if (a.report_metrics == "vertex") {
    const char* env = std::getenv("CLOUD_ML_HP_METRIC_FILE");
    const fs::path file = env && *env ? env : "/tmp/hypertune/output.metrics";
    const char* trial_env = std::getenv("CLOUD_ML_TRIAL_ID");
    const std::string trial = trial_env && *trial_env ? trial_env : "0";
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    o.on_validation = [file, trial](int64_t step, double loss) {
      // One JSON object per report, keys sorted, values as strings (the hypertune library's).
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      char value[40];
      std::snprintf(value, sizeof(value), "%.9g", loss);
      nlohmann::json line = {{"global_step", std::to_string(step)},
                             {"timestamp", now},
                             {"trial", trial},
                             {"val_loss", value}};
      std::ofstream(file, std::ios::app) << line.dump() << "\n";
    };
  }
  o.seed = a.seed;
  o.threads = a.jobs;
  o.prompt.image = !a.no_image;
  o.prompt.dictation = !a.no_dictation;
  o.dictation_dropout = a.dictation_dropout;
  o.reported_read = a.reported_read >= 0 ? a.reported_read
                                         : (config->findings.read_as_text && !a.no_image ? 0.5 : 0);
  o.decision_weight = a.decision_weight;
  o.init_decoder = a.init_decoder;
  if (!a.init_dir.empty()) o.init_weights = (fs::path(a.init_dir) / "model.safetensors").string();
  static const ReportFindingLabeler kLabeler;
  o.finding_labeler = &kLabeler;
  o.image_warmup_epochs =
      a.image_warmup_epochs >= 0 ? a.image_warmup_epochs : (config->findings.enabled ? 25 : 0);
  o.image_from = a.image_from;
  o.image_learning_rate = a.image_lr;
  o.read_beta = a.read_beta;
  o.image_weight_decay = a.image_weight_decay;
  o.aux_loss_weight = a.aux_loss_weight;
  o.weight_decay = a.weight_decay;
  o.code_commit = MEDSCRIBE_GIT_COMMIT;
  if (a.micro_batches > 0 && a.grad_accum != 1 && a.grad_accum != a.micro_batches)
    return ReportError(InvalidArgumentError(
        "--micro-batches and --grad-accum name the same count (micro-batches per step); give one"));
  o.grad_accum = a.micro_batches > 0 ? a.micro_batches : a.grad_accum;
  o.pipeline_parallel = a.pp;
  o.schedule = a.schedule;
  o.bucket_bytes = static_cast<int64_t>(a.bucket_mb * (1 << 20));
  o.overlap = !a.no_overlap;
  o.restart_count = world->restart_count;
  o.zero_stage = a.zero;
  o.tensor_parallel = a.tp;
  o.strategy = a.strategy;
  o.servers = a.servers;
  o.staleness = a.staleness;
  o.device = a.device;
  o.local_rank = world->local_rank;
  o.precision = a.precision;
  o.checkpoint_activations = a.checkpoint_activations;
  o.loader_threads = a.loader_threads;
  o.length_buckets = a.length_buckets;
  o.dp.max_grad_norm = a.dp_max_grad_norm;
  if (o.dp.max_grad_norm == 0 && (a.dp_noise > 0 || a.dp_epsilon > 0)) o.dp.max_grad_norm = 1.0;
  o.dp.noise_multiplier = a.dp_noise;
  o.dp.epsilon = a.dp_epsilon;
  o.dp.delta = a.dp_delta;
  if (a.timeout_s < 1) return ReportError(InvalidArgumentError("--timeout must be at least 1"));
  auto comm = train::Connect(*world, a.timeout_s, a.device != "cpu");
  if (!comm.ok()) return ReportError(comm.status());
  o.comm = comm->get();
  auto r = train::Train(o, enc);
  if (!r.ok()) return ReportError(r.status());
  std::fprintf(stderr,
               "rank %d: peak RSS %.1f MiB, parameters %.2f MiB, gradients %.2f MiB, optimizer "
               "state %.2f MiB (ZeRO stage %d, tensor parallel %d)\n",
               world->rank, r->peak_rss_bytes / 1048576.0, r->parameter_bytes / 1048576.0,
               r->gradient_bytes / 1048576.0, r->optimizer_state_bytes / 1048576.0, a.zero, a.tp);
  if (r->parameter_server) {
    std::fprintf(stderr,
                 "rank %d: parameter server; %lld pulls held for slower workers, the fastest "
                 "worker led the slowest by up to %lld steps (staleness %d)\n",
                 world->rank, static_cast<long long>(r->ps_held_pulls),
                 static_cast<long long>(r->ps_max_lead), a.staleness);
    return kExitOk;
  }
  if (a.strategy == "ps") {
    std::fprintf(stderr,
                 "rank %d: worker; waited %.2f s for slower workers on %lld steps, weights at "
                 "most %lld updates behind (staleness %d)\n",
                 world->rank, r->ps_wait_s, static_cast<long long>(r->ps_waited_steps),
                 static_cast<long long>(r->ps_max_lag), a.staleness);
  }
  if (a.pp > 1) {
    std::fprintf(stderr,
                 "rank %d: pipeline stage %d of %d, decoder blocks %zu..%zu, waiting %.1f%% of "
                 "its step time (equal stages in theory: %.1f%%)\n",
                 world->rank, r->pipeline_stage, a.pp, r->stage_first_block, r->stage_end_block - 1,
                 100 * r->pipeline_wait_fraction, 100.0 * (a.pp - 1) / (o.grad_accum + a.pp - 1));
  }
  if (r->dp.steps > 0) {
    std::fprintf(stderr,
                 "rank %d: DP-SGD: %lld of %lld examples had a gradient above %g and were "
                 "clipped\n",
                 world->rank, static_cast<long long>(r->dp_clipped),
                 static_cast<long long>(r->dp_examples), r->dp.max_grad_norm);
  }
  if (world->rank != 0) return kExitOk;
  if (r->dp.steps > 0) {
    std::printf(
        "privacy: epsilon %.3f at delta %g (DP-SGD, %lld steps, noise %.4g, clip %g, "
        "sampling rate %.4g)\n",
        r->dp.epsilon, r->dp.delta, static_cast<long long>(r->dp.steps), r->dp.noise_multiplier,
        r->dp.max_grad_norm, r->dp.sample_rate);
  }
  if (Status s = WriteFile(fs::path(a.out) / "model" / "tokenizer.model", serialized); !s.ok())
    return ReportError(s);
  std::printf(
      "run %s: %lld steps%s; loss %.4f -> %.4f, validation loss %.4f; %.0f tokens/s, %.1f "
      "samples/s\n",
      a.out.c_str(), static_cast<long long>(r->steps),
      r->resumed_from ? (" (resumed at step " + std::to_string(r->resumed_from) + ")").c_str() : "",
      r->first_loss, r->last_loss, r->val_loss, r->tokens_per_s, r->samples_per_s);
  std::printf("model: %s/model (config.json, model.safetensors, tokenizer.model)\n", a.out.c_str());
  return kExitOk;
}

}  // namespace

Runner RegisterTokenizer(CLI::App& app) {
  app.require_subcommand(1);
  CLI::App* t =
      app.add_subcommand("train", "Train the SentencePiece tokenizer on a dataset's train split");
  auto dataset = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto vocab = std::make_shared<int>(8000);
  auto jobs = std::make_shared<int>(0);
  t->add_option("--dataset", *dataset, "Dataset directory (medscribe ingest)")
      ->required()
      ->type_name("DIR");
  t->add_option("--out", *out, "Output directory (tokenizer.model)")->required()->type_name("DIR");
  t->add_option("--vocab", *vocab, "Vocabulary size (smaller when the text has fewer pieces)")
      ->capture_default_str();
  t->add_option("--jobs", *jobs, "Threads (0: 1, which makes training deterministic)")
      ->capture_default_str();
  return [=](GlobalOptions&) {
    if (Status s = TrainTokenizer(*dataset, *vocab, *out, *jobs); !s.ok()) return ReportError(s);
    auto tok = tokenizer::Tokenizer::Load((fs::path(*out) / "tokenizer.model").string());
    if (!tok.ok()) return ReportError(tok.status());
    std::printf("tokenizer %s/tokenizer.model: %d pieces\n", out->c_str(), tok->vocab_size());
    return kExitOk;
  };
}

// The tokenizer's vocabulary as GGUF writes it.
model::GgufVocab GgufVocabOf(const tokenizer::Tokenizer& tok) {
  model::GgufVocab v;
  for (int id = 0; id < tok.vocab_size(); ++id) {
    tokenizer::Piece p = tok.PieceAt(id);
    constexpr int32_t kTypes[] = {model::kGgufNormal,      model::kGgufUnknown, model::kGgufControl,
                                  model::kGgufUserDefined, model::kGgufUnused,  model::kGgufByte};
    v.types.push_back(kTypes[static_cast<int>(p.kind)]);
    v.tokens.push_back(std::move(p.text));
    v.scores.push_back(p.score);
  }
  v.pad = tokenizer::kPadId, v.unk = tokenizer::kUnkId;
  v.bos = tokenizer::kBosId, v.eos = tokenizer::kEosId;
  return v;
}

Runner RegisterExport(CLI::App& app) {
  auto format = std::make_shared<std::string>("hf");
  auto type = std::make_shared<std::string>("f32");
  auto model_ref = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  app.add_option("--format", *format,
                 "hf: a Hugging Face LlamaForCausalLM directory; gguf: one GGUF file for "
                 "llama.cpp, Ollama and LM Studio (the decoder)")
      ->capture_default_str();
  app.add_option("--type", *type, "GGUF weight type: f32, f16, q8_0 or q4_0")
      ->capture_default_str();
  app.add_option("--model", *model_ref,
                 "Registry NAME[@VERSION|@ALIAS] or a model directory (RUN_DIR/model)")
      ->required()
      ->type_name("MODEL");
  app.add_option("--out", *out, "Output directory (hf) or file (gguf)")
      ->required()
      ->type_name("PATH");
  return [=](GlobalOptions& g) {
    auto dir = ResolveModelDir(g, *model_ref);
    if (!dir.ok()) return ReportError(dir.status());
    if (*format == "hf") {
      if (Status s = model::ExportHf(*dir, *out); !s.ok()) return ReportError(s);
      std::printf(
          "exported %s: config.json, model.safetensors, tokenizer.model (LlamaForCausalLM)\n",
          out->c_str());
      return kExitOk;
    }
    if (*format != "gguf") return ReportError(InvalidArgumentError("--format must be hf or gguf"));
    auto t = model::ParseGgufType(*type);
    if (!t.ok()) return ReportError(t.status());
    auto tok =
        tokenizer::Tokenizer::Load((std::filesystem::path(*dir) / "tokenizer.model").string());
    if (!tok.ok()) return ReportError(tok.status());
    if (Status s = model::ExportGguf(*dir, GgufVocabOf(*tok), *t, *out); !s.ok())
      return ReportError(s);
    std::error_code ec;
    std::printf("exported %s: GGUF v3, llama architecture, %s weights, %.1f MiB\n", out->c_str(),
                type->c_str(),
                static_cast<double>(std::filesystem::file_size(*out, ec)) / (1 << 20));
    return kExitOk;
  };
}

// Sets the options named in the JSON object at `path` that the command line did not give
// (values as strings or numbers; SageMaker's own "sagemaker_*" keys are skipped).
// InvalidArgument naming the key for an unknown option or a value the option refuses.
Status ApplyHyperparameters(CLI::App& app, const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return InvalidArgumentError(path + " is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key.rfind("sagemaker_", 0) == 0) continue;
    CLI::Option* opt = app.get_option_no_throw("--" + key);
    if (opt == nullptr || key == "hyperparameters")
      return InvalidArgumentError(path + ": '" + key + "' is not a `medscribe train` option");
    if (opt->count() > 0) continue;  // the command line wins
    std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    try {
      opt->add_result(v);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return InvalidArgumentError(path + ": " + key + "='" + v + "': " + e.what());
    }
  }
  return OkStatus();
}

Runner RegisterTrain(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  app.add_option("--dataset", a->dataset, "Dataset directory (medscribe ingest); required")
      ->type_name("DIR");
  app.add_option("--config", a->config,
                 "Model preset (tiny: tests; quick: the quickstart's, minutes on CPUs; base: the "
                 "quality recipe on CPUs; small: GPUs) or "
                 "JSON file")
      ->capture_default_str();
  app.add_option("--out", a->out, "Run directory (created; an existing run resumes); required")
      ->type_name("RUN_DIR");
  app.add_flag("--print-topology", a->print_topology,
               "Print this process's rank, world size, local rank and rendezvous address as "
               "the launcher's environment describes them (one JSON object), then exit");
  app.add_option("--tokenizer", a->tokenizer,
                 "Tokenizer directory (default: train one into RUN_DIR/tokenizer)")
      ->type_name("DIR");
  app.add_option("--vocab", a->vocab, "Vocabulary of the tokenizer trained without --tokenizer")
      ->capture_default_str();
  app.add_option("--max-steps", a->max_steps, "Optimizer steps in total")->capture_default_str();
  app.add_option("--checkpoint-every", a->checkpoint_every, "Steps between checkpoints")
      ->capture_default_str();
  app.add_option("--eval-every", a->eval_every, "Steps between validations")->capture_default_str();
  app.add_option("--batch-size", a->batch_size,
                 "Samples per micro-step and rank (the global batch is batch size x grad-accum x "
                 "world size)")
      ->capture_default_str();
  app.add_option("--pp", a->pp,
                 "Pipeline parallelism: stages the decoder's blocks are cut into (balanced by "
                 "measured time; stage 0 also runs the image path, the last the loss); the world "
                 "is data-parallel x pp x tp ranks")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--micro-batches", a->micro_batches,
                 "Micro-batches of --batch-size per optimizer step, pipelined through the stages "
                 "with --pp (the same count as --grad-accum)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--schedule", a->schedule,
                 "Pipeline schedule: gpipe (all forwards, then all backwards) or 1f1b (one "
                 "forward, one backward in turn: fewer activations held)")
      ->capture_default_str();
  app.add_option("--grad-accum", a->grad_accum,
                 "Micro-steps whose gradients accumulate before each optimizer step")
      ->capture_default_str();
  app.add_option("--bucket-mb", a->bucket_mb,
                 "Data parallelism: size of the gradient buckets all-reduced during backward")
      ->capture_default_str();
  app.add_option("--timeout", a->timeout_s,
                 "Data parallelism: seconds to wait for the other ranks at rendezvous and in any "
                 "collective before the run fails (a dead host or a cut link)")
      ->capture_default_str();
  app.add_option(
         "--zero", a->zero,
         "ZeRO stage: 0 every rank holds the optimizer state, 1 shards it across ranks, "
         "2 also reduces each gradient to its owner only, 3 also holds each decoder block's "
         "weights on its owner only, gathered while the block runs (its activations are "
         "recomputed in backward)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3));
  app.add_option("--tp", a->tp,
                 "Tensor parallelism: ranks that split each decoder block's matrices and the "
                 "vocabulary (Megatron-style); must divide the world size, the attention and "
                 "key/value heads and the MLP width. The world is data-parallel x pp x tp ranks")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--strategy", a->strategy,
                 "How gradients meet: allreduce (every rank sums them) or ps (the last --servers "
                 "ranks are parameter servers that own the weights and optimizer state; the "
                 "other ranks are workers that push gradients and pull weights)")
      ->capture_default_str()
      ->check(CLI::IsMember({"allreduce", "ps"}));
  app.add_option("--servers", a->servers, "--strategy ps: ranks that serve parameters")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--staleness", a->staleness,
                 "--strategy ps: updates a worker's weights may lag behind its step; 0 is "
                 "synchronous (the same training as allreduce), S > 0 lets a worker up to S steps "
                 "behind stall no other (validation and checkpoint steps always wait)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_option("--length-buckets", a->length_buckets,
                 "Batch examples of like lengths (less padding): sort each window of N batches "
                 "of an epoch's shuffled order by length before cutting it into batches, whose "
                 "order is then shuffled; 0: off")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--loader-threads", a->loader_threads,
                 "Threads reading, tokenizing and batching samples from the shards ahead of the "
                 "steps")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--device", a->device,
                 "cpu, cuda (the GPU of this process's LOCAL_RANK) or cuda:N")
      ->capture_default_str();
  app.add_option("--precision", a->precision,
                 "fp32; bf16 (autocast, fp32 master weights; CPU or CUDA); fp16 (CUDA, dynamic "
                 "loss scaling)")
      ->capture_default_str();
  app.add_flag("--checkpoint-activations", a->checkpoint_activations,
               "Recompute each transformer block in backward instead of keeping its activations "
               "(less memory, about one more forward pass of compute)");
  app.add_flag("--no-overlap", a->no_overlap,
               "Data parallelism: all-reduce the gradients after backward instead of during it");
  app.add_option("--lr", a->lr, "Peak learning rate (AdamW, warmup then cosine)")
      ->capture_default_str();
  app.add_option("--warmup", a->warmup, "Warmup steps")->capture_default_str();
  app.add_option("--seed", a->seed, "Seed of initialization and sample order")
      ->capture_default_str();
  app.add_option("--jobs", a->jobs, "CPU threads (0: all cores)")->capture_default_str();
  app.add_option("--init-decoder", a->init_decoder,
                 "Start the decoder from a LLaMA-family checkpoint (HF config.json + safetensors, "
                 "single or sharded)")
      ->type_name("DIR");
  app.add_flag("--no-image", a->no_image, "Ablation: train without the image");
  app.add_option("--image-warmup-epochs", a->image_warmup_epochs,
                 "Epochs training the vision encoder and finding head alone on the training "
                 "reports' finding labels before the decoder trains on their frozen features "
                 "(default: 25 with a finding head, e.g. the base preset; 0: train jointly)");
  app.add_option("--image-from", a->image_from,
                 "Take the image warm-up of another run of the same configuration instead of "
                 "warming up again (e.g. the --no-dictation ablation from the full run)")
      ->type_name("RUN_DIR");
  app.add_option("--image-lr", a->image_lr, "Peak learning rate of the image warm-up")
      ->capture_default_str();
  app.add_option("--image-weight-decay", a->image_weight_decay, "Weight decay of the image warm-up")
      ->capture_default_str();
  app.add_option("--read-beta", a->read_beta,
                 "After the image warm-up, read each finding at the threshold that maximizes "
                 "F-beta on the validation reports (below 1 favours precision: fewer findings "
                 "the image does not show); 0 reads every finding at probability 0.5 (calibrated "
                 "at F1, the bench recipe's drafts asserted more findings the images lack)")
      ->check(CLI::Range(0.0, 4.0))
      ->capture_default_str();
  app.add_option("--aux-loss-weight", a->aux_loss_weight,
                 "Weight of the finding head's loss when training jointly")
      ->capture_default_str();
  app.add_option("--weight-decay", a->weight_decay,
                 "Decoupled weight decay of the matrices (not norms, biases, embeddings)")
      ->capture_default_str();
  app.add_flag("--no-dictation", a->no_dictation,
               "Ablation: train without the dictation transcript");
  app.add_option("--dictation-dropout", a->dictation_dropout,
                 "Fraction of training examples shown without their dictation, drawn anew each "
                 "time, so findings are read from the image (validation keeps the dictation)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--reported-read", a->reported_read,
                 "For a model that reads its findings as text (base): the fraction of training "
                 "examples whose prompt carries the reading of their own report's labels instead "
                 "of the finding head's, so the decoder learns to write what the reading says "
                 "(validation keeps the head's); default 0.5 for such a configuration, else 0")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--decision-weight", a->decision_weight,
                 "Loss weight of the report's decision words (sides, sizes, severities, changes, "
                 "negations, digits) against 1 for the rest")
      ->check(CLI::Range(1.0, 100.0))
      ->capture_default_str();
  app.add_option("--dp-epsilon", a->dp_epsilon,
                 "DP-SGD: the privacy budget epsilon; alone, it sets the smallest noise that "
                 "spends it in --max-steps; with --dp-noise, the run stops when it is spent")
      ->check(CLI::PositiveNumber);
  app.add_option("--dp-delta", a->dp_delta,
                 "DP-SGD: delta of (epsilon, delta)-DP; must be below 1 / (training examples)")
      ->capture_default_str();
  app.add_option("--dp-max-grad-norm", a->dp_max_grad_norm,
                 "DP-SGD: each example's gradient is clipped to this L2 norm (default 1 when "
                 "--dp-epsilon or --dp-noise is given)")
      ->check(CLI::PositiveNumber);
  app.add_option("--dp-noise", a->dp_noise,
                 "DP-SGD: noise multiplier (standard deviation of the noise / clip norm); "
                 "batches are Poisson-sampled with rate (batch x ranks) / examples, and the "
                 "epsilon spent is printed and kept in the model's lineage (docs/privacy.md)")
      ->check(CLI::PositiveNumber);
  app.add_option("--report-metrics", a->report_metrics,
                 "Report the validation loss for a tuning service after every validation: "
                 "stdout (a `val_loss=X` line, for Katib's collector and SageMaker or Azure ML "
                 "metric regexes) or vertex (the hypertune metrics file, "
                 "$CLOUD_ML_HP_METRIC_FILE or /tmp/hypertune/output.metrics)")
      ->check(CLI::IsMember({"stdout", "vertex"}));
  app.add_option("--hyperparameters", a->hyperparameters,
                 "A JSON object of option values, e.g. SageMaker's "
                 "/opt/ml/input/config/hyperparameters.json ({\"lr\": \"0.001\"}); options on "
                 "the command line win")
      ->type_name("FILE");
  CLI::App* self = &app;
  app.add_option("--init-from", a->init_from,
                 "Fine-tune a model: registry NAME[@VERSION|@ALIAS] (e.g. chest@production) or a "
                 "model directory; its weights start the run, and its config and tokenizer are "
                 "used unless --config or --tokenizer is given")
      ->type_name("MODEL");
  return [a, self](GlobalOptions& g) {
    if (!a->hyperparameters.empty()) {
      if (Status s = ApplyHyperparameters(*self, a->hyperparameters); !s.ok())
        return ReportError(s);
    }
    if (!a->init_from.empty()) {
      auto dir = ResolveModelDir(g, a->init_from);  // verified; decrypted while this runs
      if (!dir.ok()) return ReportError(dir.status());
      a->init_dir = *dir;
      if (self->get_option("--config")->count() == 0)
        a->config = (fs::path(*dir) / "config.json").string();
      if (a->tokenizer.empty()) a->tokenizer = *dir;
    }
    return RunTrain(*a);
  };
}

}  // namespace medscribe::cli
