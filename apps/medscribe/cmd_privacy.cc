// `medscribe privacy`: the differential-privacy budget of DP-SGD training
// (train/privacy_accountant.h).
#include <cmath>
#include <cstdio>
#include <memory>

#include "cli.h"
#include "train/privacy_accountant.h"

namespace medscribe::cli {

Runner RegisterPrivacy(CLI::App& app) {
  app.require_subcommand(1);
  struct Args {
    double sample_rate = 0, noise = 0, delta = 1e-5, epsilon = 0;
    int64_t steps = 0;
  };
  auto a = std::make_shared<Args>();
  const auto common = [&a](CLI::App* c) {
    c->add_option("--sample-rate", a->sample_rate,
                  "Probability that a training example is in a batch (batch size / examples)")
        ->required()
        ->check(CLI::Range(0.0, 1.0));
    c->add_option("--steps", a->steps, "Optimizer steps")
        ->required()
        ->check(CLI::NonNegativeNumber);
    c->add_option("--delta", a->delta, "The delta of (epsilon, delta)-DP (below 1 / examples)")
        ->capture_default_str();
  };
  CLI::App* eps = app.add_subcommand(
      "epsilon", "The epsilon that DP-SGD with this noise multiplier spends (RDP accountant)");
  common(eps);
  eps->add_option("--noise", a->noise,
                  "Noise multiplier: the noise's standard deviation over the clipping norm")
      ->required()
      ->check(CLI::NonNegativeNumber);
  CLI::App* noise = app.add_subcommand(
      "noise", "The smallest noise multiplier that keeps DP-SGD within a target epsilon");
  common(noise);
  noise->add_option("--epsilon", a->epsilon, "Target epsilon")->required();
  return [=](GlobalOptions&) {
    if (eps->parsed()) {
      auto spent = train::DpSgdEpsilon(a->sample_rate, a->noise, a->steps, a->delta);
      if (!spent.ok()) return ReportError(spent.status());
      std::printf("epsilon=%.4f delta=%g order=%g sample_rate=%g noise=%g steps=%lld\n",
                  spent->epsilon, a->delta, spent->order, a->sample_rate, a->noise,
                  static_cast<long long>(a->steps));
      return kExitOk;
    }
    auto sigma = train::NoiseForEpsilon(a->sample_rate, a->steps, a->epsilon, a->delta);
    if (!sigma.ok()) return ReportError(sigma.status());
    std::printf("noise=%.4f epsilon<=%g delta=%g sample_rate=%g steps=%lld\n", *sigma, a->epsilon,
                a->delta, a->sample_rate, static_cast<long long>(a->steps));
    return kExitOk;
  };
}

}  // namespace medscribe::cli
