#include "train/mesh.h"

#include <torch/torch.h>

namespace medscribe::train {
namespace {

// The decoder's collectives over a Communicator. A failed collective throws (it runs inside
// autograd); Train() turns the exception into a Status.
class CommunicatorGroup final : public model::TensorParallelGroup {
 public:
  explicit CommunicatorGroup(Communicator* c) : c_(c) {}
  int rank() const override { return c_->rank(); }
  int size() const override { return c_->world_size(); }
  void AllReduceSum(torch::Tensor& t) override {
    TORCH_CHECK(t.is_contiguous(), "tensor-parallel all-reduce needs a contiguous tensor");
    // Reduced-precision activations (bf16 autocast) travel as float32: Gloo does not sum them
    // in every release, and the sum is more exact.
    const bool widen = t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf;
    torch::Tensor buffer = widen ? t.to(torch::kFloat32) : t;
    const Status s = c_->AllReduceSumAsync(buffer)->Wait();
    TORCH_CHECK(s.ok(), "tensor-parallel all-reduce: ", s.message());
    if (widen) t.copy_(buffer);
  }

 private:
  Communicator* c_;
};

}  // namespace

Status CheckMesh(int world, int tp, int pp) {
  if (tp < 1 || pp < 1 || world % (tp * pp) != 0) {
    const std::string what = pp == 1 ? "--tp " + std::to_string(tp)
                             : tp == 1
                                 ? "--pp " + std::to_string(pp)
                                 : "--tp " + std::to_string(tp) + " x --pp " + std::to_string(pp);
    return InvalidArgumentError(what + " does not divide the " + std::to_string(world) +
                                " ranks; start a multiple of " +
                                (tp > 1 && pp > 1 ? "their product" : "it"));
  }
  return OkStatus();
}

StatusOr<Mesh> Mesh::Make(Communicator* world, int tp, int pp) {
  const int n = world->world_size();
  RETURN_IF_ERROR(CheckMesh(n, tp, pp));
  Mesh m;
  m.world_ = world;
  if (tp == 1 && pp == 1) {
    m.dp_ = world;
    m.tp_owned_ = SingleProcess();
    m.pp_owned_ = SingleProcess();
    m.tp_ = m.tp_owned_.get();
    m.pp_ = m.pp_owned_.get();
    return m;
  }
  // r = (d * pp + p) * tp + t
  const int replicas = n / (tp * pp);
  std::vector<std::vector<int>> tp_groups, pp_groups, dp_groups;
  for (int d = 0; d < replicas; ++d)
    for (int p = 0; p < pp; ++p) {
      tp_groups.emplace_back();
      for (int t = 0; t < tp; ++t) tp_groups.back().push_back((d * pp + p) * tp + t);
    }
  for (int d = 0; d < replicas; ++d)
    for (int t = 0; t < tp; ++t) {
      pp_groups.emplace_back();
      for (int p = 0; p < pp; ++p) pp_groups.back().push_back((d * pp + p) * tp + t);
    }
  for (int p = 0; p < pp; ++p)
    for (int t = 0; t < tp; ++t) {
      dp_groups.emplace_back();
      for (int d = 0; d < replicas; ++d) dp_groups.back().push_back((d * pp + p) * tp + t);
    }
  ASSIGN_OR_RETURN(m.tp_owned_, world->Subgroup(tp_groups, "tp"));
  ASSIGN_OR_RETURN(m.pp_owned_, world->Subgroup(pp_groups, "pp"));
  ASSIGN_OR_RETURN(m.dp_owned_, world->Subgroup(dp_groups, "dp"));
  m.tp_ = m.tp_owned_.get();
  m.pp_ = m.pp_owned_.get();
  m.dp_ = m.dp_owned_.get();
  if (tp > 1) m.group_ = std::make_unique<CommunicatorGroup>(m.tp_);
  return m;
}

void ShardForTensorParallel(model::ReportModel& m, ZeroOptimizer& opt, const Mesh& mesh,
                            const std::vector<std::string>& names) {
  model::TensorParallelGroup* g = mesh.model_group();
  const model::DecoderConfig& c = m->decoder->config;
  opt.TransformState([&](size_t k, const torch::Tensor& t) {
    return names[k].empty() ? t : model::ShardOf(names[k], t, c, g->rank(), g->size()).clone();
  });
  model::ShardDecoder(m->decoder, g);
  std::vector<bool> sharded(names.size());
  for (size_t k = 0; k < names.size(); ++k)
    sharded[k] = !names[k].empty() && model::ShardDimension(names[k]) >= 0;
  opt.SetTensorParallel(&mesh.tensor(), std::move(sharded));
}

Status MakeWhole(model::ReportModel& m, ZeroOptimizer& opt, const Mesh& mesh,
                 const std::vector<std::string>& names) {
  model::TensorParallelGroup* g = mesh.model_group();
  if (!g) return OkStatus();
  const model::DecoderConfig& c = m->decoder->config;
  try {
    torch::NoGradGuard no_grad;
    opt.TransformState([&](size_t k, const torch::Tensor& t) {
      return names[k].empty() ? t : model::GatherShard(names[k], t.contiguous(), c, g);
    });
    for (auto& p : m->decoder->named_parameters()) {
      torch::Tensor t = p.value();
      if (model::ShardDimension(p.key()) >= 0)
        t.set_data(model::GatherShard(p.key(), t.contiguous(), c, g));
    }
  } catch (const c10::Error& e) {
    return Status(ErrorCode::kUnavailable, std::string("gathering the decoder's shards failed: ") +
                                               e.what_without_backtrace());
  }
  return OkStatus();
}

void CutToShards(model::ReportModel& m, ZeroOptimizer& opt, const Mesh& mesh,
                 const std::vector<std::string>& names) {
  model::TensorParallelGroup* g = mesh.model_group();
  if (!g) return;
  const model::DecoderConfig& c = m->decoder->config;
  torch::NoGradGuard no_grad;
  opt.TransformState([&](size_t k, const torch::Tensor& t) {
    return names[k].empty() ? t : model::ShardOf(names[k], t, c, g->rank(), g->size()).clone();
  });
  for (auto& p : m->decoder->named_parameters()) {
    torch::Tensor t = p.value();
    if (model::ShardDimension(p.key()) >= 0)
      t.set_data(model::ShardOf(p.key(), t, c, g->rank(), g->size()).clone());
  }
}

}  // namespace medscribe::train
