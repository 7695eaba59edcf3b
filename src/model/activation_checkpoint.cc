#include "model/activation_checkpoint.h"

namespace medscribe::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Recompute : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor&)> fn;
  CheckpointHooks hooks;
};

void Call(const std::function<void()>& hook) {
  if (hook) hook();
}

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x,
                               c10::intrusive_ptr<Recompute> recompute) {
    ctx->save_for_backward({x});
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      Call(recompute->hooks.gather);
      y = recompute->fn(x);
      Call(recompute->hooks.release);
    }
    ctx->saved_data["fn"] = c10::IValue::make_capsule(std::move(recompute));
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const torch::Tensor saved = ctx->get_saved_variables()[0];
    const auto holder = ctx->saved_data["fn"].toCapsule();
    const auto* recompute = static_cast<const Recompute*>(holder.get());
    torch::Tensor x = saved.detach().requires_grad_(true);
    torch::Tensor y;
    {
      torch::AutoGradMode enable(true);
      Call(recompute->hooks.gather);
      y = recompute->fn(x);
    }
    torch::autograd::backward({y}, {grad_outputs[0]});
    Call(recompute->hooks.after_backward);
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor Checkpointed(std::function<torch::Tensor(const torch::Tensor&)> fn,
                           const torch::Tensor& x) {
  return Checkpointed(std::move(fn), x, CheckpointHooks{});
}

torch::Tensor Checkpointed(std::function<torch::Tensor(const torch::Tensor&)> fn,
                           const torch::Tensor& x, CheckpointHooks hooks) {
  if (!torch::GradMode::is_enabled() || !x.requires_grad()) {
    Call(hooks.gather);
    torch::Tensor y = fn(x);
    Call(hooks.release);
    return y;
  }
  auto recompute = c10::make_intrusive<Recompute>();
  recompute->fn = std::move(fn);
  recompute->hooks = std::move(hooks);
  return CheckpointFunction::apply(x, std::move(recompute));
}

}  // namespace medscribe::model
