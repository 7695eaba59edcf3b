#include "synth/truth.h"

#include <algorithm>

#include "synth/cohort.h"
#include "synth/device.h"

namespace medscribe::synth {

using Json = nlohmann::ordered_json;

std::vector<std::string> PatientPhi(const Patient& p) {
  std::vector<std::string> v = {p.FullName(),
                                p.DicomName().substr(0, p.DicomName().find('=')),
                                p.mrn,
                                p.birth_date.Iso(),
                                p.birth_date.Dicom(),
                                p.phone,
                                p.email,
                                p.address_line,
                                p.national_id,
                                p.ssn};
  if (p.chinese) v.push_back(p.ZhName());
  return v;
}

Json TruthRecord(const Encounter& e, const CohortPlan& plan, const std::string& dictation,
                 const Report& report, std::vector<std::string> phi) {
  const DeviceProfile& dev = DeviceProfiles()[static_cast<size_t>(e.device)];
  Json findings = Json::array();
  for (const Finding& f : e.findings) {
    Json j{{"type", FindingName(f.type)}};
    if (f.side != Side::kNone) j["side"] = SideName(f.side);
    if (f.zone != Zone::kNone) j["zone"] = ZoneName(f.zone);
    if (f.severity != Severity::kNone) j["severity"] = SeverityName(f.severity);
    if (f.size_mm > 0) j["size_mm"] = f.size_mm;
    if (f.ctr > 0) j["ctr"] = f.ctr;
    if (f.rib > 0) j["rib"] = f.rib;
    findings.push_back(j);
  }
  Json labs = Json::object();
  for (const LabResult& l : e.labs)
    labs[std::string(l.spec->key)] = Json{{"value", l.value}, {"flag", std::string(1, l.flag)}};
  std::sort(phi.begin(), phi.end());
  phi.erase(std::unique(phi.begin(), phi.end()), phi.end());
  const Finding* primary = e.Primary();
  Json history = Json::array();
  for (const Problem& pr : e.history) history.push_back(ChronicCode(pr.condition));
  Json order{{"indication", IndicationKindName(e.indication)},
             {"reason", e.reason},
             {"working_diagnosis", e.working_diagnosis.code},
             {"priority", e.priority}};
  if (e.indication != IndicationKind::kRoutine) order["suspected"] = FindingName(e.suspected);
  return Json{
      {"generator", kGeneratorVersion},
      {"encounter_id", e.id},
      {"patient_id", plan.patients[static_cast<size_t>(e.patient)].id},
      {"department", DepartmentName(e.department)},
      {"study_instance_uid", e.study_uid},
      {"sop_instance_uid", e.sop_uid},
      {"accession_number", e.accession},
      {"accession_in_dicom", e.accession_in_dicom},
      {"study_datetime", e.study_time.Iso()},
      {"device", Json{{"manufacturer", dev.manufacturer},
                      {"model", dev.model},
                      {"modality", dev.modality},
                      {"photometric", dev.monochrome1 ? "MONOCHROME1" : "MONOCHROME2"},
                      {"transfer_syntax", dicom::TransferSyntaxName(dev.transfer_syntax)}}},
      {"view", e.anatomy.ap_view ? "AP" : "PA"},
      {"burned_in_annotation", e.burned_in},
      {"annotator_id", e.AnnotatorId()},
      {"findings", findings},
      {"primary_finding", primary ? Json(FindingName(primary->type)) : Json("normal")},
      {"change", ChangeName(e.change)},
      {"prior_encounter_id",
       e.prior >= 0 ? Json(plan.encounters[static_cast<size_t>(e.prior)].id) : Json(nullptr)},
      {"urgent", e.urgent},
      {"labs", labs},
      {"history", history},
      {"order", order},
      {"coding_discrepancy", e.coding_discrepancy},
      {"coding_discrepancy_detail", e.discrepancy},
      {"note_language", e.note_zh ? "zh-TW" : "en"},
      {"dictation_text", dictation},
      {"voice", e.voice},
      {"words_per_minute", e.words_per_minute},
      {"noise_snr_db", e.noise_snr_db},
      {"report_text", report.Text()},
      {"planted_phi", phi},
  };
}

}  // namespace medscribe::synth
