// `medscribe generate`: one report, streamed to stdout, by the inference engine (or by the naive
// reference path it is checked against). `medscribe quantize`: a registered model's weights as
// int8, int4 or bf16, registered as a child artifact with its measured report quality.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/files.h"
#include "eval/labeler.h"
#include "model/json.h"
#include "model/safetensors.h"
#include "model/stated_reading.h"
#include "registry/plaintext_dir.h"
#include "registry/registry.h"
#include "registry_access.h"
#include "report_engine.h"
#include "train/data.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;

struct GenerateArgs {
  std::string model, dataset, split = "test", key, sample, format = "f32", draft_model, prompt;
  std::string past_reports;  // a split of `dataset` whose reports seed the n-gram drafts
  bool reference = false, no_speculative = false, no_image = false, print_ids = false,
       show_prompt = false, ignore_eos = false;
  int threads = 0, count = 0, max_draft = 6;
  engine::SamplingParams sampling;
};

// The samples to generate for: --sample FILE, --key KEY, or the first --count of the split.
StatusOr<std::vector<train::RawSample>> FindSamples(const GenerateArgs& a) {
  if (!a.sample.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(a.sample));
    auto j = model::json::Parse(text);
    if (!j.ok()) return InvalidArgumentError(a.sample + " is not JSON: " + j.status().message());
    return std::vector<train::RawSample>{
        train::RawSample{fs::path(a.sample).stem().string(), *j, torch::Tensor()}};
  }
  ASSIGN_OR_RETURN(train::SplitIndex index, train::IndexSplit(a.dataset, a.split));
  std::vector<train::RawSample> out;
  for (size_t i = 0; i < index.samples.size(); ++i) {
    if (a.count > 0 ? out.size() < static_cast<size_t>(a.count) : index.samples[i].key == a.key) {
      ASSIGN_OR_RETURN(train::RawSample s, train::ReadSample(index, i));
      out.push_back(std::move(s));
    }
  }
  if (out.empty()) {
    return NotFoundError(a.count > 0
                             ? "the " + a.split + " split of " + a.dataset + " is empty"
                             : "no sample '" + a.key + "' in the " + a.split + " split of " +
                                   a.dataset + " (keys are the dataset's <key>.json names)");
  }
  return out;
}

int RunGenerate(GlobalOptions& g, const GenerateArgs& a) {
  const bool from_dataset = !a.dataset.empty() && (!a.key.empty() || a.count > 0);
  if (static_cast<int>(!a.sample.empty()) + static_cast<int>(from_dataset) +
              static_cast<int>(!a.prompt.empty()) !=
          1 ||
      (!a.key.empty() && a.count > 0))
    return ReportError(InvalidArgumentError(
        "give --dataset DIR with --key KEY or --count N, or --sample FILE, or --prompt TEXT"));
  if (Status s = engine::Validate(a.sampling); !s.ok()) return ReportError(s);
  auto format = engine::ParseWeightFormat(a.format);
  if (!format.ok()) return ReportError(format.status());
  auto dir = ResolveModelDir(g, a.model);
  if (!dir.ok()) return ReportError(dir.status());
  // A text prompt is one sample without an image; its request is built from the text below.
  auto samples = a.prompt.empty()
                     ? FindSamples(a)
                     : StatusOr<std::vector<train::RawSample>>(std::vector<train::RawSample>(1));
  if (!samples.ok()) return ReportError(samples.status());
  engine::EngineOptions o;
  o.format = *format;
  o.threads = a.threads;
  o.speculative = !a.no_speculative;
  o.max_draft = a.max_draft;
  if (a.ignore_eos) o.eos_id = -1;
  if (!a.draft_model.empty()) {
    auto draft = ResolveModelDir(g, a.draft_model);
    if (!draft.ok()) return ReportError(draft.status());
    o.draft_model_dir = *draft;
  }
  auto e = LoadReportEngine(*dir, o);
  if (!e.ok()) return ReportError(e.status());
  if (!a.past_reports.empty()) {
    if (a.dataset.empty())
      return ReportError(
          InvalidArgumentError("--past-reports SPLIT reads --dataset DIR: give both"));
    auto added = AddPastReports(*e, a.dataset, a.past_reports);
    if (!added.ok()) return ReportError(added.status());
    std::fprintf(stderr, "drafting corpus: %zu reports of split '%s'\n", *added,
                 a.past_reports.c_str());
  }
  if (from_dataset) {
    if (Status s = train::CheckDatasetImageSpacing(a.dataset, e->engine->config().vision); !s.ok())
      return ReportError(s);
  }
  // One report after another (batch 1), each streamed to stdout.
  int64_t prompt = 0, tokens = 0;
  double ttft = 0, decode = 0;
  std::string finish;
  for (const train::RawSample& sample : *samples) {
    model::PromptOptions po;
    po.image = !a.no_image && sample.image.defined();
    model::StatedReading stated;  // what its draft states of its reading (stated_reading.h)
    auto request = a.prompt.empty() ? SampleRequest(*e, sample, po, &stated)
                                    : StatusOr<engine::GenerateRequest>(TextRequest(*e, a.prompt));
    if (!request.ok()) return ReportError(request.status());
    const std::vector<int32_t> prompt_ids = request->prompt;
    if (a.show_prompt) {
      const std::vector<int> ids(prompt_ids.begin() + (prompt_ids.empty() ? 0 : 1),
                                 prompt_ids.end());  // without BOS
      std::fprintf(stderr, "prompt%s%s: %s\n", samples->size() > 1 ? " of " : "",
                   samples->size() > 1 ? sample.key.c_str() : "",
                   e->text->tokenizer().Decode(ids).c_str());
    }
    request->sampling = a.sampling;
    if (samples->size() > 1) std::printf("%s: ", sample.key.c_str());
    engine::GenerateResult result;
    if (a.reference) {
      auto r = e->engine->Reference(*request);
      if (!r.ok()) return ReportError(r.status());
      result = *r;
      if (!a.print_ids) std::printf("%s\n", model::StateReading(result.text, stated).c_str());
    } else {
      model::ReadingStatement statement(stated);
      const auto print = [](const std::string& text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
      };
      if (!a.print_ids)
        request->on_text = [&](std::string_view piece) { print(statement.Feed(piece)); };
      request->on_done = [&](const engine::GenerateResult& r) { result = r; };
      auto id = e->engine->Submit(std::move(*request));
      if (!id.ok()) return ReportError(id.status());
      e->engine->RunUntilIdle();
      if (!a.print_ids) print(statement.Finish() + "\n");
      if (!result.status.ok()) return ReportError(result.status);
    }
    if (a.print_ids) {
      std::printf(
          "%s\n",
          nlohmann::json({{"prompt", prompt_ids}, {"tokens", result.tokens}}).dump().c_str());
    }
    std::fflush(stdout);
    prompt += result.prompt_tokens;
    tokens += static_cast<int64_t>(result.tokens.size());
    ttft += result.ttft_s;
    if (result.tokens.size() > 1) decode += result.total_s - result.ttft_s;
    finish = result.finish;
  }
  const engine::EngineStats st = e->engine->stats();
  const size_t n = samples->size();
  const int64_t after_first = tokens - static_cast<int64_t>(n);
  std::string spec;
  if (!a.reference && st.verifications > 0) {
    spec = ", speculative: " + std::to_string(st.accepted) + " of " + std::to_string(st.drafted) +
           " drafted tokens accepted in " + std::to_string(st.verifications) + " verifications";
  }
  std::fprintf(
      stderr,
      "%s: %zu report%s, %lld prompt positions, %lld tokens (last: %s), first token %.0f ms, "
      "%.1f tokens/s after it; weights %s%s\n",
      a.reference ? "reference (full recompute, no cache)" : "engine", n, n == 1 ? "" : "s",
      static_cast<long long>(prompt), static_cast<long long>(tokens), finish.c_str(),
      ttft / static_cast<double>(n) * 1e3,
      after_first > 0 && decode > 0 ? static_cast<double>(after_first) / decode : 0.0,
      engine::WeightFormatName(e->engine->weights().format), spec.c_str());
  return kExitOk;
}

struct QuantizeArgs {
  std::string model, format, out, dataset, split = "test";
  int limit = 100, max_tokens = 0;
};

int RunQuantize(GlobalOptions& g, const QuantizeArgs& a) {
  auto format = engine::ParseWeightFormat(a.format);
  if (!format.ok()) return ReportError(format.status());
  if (*format == engine::WeightFormat::kF32)
    return ReportError(InvalidArgumentError("--format must be int8, int4 or bf16"));
  auto reg = OpenRegistry(g);
  if (!reg.ok()) return ReportError(reg.status());
  auto parent = reg->Resolve(a.model);
  if (!parent.ok()) return ReportError(parent.status());
  const fs::path src(parent->dir);
  auto st = model::LoadSafetensors((src / "model.safetensors").string());
  if (!st.ok()) return ReportError(st.status());
  if (st->metadata.count("medscribe.quantization"))
    return ReportError(
        InvalidArgumentError(a.model + " is already quantized; quantize its parent"));
  auto q = engine::QuantizeTensors(*st, *format);
  if (!q.ok()) return ReportError(q.status());
  q->metadata["medscribe.quantization"] = a.format;

  // Staged as a run directory for the registry; the child of an encrypted model is staged in
  // memory and registered encrypted too.
  fs::path stage = fs::path(g.home) / "tmp" / ("quantize-" + std::to_string(::getpid()));
  std::optional<crypto::KeyRing> ring;
  if (parent->encrypted) {
    auto k = RegistryKeyRing(g, /*create=*/false);
    if (!k.ok()) return ReportError(k.status());
    ring = std::move(k).value();
    auto d = registry::MakePlaintextDir("quantize");
    if (!d.ok()) return ReportError(d.status());
    stage = *d;
  }
  std::error_code ec;
  fs::remove_all(stage, ec);
  fs::create_directories(stage / "model", ec);
  if (ec) return ReportError(IoError("cannot create " + stage.string() + ": " + ec.message()));
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{stage};
  for (const char* f : {"config.json", "tokenizer.model"}) {
    fs::copy_file(src / f, stage / "model" / f, ec);
    if (ec) return ReportError(IoError("cannot copy " + (src / f).string() + ": " + ec.message()));
  }
  model::NamedTensors tensors(q->tensors.begin(), q->tensors.end());
  if (Status s = model::SaveSafetensors((stage / "model" / "model.safetensors").string(), tensors,
                                        q->metadata);
      !s.ok())
    return ReportError(s);

  // Quality: clinical micro-F1 of greedy reports on the split, parent and child side by side.
  auto split = train::ReadSplit(a.dataset, a.split);
  if (!split.ok()) return ReportError(split.status());
  std::vector<train::RawSample>& samples = split->samples;
  if (a.limit > 0 && samples.size() > static_cast<size_t>(a.limit))
    samples.resize(static_cast<size_t>(a.limit));
  if (samples.empty())
    return ReportError(FailedPreconditionError("the " + a.split + " split of " + a.dataset +
                                               " is empty: nothing to measure quality on"));
  std::vector<eval::Labels> truth;
  std::vector<std::string> references;
  for (const auto& s : samples) {
    auto p = model::BuildPrompt(s.sample);
    if (!p.ok()) return ReportError(p.status());
    truth.push_back(eval::LabelReport(p->target));
    references.push_back(p->target);
  }
  struct Measured {
    double f1 = 0;
    int64_t file_bytes = 0, weight_bytes = 0;
    double seconds = 0;
  };
  const auto measure = [&](const fs::path& dir, const char* label) -> StatusOr<Measured> {
    auto e = LoadReportEngine(dir.string(), {});
    if (!e.ok()) return e.status();
    const auto t0 = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(
        std::vector<std::string> reports,
        GenerateReports(*e, samples, {}, GenerationBudget(*e, references, a.max_tokens), label));
    Measured m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<eval::Labels> labels;
    for (const auto& r : reports) labels.push_back(eval::LabelReport(r));
    m.f1 = eval::ClinicalF1(labels, truth).micro;
    m.file_bytes = static_cast<int64_t>(fs::file_size(dir / "model.safetensors"));
    m.weight_bytes = e->engine->weights().streamed_bytes();
    return m;
  };
  auto base = measure(src, "f32");
  if (!base.ok()) return ReportError(base.status());
  auto child = measure(stage / "model", a.format.c_str());
  if (!child.ok()) return ReportError(child.status());
  std::printf("%-6s  %12s  %16s  %9s  %8s\n", "format", "file bytes", "decoder bytes/tok",
              "micro-F1", "seconds");
  std::printf("%-6s  %12lld  %16lld  %9.4f  %8.1f\n", "f32",
              static_cast<long long>(base->file_bytes), static_cast<long long>(base->weight_bytes),
              base->f1, base->seconds);
  std::printf("%-6s  %12lld  %16lld  %9.4f  %8.1f\n", a.format.c_str(),
              static_cast<long long>(child->file_bytes),
              static_cast<long long>(child->weight_bytes), child->f1, child->seconds);

  // Lineage: the parent's run record, with the parent and the quantization added.
  auto run_text = ReadFile(src / "run.json");
  if (!run_text.ok()) return ReportError(run_text.status());
  nlohmann::json run = nlohmann::json::parse(*run_text, nullptr, false);
  if (!run.is_object())
    return ReportError(DataLossError((src / "run.json").string() + " is not JSON"));
  const std::string parent_ref = parent->name + "@" + std::to_string(parent->version);
  nlohmann::json quant = {{"format", a.format},
                          {"dataset", a.dataset},
                          {"split", a.split},
                          {"samples", samples.size()},
                          {"micro_f1", child->f1},
                          {"parent_micro_f1", base->f1},
                          {"file_bytes", child->file_bytes},
                          {"parent_file_bytes", base->file_bytes}};
  run["parent"] = parent_ref;
  run["quantization"] = quant;
  if (Status s = WriteFile(stage / "run.json", run.dump(2) + "\n"); !s.ok()) return ReportError(s);
  auto metrics = ReadFile(src / "metrics.jsonl");
  if (!metrics.ok()) return ReportError(metrics.status());
  nlohmann::json line = quant;
  line["event"] = "quantization";
  if (Status s = WriteFile(stage / "metrics.jsonl", *metrics + line.dump() + "\n"); !s.ok())
    return ReportError(s);
  auto e = reg->Register(stage.string(), a.out, {ring ? &*ring : nullptr});
  if (!e.ok()) return ReportError(e.status());
  std::printf("registered %s@%ld (%s of %s, signed%s); micro-F1 %.4f vs %.4f\n", e->name.c_str(),
              e->version, a.format.c_str(), parent_ref.c_str(), e->encrypted ? ", encrypted" : "",
              child->f1, base->f1);
  return kExitOk;
}

void AddSampling(CLI::App& app, engine::SamplingParams& s) {
  app.add_option("--max-tokens", s.max_tokens, "Most tokens to generate")->capture_default_str();
  app.add_option("--temperature", s.temperature, "0: greedy; > 0: sample")->capture_default_str();
  app.add_option("--top-k", s.top_k, "Sample among the k most likely tokens (0: all)");
  app.add_option("--top-p", s.top_p, "Nucleus sampling mass in (0, 1]")->capture_default_str();
  app.add_option("--repetition-penalty", s.repetition_penalty, ">= 1; 1: none");
  app.add_option("--seed", s.seed, "Random seed of this request");
  app.add_option("--stop", s.stop, "Stop sequence (repeatable); not part of the answer");
}

}  // namespace

Runner RegisterGenerate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  app.add_option("--model", a->model, "Registry NAME[@VERSION|@ALIAS] or a model directory")
      ->required();
  app.add_option("--dataset", a->dataset, "Dataset directory (with --key)")->type_name("DIR");
  app.add_option("--split", a->split, "Split holding the key")->capture_default_str();
  app.add_option("--key", a->key, "Sample key in the dataset");
  app.add_option("--count", a->count,
                 "Instead of --key: the first N samples of the split, one after another");
  app.add_option("--sample", a->sample, "A sample's JSON file (<key>.json), without its image")
      ->type_name("FILE");
  app.add_option("--prompt", a->prompt,
                 "Instead of a sample: continue this text (no image; tokenized after <s>)");
  app.add_flag("--show-prompt", a->show_prompt,
               "Print each prompt as the model reads it (with the finding head's reading of the "
               "image, for a model that reads its findings as text) to stderr");
  app.add_flag("--print-ids", a->print_ids,
               "Print the prompt's and the generated token ids as one JSON object per report "
               "({\"prompt\": [...], \"tokens\": [...]}) instead of the text");
  app.add_flag("--ignore-eos", a->ignore_eos,
               "Generate past the end token, up to --max-tokens (for comparing runtimes)");
  app.add_flag("--reference", a->reference,
               "Run the naive path the engine is checked against: full recompute for every "
               "token, no cache, no batching (greedy)");
  app.add_option("--format", a->format,
                 "Pack a float model's weights as f32, bf16, int8 or int4 when loading")
      ->capture_default_str();
  app.add_option("--threads", a->threads, "Threads (0: all cores)")->capture_default_str();
  app.add_option("--past-reports", a->past_reports,
                 "Seed the n-gram drafts with the reports of this split of --dataset (e.g. train: "
                 "the site's earlier reports); drafts change how fast a report comes, never what "
                 "it says");
  app.add_flag("--no-speculative", a->no_speculative,
               "Turn speculative decoding (n-gram drafts from the prompt and earlier reports) off");
  app.add_option("--max-draft", a->max_draft, "Draft tokens verified per step")
      ->capture_default_str();
  app.add_option("--draft-model", a->draft_model,
                 "A smaller model with the same tokenizer (registry reference or directory) "
                 "that drafts when the n-grams have nothing");
  app.add_flag("--no-image", a->no_image, "Leave the image out of the prompt");
  AddSampling(app, a->sampling);
  return [a](GlobalOptions& g) { return RunGenerate(g, *a); };
}

Runner RegisterQuantize(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  app.add_option("--model", a->model, "Registry NAME[@VERSION|@ALIAS] of a float model")
      ->required();
  app.add_option("--format", a->format, "int8 (per-channel scales), int4 (groups of 32) or bf16")
      ->required();
  app.add_option("--out", a->out, "Registry name of the quantized model")->required();
  app.add_option("--dataset", a->dataset, "Dataset whose split measures the quality")
      ->required()
      ->type_name("DIR");
  app.add_option("--split", a->split, "Split to measure on")->capture_default_str();
  app.add_option("--limit", a->limit, "Samples to measure on (0: all)")->capture_default_str();
  app.add_option("--max-tokens", a->max_tokens,
                 "Most tokens per report (0: the longest reference plus 48; never less)")
      ->capture_default_str();
  return [a](GlobalOptions& g) { return RunQuantize(g, *a); };
}

}  // namespace medscribe::cli
