// The whole synthetic cohort as planned before anything is written.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "synth/encounter.h"
#include "synth/people.h"

namespace medscribe::synth {

inline constexpr int kNumRadiologists = 8;
inline constexpr int kNumReferring = 24;
inline constexpr std::string_view kInstitution = "Riverside General Hospital";

struct SynthOptions {
  // "radiology" (chest-radiograph encounters) or "inpatient" (inpatient stays: the discharge
  // scenario; stay_cohort.h). Image, department, device and lab options are radiology's.
  std::string kind = "radiology";
  std::string out_dir;
  int encounters = 0;  // encounters, or stays
  uint64_t seed = 1;
  int image_size = 512;
  bool speech = true;
  // With speech: dictation audio for the first this many encounters only (the others were not
  // dictated); negative: every encounter.
  int speech_encounters = -1;
  int jobs = 0;  // 0: all cores
  bool force = false;
  std::vector<std::string> voices;  // empty: DefaultVoices()
  // Departments the encounters come from (DepartmentName: ED, ICU, ...), with their usual
  // relative frequencies among themselves; empty: all. A site's mix differs from another's
  // (federated learning's non-IID sites).
  std::vector<std::string> departments;
  // Weights of the four detector profiles (DeviceProfiles(), in order); empty: 0.3, 0.2, 0.3,
  // 0.2. Another hospital's, or a new detector's, mix (drift monitoring's tests).
  std::vector<double> device_mix;
  // Lab values multiplied by a factor, by lab key (LabSpecs(): "wbc", "crp", ...), flags
  // following: another laboratory's analyzer or calibration.
  std::map<std::string, double> lab_shift;
};

struct CohortPlan {
  uint64_t seed = 0;
  std::vector<bool> departments;            // allowed, by Department; empty: all
  std::vector<double> device_mix;           // as SynthOptions
  std::map<std::string, double> lab_shift;  // as SynthOptions
  std::vector<Patient> patients;
  std::vector<Clinician> radiologists;
  std::vector<Clinician> referring;
  std::vector<Clinician> operators;  // radiographers (OperatorsName)
  std::vector<Encounter> encounters;
};

}  // namespace medscribe::synth
