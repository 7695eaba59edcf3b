#include "dataset/align.h"

#include <cstdlib>

#include "common/civil_time.h"

namespace medscribe::dataset {
namespace {

bool Digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int Num(const std::string& s, size_t pos, size_t n) { return std::atoi(s.substr(pos, n).c_str()); }

long Seconds(int y, int mo, int d, int h, int mi, int se) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
  return DateTime{Date{y, mo, d}, h, mi, se}.SecondsSinceEpoch();
}

}  // namespace

long ParseFhirDateTime(const std::string& s) {
  if (!Digits(s, 0, 4) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' ||
      !Digits(s, 8, 2)) {
    return -1;
  }
  int h = 0, mi = 0, se = 0;
  if (s.size() >= 19 && s[10] == 'T' && Digits(s, 11, 2) && Digits(s, 14, 2) && Digits(s, 17, 2)) {
    h = Num(s, 11, 2), mi = Num(s, 14, 2), se = Num(s, 17, 2);
  }
  return Seconds(Num(s, 0, 4), Num(s, 5, 2), Num(s, 8, 2), h, mi, se);
}

long ParseDicomDateTime(const std::string& date, const std::string& time) {
  if (date.size() != 8 || !Digits(date, 0, 8)) return -1;
  int h = 0, mi = 0, se = 0;
  if (Digits(time, 0, 2)) h = Num(time, 0, 2);
  if (Digits(time, 2, 2)) mi = Num(time, 2, 2);
  if (Digits(time, 4, 2)) se = Num(time, 4, 2);
  return Seconds(Num(date, 0, 4), Num(date, 4, 2), Num(date, 6, 2), h, mi, se);
}

EncounterIndex::EncounterIndex(const std::vector<fhir::Resource>& resources, int window_minutes)
    : window_s_(window_minutes * 60) {
  for (const fhir::Resource& r : resources) {
    if (const auto* p = std::get_if<fhir::Patient>(&r)) {
      for (const fhir::Identifier& id : p->identifiers) {
        if (id.type_code == "MR") patient_by_mrn_[id.value] = p->id;
      }
    } else if (const auto* s = std::get_if<fhir::ImagingStudy>(&r)) {
      if (s->encounter.empty()) continue;
      if (!s->accession.empty())
        by_accession_[s->accession] = {s->encounter.id, s->subject.id, "accession"};
      studies_by_patient_.emplace(
          s->subject.id, Study{s->encounter.id, s->subject.id, ParseFhirDateTime(s->started)});
    } else if (const auto* sr = std::get_if<fhir::ServiceRequest>(&r)) {
      if (!sr->accession.empty() && !sr->encounter.empty()) {
        by_accession_.emplace(sr->accession,
                              EncounterMatch{sr->encounter.id, sr->subject.id, "accession"});
      }
    }
  }
}

StatusOr<EncounterMatch> EncounterIndex::Match(const ImageKey& image) const {
  if (!image.accession.empty()) {
    auto it = by_accession_.find(image.accession);
    if (it != by_accession_.end()) return it->second;
    return NotFoundError("no order or imaging study has the image's accession number");
  }
  auto patient = patient_by_mrn_.find(image.patient_id);
  if (patient == patient_by_mrn_.end()) {
    return NotFoundError("image has no accession number and its patient ID matches no patient");
  }
  const long t = ParseDicomDateTime(image.study_date, image.study_time);
  if (t < 0) return NotFoundError("image has no accession number and no valid study date/time");
  const Study* best = nullptr;
  int candidates = 0;
  auto [begin, end] = studies_by_patient_.equal_range(patient->second);
  for (auto it = begin; it != end; ++it) {
    if (it->second.started < 0 || std::labs(it->second.started - t) > window_s_) continue;
    ++candidates;
    if (!best || std::labs(it->second.started - t) < std::labs(best->started - t))
      best = &it->second;
  }
  if (candidates == 0) {
    return NotFoundError(
        "image has no accession number and no imaging study of its patient lies within " +
        std::to_string(window_s_ / 60) + " minutes of it");
  }
  if (candidates > 1) {
    return FailedPreconditionError("image has no accession number and " +
                                   std::to_string(candidates) +
                                   " imaging studies of its patient lie within the time window");
  }
  return EncounterMatch{best->encounter_id, best->patient_id, "patient+time"};
}

}  // namespace medscribe::dataset
