// Rényi differential privacy (RDP) accounting for DP-SGD: the privacy spent by T steps of the
// Poisson-subsampled Gaussian mechanism (each sample in a batch with probability q, per-sample
// gradients clipped to norm C, Gaussian noise of standard deviation sigma x C added to their sum),
// and its conversion to (epsilon, delta)-DP.
//
// RDP of one step at order alpha follows Mironov, Talwar and Zhang, "Rényi Differential Privacy
// of the Sampled Gaussian Mechanism" (2019): log A_alpha by the binomial expansion for integer
// orders and by its erfc series for fractional ones; RDP composes by addition over steps. The
// conversion to (epsilon, delta) is the tighter one of Balle et al. (2020) and Canonne, Kamath
// and Steinke (2020): epsilon = rdp + log(1 - 1/alpha) - log(delta x alpha) / (alpha - 1),
// minimized over the orders. Neighbouring datasets differ by adding or removing one sample.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace medscribe::train {

// The orders tried when none are given: 1.1 .. 10.9 in steps of 0.1, then 12 .. 63.
std::vector<double> DefaultRdpOrders();

// RDP at each order of `steps` steps with sampling rate q (0 <= q <= 1) and noise multiplier
// sigma (>= 0). sigma 0 gives infinity (no privacy), q 0 gives 0.
// InvalidArgument when q, sigma or an order (> 1) is out of range.
StatusOr<std::vector<double>> SampledGaussianRdp(double q, double sigma, int64_t steps,
                                                 const std::vector<double>& orders);

struct PrivacySpent {
  double epsilon = 0;  // infinity when no order gives a finite bound
  double order = 0;    // the order that gave it
};

// The smallest epsilon over the orders for which the RDP curve `rdp` gives (epsilon, delta)-DP.
// REQUIRES: rdp.size() == orders.size(). InvalidArgument when delta is not in (0, 1).
StatusOr<PrivacySpent> EpsilonFromRdp(const std::vector<double>& orders,
                                      const std::vector<double>& rdp, double delta);

// Epsilon spent by `steps` DP-SGD steps (the default orders).
StatusOr<PrivacySpent> DpSgdEpsilon(double q, double sigma, int64_t steps, double delta);

// The smallest noise multiplier (to 0.1%) whose `steps` steps at rate q spend at most
// `epsilon`; InvalidArgument when even sigma = 1000 does not.
StatusOr<double> NoiseForEpsilon(double q, int64_t steps, double epsilon, double delta);

}  // namespace medscribe::train
