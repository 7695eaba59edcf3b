// Batch-1 decode speed of the engine's CPU decoder on a LLaMA shape with random weights (seed
// 1), next to the LibTorch eager KV-cached loop (the decoder module's forward_cached,
// torch::linear) and the memory-bandwidth bound (weight bytes per token / measured read
// bandwidth); prompt processing of a prompt of N tokens; and the same random weights written as
// GGUF, so that llama.cpp runs exactly these weights (bench/llama_anchor.mjs).
//
// Usage: engine_decode --shape 20m|162m --format f32|bf16|int8|int4 [--threads N] [--tokens N]
//                      [--prompt N] [--reps N] [--batch N] [--baseline]
//        engine_decode --shape 20m|162m --gguf FILE --gguf-type f32|q8_0|q4_0
//        engine_decode --bandwidth [--threads N]
// Prints one line: "shape format threads batch=... tok_s=... weight_mb=... [pp_tok_s=...]
// [eager_tok_s=...]"; each speed is the best of --reps runs (default 3).
#include <ATen/Parallel.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/blas_kernels.h"
#include "engine/cpu_decoder.h"
#include "engine/threads.h"
#include "model/gguf.h"
#include "model/llama.h"

namespace {
using namespace medscribe;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

// Sums n floats (n a multiple of 64) with 4 independent AVX-512 accumulators where available:
// the read stream the decode kernels see.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) double SumFloatsAvx512(const float* p, size_t n) {
  __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
  for (size_t i = 0; i < n; i += 64) {
    a = _mm512_add_ps(a, _mm512_loadu_ps(p + i));
    b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + 16));
    c = _mm512_add_ps(c, _mm512_loadu_ps(p + i + 32));
    d = _mm512_add_ps(d, _mm512_loadu_ps(p + i + 48));
  }
  alignas(64) float out[16];
  _mm512_store_ps(out, _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
  double s = 0;
  for (float x : out) s += x;
  return s;
}
#endif
double SumFloats(const float* p, size_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return SumFloatsAvx512(p, n);
#endif
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

// Read bandwidth in bytes/s: `threads` threads each summing its part of a 1 GiB buffer.
double Bandwidth(int threads) {
  const size_t n = (size_t{1} << 30) / sizeof(float);
  std::vector<float> buf(n, 1.0f);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> ts;
    std::vector<double> sums(static_cast<size_t>(threads));
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        const size_t lo = n / threads * t, hi = n / threads * (t + 1);
        sums[static_cast<size_t>(t)] = SumFloats(buf.data() + lo, hi - lo);
      });
    }
    for (auto& t : ts) t.join();
    best = std::max(best, static_cast<double>(n * sizeof(float)) / Seconds(t0));
    if (sums[0] < 0) std::printf("?");
  }
  return best;
}

model::DecoderConfig Shape(const std::string& s) {
  model::DecoderConfig c;
  c.max_position_embeddings = 512;
  c.tie_word_embeddings = false;
  if (s == "162m") {
    c.vocab_size = 32000, c.hidden_size = 768, c.intermediate_size = 3072;
    c.num_hidden_layers = 12, c.num_attention_heads = 12, c.num_key_value_heads = 12;
  } else {
    c.vocab_size = 8000, c.hidden_size = 384, c.intermediate_size = 1536;
    c.num_hidden_layers = 6, c.num_attention_heads = 6, c.num_key_value_heads = 6;
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  // LibTorch's products on the processor's own OpenBLAS kernels, as the CLI runs them.
  medscribe::EnsureBlasKernels(argv);
  std::string shape = "20m", format = "f32";
  std::string gguf, gguf_type = "f32";
  int threads = 1, tokens = 128, batch = 1, prompt = 0, reps = 3;
  bool baseline = false, bandwidth = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--shape")
      shape = next();
    else if (a == "--format")
      format = next();
    else if (a == "--threads")
      threads = std::stoi(next());
    else if (a == "--tokens")
      tokens = std::stoi(next());
    else if (a == "--baseline")
      baseline = true;
    else if (a == "--batch")
      batch = std::stoi(next());
    else if (a == "--bandwidth")
      bandwidth = true;
    else if (a == "--gguf")
      gguf = next();
    else if (a == "--gguf-type")
      gguf_type = next();
    else if (a == "--prompt")
      prompt = std::stoi(next());
    else if (a == "--reps")
      reps = std::max(1, std::stoi(next()));
    else {
      std::fprintf(stderr,
                   "usage: engine_decode --shape 20m|162m --format f32|bf16|int8|int4 "
                   "[--threads N] [--tokens N] [--prompt N] [--reps N] [--batch N] [--baseline] "
                   "| --shape S --gguf FILE --gguf-type f32|q8_0|q4_0 | --bandwidth "
                   "[--threads N]\n");
      return 2;
    }
  }
  if (bandwidth) {
    std::printf("bandwidth threads=%d gb_s=%.2f\n", threads, Bandwidth(threads) / 1e9);
    return 0;
  }
  engine::SetComputeThreads(threads);
  if (!gguf.empty()) {
    const model::DecoderConfig c = Shape(shape);
    torch::manual_seed(1);
    model::LlamaForCausalLM d(c);
    auto type = model::ParseGgufType(gguf_type);
    model::NamedTensors tensors;
    for (const auto& p : d->named_parameters()) tensors.emplace_back(p.key(), p.value().detach());
    const Status s = type.ok() ? model::WriteGguf(c, tensors, model::PlaceholderVocab(c.vocab_size),
                                                  *type, "random-" + shape, gguf)
                               : type.status();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
    std::printf("gguf %s %s %s\n", shape.c_str(), gguf_type.c_str(), gguf.c_str());
    return 0;
  }
  auto fmt = engine::ParseWeightFormat(format);
  if (!fmt.ok()) {
    std::fprintf(stderr, "%s\n", fmt.status().message().c_str());
    return 2;
  }
  const model::DecoderConfig c = Shape(shape);
  torch::manual_seed(1);
  model::LlamaForCausalLM d(c);
  d->eval();
  auto w = engine::PackDecoder(d, *fmt);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().message().c_str());
    return 1;
  }
  // `batch` sequences decoding in lockstep, each with its own blocks.
  const int block = 16, per_seq = (std::max(tokens, prompt) + 2 + block - 1) / block;
  engine::CpuDecoder dec(*w, per_seq * batch, block);
  std::vector<std::vector<engine::BlockId>> tables(static_cast<size_t>(batch));
  std::vector<std::vector<int32_t>> seqs(static_cast<size_t>(batch), std::vector<int32_t>{1});
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < per_seq; ++i) tables[static_cast<size_t>(b)].push_back(b * per_seq + i);
  std::vector<float> logits;
  const auto step = [&](int64_t start) {
    std::vector<engine::SeqChunk> chunks;
    for (int b = 0; b < batch; ++b)
      chunks.push_back({tables[static_cast<size_t>(b)], seqs[static_cast<size_t>(b)], start, 1});
    logits.clear();
    (void)dec.Forward(chunks, &logits);
    for (int b = 0; b < batch; ++b) {
      const auto row = logits.begin() + static_cast<int64_t>(b) * c.vocab_size;
      seqs[static_cast<size_t>(b)].push_back(
          static_cast<int32_t>(std::max_element(row, row + c.vocab_size) - row));
    }
  };
  double tok_s = 0;
  for (int r = 0; r < reps; ++r) {
    for (auto& seq : seqs) seq.assign(1, 1);
    step(0);  // warm-up
    const auto t0 = Clock::now();
    for (int i = 1; i <= tokens; ++i) step(i);
    tok_s = std::max(tok_s, static_cast<double>(tokens) * batch / Seconds(t0));
  }
  const double bytes = static_cast<double>((*w)->streamed_bytes());
  std::printf("%s %s threads=%d batch=%d tok_s=%.1f weight_mb=%.1f", shape.c_str(), format.c_str(),
              threads, batch, tok_s, bytes / 1e6);
  if (prompt > 0) {
    // One chunk of `prompt` tokens from position 0: what a new request's prefill costs.
    std::vector<int32_t> ids(static_cast<size_t>(prompt));
    for (int i = 0; i < prompt; ++i)
      ids[static_cast<size_t>(i)] = 4 + (i * 37) % (c.vocab_size - 4);
    double pp = 0;
    for (int r = 0; r < reps; ++r) {
      const engine::SeqChunk chunk{tables[0], ids, 0, prompt};
      logits.clear();
      const auto t0 = Clock::now();
      (void)dec.Forward(std::span<const engine::SeqChunk>(&chunk, 1), &logits);
      pp = std::max(pp, prompt / Seconds(t0));
    }
    std::printf(" pp_tok_s=%.1f", pp);
  }
  if (baseline) {
    torch::NoGradGuard no_grad;
    model::KvCache cache;
    torch::Tensor ids = torch::ones({1, 1}, torch::kLong);
    torch::Tensor out = d->forward_cached(d->embed(ids), cache);
    const auto t1 = Clock::now();
    for (int i = 0; i < tokens; ++i) {
      ids = out[0][-1].argmax().view({1, 1});
      out = d->forward_cached(d->embed(ids), cache);
    }
    std::printf(" eager_tok_s=%.1f", tokens / Seconds(t1));
  }
  std::printf("\n");
  return 0;
}
