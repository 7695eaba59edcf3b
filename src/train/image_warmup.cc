#include "train/image_warmup.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace medscribe::train {
namespace F = torch::nn::functional;

namespace {

constexpr double kPi = 3.14159265358979323846;

torch::Tensor TargetsOf(const FindingLabeler& labeler, const RawSample& s) {
  const model::json::Value* t = s.sample.Find("target_report");
  const std::string report = t && t->is_string() ? t->as_string() : "";
  const model::FindingTargets targets = labeler.Targets(report);
  return torch::tensor(std::vector<float>(targets.begin(), targets.end()), torch::kFloat32);
}

// Presence micro-F1 at 0.5 over the known targets.
double PresenceF1(const torch::Tensor& probabilities, const torch::Tensor& targets) {
  const torch::Tensor p = probabilities.select(2, model::kPresent).ge(0.5);
  const torch::Tensor t =
      targets.reshape({probabilities.size(0), probabilities.size(1), model::kFieldsPerKind})
          .select(2, model::kPresent);
  const torch::Tensor known = ~torch::isnan(t);
  const torch::Tensor y = torch::nan_to_num(t, 0.0).ge(0.5);
  const double tp = (p & y & known).sum().item<double>();
  const double fp = (p & ~y & known).sum().item<double>();
  const double fn = (~p & y & known).sum().item<double>();
  return tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
}

std::vector<torch::Tensor> Trainable(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p);
  return out;
}

}  // namespace

torch::Tensor Augment(const torch::Tensor& images, int64_t max_shift, torch::Generator& gen) {
  const int64_t b = images.size(0), s = images.size(-1);
  torch::NoGradGuard no_grad;
  const torch::Tensor padded =
      F::pad(images, F::PadFuncOptions({max_shift, max_shift, max_shift, max_shift}));
  const torch::Tensor shifts = torch::randint(0, 2 * max_shift + 1, {b, 2}, gen, torch::kLong);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < b; ++i) {
    const int64_t dy = shifts[i][0].item<int64_t>(), dx = shifts[i][1].item<int64_t>();
    out.push_back(padded[i].narrow(1, dy, s).narrow(2, dx, s));
  }
  torch::Tensor x = torch::stack(out);
  const auto u = [&](double lo, double hi) {
    return torch::rand({b, 1, 1, 1}, gen, torch::kFloat32) * (hi - lo) + lo;
  };
  x = x.clamp(0, 1).pow(u(0.8, 1.25));
  x = (x - 0.5) * u(0.85, 1.15) + 0.5 + u(-0.05, 0.05);
  x = x + torch::randn(x.sizes(), gen, torch::kFloat32) * u(0.0, 0.02);
  return x.clamp(0, 1);
}

// The finding head's raw outputs for `images` (REQUIRES: no-grad mode, modules in eval mode), in
// chunks of 64 images.
static torch::Tensor HeadOutputs(model::ReportModel& m, const std::vector<torch::Tensor>& images) {
  std::vector<torch::Tensor> outs;
  for (size_t i = 0; i < images.size(); i += 64) {
    const size_t j = std::min(images.size(), i + 64);
    const std::vector<torch::Tensor> chunk(images.begin() + static_cast<long>(i),
                                           images.begin() + static_cast<long>(j));
    outs.push_back(m->findings(m->vision(torch::stack(chunk))));
  }
  return torch::cat(outs);
}

StatusOr<WarmupResult> WarmUpImagePath(model::ReportModel& m, const SplitIndex& train,
                                       const std::vector<RawSample>& val,
                                       const FindingLabeler& labeler, const WarmupOptions& o) {
  if (m->findings.is_empty())
    return FailedPreconditionError("the model configuration has no finding head to warm up");
  const auto t0 = std::chrono::steady_clock::now();
  // The training images (as bytes: a quarter of the memory) and their report labels.
  const size_t n = train.samples.size();
  std::vector<torch::Tensor> images, targets;
  images.reserve(n);
  int64_t positives = 0;
  for (size_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(RawSample r, ReadSample(train, i));
    images.push_back((r.image.to(torch::kFloat32).clamp(0, 1) * 255).round().to(torch::kUInt8));
    targets.push_back(TargetsOf(labeler, r));
    positives +=
        torch::nan_to_num(
            targets.back().view({model::kNumFindingKinds, -1}).select(1, model::kPresent), 0.0)
            .sum()
            .item<int64_t>();
  }
  if (o.progress) {
    // The labels the head learns, as the labeler read them from the training reports.
    const torch::Tensor present =
        torch::nan_to_num(torch::stack(targets)
                              .view({-1, model::kNumFindingKinds, model::kFieldsPerKind})
                              .select(2, model::kPresent),
                          0.0)
            .sum(0);
    std::string line;
    for (int k = 0; k < model::kNumFindingKinds; ++k) {
      line.append(" ").append(model::FindingKindName(static_cast<model::FindingKind>(k)));
      line.append(" ").append(std::to_string(present[k].item<int64_t>()));
    }
    std::fprintf(stderr, "image warm-up: %zu training images; reports naming each kind:%s\n", n,
                 line.c_str());
  }
  if (positives == 0) {
    return FailedPreconditionError(
        "no training report names a finding the finding head knows; the labels would be all "
        "negative (is the dataset's target report empty?)");
  }
  std::vector<torch::Tensor> val_images, val_targets;
  for (const RawSample& r : val) {
    val_images.push_back(r.image.to(torch::kFloat32));
    val_targets.push_back(TargetsOf(labeler, r));
  }

  std::vector<torch::Tensor> params = Trainable(*m->vision);
  for (auto& p : m->findings->ReaderParameters()) params.push_back(p);
  torch::optim::AdamW opt(
      params,
      torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay).betas({0.9, 0.99}));
  torch::Generator gen = at::detail::createCPUGenerator(o.seed + 1);
  const int64_t batches_per_epoch = std::max<int64_t>(1, static_cast<int64_t>(n) / o.batch_size);
  const int64_t total = batches_per_epoch * o.epochs;
  const int64_t warmup = std::max<int64_t>(1, total / 20);
  WarmupResult result;
  m->vision->train();
  m->findings->train();
  int64_t step = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const std::vector<size_t> order = EpochOrder(n, o.seed ^ 0x5eed, static_cast<uint64_t>(epoch));
    double epoch_loss = 0;
    for (int64_t b = 0; b < batches_per_epoch; ++b, ++step) {
      std::vector<torch::Tensor> xb, yb;
      for (int64_t k = 0; k < o.batch_size; ++k) {
        const size_t i = order[static_cast<size_t>(b * o.batch_size + k) % n];
        xb.push_back(images[i]);
        yb.push_back(targets[i]);
      }
      const torch::Tensor x = Augment(torch::stack(xb).to(torch::kFloat32) / 255.0, 8, gen);
      const double lr =
          step < warmup
              ? o.learning_rate * (step + 1) / warmup
              : o.learning_rate * 0.5 *
                    (1 + std::cos(kPi * (step - warmup) / std::max<int64_t>(1, total - warmup)));
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      opt.zero_grad();
      const torch::Tensor y = torch::stack(yb);
      // The size map learns from the images whose report measures a lesion, and only those
      // pay for it.
      const torch::Tensor sized =
          ~torch::isnan(y.view({-1, model::kNumFindingKinds, model::kFieldsPerKind})
                            .select(1, static_cast<int>(model::FindingKind::kLesion))
                            .select(1, model::kSize));
      const torch::Tensor loss = m->findings->Loss(m->findings(m->vision(x, sized)), y);
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, 5.0);
      opt.step();
      epoch_loss += loss.item<double>();
    }
    result.train_loss = epoch_loss / static_cast<double>(batches_per_epoch);
    if (!val_images.empty() && (epoch + 1 == o.epochs || (epoch + 1) % 4 == 0)) {
      torch::NoGradGuard no_grad;
      m->vision->eval();
      m->findings->eval();
      const torch::Tensor out = HeadOutputs(m, val_images), y = torch::stack(val_targets);
      result.val_loss = m->findings->Loss(out, y).item<double>();
      result.val_micro_f1 = PresenceF1(m->findings->Probabilities(out), y);
      m->vision->train();
      m->findings->train();
    }
    if (o.progress) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr,
                   "image warm-up epoch %d/%d  loss %.4f  val loss %.4f  val presence F1 %.3f  "
                   "%.0f s\n",
                   epoch + 1, o.epochs, result.train_loss, result.val_loss, result.val_micro_f1,
                   secs);
    }
  }
  m->vision->eval();
  m->findings->eval();
  m->findings->SetReadThresholds(std::vector<double>(model::kNumFindingKinds, 0.5));
  if (!val_images.empty()) {
    torch::NoGradGuard no_grad;
    const torch::Tensor out = HeadOutputs(m, val_images), y = torch::stack(val_targets);
    result.val_micro_f1_at_half = PresenceF1(m->findings->Probabilities(out), y);
    if (o.read_beta > 0) {
      const torch::Tensor labels =
          y.view({-1, model::kNumFindingKinds, model::kFieldsPerKind}).select(2, model::kPresent);
      m->findings->SetReadThresholds(model::CalibrateReadThresholds(
          m->findings->Probabilities(out).select(2, model::kPresent), labels, o.read_beta));
    }
    result.val_micro_f1 = PresenceF1(m->findings->Probabilities(out), y);
  }
  result.read_thresholds = m->findings->ReadThresholds();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (o.progress && !val_images.empty()) {
    // What the image path learned, kind by kind (presence F1 on the validation reports, at the
    // calibrated thresholds).
    torch::NoGradGuard no_grad;
    const torch::Tensor p = m->findings->Probabilities(HeadOutputs(m, val_images));
    const torch::Tensor y =
        torch::stack(val_targets).view({-1, model::kNumFindingKinds, model::kFieldsPerKind});
    std::fprintf(stderr,
                 "image warm-up: reading thresholds (F-beta %.2f on validation):%s\n"
                 "image warm-up: validation presence F1 %.3f (%.3f at 0.5)\n",
                 o.read_beta, model::ReadThresholdsText(result.read_thresholds).c_str(),
                 result.val_micro_f1, result.val_micro_f1_at_half);
    std::string line;
    for (int k = 0; k < model::kNumFindingKinds; ++k) {
      const double f1 = PresenceF1(p.narrow(1, k, 1), y.narrow(1, k, 1));
      line += " " + std::string(model::FindingKindName(static_cast<model::FindingKind>(k))) + " " +
              std::to_string(f1).substr(0, 4);
    }
    std::fprintf(stderr, "image warm-up: validation presence F1 by kind:%s\n", line.c_str());
    // Lesion sizes: of the validation lesions whose report states a size, those the head finds
    // and sizes within 2 mm.
    const int lesion = static_cast<int>(model::FindingKind::kLesion);
    const torch::Tensor ps = p.select(1, lesion).to(torch::kFloat32).contiguous();
    const torch::Tensor ys = y.select(1, lesion).to(torch::kFloat32).contiguous();
    int sized = 0, within = 0;
    std::vector<double> errors;  // |read - reported| in mm, of every sized lesion
    for (int64_t i = 0; i < ys.size(0); ++i) {
      const float* yi = ys.data_ptr<float>() + i * model::kFieldsPerKind;
      const float* pi = ps.data_ptr<float>() + i * model::kFieldsPerKind;
      if (!(yi[model::kPresent] >= 0.5f) || std::isnan(yi[model::kSize])) continue;
      ++sized;
      const double error = std::abs(pi[model::kSize] - model::DenormalizeSize(yi[model::kSize]));
      errors.push_back(error);
      within += pi[model::kPresent] >= 0.5f && error <= 2.0;
    }
    std::sort(errors.begin(), errors.end());
    std::fprintf(stderr,
                 "image warm-up: validation lesions sized within 2 mm: %d/%d (median error of "
                 "their size reading %.1f mm)\n",
                 within, sized, errors.empty() ? 0.0 : errors[errors.size() / 2]);
  }
  return result;
}

StatusOr<VisionCache> CacheVisionTokens(model::ReportModel& m, const SplitIndex& split,
                                        const std::vector<RawSample>& extra) {
  torch::NoGradGuard no_grad;
  const bool was_training = m->vision->is_training();
  m->vision->eval();
  VisionCache cache;
  std::vector<std::string> keys;
  std::vector<torch::Tensor> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    const torch::Tensor tokens = m->vision(torch::stack(batch).to(torch::kFloat32));
    for (size_t i = 0; i < keys.size(); ++i)
      cache[keys[i]] = tokens[static_cast<int64_t>(i)].clone();
    keys.clear();
    batch.clear();
  };
  for (size_t i = 0; i < split.samples.size(); ++i) {
    ASSIGN_OR_RETURN(RawSample r, ReadSample(split, i));
    keys.push_back(r.key);
    batch.push_back(r.image);
    if (batch.size() == 64) flush();
  }
  for (const RawSample& r : extra) {
    keys.push_back(r.key);
    batch.push_back(r.image);
    if (batch.size() == 64) flush();
  }
  flush();
  if (was_training) m->vision->train();
  return cache;
}

}  // namespace medscribe::train
