// A planned synthetic cohort for tests that need realistic encounters without writing files.
#pragma once

#include <cstdint>

#include "synth/plan.h"

namespace medscribe::testing {

inline synth::CohortPlan SmallPlan(int encounters = 200, uint64_t seed = 3) {
  synth::SynthOptions o;
  o.encounters = encounters;
  o.seed = seed;
  return synth::PlanCohort(o);
}

}  // namespace medscribe::testing
