// Small builders of FHIR R4 JSON elements shared by the cohort's resource writers.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/civil_time.h"

namespace medscribe::synth::fhir_json {

using Json = nlohmann::ordered_json;

// {"reference": "Type/id"}
inline Json Ref(std::string_view type, std::string_view id) {
  return Json{{"reference", std::string(type) + "/" + std::string(id)}};
}

inline Json Coding(std::string_view system, std::string_view code, std::string_view display) {
  return Json{{"system", system}, {"code", code}, {"display", display}};
}

// A CodeableConcept of one coding, with `text` when given.
inline Json Concept(std::string_view system, std::string_view code, std::string_view display,
                    std::string_view text = {}) {
  Json c{{"coding", Json::array({Coding(system, code, display)})}};
  if (!text.empty()) c["text"] = text;
  return c;
}

// FHIR dateTime with an explicit offset (the cohort's hospital runs on UTC).
inline std::string Instant(const DateTime& t) { return t.Iso() + "Z"; }

}  // namespace medscribe::synth::fhir_json
