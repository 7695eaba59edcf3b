// Serving figures of the engine on a model preset with random weights (speed does not depend on
// what the weights say): report-shaped requests (an image and a prompt of 450-650 tokens, 128
// generated tokens each) submitted N at a time, against the same requests run one after
// another; the KV cache's bytes per live token against a contiguous max-length allocation; and
// the time to first token of a repeated study with and without the prefix and encoder caches.
//
// Usage: engine_serve [--preset small] [--format f32|bf16|int8|int4] [--threads N]
//                     [--concurrency 1,8,32,64] [--tokens 128] [--bf16-gemm MIN_ROWS]
//        engine_serve [--preset small] --gguf FILE --requests-out FILE [--concurrency 32]
// The second form writes the same random decoder as GGUF f32 and the requests of the largest
// concurrency level as JSON token ids (the image's positions as text tokens) for llama.cpp
// (bench/llama_serve.mjs), then exits.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/blas_kernels.h"
#include "engine/engine.h"
#include "engine/threads.h"
#include "model/gguf.h"
#include "model/io.h"
#include "model/json.h"
#include "model/safetensors.h"

namespace {
using namespace medscribe;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class Words : public engine::TextDecoder {
 public:
  std::string Decode(std::span<const int32_t> ids) const override {
    return std::string(ids.size(), 'x');  // one byte per token: one streamed piece per token
  }
};

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Run {
  double seconds = 0;
  std::vector<double> ttft, itl;
  int64_t tokens = 0;
  engine::EngineStats stats;
};

std::vector<engine::GenerateRequest> Requests(int n, int tokens, const model::ModelConfig& c,
                                              int32_t image_token, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<engine::GenerateRequest> out;
  for (int i = 0; i < n; ++i) {
    engine::GenerateRequest r;
    r.prompt = {2, image_token};
    const int len = 450 + static_cast<int>(rng() % 200) - c.image_tokens();
    for (int t = 0; t < len; ++t)
      r.prompt.push_back(10 + static_cast<int32_t>(rng() % (c.decoder.vocab_size - 10)));
    r.image = torch::rand({c.vision.channels, c.vision.image_size, c.vision.image_size});
    r.image_digest = "study-" + std::to_string(seed) + "-" + std::to_string(i);
    r.sampling.max_tokens = tokens;
    out.push_back(std::move(r));
  }
  return out;
}

// Submits `batch` requests at a time (a new one as soon as one finishes) until all are done.
Run Serve(engine::Engine& e, std::vector<engine::GenerateRequest> rs, int concurrency) {
  Run run;
  const auto t0 = Clock::now();
  size_t next = 0;
  int in_flight = 0;
  std::vector<Clock::time_point> last(rs.size());
  std::vector<Clock::time_point> start(rs.size());
  const auto submit = [&](size_t i) {
    engine::GenerateRequest r = rs[i];
    start[i] = Clock::now();
    r.on_text = [&, i](std::string_view piece) {
      const auto now = Clock::now();
      if (last[i] == Clock::time_point())
        run.ttft.push_back(std::chrono::duration<double>(now - start[i]).count());
      else
        run.itl.push_back(std::chrono::duration<double>(now - last[i]).count() /
                          static_cast<double>(piece.size()));
      last[i] = now;
    };
    r.on_done = [&](const engine::GenerateResult& res) {
      --in_flight;
      run.tokens += static_cast<int64_t>(res.tokens.size());
    };
    (void)e.Submit(std::move(r));
    ++in_flight;
  };
  while (next < rs.size() || in_flight > 0) {
    while (next < rs.size() && in_flight < concurrency) submit(next++);
    e.Step();
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.stats = e.stats();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  // LibTorch's products on the processor's own OpenBLAS kernels, as the CLI runs them.
  medscribe::EnsureBlasKernels(argv);
  std::string preset = "small", format = "f32", conc = "1,8,32,64", gguf, requests_out;
  int threads = 0, tokens = 128, gemm_rows = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--preset")
      preset = next();
    else if (a == "--format")
      format = next();
    else if (a == "--threads")
      threads = std::stoi(next());
    else if (a == "--concurrency")
      conc = next();
    else if (a == "--tokens")
      tokens = std::stoi(next());
    else if (a == "--bf16-gemm")
      gemm_rows = std::stoi(next());
    else if (a == "--gguf")
      gguf = next();
    else if (a == "--requests-out")
      requests_out = next();
    else {
      std::fprintf(stderr,
                   "usage: engine_serve [--preset small] [--format f32|bf16|int8|int4] "
                   "[--threads N] [--concurrency 1,8,32,64] [--tokens 128] [--bf16-gemm MIN_ROWS] "
                   "| --gguf FILE --requests-out FILE\n");
      return 2;
    }
  }
  auto config = model::PresetConfig(preset);
  auto fmt = engine::ParseWeightFormat(format);
  if (!config.ok() || !fmt.ok()) {
    std::fprintf(stderr, "unknown preset or format\n");
    return 2;
  }
  std::vector<int> levels;
  std::stringstream ss(conc);
  for (std::string x; std::getline(ss, x, ',');) levels.push_back(std::stoi(x));
  if (!gguf.empty()) {
    torch::manual_seed(1);
    model::ReportModel m(*config);
    model::NamedTensors decoder;
    for (const auto& p : m->decoder->named_parameters())
      decoder.emplace_back(p.key(), p.value().detach());
    const Status st = model::WriteGguf(config->decoder, decoder,
                                       model::PlaceholderVocab(config->decoder.vocab_size),
                                       model::GgufType::kF32, preset, gguf);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
    // The same requests as the largest level below, the image as as many text positions.
    const int n = levels.back();
    std::string json = "[";
    for (const auto& r : Requests(n, tokens, *config, 4, static_cast<uint32_t>(n))) {
      json += json.size() > 1 ? ",[" : "[";
      bool first = true;
      for (const int32_t t : r.prompt) {
        for (int k = 0; k < (t == 4 ? config->image_tokens() : 1); ++k) {
          if (!first) json += ',';
          json += std::to_string(t == 4 ? 10 + k : t);
          first = false;
        }
      }
      json += "]";
    }
    json += "]\n";
    if (Status w = model::WriteBytesAtomic(requests_out, json); !w.ok()) {
      std::fprintf(stderr, "%s\n", w.message().c_str());
      return 1;
    }
    std::printf("gguf %s, %d requests in %s\n", gguf.c_str(), n, requests_out.c_str());
    return 0;
  }
  const fs::path dir = fs::temp_directory_path() / ("engine-serve-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    torch::manual_seed(1);
    model::ReportModel m(*config);
    (void)model::WriteBytesAtomic((dir / "config.json").string(),
                                  model::json::Dump(model::ToJson(*config)));
    (void)model::SaveSafetensors((dir / "model.safetensors").string(), model::NamedWeights(*m));
  }
  engine::EngineOptions o;
  o.format = *fmt;
  o.threads = threads;
  o.eos_id = -1;  // random weights: every request generates exactly --tokens tokens
  o.image_token_id = 4;
  o.speculative = false;
  o.kv_cache_mb = 1024;
  o.bf16_gemm_min_rows = gemm_rows;
  const auto load = [&](engine::EngineOptions opt) {
    auto e = engine::Engine::Load(dir.string(), opt, std::make_shared<Words>());
    if (!e.ok()) {
      std::fprintf(stderr, "%s\n", e.status().message().c_str());
      std::exit(1);
    }
    return std::move(*e);
  };
  engine::SetComputeThreads(threads);
  {  // warm-up: allocator and caches
    auto e = load(o);
    Serve(*e, Requests(2, 8, *config, o.image_token_id, 1234), 2);
  }
  (void)load(o);  // sizes the thread pools
  std::printf(
      "engine_serve: preset %s, weights %s%s, %d threads, prompts of 450-650 positions "
      "with an image, %d generated tokens each\n",
      preset.c_str(), format.c_str(),
      gemm_rows > 0 ? (", bf16 GEMM from " + std::to_string(gemm_rows) + " rows").c_str() : "",
      at::get_num_threads(), tokens);
  double speedup32 = 0;
  for (const int n : levels) {
    auto rs = Requests(n, tokens, *config, o.image_token_id, static_cast<uint32_t>(n));
    auto together = load(o);
    const Run t = Serve(*together, rs, n);
    auto alone = load(o);
    const Run s = Serve(*alone, rs, 1);
    const double ratio = s.seconds / t.seconds;
    if (n == 32) speedup32 = ratio;
    std::printf(
        "concurrency %2d: %6.2f req/s %7.1f tok/s  TTFT p50 %6.0f p99 %6.0f ms  ITL p50 %5.1f "
        "p99 %6.1f ms | one after another: %6.2f req/s %7.1f tok/s | %.2fx\n",
        n, n / t.seconds, static_cast<double>(t.tokens) / t.seconds, Pct(t.ttft, 0.5) * 1e3,
        Pct(t.ttft, 0.99) * 1e3, Pct(t.itl, 0.5) * 1e3, Pct(t.itl, 0.99) * 1e3, n / s.seconds,
        static_cast<double>(s.tokens) / s.seconds, ratio);
    if (n == levels.back()) {
      const engine::EngineStats& st = t.stats;
      const double per_token = static_cast<double>(st.kv_block_bytes) / o.block_size;
      const double paged = st.live_tokens_at_peak > 0
                               ? static_cast<double>(st.peak_kv_blocks * st.kv_block_bytes) /
                                     static_cast<double>(st.live_tokens_at_peak)
                               : 0;
      const double contiguous = per_token * config->decoder.max_position_embeddings *
                                static_cast<double>(st.live_sequences_at_peak) /
                                std::max<double>(1, static_cast<double>(st.live_tokens_at_peak));
      std::printf(
          "KV memory at peak (%lld sequences, %lld tokens): paged %.0f bytes per live "
          "token vs contiguous max-length (%d positions) %.0f (%.1fx less)\n",
          static_cast<long long>(st.live_sequences_at_peak),
          static_cast<long long>(st.live_tokens_at_peak), paged,
          config->decoder.max_position_embeddings, contiguous, paged > 0 ? contiguous / paged : 0);
      std::printf("kv_bytes_per_token_paged=%.0f kv_bytes_per_token_contiguous=%.0f\n", paged,
                  contiguous);
    }
  }
  // A repeated study: TTFT of the second request, caches on and off.
  double ttft_cached = 0, ttft_cold = 0;
  for (const bool caches : {true, false}) {
    engine::EngineOptions c = o;
    c.prefix_caching = caches;
    c.encoder_cache_mb = caches ? 64 : 0;
    auto e = load(c);
    auto rs = Requests(1, 8, *config, o.image_token_id, 99);
    Serve(*e, rs, 1);
    const Run again = Serve(*e, rs, 1);
    (caches ? ttft_cached : ttft_cold) = again.ttft.empty() ? 0 : again.ttft[0];
  }
  std::printf(
      "repeated study, time to first token: %.1f ms with prefix + encoder caches, %.1f ms "
      "without (%.1fx)\n",
      ttft_cached * 1e3, ttft_cold * 1e3, ttft_cold / std::max(1e-9, ttft_cached));
  std::printf("speedup_at_32=%.2f ttft_cached_ms=%.1f ttft_uncached_ms=%.1f\n", speedup32,
              ttft_cached * 1e3, ttft_cold * 1e3);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
