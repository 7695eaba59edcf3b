// The signed discharge summary as the EMR receives it: a FHIR R4 document Bundle whose first
// entry is a Composition (LOINC 18842-5, discharge summary), one section per heading of the
// summary with its text as narrative and the resources its sentences cite as entries, and a
// DocumentReference to the same text for systems that index documents rather than Compositions.
//
// Citations: a sentence cites a source by its tag in brackets ("[M7]"); `sources` maps tags to
// resources ("MedicationRequest/medrx-42"), the map the stay's sample assembly returned
// (ingest/stay_sample.h). Tags without an entry in the map are left out of the entries; the text
// keeps them as written.
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace medscribe::clinical {

struct DischargeDocumentInputs {
  std::string id;            // the document's id (the draft's), used for every resource id
  std::string patient_id;    // FHIR Patient id
  std::string encounter_id;  // FHIR Encounter id of the stay
  std::string author_id, author_name;  // the signing clinician
  std::string text;                    // the signed summary
  std::string language = "en";
  std::string timestamp;                       // FHIR instant of the signature
  std::map<std::string, std::string> sources;  // tag -> "Type/id"
};

// The tags a text cites, in order of first appearance ("M7" for "[M7]").
std::vector<std::string> CitedTags(const std::string& text);

// {"Bundle": the document Bundle, "DocumentReference": the DocumentReference}.
nlohmann::ordered_json DischargeDocument(const DischargeDocumentInputs& in);

}  // namespace medscribe::clinical
