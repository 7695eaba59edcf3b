#include "tune/asha.h"

#include <algorithm>
#include <cmath>

namespace medscribe::tune {

bool Promotable(double value, std::vector<double> rung_values, int eta) {
  if (!std::isfinite(value)) return false;
  std::erase_if(rung_values, [](double v) { return !std::isfinite(v); });
  if (rung_values.empty()) return true;
  std::sort(rung_values.begin(), rung_values.end());
  const size_t keep = std::max<size_t>(1, rung_values.size() / static_cast<size_t>(eta));
  return value <= rung_values[keep - 1];
}

}  // namespace medscribe::tune
