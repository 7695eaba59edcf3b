// The whole synthetic cohort as planned before anything is written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/encounter.h"
#include "synth/people.h"

namespace medscribe::synth {

inline constexpr int kNumRadiologists = 8;
inline constexpr int kNumReferring = 24;
inline constexpr std::string_view kInstitution = "Riverside General Hospital";

struct CohortPlan {
  uint64_t seed = 0;
  std::vector<Patient> patients;
  std::vector<Clinician> radiologists;
  std::vector<Clinician> referring;
  std::vector<Clinician> operators;  // radiographers (OperatorsName)
  std::vector<Encounter> encounters;
};

}  // namespace medscribe::synth
