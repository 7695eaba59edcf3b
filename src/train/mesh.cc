#include "train/mesh.h"

#include <torch/torch.h>

namespace medscribe::train {
namespace {

constexpr const char* kDecoderPrefix = "decoder.";

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

Status CheckMesh(int world, int tp) {
  if (tp < 1 || world % tp != 0) {
    return InvalidArgumentError("--tp " + std::to_string(tp) + " does not divide the " +
                                std::to_string(world) +
                                " ranks; start a multiple of the tensor-parallel degree");
  }
  return OkStatus();
}

StatusOr<Mesh> Mesh::Make(Communicator* world, int tp) {
  const int n = world->world_size();
  RETURN_IF_ERROR(CheckMesh(n, tp));
  Mesh m;
  m.world_ = world;
  if (tp == 1) {
    m.dp_ = world;
    m.tp_owned_ = SingleProcess();
    m.tp_ = m.tp_owned_.get();
    return m;
  }
  std::vector<std::vector<int>> tp_groups(static_cast<size_t>(n / tp)),
      dp_groups(static_cast<size_t>(tp));
  for (int r = 0; r < n; ++r) {
    tp_groups[static_cast<size_t>(r / tp)].push_back(r);
    dp_groups[static_cast<size_t>(r % tp)].push_back(r);
  }
  ASSIGN_OR_RETURN(m.tp_owned_, world->Subgroup(tp_groups, "tp"));
  ASSIGN_OR_RETURN(m.dp_owned_, world->Subgroup(dp_groups, "dp"));
  m.tp_ = m.tp_owned_.get();
  m.dp_ = m.dp_owned_.get();
  m.group_ = std::make_unique<CommunicatorGroup>(m.tp_);
  return m;
}

std::vector<std::string> DecoderNames(model::ReportModel& m,
                                      const std::vector<torch::Tensor>& params) {
  std::vector<std::string> names(params.size());
  for (const auto& p : m->named_parameters()) {
    if (p.key().rfind(kDecoderPrefix, 0) != 0) continue;
    for (size_t k = 0; k < params.size(); ++k)
      if (params[k].is_same(p.value())) names[k] = p.key().substr(std::string(kDecoderPrefix).size());
  }
  return names;
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
