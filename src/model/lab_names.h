// Short names of the laboratory and vital-sign codes (LOINC) that reports and prompts use:
// "WBC" for 6690-2, "SpO2" for 59408-5. Header-only, no dependencies, so the ML core's prompt
// and the clinical workflow's rules share one table.
#pragma once

#include <string_view>

namespace medscribe::model {

// The short name of a LOINC code, or "" when the code is not one of the cohort's labs.
inline std::string_view LabShortName(std::string_view loinc) {
  struct Entry {
    std::string_view code, name;
  };
  static constexpr Entry kNames[] = {
      {"6690-2", "WBC"},         {"1988-5", "CRP"},       {"33959-8", "procalcitonin"},
      {"30934-4", "BNP"},        {"10839-9", "troponin"}, {"59408-5", "SpO2"},
      {"8310-5", "temperature"}, {"718-7", "hemoglobin"}, {"2160-0", "creatinine"},
      {"48065-7", "D-dimer"}};
  for (const Entry& e : kNames)
    if (e.code == loinc) return e.name;
  return {};
}

}  // namespace medscribe::model
