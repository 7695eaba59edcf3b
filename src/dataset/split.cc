#include "dataset/split.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/rng.h"

namespace medscribe::dataset {

std::string_view SplitName(Split s) {
  switch (s) {
    case Split::kTrain:
      return "train";
    case Split::kVal:
      return "val";
    case Split::kTest:
      return "test";
  }
  return "train";
}

StatusOr<SplitFractions> ParseSplitFractions(std::string_view text) {
  std::vector<double> v;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string part(text.substr(pos, comma - pos));
    try {
      size_t used = 0;
      v.push_back(std::stod(part, &used));
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      return InvalidArgumentError("--split must be three fractions like 0.8,0.1,0.1; got '" +
                                  std::string(text) + "'");
    }
    pos = comma + 1;
  }
  if (v.size() != 3 || v[0] < 0 || v[1] < 0 || v[2] < 0 ||
      std::abs(v[0] + v[1] + v[2] - 1.0) > 1e-6) {
    return InvalidArgumentError("--split must be three non-negative fractions summing to 1; got '" +
                                std::string(text) + "'");
  }
  return SplitFractions{v[0], v[1], v[2]};
}

Split AssignSplit(uint64_t seed, std::string_view patient, const SplitFractions& f) {
  const uint64_t h = Mix64(Mix64(seed ^ 0x73706c6974ULL) ^ HashString(patient));
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  if (u < f.train) return Split::kTrain;
  if (u < f.train + f.val) return Split::kVal;
  return Split::kTest;
}

}  // namespace medscribe::dataset
