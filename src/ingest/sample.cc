#include "ingest/sample.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/civil_time.h"
#include "common/npy.h"
#include "dataset/align.h"
#include "deid/dicom_deid.h"
#include "deid/identifiers.h"
#include "deid/text_deid.h"
#include "dicom/dataset.h"
#include "dicom/image.h"
#include "dicom/info.h"

namespace medscribe::ingest {
namespace {

using Json = nlohmann::ordered_json;

Json CodingsJson(const std::vector<fhir::Coding>& codes) {
  Json out = Json::array();
  for (const fhir::Coding& c : codes) {
    out.push_back({{"system", c.system}, {"code", c.code}, {"display", c.display}});
  }
  return out;
}

// Hours from `t` to the study (positive: before), rounded to 0.1 h.
double HoursBefore(long t, long study) { return std::round((study - t) / 360.0) / 10.0; }

Json OptionalNumber(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace

size_t Sample::bytes() const {
  size_t n = json.size() + report.size() + npy.size();
  for (const std::string& d : dicoms) n += d.size();
  return n;
}

std::string PatientKeyOf(const fhir::Patient& p) {
  for (const fhir::Identifier& id : p.identifiers) {
    if (id.type_code == "MR" && !id.value.empty()) return id.value;
  }
  return "fhir:" + p.id;
}

std::string PrimaryFindingOf(const std::vector<const fhir::Condition*>& conditions) {
  for (const fhir::Condition* c : conditions) {
    if (c->category == "problem-list-item" || c->verification == "provisional" ||
        c->verification == "differential" || c->verification == "refuted")
      continue;
    for (const fhir::Coding& code : c->code) {
      if (code.code.size() >= 3 && code.code[0] != 'Z' && code.code[0] != 'z') {
        return code.code.substr(0, 3);
      }
    }
  }
  return "none";
}

namespace {

// The date part of a FHIR date or dateTime ("1930-05-01", "2024-03-05T10:00:00Z").
std::optional<Date> ParseDate(const std::string& s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  Date d{std::stoi(s.substr(0, 4)), std::stoi(s.substr(5, 2)), std::stoi(s.substr(8, 2))};
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return std::nullopt;
  return d;
}

}  // namespace

std::string AgeAt(const std::string& birth_date, const std::string& when) {
  const auto b = ParseDate(birth_date);
  const auto w = ParseDate(when);
  if (!b || !w || *w < *b) return "";
  const int age = AgeInYears(*b, *w);
  return age > 89 ? "90+" : std::to_string(age);
}

std::string RefusalFromInfo(const dicom::DicomInfo& info) {
  if (!info.has_pixel_data) return "no_pixel_data";
  if (info.decodable) return "";
  return info.why_not_decodable.find("transfer syntax") != std::string::npos
             ? "unsupported_transfer_syntax"
             : "undecodable_pixels";
}

StatusOr<SampleImage> PrepareImageBytes(std::string_view bytes, const std::string& study_datetime,
                                        const ImagePolicy& policy, const deid::Pseudonymizer& p,
                                        std::string* reason) {
  *reason = "dicom_unreadable";
  ASSIGN_OR_RETURN(dicom::DicomDataset ds, dicom::DicomDataset::FromBytes(bytes));
  ASSIGN_OR_RETURN(dicom::DicomInfo info, dicom::ReadInfo(ds));
  if (info.burned_in_annotation && !policy.allow_burned_in) {
    *reason = "burned_in_annotation";
    return FailedPreconditionError(
        "BurnedInAnnotation is YES (text in the pixels may identify the patient)");
  }
  *reason = "undecodable_pixels";
  dicom::ImageDecodeOptions decode;
  decode.size = policy.image_size;
  decode.mm_per_pixel = policy.mm_per_pixel;
  ASSIGN_OR_RETURN(dicom::DecodedImage image, dicom::DecodeImage(ds, decode));
  *reason = "deid_failed";
  RETURN_IF_ERROR(deid::DeidentifyDicom(ds, p, policy.scrubber).status());
  ASSIGN_OR_RETURN(std::string deid_bytes, ds.ToBytes());
  SampleImage out;
  out.deid_dicom = std::move(deid_bytes);
  out.pixels = std::move(image.pixels);
  out.device_model = info.model;
  out.modality = info.modality;
  out.view_position = info.view_position;
  out.study_datetime = study_datetime;
  out.transfer_syntax = info.transfer_syntax_name;
  out.photometric = info.photometric;
  out.rows = info.rows;
  out.cols = info.columns;
  out.row_spacing_mm = info.row_spacing_mm;
  out.column_spacing_mm = info.column_spacing_mm;
  out.mm_per_pixel = image.mm_per_pixel;
  return out;
}

StatusOr<Sample> AssembleSample(const SampleInputs& in, const deid::Pseudonymizer& p) {
  if (in.patient == nullptr || in.encounter == nullptr) {
    return InvalidArgumentError("a sample needs a patient and an encounter");
  }
  if (in.images.empty()) return InvalidArgumentError("a sample needs at least one image");
  const std::string patient_key = PatientKeyOf(*in.patient);
  const int shift_days = p.DateShiftDays(patient_key);
  const deid::TextScrubber scrubber(deid::IdentifiersOf(*in.patient), shift_days);

  Sample s;
  s.key = p.Token("encounter", in.encounter->id);
  s.patient_pseudonym = p.PatientId(patient_key);
  s.department = in.encounter->service_type.empty() ? "unknown" : in.encounter->service_type;
  s.device_model =
      in.images.front().device_model.empty() ? "unknown" : in.images.front().device_model;
  s.primary_finding = PrimaryFindingOf(in.conditions);

  // The study time: the first image's, else the encounter start.
  long study = dataset::ParseFhirDateTime(in.images.front().study_datetime);
  if (study < 0) study = dataset::ParseFhirDateTime(in.encounter->start);
  std::string shifted_study;
  if (study >= 0) shifted_study = DateTime::FromSeconds(study + shift_days * 86400L).Iso();

  Json labs = Json::array();
  std::vector<std::pair<long, const fhir::Observation*>> taken;
  for (const fhir::Observation* o : in.observations) {
    const long t = dataset::ParseFhirDateTime(o->effective);
    if (study < 0 || t < 0 || t > study || study - t > in.labs_window_hours * 3600L) continue;
    taken.emplace_back(t, o);
  }
  std::stable_sort(taken.begin(), taken.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, o] : taken) {
    const fhir::Coding code = o->code.empty() ? fhir::Coding{} : o->code.front();
    labs.push_back({{"system", code.system},
                    {"code", code.code},
                    {"display", code.display},
                    {"value", OptionalNumber(o->value)},
                    {"unit", o->unit},
                    {"low", OptionalNumber(o->low)},
                    {"high", OptionalNumber(o->high)},
                    {"interpretation", o->interpretation},
                    {"hours_before_study", HoursBefore(t, study)}});
  }
  // Minimum necessary: what existed before the study. A resource whose time is unknown cannot
  // be shown to precede the study and is left out.
  auto before_study = [&](const std::string& when) {
    const long t = dataset::ParseFhirDateTime(when);
    return study >= 0 && t >= 0 && t < study;
  };
  auto by_study = [&](const std::string& when) {
    const long t = dataset::ParseFhirDateTime(when);
    return study >= 0 && t >= 0 && t <= study;
  };
  Json conditions = Json::array();
  for (const fhir::Condition* c : in.conditions) {
    const std::string& when = c->recorded.empty() ? c->onset : c->recorded;
    if (!before_study(when)) continue;
    for (Json j : CodingsJson(c->code)) {
      j["category"] = c->category;
      j["verification"] = c->verification;
      j["hours_before_study"] = HoursBefore(dataset::ParseFhirDateTime(when), study);
      conditions.push_back(std::move(j));
    }
  }
  Json procedures = Json::array();
  for (const fhir::Procedure* pr : in.procedures) {
    if (!by_study(pr->performed)) continue;
    for (const Json& j : CodingsJson(pr->code)) procedures.push_back(j);
  }
  Json order = nullptr;
  if (in.order != nullptr &&
      before_study(in.order->authored_on.empty() ? in.encounter->start : in.order->authored_on)) {
    order = {{"reason", scrubber.Scrub(in.order->reason)},
             {"codes", CodingsJson(in.order->reason_codes)}};
  }

  std::string context;
  Json note_languages = Json::array();
  for (const fhir::DocumentReference* d : in.notes) {
    if (d->text.empty()) continue;  // an attachment that is not text (a dictation)
    if (!by_study(d->date)) continue;
    if (!context.empty()) context += "\n\n";
    context += scrubber.Scrub(d->text);
    note_languages.push_back(d->language);
  }
  Json transcript = nullptr;
  if (!in.transcripts.empty()) {
    std::string t;
    for (const std::string& x : in.transcripts) {
      if (!t.empty()) t += ' ';
      t += scrubber.ScrubTranscript(x);
    }
    transcript = t;
  }
  if (in.report != nullptr)
    s.report = scrubber.Scrub(in.report->text.empty() ? in.report->conclusion : in.report->text);

  const size_t n = in.images.size();
  const size_t size = static_cast<size_t>(in.image_size);
  std::vector<float> stacked;
  stacked.reserve(n * size * size);
  Json sources = Json::array();
  Json dicom_members = Json::array();
  for (size_t i = 0; i < n; ++i) {
    const SampleImage& im = in.images[i];
    if (im.pixels.size() != size * size) {
      return InternalError("decoded image has " + std::to_string(im.pixels.size()) +
                           " pixels, expected " + std::to_string(size * size));
    }
    stacked.insert(stacked.end(), im.pixels.begin(), im.pixels.end());
    s.dicoms.push_back(im.deid_dicom);
    dicom_members.push_back(std::to_string(i) + ".dcm");
    Json source = {{"rows", im.rows},
                   {"columns", im.cols},
                   {"photometric", im.photometric},
                   {"transfer_syntax", im.transfer_syntax},
                   {"modality", im.modality},
                   {"device_model", im.device_model}};
    if (!im.view_position.empty()) source["view_position"] = im.view_position;
    if (im.row_spacing_mm > 0)
      source["pixel_spacing_mm"] = {im.row_spacing_mm, im.column_spacing_mm};
    if (im.mm_per_pixel > 0) source["mm_per_pixel"] = im.mm_per_pixel;
    sources.push_back(std::move(source));
  }
  s.npy = EncodeNpyFloat32(stacked.data(), {n, size, size});

  Json sample = {
      {"schema_version", kSampleSchemaVersion},
      {"key", s.key},
      {"task", kTaskRadiologyReport},
      {"patient_id", s.patient_pseudonym},
      {"encounter_id", s.key},
      {"modalities",
       {{"image",
         {{"member", "img.npy"},
          {"shape", {n, size, size}},
          {"dicom", dicom_members},
          {"sources", sources}}},
        {"structured",
         {{"patient",
           {{"sex", in.patient->gender},
            {"age", AgeAt(in.patient->birth_date, in.encounter->start)}}},
          {"encounter", {{"class", in.encounter->class_code}, {"department", s.department}}},
          {"labs", labs},
          {"conditions", conditions},
          {"procedures", procedures},
          {"order", order}}},
        {"text_context", context},
        {"text_context_languages", note_languages},
        {"speech_transcript", transcript}}},
      {"target_report", s.report},
      {"meta",
       {{"modality_type", in.images.front().modality},
        {"department", s.department},
        {"device_model", s.device_model},
        {"date_time", shifted_study},
        {"annotator_id", in.report == nullptr || in.report->interpreter.empty()
                             ? Json(nullptr)
                             : Json(p.Token("annotator", in.report->interpreter))},
        {"primary_finding", s.primary_finding}}},
  };
  s.json = sample.dump();
  return s;
}

}  // namespace medscribe::ingest
