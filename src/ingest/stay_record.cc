#include "ingest/stay_record.h"

#include <algorithm>
#include <map>

#include "fhir/reader.h"

namespace medscribe::ingest {

const fhir::DocumentReference* StayRecord::LatestNote(std::string_view type_code) const {
  const fhir::DocumentReference* latest = nullptr;
  for (const fhir::DocumentReference& d : notes)
    if (d.type_code == type_code && (!latest || d.date >= latest->date)) latest = &d;
  return latest;
}

std::vector<StayRecord> GroupStays(const std::vector<fhir::Resource>& resources) {
  std::vector<StayRecord> stays;
  std::map<std::string, size_t> by_id;
  std::map<std::string, const fhir::Patient*> patients;
  for (const fhir::Resource& r : resources) {
    if (const auto* e = std::get_if<fhir::Encounter>(&r);
        e && e->class_code == "IMP" && !e->discharge_disposition.empty()) {
      if (by_id.emplace(e->id, stays.size()).second) {
        stays.emplace_back();
        stays.back().encounter = *e;
      }
    }
    if (const auto* p = std::get_if<fhir::Patient>(&r)) patients.emplace(p->id, p);
  }
  auto stay_of = [&](const fhir::Reference& enc) -> StayRecord* {
    if (enc.type != "Encounter") return nullptr;
    auto it = by_id.find(enc.id);
    return it == by_id.end() ? nullptr : &stays[it->second];
  };
  for (const fhir::Resource& r : resources) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (requires { x.encounter; }) {
            StayRecord* s = stay_of(x.encounter);
            if (!s) return;
            if constexpr (std::is_same_v<T, fhir::Condition>) s->conditions.push_back(x);
            if constexpr (std::is_same_v<T, fhir::AllergyIntolerance>) s->allergies.push_back(x);
            if constexpr (std::is_same_v<T, fhir::Observation>) s->observations.push_back(x);
            if constexpr (std::is_same_v<T, fhir::MedicationRequest>)
              s->medication_requests.push_back(x);
            if constexpr (std::is_same_v<T, fhir::MedicationAdministration>)
              s->administrations.push_back(x);
            if constexpr (std::is_same_v<T, fhir::Procedure>) s->procedures.push_back(x);
            if constexpr (std::is_same_v<T, fhir::DiagnosticReport>) s->reports.push_back(x);
            if constexpr (std::is_same_v<T, fhir::DocumentReference>) {
              if (x.type_code == kDischargeSummaryLoinc)
                s->discharge_summary = x;
              else
                s->notes.push_back(x);
            }
          }
        },
        r);
  }
  for (StayRecord& s : stays) {
    if (auto it = patients.find(s.encounter.subject.id); it != patients.end())
      s.patient = *it->second;
    std::stable_sort(s.observations.begin(), s.observations.end(),
                     [](const auto& a, const auto& b) { return a.effective < b.effective; });
    std::stable_sort(s.notes.begin(), s.notes.end(),
                     [](const auto& a, const auto& b) { return a.date < b.date; });
  }
  return stays;
}

StatusOr<std::vector<StayRecord>> ReadStays(const std::string& fhir_path) {
  fhir::FhirReader reader;
  RETURN_IF_ERROR(reader.AddPath(fhir_path));
  if (!reader.rejected().empty()) {
    const fhir::Rejected& r = reader.rejected().front();
    return InvalidArgumentError(r.source + ": " + r.reason + " (" +
                                std::to_string(reader.rejected().size()) +
                                " resources not accepted)");
  }
  std::vector<StayRecord> stays = GroupStays(reader.resources());
  if (stays.empty())
    return NotFoundError(fhir_path +
                         " has no inpatient encounter (Encounter of class IMP): give the fhir/ of "
                         "a `medscribe synth --kind inpatient` cohort or a hospital's export of "
                         "inpatient stays");
  return stays;
}

}  // namespace medscribe::ingest
