// Synthetic cohorts for tests: a plan (realistic encounters without files), or a small cohort
// written to disk (64-pixel images, no speech: fast).
#pragma once

#include <cstdint>
#include <filesystem>

#include "synth/cohort.h"
#include "synth/plan.h"

namespace medscribe::testing {

inline synth::CohortPlan SmallPlan(int encounters = 200, uint64_t seed = 3) {
  synth::SynthOptions o;
  o.encounters = encounters;
  o.seed = seed;
  return synth::PlanCohort(o);
}

inline StatusOr<synth::SynthSummary> WriteSmallCohort(const std::filesystem::path& out,
                                                      int encounters, uint64_t seed) {
  synth::SynthOptions o;
  o.out_dir = out.string();
  o.encounters = encounters;
  o.seed = seed;
  o.image_size = 64;
  o.speech = false;
  return synth::WriteCohort(o, nullptr);
}

}  // namespace medscribe::testing
