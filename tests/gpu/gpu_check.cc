// gpu_check: the ML core on CUDA.
//   1. The report model's forward loss and every gradient agree between CPU and CUDA (fp32, TF32
//      off) within tolerance, for the ViT and the ResNet encoder.
//   2. bf16 autocast on CUDA gives a loss close to fp32.
//   3. The engine's paged decoder on CUDA (LibTorch ops over the paged cache) and its CPU
//      decoder (the engine's kernels) produce the same greedy tokens and close logits.
//   4. Training-step benchmark (`small` preset, AdamW, fp32 and bf16 autocast): tokens/s and MFU
//      against the bf16 and fp32 matmul peaks measured on this GPU in the same run.
// Exit 0 when the checks pass, 1 when one fails, 77 when no CUDA device is visible.
// Usage: gpu_check [--steps N] [--batch B] [--text-tokens T]
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/cpu_decoder.h"
#include "engine/kv_cache.h"
#include "engine/paged_decoder.h"
#include "model/multimodal.h"
#include "train/precision.h"

namespace {

using namespace medscribe;

int failures = 0;
void Check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

struct Batch {
  torch::Tensor images, ids, mask, labels;
};

Batch MakeBatch(const model::ModelConfig& c, int64_t b, int64_t t, int image_token) {
  torch::manual_seed(11);
  Batch x;
  x.images = torch::rand({b, c.vision.channels, c.vision.image_size, c.vision.image_size});
  x.ids = torch::randint(8, c.decoder.vocab_size, {b, t}, torch::kLong);
  x.ids.select(1, 1).fill_(image_token);
  x.mask = torch::ones({b, t}, torch::kLong);
  x.labels = x.ids.clone();
  x.labels.narrow(1, 0, 2).fill_(model::kIgnoreIndex);
  return x;
}

torch::Tensor Loss(model::ReportModel& m, const Batch& x, int image_token) {
  const model::SplicedInputs s = m->Splice(x.images, x.ids, x.mask, x.labels, image_token);
  return model::NextTokenLoss(m->decoder->forward_embeds(s.embeds, s.attention_mask), s.labels);
}

Batch To(const Batch& x, const torch::Device& d) {
  return {x.images.to(d), x.ids.to(d), x.mask.to(d), x.labels.to(d)};
}

void Agreement(const std::string& vision) {
  model::ModelConfig c = model::PresetConfig("tiny").value();
  c.vision.type = vision;
  c.decoder.vocab_size = 512;
  const int image_token = 5;
  torch::manual_seed(3);
  model::ReportModel cpu(c), gpu(c);
  (void)model::LoadWeights(*gpu, [&] {
    model::Safetensors w;
    for (const auto& [name, t] : model::NamedWeights(*cpu)) w.tensors[name] = t.detach().clone();
    return w;
  }());
  gpu->to(torch::kCUDA);
  const Batch x = MakeBatch(c, 2, 48, image_token);
  const torch::Tensor lc = Loss(cpu, x, image_token);
  const torch::Tensor lg = Loss(gpu, To(x, torch::kCUDA), image_token);
  lc.backward();
  lg.backward();
  const double a = lc.item<double>(), b = lg.item<double>();
  Check(std::abs(a - b) <= 1e-4 * std::abs(a),
        vision + ": loss CPU " + std::to_string(a) + " vs CUDA " + std::to_string(b));
  auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  double worst = 0;
  std::string where;
  for (const auto& p : pc) {
    const torch::Tensor gc = p.value().grad(), gg = pg[p.key()].grad().cpu();
    if (!gc.defined()) continue;
    const double scale = std::max(1e-6, gc.abs().max().item<double>());
    const double d = (gc - gg).abs().max().item<double>() / scale;
    if (d > worst) {
      worst = d;
      where = p.key();
    }
  }
  Check(worst <= 1e-3, vision + ": gradients agree, worst relative difference " +
                           std::to_string(worst) + " (" + where + ")");
  torch::Tensor lb;
  {
    train::AutocastScope autocast(train::Precision::kBf16, torch::Device(torch::kCUDA));
    lb = Loss(gpu, To(x, torch::kCUDA), image_token);
  }
  Check(std::abs(lb.item<double>() - a) <= 5e-2 * std::abs(a),
        vision + ": bf16 autocast loss " + std::to_string(lb.item<double>()) + " vs fp32 " +
            std::to_string(a));
}

double MatmulPeak(torch::ScalarType t) {
  const auto o = torch::TensorOptions().device(torch::kCUDA).dtype(t);
  const int64_t n = 8192;
  const torch::Tensor a = torch::randn({n, n}, o), b = torch::randn({n, n}, o);
  for (int i = 0; i < 3; ++i) torch::matmul(a, b);
  torch::cuda::synchronize();
  const int reps = 20;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) torch::matmul(a, b);
  torch::cuda::synchronize();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * n * n * n * reps / s;
}

void Benchmark(int steps, int64_t batch, int64_t text) {
  model::ModelConfig c = model::PresetConfig("small").value();
  c.decoder.vocab_size = 8000;
  const int image_token = 5;
  const double peak_bf16 = MatmulPeak(torch::kBFloat16), peak_fp32 = MatmulPeak(torch::kFloat32);
  std::printf("measured matmul peak: bf16 %.1f TFLOP/s, fp32 %.1f TFLOP/s\n", peak_bf16 / 1e12,
              peak_fp32 / 1e12);
  int64_t params_decoder = 0, params_vision = 0;
  for (const train::Precision p : {train::Precision::kFp32, train::Precision::kBf16}) {
    torch::manual_seed(1);
    model::ReportModel m(c);
    m->to(torch::kCUDA);
    m->decoder->rope.cos = m->decoder->rope.cos.to(torch::kCUDA);
    m->decoder->rope.sin = m->decoder->rope.sin.to(torch::kCUDA);
    params_decoder = params_vision = 0;
    for (const auto& q : m->named_parameters())
      (q.key().rfind("decoder.", 0) == 0 ? params_decoder : params_vision) += q.value().numel();
    torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(1e-4));
    const Batch x = To(MakeBatch(c, batch, text, image_token), torch::kCUDA);
    auto step = [&] {
      opt.zero_grad();
      torch::Tensor loss;
      {
        train::AutocastScope autocast(p, torch::Device(torch::kCUDA));
        loss = Loss(m, x, image_token);
      }
      loss.backward();
      torch::nn::utils::clip_grad_norm_(m->parameters(), 1.0);
      opt.step();
    };
    for (int i = 0; i < 3; ++i) step();
    torch::cuda::synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    torch::cuda::synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t seq = text + c.image_tokens() - 1;
    const int64_t patches = static_cast<int64_t>(c.vision.grid()) * c.vision.grid();
    const double flops_per_sample =
        6.0 * params_decoder * seq + 6.0 * params_vision * patches +
        12.0 * c.decoder.num_hidden_layers * seq * seq * c.decoder.hidden_size +
        12.0 * c.vision.layers * patches * patches * c.vision.hidden_size;
    const double samples_per_s = steps * batch / s;
    const double peak = p == train::Precision::kBf16 ? peak_bf16 : peak_fp32;
    std::printf(
        "train step, small, batch %lld x %lld tokens, %s: %.0f tokens/s, %.1f samples/s, MFU "
        "%.3f (of the %s peak)\n",
        static_cast<long long>(batch), static_cast<long long>(seq), train::PrecisionName(p),
        samples_per_s * seq, samples_per_s, samples_per_s * flops_per_sample / peak,
        train::PrecisionName(p));
  }
}

void EngineAgreement() {
  model::DecoderConfig c;
  c.vocab_size = 512;
  c.hidden_size = 256;
  c.intermediate_size = 704;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 256;
  torch::manual_seed(3);
  model::LlamaForCausalLM cpu(c);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : cpu->parameters())
      if (p.dim() == 2) p.mul_(8);  // every cached key matters
  }
  cpu->eval();
  auto packed = engine::PackDecoder(cpu, engine::WeightFormat::kF32);
  Check(packed.ok(), "engine: weights packed");
  if (!packed.ok()) return;
  model::LlamaForCausalLM gpu(c);
  {
    torch::NoGradGuard no_grad;
    auto src = cpu->named_parameters();
    for (auto& p : gpu->named_parameters()) p.value().copy_(src[p.key()]);
  }
  gpu->to(torch::kCUDA);
  gpu->eval();
  engine::CpuDecoder on_cpu(*packed, 32, 16);
  engine::PagedDecoder on_gpu(gpu, 32, 16);
  engine::KvCacheManager kv_cpu(32, 16, false), kv_gpu(32, 16, false);
  std::vector<int32_t> seq;
  for (int i = 0; i < 40; ++i) seq.push_back((i * 37 + 11) % 500 + 5);
  (void)kv_cpu.Add(0, seq);
  (void)kv_gpu.Add(0, seq);
  std::vector<int32_t> a, b;
  double worst = 0;
  int64_t start = 0, count = static_cast<int64_t>(seq.size());
  std::vector<int32_t> sa = seq, sb = seq;
  for (int step = 0; step < 48; ++step) {
    engine::SeqChunk ch{kv_cpu.BlockTable(0), sa, start, count};
    std::vector<float> la;
    const Status st = on_cpu.Forward(std::span<const engine::SeqChunk>(&ch, 1), &la);
    auto lb = on_gpu.Forward(kv_gpu.BlockTable(0), sb, start, count);
    if (!st.ok() || !lb.ok()) {
      Check(false, "engine: forward failed");
      return;
    }
    const torch::Tensor ta = torch::from_blob(la.data(), {c.vocab_size}, torch::kFloat32);
    worst = std::max(worst, ((ta - *lb).abs().max() / lb->abs().max()).item<double>());
    a.push_back(static_cast<int32_t>(ta.argmax().item<int64_t>()));
    b.push_back(static_cast<int32_t>(lb->argmax().item<int64_t>()));
    sa.push_back(a.back());
    sb.push_back(b.back());
    (void)kv_cpu.Append(0, a.back());
    (void)kv_gpu.Append(0, b.back());
    start = static_cast<int64_t>(sa.size()) - 1;
    count = 1;
  }
  Check(a == b, "engine: CPU kernels and CUDA paged decoder give the same 48 greedy tokens");
  Check(worst <= 1e-3, "engine: logits agree, worst relative difference " + std::to_string(worst));
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 20;
  int64_t batch = 16, text = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--steps"))
      steps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--text-tokens"))
      text = std::atoll(argv[i + 1]);
  }
  if (!torch::cuda::is_available()) {
    std::printf("skipped: no CUDA device visible (or this LibTorch has no CUDA)\n");
    return 77;
  }
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  std::printf("CUDA devices: %d\n", static_cast<int>(torch::cuda::device_count()));
  try {
    Agreement("vit");
    Agreement("resnet");
    EngineAgreement();
    Benchmark(steps, batch, text);
  } catch (const c10::Error& e) {
    std::printf("FAIL: %s\n", e.what_without_backtrace());
    return 1;
  }
  std::printf("%s\n", failures ? "FAILED" : "all GPU checks passed");
  return failures ? 1 : 0;
}
