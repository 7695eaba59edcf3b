#include "common/uid.h"

#include <algorithm>

namespace medscribe {

std::string Uid2_25(uint64_t high, uint64_t low) {
  // Decimal digits of high:low by long division of four 32-bit limbs.
  uint32_t limbs[4] = {static_cast<uint32_t>(high >> 32), static_cast<uint32_t>(high),
                       static_cast<uint32_t>(low >> 32), static_cast<uint32_t>(low)};
  std::string digits;
  do {
    uint64_t rem = 0;
    for (uint32_t& limb : limbs) {
      const uint64_t cur = (rem << 32) | limb;
      limb = static_cast<uint32_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
  } while ((limbs[0] | limbs[1] | limbs[2] | limbs[3]) != 0);
  std::reverse(digits.begin(), digits.end());
  return "2.25." + digits;
}

}  // namespace medscribe
