#include "train/privacy_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace medscribe::train {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(exp(a) + exp(b)).
double LogAdd(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double hi = std::max(a, b), lo = std::min(a, b);
  return hi + std::log1p(std::exp(lo - hi));
}

// log(exp(a) - exp(b)); -infinity when the difference is not positive.
double LogSub(double a, double b) {
  if (b == -kInf) return a;
  if (b >= a) return -kInf;
  return a + std::log1p(-std::exp(b - a));
}

// log(erfc(x)), also where erfc(x) underflows (its asymptotic series).
double LogErfc(double x) {
  if (x < 25) return std::log(std::erfc(x));
  const double r = 1 / (x * x);
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) +
         std::log1p(r * (-0.5 + r * (0.75 - 1.875 * r)));
}

// log A_alpha for an integer order: the binomial expansion of E[(1 - q + q exp(...))^alpha].
double LogAInteger(double q, double sigma, int64_t alpha) {
  double log_a = -kInf;
  for (int64_t i = 0; i <= alpha; ++i) {
    const double log_binom = std::lgamma(static_cast<double>(alpha) + 1) -
                             std::lgamma(static_cast<double>(i) + 1) -
                             std::lgamma(static_cast<double>(alpha - i) + 1);
    const double di = static_cast<double>(i);
    const double term = log_binom + di * std::log(q) +
                        static_cast<double>(alpha - i) * std::log1p(-q) +
                        (di * di - di) / (2 * sigma * sigma);
    log_a = LogAdd(log_a, term);
  }
  return log_a;
}

// log A_alpha for a fractional order: the series of Mironov, Talwar and Zhang (2019, section
// 3.3), split at z0 where the two Gaussians' densities weigh alike, summed until its terms fall
// below exp(-30) of the total's scale.
double LogAFractional(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  double log_coef = 0;  // log |binomial(alpha, i)|
  bool positive = true;
  for (int64_t i = 0;; ++i) {
    const double di = static_cast<double>(i), j = alpha - di;
    const double log_t0 = log_coef + di * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_coef + j * std::log(q) + di * std::log1p(-q);
    const double log_e0 = std::log(0.5) + LogErfc((di - z0) / (std::sqrt(2.0) * sigma));
    const double log_e1 = std::log(0.5) + LogErfc((z0 - j) / (std::sqrt(2.0) * sigma));
    const double log_s0 = log_t0 + (di * di - di) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (positive) {
      log_a0 = LogAdd(log_a0, log_s0);
      log_a1 = LogAdd(log_a1, log_s1);
    } else {
      log_a0 = LogSub(log_a0, log_s0);
      log_a1 = LogSub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30 || i > 100000) break;
    // binomial(alpha, i + 1) = binomial(alpha, i) x (alpha - i) / (i + 1)
    const double factor = (alpha - di) / (di + 1);
    if (factor == 0) break;
    log_coef += std::log(std::fabs(factor));
    if (factor < 0) positive = !positive;
  }
  return LogAdd(log_a0, log_a1);
}

double StepRdp(double q, double sigma, double alpha) {
  if (q == 0) return 0;
  if (sigma == 0 || std::isinf(alpha)) return kInf;
  if (q == 1) return alpha / (2 * sigma * sigma);
  const double log_a = alpha == std::floor(alpha) && alpha < 1e6
                           ? LogAInteger(q, sigma, static_cast<int64_t>(alpha))
                           : LogAFractional(q, sigma, alpha);
  return log_a / (alpha - 1);
}

}  // namespace

std::vector<double> DefaultRdpOrders() {
  std::vector<double> orders;
  for (int k = 11; k < 110; ++k) orders.push_back(k / 10.0);
  for (int k = 12; k < 64; ++k) orders.push_back(k);
  return orders;
}

StatusOr<std::vector<double>> SampledGaussianRdp(double q, double sigma, int64_t steps,
                                                 const std::vector<double>& orders) {
  if (!(q >= 0 && q <= 1))
    return InvalidArgumentError("the sampling rate must be in [0, 1], not " + std::to_string(q));
  if (!(sigma >= 0))
    return InvalidArgumentError("the noise multiplier must be 0 or more, not " +
                                std::to_string(sigma));
  if (steps < 0) return InvalidArgumentError("the number of steps must be 0 or more");
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (double alpha : orders) {
    if (!(alpha > 1))
      return InvalidArgumentError("RDP orders must be above 1, not " + std::to_string(alpha));
    rdp.push_back(StepRdp(q, sigma, alpha) * static_cast<double>(steps));
  }
  return rdp;
}

StatusOr<PrivacySpent> EpsilonFromRdp(const std::vector<double>& orders,
                                      const std::vector<double>& rdp, double delta) {
  if (!(delta > 0 && delta < 1))
    return InvalidArgumentError("delta must be in (0, 1), not " + std::to_string(delta));
  PrivacySpent best{kInf, orders.empty() ? 0 : orders.front()};
  for (size_t k = 0; k < orders.size() && k < rdp.size(); ++k) {
    const double alpha = orders[k], r = rdp[k];
    double epsilon = kInf;
    if (r < 0 || std::isnan(r)) {
      return InvalidArgumentError("an RDP value is negative or not a number");
    } else if (delta * delta + std::expm1(-r) >= 0) {
      epsilon = 0;  // the KL bound: delta >= sqrt(1 - exp(-r)) already
    } else if (alpha > 1.01) {
      epsilon = r + std::log1p(-1 / alpha) - std::log(delta * alpha) / (alpha - 1);
    }
    if (epsilon < best.epsilon) best = {epsilon, alpha};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

StatusOr<PrivacySpent> DpSgdEpsilon(double q, double sigma, int64_t steps, double delta) {
  const std::vector<double> orders = DefaultRdpOrders();
  ASSIGN_OR_RETURN(const std::vector<double> rdp, SampledGaussianRdp(q, sigma, steps, orders));
  return EpsilonFromRdp(orders, rdp, delta);
}

StatusOr<double> NoiseForEpsilon(double q, int64_t steps, double epsilon, double delta) {
  if (!(epsilon > 0)) return InvalidArgumentError("the target epsilon must be above 0");
  double lo = 0, hi = 1000;
  ASSIGN_OR_RETURN(const PrivacySpent at_hi, DpSgdEpsilon(q, hi, steps, delta));
  if (at_hi.epsilon > epsilon)
    return InvalidArgumentError("no noise multiplier up to 1000 keeps " + std::to_string(steps) +
                                " steps at sampling rate " + std::to_string(q) +
                                " within epsilon " + std::to_string(epsilon) +
                                "; train fewer steps or sample fewer examples per step");
  while (hi - lo > 1e-3 * hi) {
    const double mid = (lo + hi) / 2;
    ASSIGN_OR_RETURN(const PrivacySpent spent, DpSgdEpsilon(q, mid, steps, delta));
    (spent.epsilon <= epsilon ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace medscribe::train
