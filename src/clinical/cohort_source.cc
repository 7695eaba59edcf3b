// The cohort directory as record and image source and sink (sources.h).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "clinical/sources.h"
#include "common/durable_file.h"
#include "common/files.h"
#include "common/url.h"
#include "dicom/dataset.h"
#include "fhir/reader.h"

namespace medscribe::clinical {
namespace fs = std::filesystem;
namespace {

Status WriteNew(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create " + path.parent_path().string() + ": " + ec.message());
  return WriteFileDurably(path, bytes);
}

template <class T>
bool OfEncounter(const T& r, const std::string& encounter_id) {
  return r.encounter.id == encounter_id;
}

class CohortRecords final : public RecordSource {
 public:
  explicit CohortRecords(fs::path dir) : dir_(std::move(dir)) {}

  Status Load() {
    fhir::FhirReader reader;
    RETURN_IF_ERROR(reader.AddPath((dir_ / "fhir").string()));
    for (const fhir::Resource& r : reader.resources()) {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, fhir::Patient>) patients_[x.id] = x;
            if constexpr (std::is_same_v<T, fhir::Encounter>) encounters_[x.id] = x;
            if constexpr (std::is_same_v<T, fhir::ServiceRequest>) orders_.push_back(x);
            if constexpr (std::is_same_v<T, fhir::ImagingStudy>) studies_.push_back(x);
            if constexpr (std::is_same_v<T, fhir::Observation>) observations_.push_back(x);
            if constexpr (std::is_same_v<T, fhir::Condition>) conditions_.push_back(x);
            if constexpr (std::is_same_v<T, fhir::Procedure>) procedures_.push_back(x);
            if constexpr (std::is_same_v<T, fhir::DocumentReference>) notes_.push_back(x);
          },
          r);
    }
    if (encounters_.empty())
      return NotFoundError("cohort directory " + dir_.string() +
                           " has no FHIR encounters in fhir/");
    return OkStatus();
  }

  std::string name() const override { return "cohort directory " + dir_.string(); }

  StatusOr<EncounterRecord> Fetch(const EncounterRef& ref) override {
    std::string encounter_id = ref.encounter_id;
    if (encounter_id.empty()) {
      for (const auto& s : studies_)
        if (!ref.accession.empty() && s.accession == ref.accession) encounter_id = s.encounter.id;
      for (const auto& o : orders_)
        if (encounter_id.empty() && !ref.accession.empty() && o.accession == ref.accession)
          encounter_id = o.encounter.id;
      if (encounter_id.empty())
        return NotFoundError("no study with accession '" + ref.accession + "' in " + name());
    }
    auto e = encounters_.find(encounter_id);
    if (e == encounters_.end())
      return NotFoundError("no encounter '" + encounter_id + "' in " + name());
    auto p = patients_.find(e->second.subject.id);
    if (p == patients_.end())
      return NotFoundError("encounter '" + encounter_id + "' names patient '" +
                           e->second.subject.id + "', who is not in " + name());
    EncounterRecord r;
    r.encounter = e->second;
    r.patient = p->second;
    for (const auto& o : orders_)
      if (OfEncounter(o, encounter_id)) r.order = o;
    for (const auto& s : studies_)
      if (OfEncounter(s, encounter_id)) r.study = s;
    for (const auto& o : observations_)
      if (o.subject.id == r.patient.id) r.observations.push_back(o);
    for (const auto& c : conditions_)
      if (OfEncounter(c, encounter_id) || (c.encounter.empty() && c.subject.id == r.patient.id &&
                                           c.category == "problem-list-item"))
        r.conditions.push_back(c);
    for (const auto& c : procedures_)
      if (OfEncounter(c, encounter_id)) r.procedures.push_back(c);
    for (const auto& n : notes_)
      if (OfEncounter(n, encounter_id)) r.notes.push_back(n);
    return r;
  }

  StatusOr<std::vector<std::string>> FindEncounters(const std::string& query,
                                                    size_t limit) override {
    std::string department;
    size_t count = limit;
    for (const auto& [k, v] : SplitQuery(query)) {
      if (k == "service-type") {
        department = PercentDecode(v);
      } else if (k == "_count") {
        try {
          count = std::min(limit, static_cast<size_t>(std::stoul(v)));
        } catch (...) {
          return InvalidArgumentError("_count must be a number");
        }
      } else {
        return InvalidArgumentError(
            "the cohort source searches by service-type and _count only, not '" + k + "'");
      }
    }
    std::vector<std::string> out;
    for (const auto& [id, e] : encounters_) {
      if (out.size() >= count) break;
      if (department.empty() || e.service_type == department) out.push_back(id);
    }
    return out;
  }

  StatusOr<std::string> Dictation(const EncounterRecord& record) override {
    const fs::path wav = dir_ / "audio" / (record.encounter.id + ".wav");
    if (record.encounter.id.find('/') != std::string::npos || !fs::exists(wav))
      return NotFoundError("no dictation for encounter '" + record.encounter.id + "'");
    return ReadFile(wav);
  }

  StatusOr<std::string> Create(const std::string& type, const std::string& json) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string id = type + "-" + std::to_string(++written_) + "-" +
                           std::to_string(std::hash<std::string>{}(json) % 1000000);
    const fs::path path = dir_ / "writeback" / "fhir" / (id + ".json");
    RETURN_IF_ERROR(WriteNew(path, json));
    return path.string();
  }

  StatusOr<std::string> Update(const std::string& location, const std::string& json) override {
    std::lock_guard<std::mutex> lock(mu_);
    const fs::path base = dir_ / "writeback" / "fhir";
    const fs::path first(location);
    if (first.parent_path() != base || first.extension() != ".json" || !fs::exists(first))
      return NotFoundError("no resource written to this cohort at " + location);
    // Versions beside the first: X.json, X.v2.json, X.v3.json, ...
    for (int v = 2; v < 10000; ++v) {
      const fs::path path = base / (first.stem().string() + ".v" + std::to_string(v) + ".json");
      if (fs::exists(path)) continue;
      RETURN_IF_ERROR(WriteNew(path, json));
      return path.string();
    }
    return ResourceExhaustedError("too many versions of " + location);
  }

 private:
  fs::path dir_;
  std::map<std::string, fhir::Patient> patients_;
  std::map<std::string, fhir::Encounter> encounters_;
  std::vector<fhir::ServiceRequest> orders_;
  std::vector<fhir::ImagingStudy> studies_;
  std::vector<fhir::Observation> observations_;
  std::vector<fhir::Condition> conditions_;
  std::vector<fhir::Procedure> procedures_;
  std::vector<fhir::DocumentReference> notes_;
  std::mutex mu_;
  int written_ = 0;
};

bool SafeUid(const std::string& uid) {
  return !uid.empty() && uid.size() <= 64 &&
         uid.find_first_not_of("0123456789.") == std::string::npos;
}

class CohortImages final : public ImageSource {
 public:
  explicit CohortImages(fs::path dir) : dir_(std::move(dir)) {}
  std::string name() const override { return "cohort directory " + dir_.string(); }

  StatusOr<std::vector<std::string>> FetchStudy(const std::string& study_uid,
                                                const std::string& accession) override {
    std::vector<fs::path> files;
    std::error_code ec;
    if (SafeUid(study_uid) && fs::is_directory(dir_ / "dicom" / study_uid, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(dir_ / "dicom" / study_uid, ec))
        if (e.is_regular_file() && e.path().extension() == ".dcm") files.push_back(e.path());
    } else if (!accession.empty() && fs::is_directory(dir_ / "dicom", ec)) {
      // No usable UID: look at every file's accession number.
      for (const auto& e : fs::recursive_directory_iterator(dir_ / "dicom", ec)) {
        if (!e.is_regular_file() || e.path().extension() != ".dcm") continue;
        auto bytes = ReadFile(e.path());
        if (!bytes.ok()) continue;
        auto ds = dicom::DicomDataset::FromBytes(*bytes);
        if (!ds.ok()) continue;
        auto acc = ds->GetString("AccessionNumber");
        if (acc.ok() && *acc == accession) files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty())
      return NotFoundError("no study with accession '" + accession + "' (Study Instance UID " +
                           (study_uid.empty() ? "unknown" : study_uid) + ") in " + name());
    std::vector<std::string> out;
    for (const auto& f : files) {
      ASSIGN_OR_RETURN(std::string b, ReadFile(f));
      out.push_back(std::move(b));
    }
    return out;
  }

  StatusOr<std::string> Store(const std::string& part10) override {
    ASSIGN_OR_RETURN(dicom::DicomDataset ds, dicom::DicomDataset::FromBytes(part10));
    auto study_or = ds.GetString("StudyInstanceUID");
    auto sop_or = ds.GetString("SOPInstanceUID");
    const std::string study = study_or.ok() ? *study_or : "";
    const std::string sop = sop_or.ok() ? *sop_or : "";
    if (!SafeUid(study) || !SafeUid(sop))
      return InvalidArgumentError("the instance has no valid Study/SOP Instance UID");
    const fs::path path = dir_ / "writeback" / "dicom" / study / (sop + ".dcm");
    RETURN_IF_ERROR(WriteNew(path, part10));
    return path.string();
  }

 private:
  fs::path dir_;
};

}  // namespace

StatusOr<std::shared_ptr<RecordSource>> OpenCohortRecords(const std::string& dir) {
  auto r = std::make_shared<CohortRecords>(dir);
  RETURN_IF_ERROR(r->Load());
  return std::shared_ptr<RecordSource>(std::move(r));
}

StatusOr<std::shared_ptr<ImageSource>> OpenCohortImages(const std::string& dir) {
  if (!fs::is_directory(fs::path(dir) / "dicom"))
    return NotFoundError("cohort directory " + dir + " has no dicom/ folder");
  return std::shared_ptr<ImageSource>(std::make_shared<CohortImages>(dir));
}

}  // namespace medscribe::clinical
