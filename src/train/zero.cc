#include "train/zero.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>
#include <type_traits>

#include "model/io.h"

namespace medscribe::train {
namespace {

// The parameters owned by `rank`, flattened into one buffer (registration order).
torch::Tensor Flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& t : tensors) flat.push_back(t.reshape({-1}));
  return torch::cat(flat);
}

void Unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) {
  int64_t at = 0;
  for (torch::Tensor& t : tensors) {
    t.copy_(flat.narrow(0, at, t.numel()).view_as(t));
    at += t.numel();
  }
}

// The key of a parameter in torch::optim's state map: its TensorImpl's address as text in
// LibTorch 1.x, the address itself in 2.x.
template <typename Map>
typename Map::key_type StateKey(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

}  // namespace

std::vector<int> PartitionParameters(const std::vector<torch::Tensor>& params, int world) {
  std::vector<size_t> order(params.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return params[a].numel() > params[b].numel(); });
  std::vector<int64_t> load(static_cast<size_t>(world), 0);
  std::vector<int> owner(params.size(), 0);
  for (size_t k : order) {
    const int r = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[k] = r;
    load[static_cast<size_t>(r)] += params[k].numel();
  }
  return owner;
}

ZeroOptimizer::ZeroOptimizer(std::vector<torch::Tensor> params, Communicator* comm, int stage,
                             const torch::optim::AdamWOptions& options)
    : params_(std::move(params)), comm_(comm), stage_(stage) {
  const int world = comm_->world_size();
  owner_ = stage_ == 0 ? std::vector<int>(params_.size(), comm_->rank())
                       : PartitionParameters(params_, world);
  for (size_t k = 0; k < params_.size(); ++k)
    if (owner_[k] == comm_->rank()) owned_.push_back(params_[k]);
  adamw_ = std::make_unique<torch::optim::AdamW>(owned_, options);
}

void ZeroOptimizer::ZeroGrad() {
  for (torch::Tensor& p : params_) {
    if (p.grad().defined()) {
      p.mutable_grad().detach_();
      p.mutable_grad().zero_();
    }
  }
}

void ZeroOptimizer::SetLearningRate(double lr) {
  for (auto& group : adamw_->param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

Status ZeroOptimizer::ReduceGradients() {
  if (stage_ < 2 || comm_->world_size() == 1) return OkStatus();
  torch::NoGradGuard no_grad;
  for (int r = 0; r < comm_->world_size(); ++r) {
    std::vector<torch::Tensor> grads;
    for (size_t k = 0; k < params_.size(); ++k) {
      // A sharded unit's gradients were reduced when its backward finished.
      if (owner_[k] != r || (!in_unit_.empty() && in_unit_[k])) continue;
      if (!params_[k].grad().defined()) params_[k].mutable_grad() = torch::zeros_like(params_[k]);
      grads.push_back(params_[k].grad());
    }
    if (grads.empty()) continue;
    torch::Tensor flat = Flatten(grads);
    RETURN_IF_ERROR(comm_->ReduceTo(flat, r));
    if (r == comm_->rank()) Unflatten(flat, grads);
  }
  // Gradients of parameters owned elsewhere are not needed here any more.
  for (size_t k = 0; k < params_.size(); ++k)
    if (owner_[k] != comm_->rank()) params_[k].mutable_grad() = torch::Tensor();
  return OkStatus();
}

void ZeroOptimizer::SetShardedUnits(std::vector<std::vector<size_t>> units) {
  units_ = std::move(units);
  in_unit_.assign(params_.size(), false);
  shapes_.resize(params_.size());
  for (const auto& unit : units_) {
    for (size_t k : unit) {
      in_unit_[k] = true;
      shapes_[k] = params_[k].sizes().vec();
    }
  }
  ReleaseAll();
}

Status ZeroOptimizer::Gather(size_t u) {
  torch::NoGradGuard no_grad;
  for (size_t k : units_[u]) {
    if (owner_[k] != comm_->rank())
      params_[k].set_data(torch::empty(shapes_[k], params_[k].options()));
    torch::Tensor t = params_[k].detach();
    RETURN_IF_ERROR(comm_->BroadcastFrom(t, owner_[k]));
  }
  return OkStatus();
}

void ZeroOptimizer::Release(size_t u) {
  torch::NoGradGuard no_grad;
  for (size_t k : units_[u]) {
    if (owner_[k] == comm_->rank()) continue;
    params_[k].set_data(torch::empty({0}, params_[k].options()));
    params_[k].mutable_grad() = torch::Tensor();
  }
}

Status ZeroOptimizer::ReduceUnitGradients(size_t u) {
  torch::NoGradGuard no_grad;
  for (size_t k : units_[u]) {
    torch::Tensor& g = params_[k].mutable_grad();
    if (!g.defined()) g = torch::zeros_like(params_[k]);
    RETURN_IF_ERROR(comm_->ReduceTo(g, owner_[k]));
  }
  Release(u);
  return OkStatus();
}

model::CheckpointHooks ZeroOptimizer::HooksFor(size_t u) {
  model::CheckpointHooks h;
  h.gather = [this, u] {
    const Status s = Gather(u);
    TORCH_CHECK(s.ok(), "gathering a sharded block: ", s.message());
  };
  h.release = [this, u] { Release(u); };
  h.after_backward = [this, u] {
    const Status s = ReduceUnitGradients(u);
    TORCH_CHECK(s.ok(), "reducing a sharded block's gradients: ", s.message());
  };
  return h;
}

Status ZeroOptimizer::GatherAll() {
  for (size_t u = 0; u < units_.size(); ++u) RETURN_IF_ERROR(Gather(u));
  return OkStatus();
}

void ZeroOptimizer::ReleaseAll() {
  for (size_t u = 0; u < units_.size(); ++u) Release(u);
}

StatusOr<double> ZeroOptimizer::ClipGradNorm(double max_norm) {
  torch::NoGradGuard no_grad;
  // Stage 2 holds only owned gradients: the squares are summed over ranks.
  const bool partial = stage_ >= 2 && comm_->world_size() > 1;
  double squares = 0, shard_squares = 0;
  for (size_t k = 0; k < params_.size(); ++k) {
    const torch::Tensor& g = params_[k].grad();
    if (!g.defined() || (partial && owner_[k] != comm_->rank())) continue;
    if (pp_ && !counted_[k]) continue;
    const double s = g.to(torch::kFloat64).square().sum().item<double>();
    (tp_ && sharded_[k] ? shard_squares : squares) += s;
  }
  if (partial) {  // each owner's squares
    std::vector<torch::Tensor> t = {torch::tensor({squares, shard_squares}, torch::kFloat64)};
    RETURN_IF_ERROR(comm_->AllReduceSum(t));
    squares = t[0][0].item<double>();
    shard_squares = t[0][1].item<double>();
  }
  if (tp_) {  // each shard's squares once, the replicated parameters' from this rank
    std::vector<torch::Tensor> t = {torch::tensor({shard_squares}, torch::kFloat64)};
    RETURN_IF_ERROR(tp_->AllReduceSum(t));
    squares += t[0].item<double>();
  }
  if (pp_) {  // every stage's own parameters
    std::vector<torch::Tensor> t = {torch::tensor({squares}, torch::kFloat64)};
    RETURN_IF_ERROR(pp_->AllReduceSum(t));
    squares = t[0].item<double>();
  }
  const double norm = std::sqrt(squares);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1) {
    for (torch::Tensor& p : params_)
      if (p.grad().defined()) p.mutable_grad().mul_(coef);
  }
  return norm;
}

Status ZeroOptimizer::Step() {
  adamw_->step();
  if (stage_ == 0 || comm_->world_size() == 1) return OkStatus();
  torch::NoGradGuard no_grad;
  for (int r = 0; r < comm_->world_size(); ++r) {
    std::vector<torch::Tensor> mine;
    for (size_t k = 0; k < params_.size(); ++k)  // a sharded unit is gathered when it runs
      if (owner_[k] == r && (in_unit_.empty() || !in_unit_[k])) mine.push_back(params_[k]);
    if (mine.empty()) continue;
    torch::Tensor flat = Flatten(mine);
    RETURN_IF_ERROR(comm_->BroadcastFrom(flat, r));
    if (r != comm_->rank()) Unflatten(flat, mine);
  }
  return OkStatus();
}

void ZeroOptimizer::SetTensorParallel(Communicator* tp, std::vector<bool> sharded) {
  tp_ = tp;
  sharded_ = std::move(sharded);
}

void ZeroOptimizer::SetPipeline(Communicator* pp, std::vector<bool> counted, int stage,
                                int stages) {
  SetPartitioned(pp, std::move(counted),
                 ".stage-" + std::to_string(stage) + "-of-" + std::to_string(stages));
}

void ZeroOptimizer::SetPartitioned(Communicator* group, std::vector<bool> counted,
                                   std::string file_tag) {
  pp_ = group;
  counted_ = std::move(counted);
  file_tag_ = std::move(file_tag);
}

void ZeroOptimizer::TransformState(
    const std::function<torch::Tensor(size_t, const torch::Tensor&)>& fn) {
  torch::NoGradGuard no_grad;
  auto& state = adamw_->state();
  for (size_t k = 0; k < params_.size(); ++k) {
    auto it = state.find(StateKey(state, params_[k]));
    if (it == state.end()) continue;
    auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
    s.exp_avg(fn(k, s.exp_avg()));
    s.exp_avg_sq(fn(k, s.exp_avg_sq()));
    if (s.max_exp_avg_sq().defined()) s.max_exp_avg_sq(fn(k, s.max_exp_avg_sq()));
  }
}

int64_t ZeroOptimizer::state_bytes() const {
  int64_t bytes = 0;
  for (const auto& [key, state] : adamw_->state()) {
    (void)key;
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*state);
    for (const torch::Tensor& t : {s.exp_avg(), s.exp_avg_sq(), s.max_exp_avg_sq()})
      if (t.defined()) bytes += t.numel() * static_cast<int64_t>(t.element_size());
  }
  return bytes;
}

std::string ZeroOptimizer::ShardName() const {
  if (remote_) return "";
  if (stage_ == 0) return comm_->rank() == 0 ? "optimizer" + file_tag_ + ".pt" : "";
  return "optimizer.rank-" + std::to_string(comm_->rank()) + "-of-" +
         std::to_string(comm_->world_size()) + file_tag_ + ".pt";
}

Status ZeroOptimizer::Save(const std::string& dir, bool write) const {
  const std::string name = ShardName();
  if (name.empty() || !write) return OkStatus();
  std::ostringstream out;
  try {
    torch::save(*adamw_, out);
  } catch (const c10::Error& e) {
    return IoError(std::string("cannot save the optimizer state: ") + e.what_without_backtrace());
  }
  return model::WriteBytesAtomic(dir + "/" + name, out.str());
}

Status ZeroOptimizer::Load(const std::string& dir) {
  if (remote_) return OkStatus();
  const std::string name = stage_ == 0 ? "optimizer" + file_tag_ + ".pt" : ShardName();
  const std::string path = dir + "/" + name;
  auto bytes = model::ReadBytes(path);
  if (!bytes.ok()) {
    return FailedPreconditionError(
        "checkpoint " + dir + " has no " + name +
        ": it was written with another ZeRO stage, world size, pipeline (--pp) or number of "
        "parameter servers (--servers); resume with the --zero, --pp, --servers and number of "
        "ranks it was written with");
  }
  try {
    std::istringstream in(*bytes);
    torch::load(*adamw_, in);
  } catch (const c10::Error& e) {
    return DataLossError("checkpoint " + path +
                         ": the optimizer state cannot be read: " + e.what_without_backtrace());
  }
  return OkStatus();
}

}  // namespace medscribe::train
