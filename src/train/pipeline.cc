#include "train/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>

namespace medscribe::train {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Tags keep a micro-batch's activations apart from its gradients.
int ForwardTag(size_t i) { return static_cast<int>(2 * i); }
int BackwardTag(size_t i) { return static_cast<int>(2 * i + 1); }

// The block index of "decoder.model.layers.N.*", or -1.
long BlockOf(const std::string& name) {
  unsigned n = 0;
  if (std::sscanf(name.c_str(), "decoder.model.layers.%u.", &n) == 1) return static_cast<long>(n);
  return -1;
}

}  // namespace

StatusOr<Schedule> ParseSchedule(const std::string& name) {
  if (name == "gpipe") return Schedule::kGPipe;
  if (name == "1f1b") return Schedule::kOneForwardOneBackward;
  return InvalidArgumentError("--schedule must be gpipe or 1f1b, not '" + name + "'");
}

Status CheckPipeline(size_t layers, int stages) {
  if (stages < 1) return InvalidArgumentError("--pp must be at least 1");
  if (static_cast<size_t>(stages) > layers)
    return InvalidArgumentError(
        "--pp " + std::to_string(stages) + " is more stages than the " + std::to_string(layers) +
        " decoder blocks (each stage needs one); choose --pp <= " + std::to_string(layers));
  return OkStatus();
}

StagePlan BalanceStages(size_t layers, int stages, double before_s, double block_s,
                        double after_s) {
  const size_t p = static_cast<size_t>(stages);
  StagePlan plan;
  if (p == 1) {
    plan.bounds = {0, layers};
    return plan;
  }
  // Blocks cost the same: choose how many the first and the last stage take, and spread the
  // rest evenly over the middle ones.
  double best = std::numeric_limits<double>::infinity();
  size_t best_first = 1, best_last = 1;
  for (size_t first = 1; first + (p - 1) <= layers; ++first) {
    for (size_t last = 1; first + last + (p - 2) <= layers; ++last) {
      const size_t rest = layers - first - last;
      if (p == 2 && rest != 0) continue;
      const double middle = p > 2 ? static_cast<double>((rest + p - 3) / (p - 2)) * block_s : 0;
      const double slowest = std::max({before_s + static_cast<double>(first) * block_s,
                                       after_s + static_cast<double>(last) * block_s, middle});
      if (slowest < best - 1e-12) {
        best = slowest;
        best_first = first;
        best_last = last;
      }
    }
  }
  plan.bounds.push_back(0);
  plan.bounds.push_back(best_first);
  const size_t rest = layers - best_first - best_last;
  for (size_t s = 1; s + 1 < p; ++s) {
    const size_t share = rest / (p - 2) + (s - 1 < rest % (p - 2) ? 1 : 0);
    plan.bounds.push_back(plan.bounds.back() + share);
  }
  plan.bounds.push_back(layers);
  return plan;
}

bool StageHolds(const std::string& name, int stage, const StagePlan& plan, bool tied) {
  const bool first = stage == 0, last = stage + 1 == plan.stages();
  const long block = BlockOf(name);
  if (block >= 0)
    return static_cast<size_t>(block) >= plan.bounds[static_cast<size_t>(stage)] &&
           static_cast<size_t>(block) < plan.bounds[static_cast<size_t>(stage) + 1];
  if (name == "decoder.model.embed_tokens.weight") return first || (last && tied);
  if (name == "decoder.model.norm.weight" || name.rfind("decoder.lm_head.", 0) == 0) return last;
  return first;  // vision, projector, finding head
}

Pipeline::Pipeline(model::ReportModel& m, StagePlan plan, Communicator* group)
    : m_(m),
      plan_(std::move(plan)),
      group_(group),
      stage_(group->rank()),
      tied_(m->decoder->config.tie_word_embeddings) {}

bool Pipeline::Holds(const std::string& name) const {
  return StageHolds(name, stage_, plan_, tied_);
}

void Pipeline::DropOthers() {
  torch::NoGradGuard no_grad;
  const bool remember = dropped_.empty();
  for (auto& p : m_->named_parameters()) {
    if (Holds(p.key())) continue;
    if (remember) dropped_.emplace_back(p.key(), p.value().sizes().vec());
    torch::Tensor t = p.value();
    t.set_data(torch::empty({0}, t.options()));
    t.mutable_grad() = torch::Tensor();
  }
}

Status Pipeline::GatherWhole() {
  torch::NoGradGuard no_grad;
  std::map<std::string, std::vector<int64_t>> shapes(dropped_.begin(), dropped_.end());
  for (auto& p : m_->named_parameters()) {
    int holder = 0;
    while (holder < plan_.stages() && !StageHolds(p.key(), holder, plan_, tied_)) ++holder;
    torch::Tensor t = p.value();
    if (!Holds(p.key())) t.set_data(torch::empty(shapes.at(p.key()), t.options()));
    torch::Tensor view = t.detach();
    RETURN_IF_ERROR(group_->BroadcastFrom(view, holder));
  }
  return OkStatus();
}

Status Pipeline::SyncTiedEmbeddings() {
  if (!tied_ || plan_.stages() == 1) return OkStatus();
  torch::Tensor& w = m_->decoder->model->embed_tokens->weight;
  const auto& c = m_->decoder->config;
  std::vector<torch::Tensor> g = {
      Holds("decoder.model.embed_tokens.weight") && w.grad().defined()
          ? w.grad()
          : torch::zeros({c.vocab_size, c.hidden_size}, torch::kFloat32)};
  RETURN_IF_ERROR(group_->AllReduceSum(g));
  return OkStatus();
}

Status Pipeline::Forward(size_t i, const MicroBatchIo& io, bool keep, PipelineStats& stats) {
  auto& dec = m_->decoder;
  torch::Tensor in, mask, labels;
  if (first()) {
    MicroBatchIo::First f = io.first(i);
    in = f.hidden;
    mask = f.attention_mask;
    labels = f.labels;
    if (keep) aux_[i] = f.aux;
  } else {
    std::tie(mask, labels) = io.layout(i);
    in = torch::empty({mask.size(0), mask.size(1), dec->config.hidden_size},
                      torch::TensorOptions().dtype(torch::kFloat32).device(mask.device()));
    const auto t = Clock::now();
    RETURN_IF_ERROR(group_->Recv(in, stage_ - 1, ForwardTag(i)));
    stats.wait_s += Since(t);
    if (keep) {
      in.requires_grad_(true);
      inputs_[i] = in;
    }
  }
  const size_t lo = plan_.bounds[static_cast<size_t>(stage_)];
  const size_t hi = plan_.bounds[static_cast<size_t>(stage_) + 1];
  torch::Tensor out = dec->forward_layers(in, mask, lo, hi, last());
  if (last()) {
    auto [objective, loss_sum] = io.last(i, out, labels);
    stats.loss_sum += loss_sum;
    if (keep) outputs_[i] = objective;
    return OkStatus();
  }
  if (keep) outputs_[i] = out;
  sends_.push_back(
      group_->SendAsync(out.detach().to(torch::kFloat32).contiguous(), stage_ + 1, ForwardTag(i)));
  return OkStatus();
}

Status Pipeline::Backward(size_t i, const MicroBatchIo& io, PipelineStats& stats) {
  if (io.before_backward) io.before_backward(i);
  std::vector<torch::Tensor> roots, grads;
  if (last()) {
    roots.push_back(outputs_[i]);
    grads.push_back(torch::ones_like(outputs_[i]));
  } else {
    torch::Tensor g =
        torch::empty(outputs_[i].sizes(), outputs_[i].options().dtype(torch::kFloat32));
    const auto t = Clock::now();
    RETURN_IF_ERROR(group_->Recv(g, stage_ + 1, BackwardTag(i)));
    stats.wait_s += Since(t);
    roots.push_back(outputs_[i]);
    grads.push_back(g.to(outputs_[i].scalar_type()));
  }
  if (first() && aux_[i].defined()) {
    roots.push_back(aux_[i]);
    grads.push_back(torch::ones_like(aux_[i]));
  }
  torch::autograd::backward(roots, grads);
  if (!first()) {
    sends_.push_back(group_->SendAsync(inputs_[i].grad().contiguous(), stage_ - 1, BackwardTag(i)));
  }
  inputs_[i] = outputs_[i] = aux_[i] = torch::Tensor();
  return OkStatus();
}

StatusOr<PipelineStats> Pipeline::Step(size_t micro, Schedule schedule, const MicroBatchIo& io,
                                       bool backward) {
  PipelineStats stats;
  const auto start = Clock::now();
  inputs_.assign(micro, {});
  outputs_.assign(micro, {});
  aux_.assign(micro, {});
  if (!backward) {
    for (size_t i = 0; i < micro; ++i) RETURN_IF_ERROR(Forward(i, io, false, stats));
  } else if (schedule == Schedule::kGPipe) {
    for (size_t i = 0; i < micro; ++i) RETURN_IF_ERROR(Forward(i, io, true, stats));
    for (size_t i = 0; i < micro; ++i) RETURN_IF_ERROR(Backward(i, io, stats));
  } else {
    const size_t warmup = std::min(micro, static_cast<size_t>(plan_.stages() - stage_ - 1));
    size_t next_backward = 0;
    for (size_t i = 0; i < warmup; ++i) RETURN_IF_ERROR(Forward(i, io, true, stats));
    for (size_t i = warmup; i < micro; ++i) {
      RETURN_IF_ERROR(Forward(i, io, true, stats));
      RETURN_IF_ERROR(Backward(next_backward++, io, stats));
    }
    while (next_backward < micro) RETURN_IF_ERROR(Backward(next_backward++, io, stats));
  }
  const auto t = Clock::now();
  for (auto& s : sends_) RETURN_IF_ERROR(s->Wait());
  sends_.clear();
  stats.wait_s += Since(t);
  stats.step_s = Since(start);
  return stats;
}

}  // namespace medscribe::train
