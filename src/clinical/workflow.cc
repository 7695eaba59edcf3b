#include "clinical/workflow.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

#include "clinical/draft_vars.h"
#include "common/base64.h"
#include "common/civil_time.h"
#include "common/png.h"
#include "common/strings.h"
#include "crypto/hmac.h"
#include "deid/identifiers.h"
#include "deid/pseudonymizer.h"
#include "dicom/dataset.h"
#include "dicom/image.h"
#include "dicom/info.h"
#include "dicom/sr.h"
#include "ingest/sample.h"
#include "model/lab_names.h"
#include "speech/audio.h"

namespace medscribe::clinical {
namespace {

constexpr size_t kMaxEdits = 200;

std::string NewDraftId() {
  unsigned char r[10];
  RAND_bytes(r, sizeof r);
  return "d-" + crypto::Hex(r, sizeof r);
}

// A color image's thumbnail for people, as a PNG data URL, from the de-identified copy; "" for a
// grayscale image (its thumbnail is the model's input).
StatusOr<std::string> ColorThumbnail(const ingest::SampleImage& image, int size) {
  if (image.photometric.empty() || image.photometric.starts_with("MONOCHROME"))
    return std::string();
  ASSIGN_OR_RETURN(const dicom::DicomDataset ds, dicom::DicomDataset::FromBytes(image.deid_dicom));
  dicom::ImageDecodeOptions o;
  o.size = size;
  o.keep_color = true;
  ASSIGN_OR_RETURN(const dicom::DecodedImage rgb, dicom::DecodeImage(ds, o));
  ASSIGN_OR_RETURN(const std::string png, EncodePngRgb(rgb.pixels, rgb.cols, rgb.rows));
  return "data:image/png;base64," + Base64Encode(png);
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Short lab names the rules and the reviewer use, by LOINC code.
std::string LabName(const fhir::Coding& c) {
  const std::string_view name = model::LabShortName(c.code);
  return !name.empty() ? std::string(name) : (c.display.empty() ? c.code : c.display);
}

Value ToValue(const Json& j, int depth = 0) {
  if (depth > 32) return Value::Null();
  if (j.is_boolean()) return Value::Bool(j.get<bool>());
  if (j.is_number()) return Value::Number(j.get<double>());
  if (j.is_string()) return Value::String(j.get<std::string>());
  if (j.is_array()) {
    std::vector<Value> v;
    for (const Json& e : j) v.push_back(ToValue(e, depth + 1));
    return Value::List(std::move(v));
  }
  if (j.is_object()) {
    std::map<std::string, Value> m;
    for (auto it = j.begin(); it != j.end(); ++it) m[it.key()] = ToValue(it.value(), depth + 1);
    return Value::Object(std::move(m));
  }
  return Value::Null();
}

Json HintJson(const std::string& id, const std::string& severity, const std::string& en,
              const std::string& zh, const std::string& evidence) {
  return {{"rule_id", id},
          {"severity", severity},
          {"message", {{"en", en}, {"zh-Hant", zh}}},
          {"evidence", evidence}};
}

// DICOM PN from a FHIR name: FAMILY^GIVEN.
std::string DicomName(const fhir::Patient& p) {
  if (p.names.empty()) return "";
  const fhir::HumanName& n = p.names.front();
  std::string given;
  for (const auto& g : n.given) given += (given.empty() ? "" : " ") + g;
  return n.family + (given.empty() ? "" : "^" + given);
}

std::string DisplayName(const fhir::Patient& p) {
  if (p.names.empty()) return "";
  const fhir::HumanName& n = p.names.front();
  if (!n.text.empty()) return n.text;
  std::string s;
  for (const auto& g : n.given) s += g + " ";
  return s + n.family;
}

std::string Mrn(const fhir::Patient& p) {
  for (const auto& id : p.identifiers)
    if (id.type_code == "MR") return id.value;
  return "";
}

std::string DicomDate(const std::string& fhir_date) {
  std::string d;
  for (char c : fhir_date.substr(0, 10))
    if (c != '-') d.push_back(c);
  return d.size() == 8 ? d : "";
}

// "2024-01-04T11:36:22Z" → "113622".
std::string DicomTime(const std::string& fhir_datetime) {
  const size_t t = fhir_datetime.find('T');
  if (t == std::string::npos) return "";
  std::string d;
  for (char c : fhir_datetime.substr(t + 1, 8))
    if (c != ':') d.push_back(c);
  return d.size() == 6 ? d : "";
}

std::vector<std::string> Paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && std::isspace(static_cast<unsigned char>(cur.back()))) cur.pop_back();
    size_t b = cur.find_first_not_of(" \t\n");
    if (b != std::string::npos) out.push_back(cur.substr(b));
    cur.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    const std::string line = text.substr(pos, e - pos);
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      flush();
    else
      cur += (cur.empty() ? "" : "\n") + line;
    pos = e + 1;
  }
  flush();
  return out;
}

// The API's view of a draft: its document and the row's columns in the clear.
Json ViewOf(const DraftRow& row, Json doc) {
  doc["id"] = row.id;
  doc["status"] = row.status;
  doc["department"] = row.department;
  doc["model_version"] = row.model_version;
  doc["input_digest"] = row.input_digest;
  doc["created_at"] = row.created_at;
  doc["updated_at"] = row.updated_at;
  doc["signed_at"] = row.signed_at;
  doc["batch_job"] = row.batch_job;
  doc["revision"] = row.revision;
  doc.erase("signing");
  return doc;
}

// FailedPrecondition unless `row` is at `if_revision` (0: any).
Status CheckRevision(const DraftRow& row, int64_t if_revision) {
  if (if_revision > 0 && row.revision != if_revision)
    return FailedPreconditionError("draft '" + row.id + "' changed since revision " +
                                   std::to_string(if_revision) + " (it is at " +
                                   std::to_string(row.revision) + "); reload it");
  return OkStatus();
}

// A sign in progress older than this is taken to have died with its process.
constexpr int64_t kSigningClaimSeconds = 120;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether another request is signing the draft `doc` now (its claim has not expired).
bool BeingSigned(const Json& doc) {
  return doc.contains("signing") &&
         NowSeconds() - doc["signing"].value("at_s", int64_t{0}) < kSigningClaimSeconds;
}

// The verified SR of `final_text` for the report in `doc`, signed by `signer_name`; an
// amendment names the SR it replaces.
StatusOr<std::string> SignedSr(const Json& doc, const std::string& final_text,
                               const std::string& signer_name, const dicom::SrImageRef* replaces,
                               dicom::SrIdentity* identity, const std::string& organization) {
  dicom::ReportSrInput sr;
  sr.patient_name = doc["patient"].value("dicom_name", "");
  sr.patient_id = doc["patient"].value("mrn", "");
  sr.patient_birth_date = DicomDate(doc["patient"].value("birth_date", ""));
  const std::string g = doc["patient"].value("gender", "");
  sr.patient_sex = g == "male" ? "M" : g == "female" ? "F" : g.empty() ? "" : "O";
  sr.study_uid = doc["study"].value("uid", "");
  sr.accession = doc["study"].value("accession", "");
  sr.study_date = DicomDate(doc["study"].value("started", ""));
  sr.study_time = DicomTime(doc["study"].value("started", ""));
  sr.study_id = doc["study"].value("study_id", "");
  for (const Json& im : doc["study"]["images"])
    sr.images.push_back({im.value("series_uid", ""), im.value("sop_class_uid", ""),
                         im.value("sop_instance_uid", "")});
  sr.findings = Paragraphs(SectionText(final_text, "FINDINGS"));
  sr.impressions = Paragraphs(SectionText(final_text, "IMPRESSION"));
  sr.recommendations = Paragraphs(SectionText(final_text, "RECOMMENDATION"));
  if (sr.findings.empty() && sr.impressions.empty()) sr.findings = Paragraphs(final_text);
  // PN: a name without components is the family name alone.
  sr.observer_name = signer_name.find('^') == std::string::npos ? signer_name + "^" : signer_name;
  sr.organization = organization;
  sr.verified = true;
  if (replaces != nullptr) sr.predecessor = *replaces;
  return dicom::BuildReportSr(sr, identity);
}

}  // namespace

std::string LineDiff(const std::string& before, const std::string& after) {
  auto lines = [](const std::string& s) {
    std::vector<std::string> v;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t e = s.find('\n', pos);
      if (e == std::string::npos) e = s.size();
      v.push_back(s.substr(pos, e - pos));
      pos = e + 1;
    }
    return v;
  };
  const auto a = lines(before), b = lines(after);
  // Longest common subsequence over lines (reports are short).
  const size_t n = a.size(), m = b.size();
  if (n * m > 4'000'000) return "- (too long to diff)\n";
  std::vector<std::vector<int>> l(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      l[i][j] = a[i] == b[j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
  std::string out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out += "  " + a[i++] + "\n";
      ++j;
    } else if (j < m && (i == n || l[i][j + 1] >= l[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  return out;
}

Json DiagnosticReportOf(const Json& doc, const std::string& status, const std::string& text,
                        const std::string& issued) {
  Json r = {
      {"resourceType", "DiagnosticReport"},
      {"status", status},
      {"identifier", {{{"system", "urn:medscribe:draft"}, {"value", doc.value("id", "")}}}},
      {"category",
       {{{"coding",
          {{{"system", "http://terminology.hl7.org/CodeSystem/v2-0074"},
            {"code", "RAD"},
            {"display", "Radiology"}}}}}}},
      {"code",
       {{"coding",
         {{{"system", "http://loinc.org"},
           {"code", "18748-4"},
           {"display", "Diagnostic imaging study"}}}}}},
      {"subject", {{"reference", "Patient/" + doc["patient"].value("id", "")}}},
      {"encounter", {{"reference", "Encounter/" + doc["encounter"].value("id", "")}}},
      {"issued", issued},
      {"presentedForm",
       {{{"contentType", "text/plain; charset=utf-8"},
         {"language", doc.value("language", "en")},
         {"title", status == "final"     ? "Radiology report"
                   : status == "amended" ? "Radiology report (amended)"
                                         : "Radiology report (preliminary)"},
         {"data", Base64Encode(text)}}}},
  };
  const std::string started = doc["study"].value("started", "");
  if (!started.empty()) r["effectiveDateTime"] = started;
  if (!doc["order"].value("id", "").empty())
    r["basedOn"] = {{{"reference", "ServiceRequest/" + doc["order"].value("id", "")}}};
  if (!doc["study"].value("id", "").empty())
    r["imagingStudy"] = {{{"reference", "ImagingStudy/" + doc["study"].value("id", "")}}};
  const std::string impression = SectionText(text, "IMPRESSION");
  if (!impression.empty()) r["conclusion"] = impression;
  if (doc.contains("signer") && doc["signer"].is_object())
    r["resultsInterpreter"] = {
        {{"display", doc["signer"].value("name", "")},
         {"identifier",
          {{"system", "urn:medscribe:user"}, {"value", doc["signer"].value("id", "")}}}}};
  return r;
}

Workflow::Workflow(WorkflowParts parts, WorkflowOptions options)
    : p_(std::move(parts)), o_(std::move(options)) {}
Workflow::~Workflow() = default;

std::vector<Json> CheckRules(const std::vector<std::shared_ptr<const RuleSet>>& rule_sets,
                             const std::string& text, const Json& record, const Json& study) {
  std::map<std::string, Value> vars = {
      {"draft", DraftValue(text)}, {"record", ToValue(record)}, {"study", ToValue(study)}};
  std::vector<Json> out;
  for (const auto& rules : rule_sets) {
    std::vector<RuleError> errors;
    for (const Hint& h : rules->Check(vars, &errors))
      out.push_back(HintJson(h.rule_id, h.severity, h.message_en, h.message_zh, h.evidence));
  }
  return out;
}

std::vector<Json> Workflow::Check(const std::string& text, const Json& record,
                                  const Json& study) const {
  return CheckRules(p_.rules, text, record, study);
}

Json RulesRecord(const Json& sample, Json conditions, const std::string& dictation) {
  Json labs = Json::array();
  const Json* structured = nullptr;
  if (sample.contains("modalities") && sample["modalities"].is_object() &&
      sample["modalities"].contains("structured") && sample["modalities"]["structured"].is_object())
    structured = &sample["modalities"]["structured"];
  if (structured && structured->contains("labs") && (*structured)["labs"].is_array()) {
    for (const Json& l : (*structured)["labs"]) {
      if (!l.is_object()) continue;
      fhir::Coding c{l.value("system", ""), l.value("code", ""), l.value("display", "")};
      labs.push_back({{"name", LabName(c)},
                      {"code", c.code},
                      {"display", c.display},
                      {"value", l.value("value", Json())},
                      {"unit", l.value("unit", Json())},
                      {"low", l.value("low", Json())},
                      {"high", l.value("high", Json())},
                      {"interpretation", l.value("interpretation", Json())},
                      {"hours_before_study", l.value("hours_before_study", Json())}});
    }
  }
  Json procedures = structured && structured->contains("procedures") ? (*structured)["procedures"]
                                                                     : Json::array();
  return {{"labs", labs},
          {"conditions", std::move(conditions)},
          {"procedures", std::move(procedures)},
          {"dictation", dictation}};
}

StatusOr<std::string> Workflow::Transcribe(const std::string& wav) {
  ASSIGN_OR_RETURN(speech::Audio audio, speech::DecodeWav(wav));
  std::unique_ptr<speech::Recognizer> r;
  {
    std::lock_guard<std::mutex> lock(asr_mu_);
    if (!idle_asr_.empty()) {
      r = std::move(idle_asr_.back());
      idle_asr_.pop_back();
    }
  }
  if (!r) {
    if (!p_.recognizer) return FailedPreconditionError("no speech recognizer is configured");
    ASSIGN_OR_RETURN(r, p_.recognizer());
  }
  auto text = r->Transcribe(audio);
  std::lock_guard<std::mutex> lock(asr_mu_);
  idle_asr_.push_back(std::move(r));
  return text;
}

StatusOr<Json> Workflow::Draft(const DraftRequest& req, const Caller& caller,
                               const ProgressFn& progress) {
  if (req.ref.encounter_id.empty() && req.ref.accession.empty())
    return InvalidArgumentError("name the encounter (encounter_id) or the study (accession)");
  const deid::Pseudonymizer pseudo(p_.pseudonym_key);
  progress("fetching", {{"source", p_.records->name()}, {"what", "record"}});
  ASSIGN_OR_RETURN(EncounterRecord rec, p_.records->Fetch(req.ref));
  const std::string department =
      rec.encounter.service_type.empty() ? "unknown" : rec.encounter.service_type;
  if (!caller.any_department && AsciiLower(department) != AsciiLower(caller.department))
    return PermissionDeniedError("the encounter belongs to another department than the token's ('" +
                                 caller.department + "')");
  if (!caller.patient.empty() && caller.patient != rec.patient.id)
    return PermissionDeniedError("the token is limited to another patient");
  std::string accession = req.ref.accession;
  if (accession.empty() && rec.study) accession = rec.study->accession;
  if (accession.empty() && rec.order) accession = rec.order->accession;
  const std::string study_uid = rec.study ? rec.study->study_uid : "";
  progress("fetching", {{"source", p_.images->name()}, {"what", "images"}});
  ASSIGN_OR_RETURN(std::vector<std::string> instances, p_.images->FetchStudy(study_uid, accession));

  // Images: decoded and de-identified like ingest; references kept for the SR.
  ingest::SampleInputs in;
  in.patient = &rec.patient;
  in.encounter = &rec.encounter;
  if (rec.order) in.order = &*rec.order;
  in.image_size = o_.image_size;
  in.labs_window_hours = o_.labs_window_hours;
  Json images = Json::array();
  Json study = {{"id", rec.study ? rec.study->id : ""},
                {"uid", study_uid},
                {"accession", accession},
                {"started", rec.study ? rec.study->started : rec.encounter.start}};
  const std::string patient_key = ingest::PatientKeyOf(rec.patient);
  const deid::TextScrubber image_scrubber(deid::IdentifiersOf(rec.patient),
                                          pseudo.DateShiftDays(patient_key));
  size_t burned_in = 0;
  for (const std::string& bytes : instances) {
    auto ds = dicom::DicomDataset::FromBytes(bytes);
    if (!ds.ok()) continue;
    auto info = dicom::ReadInfo(*ds);
    if (!info.ok() || !info->has_pixel_data) continue;
    std::string reason;
    auto im = ingest::PrepareImageBytes(bytes, study["started"],
                                        {o_.image_size, false, &image_scrubber, o_.mm_per_pixel},
                                        pseudo, &reason);
    burned_in += reason == "burned_in_annotation";
    if (!im.ok()) continue;
    images.push_back({{"series_uid", info->series_instance_uid},
                      {"sop_class_uid", info->sop_class_uid},
                      {"sop_instance_uid", info->sop_instance_uid}});
    if (in.images.empty()) {
      study["modality"] = info->modality;
      study["body_part"] = info->body_part;
      auto desc = ds->GetString("StudyDescription");
      study["description"] = desc.ok() ? *desc : "";
      auto sid = ds->GetString("StudyID");
      study["study_id"] = sid.ok() ? *sid : "";
      if (study_uid.empty()) study["uid"] = info->study_instance_uid;
    }
    in.images.push_back(std::move(im).value());
  }
  if (in.images.empty() && burned_in > 0)
    return FailedPreconditionError(
        "the study with accession '" + accession + "' in " + p_.images->name() +
        " has only images with burned-in annotation (BurnedInAnnotation YES: text in the pixels "
        "may identify the patient); MedScribe does not draft from them");
  if (in.images.empty())
    return FailedPreconditionError("the study with accession '" + accession + "' in " +
                                   p_.images->name() + " has no image MedScribe can decode");
  study["images"] = images;

  // Dictation.
  std::vector<Json> extra_hints;
  Json transcript = nullptr;
  // The dictation: the request's, else an audio attachment of the encounter's documents, else
  // the source's own (a cohort's audio/ file).
  std::string wav = req.audio_wav;
  for (const auto& n : rec.notes)
    if (wav.empty() && !n.audio.empty()) wav = n.audio;
  if (wav.empty()) {
    auto recorded = p_.records->Dictation(rec);
    if (recorded.ok()) wav = std::move(recorded).value();
  }
  if (!wav.empty()) {
    progress("transcribing", {{"bytes", wav.size()}});
    auto text = Transcribe(wav);
    if (text.ok()) {
      transcript = *text;
      in.transcripts.push_back(*text);
    } else {
      extra_hints.push_back(HintJson("dictation.unreadable", "warning",
                                     "The dictation could not be transcribed (" +
                                         text.status().message() +
                                         "); the draft was written without it.",
                                     "無法轉錄口述錄音；草稿未包含口述內容。", ""));
    }
  }

  // Record excerpt for rules and reviewer, and the de-identified sample for the model.
  std::vector<const fhir::Observation*> obs;
  for (const auto& o : rec.observations) obs.push_back(&o);
  std::vector<const fhir::Condition*> conds;
  for (const auto& c : rec.conditions) conds.push_back(&c);
  std::vector<const fhir::Procedure*> procs;
  for (const auto& c : rec.procedures) procs.push_back(&c);
  std::vector<const fhir::DocumentReference*> notes;
  for (const auto& n : rec.notes) notes.push_back(&n);
  in.observations = obs;
  in.conditions = conds;
  in.procedures = procs;
  in.notes = notes;
  ASSIGN_OR_RETURN(ingest::Sample sample, ingest::AssembleSample(in, pseudo));
  const Json sample_json = Json::parse(sample.json);
  // The rules see every condition of the record, final diagnoses included (coding checks at
  // sign time); the model's sample holds only those recorded before the study.
  Json record_conditions = Json::array();
  for (const auto& c : rec.conditions) {
    for (const fhir::Coding& k : c.code)
      record_conditions.push_back({{"system", k.system},
                                   {"code", k.code},
                                   {"display", k.display},
                                   {"category", c.category}});
  }
  Json record = RulesRecord(sample_json, std::move(record_conditions),
                            transcript.is_string() ? transcript.get<std::string>() : "");
  const size_t size = static_cast<size_t>(o_.image_size);
  const std::vector<float> first(in.images.front().pixels.begin(),
                                 in.images.front().pixels.begin() + size * size);
  ASSIGN_OR_RETURN(std::string png, EncodePngGray(first, o_.image_size, o_.image_size));
  const std::string image_url = "data:image/png;base64," + Base64Encode(png);
  // The model reads the luminance; the review page shows a color image in color.
  // A color thumbnail that cannot be made leaves the gray one: the draft never fails for it.
  const StatusOr<std::string> color = ColorThumbnail(in.images.front(), o_.image_size);
  const std::string thumbnail = color.ok() ? *color : std::string();

  progress("drafting", {{"sample", sample.key}});
  auto generated =
      p_.generator->Generate(sample.json, image_url, o_.max_tokens,
                             /*batch=*/!req.batch_job.empty(), [&](const std::string& piece) {
                               progress("text", {{"delta", piece}});
                             });
  if (!generated.ok())
    return Status(generated.status().code(), "drafting failed: " + generated.status().message());

  progress("checking", {{"rule_sets", p_.rules.size()}});
  std::vector<Json> hints = Check(generated->text, record, study);
  for (auto& h : extra_hints) hints.push_back(std::move(h));

  const std::string now = UtcNowIso(true);
  Json notes_json = Json::array();
  for (const auto& n : rec.notes)
    if (!n.text.empty()) notes_json.push_back({{"language", n.language}, {"text", n.text}});
  Json doc = {
      {"ref", {{"encounter_id", req.ref.encounter_id}, {"accession", req.ref.accession}}},
      {"patient",
       {{"id", rec.patient.id},
        {"name", DisplayName(rec.patient)},
        {"dicom_name", DicomName(rec.patient)},
        {"mrn", Mrn(rec.patient)},
        {"birth_date", rec.patient.birth_date},
        {"gender", rec.patient.gender}}},
      {"encounter",
       {{"id", rec.encounter.id},
        {"class", rec.encounter.class_code},
        {"department", department},
        {"start", rec.encounter.start}}},
      {"order",
       {{"id", rec.order ? rec.order->id : ""}, {"reason", rec.order ? rec.order->reason : ""}}},
      {"study", study},
      {"record", record},
      {"notes", notes_json},
      {"transcript", transcript},
      {"thumbnail", thumbnail.empty() ? image_url : thumbnail},
      {"sample_key", sample.key},
      // For feedback export: the de-identified sample the model saw, and how to scrub the
      // signed text the same way.
      {"sample", sample_json},
      {"scrub",
       {{"known", deid::IdentifiersOf(rec.patient)},
        {"shift_days", pseudo.DateShiftDays(ingest::PatientKeyOf(rec.patient))}}},
      {"draft", generated->text},
      {"text", generated->text},
      {"hints", hints},
      {"edits", Json::array()},
      {"final", ""},
      {"diff", ""},
      {"writeback", Json::object()},
  };
  // What the model read, when the thumbnail is not it (feedback export trains on it).
  if (!thumbnail.empty()) doc["model_image"] = image_url;
  DraftRow row;
  row.id = NewDraftId();
  row.status = "draft";
  row.department = department;
  row.encounter_key = sample.key;
  row.model_version = generated->model_version;
  row.input_digest = generated->input_digest;
  row.created_at = row.updated_at = now;
  row.batch_job = req.batch_job;
  doc["id"] = row.id;
  row.phi = Dump(doc);
  RETURN_IF_ERROR(p_.store->Put(row));
  if (p_.observer) {
    std::vector<std::string> hint_rules;
    for (const Json& h : hints) hint_rules.push_back(h.value("rule_id", ""));
    p_.observer->Drafted(sample.json, first, generated->text, hint_rules);
  }
  progress("stored", {{"id", row.id}});
  return ViewOf(row, std::move(doc));
}

StatusOr<Workflow::Loaded> Workflow::Load(const std::string& id, const Caller& caller) {
  ASSIGN_OR_RETURN(DraftRow row, p_.store->Get(id));
  if (!caller.any_department && AsciiLower(row.department) != AsciiLower(caller.department))
    return PermissionDeniedError("draft '" + id + "' belongs to another department");
  Json doc = Json::parse(row.phi, nullptr, false);
  if (doc.is_discarded()) return DataLossError("draft '" + id + "' holds a corrupt document");
  if (!caller.patient.empty() && doc["patient"].value("id", "") != caller.patient)
    return PermissionDeniedError("the token is limited to another patient");
  return Loaded{std::move(row), std::move(doc)};
}

StatusOr<Json> Workflow::Get(const std::string& id, const Caller& caller) {
  ASSIGN_OR_RETURN(Loaded l, Load(id, caller));
  if (l.row.status == "signed") {
    ASSIGN_OR_RETURN(std::string by, AmendedBy(l.row));
    if (!by.empty()) l.doc["amended_by"] = by;
  }
  return ViewOf(l.row, std::move(l.doc));
}

StatusOr<std::string> Workflow::AmendedBy(const DraftRow& row) {
  DraftQuery q;
  q.all_departments = true;  // the row's own encounter, already checked by the caller
  q.encounter_key = row.encounter_key;
  q.status = "signed";
  ASSIGN_OR_RETURN(std::vector<DraftRow> rows, p_.store->List(q));
  for (const DraftRow& r : rows) {
    if (r.id == row.id) continue;
    const Json d = Json::parse(r.phi, nullptr, false);
    if (d.is_object() && d.contains("amends") && d["amends"].is_object() &&
        d["amends"].value("id", "") == row.id)
      return r.id;
  }
  return std::string();
}

StatusOr<Json> Workflow::Amend(const std::string& id, const std::string& text,
                               const std::string& reason, const Caller& caller) {
  if (!caller.may_sign)
    return PermissionDeniedError("role '" + caller.role + "' may not amend signed reports");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return InvalidArgumentError("the amended report is empty");
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos || reason.size() > 1000)
    return InvalidArgumentError("say why the report is amended (a reason of at most 1,000 bytes)");
  // One amendment at a time in this process: two amending the same report would both succeed.
  std::lock_guard<std::mutex> lock(amend_mu_);
  ASSIGN_OR_RETURN(Loaded l, Load(id, caller));
  const Json& old = l.doc;
  if (l.row.status != "signed")
    return FailedPreconditionError("draft '" + id +
                                   "' is not signed; edit it and sign it instead of amending");
  ASSIGN_OR_RETURN(std::string later, AmendedBy(l.row));
  if (!later.empty())
    return FailedPreconditionError("report '" + id + "' was already amended by '" + later +
                                   "'; amend that one");
  if (text == old.value("final", ""))
    return FailedPreconditionError("the amended text is the signed text; nothing to amend");
  const Json& wb = old["writeback"];
  const std::string resource = wb.value("fhir_resource", wb.value("fhir", ""));
  if (resource.empty())
    return FailedPreconditionError("report '" + id + "' has no written DiagnosticReport to amend");
  const std::string now = UtcNowIso(true);
  const std::string signer_name = caller.name.empty() ? caller.sub : caller.name;
  Json doc = old;
  DraftRow row;
  row.id = NewDraftId();
  doc["id"] = row.id;
  doc["amends"] = {{"id", id}, {"reason", reason}, {"signed_at", l.row.signed_at}};
  doc["text"] = text;
  doc["final"] = text;
  doc["diff"] = LineDiff(doc.value("draft", ""), text);
  doc["amendment_diff"] = LineDiff(old.value("final", ""), text);
  doc["edits"] = Json::array();
  doc["signer"] = {{"id", caller.sub}, {"role", caller.role}, {"name", signer_name}};
  doc["hints"] = Check(text, doc["record"], doc["study"]);
  doc.erase("signing");
  doc.erase("amended_by");
  // A new version of the same DiagnosticReport (status amended) and a new SR naming the one it
  // replaces: the signed original stays as it was, in the EMR's history and in this store.
  Json report = DiagnosticReportOf(doc, "amended", text, now);
  // On a FHIR server the resource is "DiagnosticReport/ID": the new version carries that id.
  if (resource.rfind("DiagnosticReport/", 0) == 0) {
    const std::string rest = resource.substr(std::string("DiagnosticReport/").size());
    report["id"] = rest.substr(0, rest.find('/'));
  }
  ASSIGN_OR_RETURN(std::string fhir_loc, p_.records->Update(resource, Dump(report)));
  dicom::SrImageRef replaces;
  if (wb.contains("sr") && wb["sr"].is_object())
    replaces = {wb["sr"].value("series_uid", ""), wb["sr"].value("sop_class_uid", ""),
                wb["sr"].value("sop_instance_uid", "")};
  dicom::SrIdentity sr_id;
  ASSIGN_OR_RETURN(std::string sr_bytes,
                   SignedSr(doc, text, signer_name, &replaces, &sr_id, o_.organization));
  auto dicom_loc = p_.images->Store(sr_bytes);
  if (!dicom_loc.ok())
    return Status(dicom_loc.status().code(),
                  "the amended DiagnosticReport was written (" + fhir_loc +
                      ") but the DICOM SR was not: " + dicom_loc.status().message() +
                      "; amend again to retry");
  doc["writeback"] = {{"fhir", fhir_loc},
                      {"fhir_resource", resource},
                      {"dicom", *dicom_loc},
                      {"fhir_status", "amended"},
                      {"sr",
                       {{"series_uid", sr_id.series_uid},
                        {"sop_class_uid", sr_id.sop_class_uid},
                        {"sop_instance_uid", sr_id.sop_instance_uid}}}};
  row.status = "signed";
  row.department = l.row.department;
  row.encounter_key = l.row.encounter_key;
  row.model_version = l.row.model_version;
  row.input_digest = l.row.input_digest;
  row.created_at = row.updated_at = row.signed_at = now;
  row.signer_key = caller.pseudonym;
  row.phi = Dump(doc);
  RETURN_IF_ERROR(p_.store->Put(row));
  return ViewOf(row, std::move(doc));
}

StatusOr<Json> Workflow::List(const DraftQuery& q, const Caller& caller) {
  DraftQuery query = q;
  if (!caller.any_department && caller.department.empty())
    return PermissionDeniedError("the token names no department, and its role ('" + caller.role +
                                 "') may only see its own department's drafts");
  query.all_departments = caller.any_department;
  if (!caller.any_department) query.department = caller.department;
  ASSIGN_OR_RETURN(std::vector<DraftRow> rows, p_.store->List(query));
  Json out = Json::array();
  for (const DraftRow& row : rows) {
    Json doc = Json::parse(row.phi, nullptr, false);
    if (doc.is_discarded()) continue;
    if (!caller.patient.empty() && doc["patient"].value("id", "") != caller.patient) continue;
    int critical = 0, warning = 0;
    for (const Json& h : doc["hints"]) {
      critical += h.value("severity", "") == "critical";
      warning += h.value("severity", "") == "warning";
    }
    out.push_back({{"id", row.id},
                   {"status", row.status},
                   {"department", row.department},
                   {"created_at", row.created_at},
                   {"signed_at", row.signed_at},
                   {"model_version", row.model_version},
                   {"batch_job", row.batch_job},
                   {"encounter_id", doc["encounter"].value("id", "")},
                   {"accession", doc["study"].value("accession", "")},
                   {"patient", doc["patient"].value("name", "")},
                   {"study", doc["study"].value("description", "")},
                   {"hints", {{"critical", critical}, {"warning", warning}}}});
  }
  return out;
}

StatusOr<Json> Workflow::Edit(const std::string& id, const std::string& text, const Caller& caller,
                              int64_t if_revision) {
  ASSIGN_OR_RETURN(Loaded l, Load(id, caller));
  DraftRow& row = l.row;
  Json& stored = l.doc;
  if (row.status == "signed")
    return FailedPreconditionError("draft '" + id + "' is signed; it can no longer be edited");
  RETURN_IF_ERROR(CheckRevision(row, if_revision));
  if (BeingSigned(stored)) return AbortedError("draft '" + id + "' is being signed; reload it");
  if (text.empty()) return InvalidArgumentError("the edited text is empty");
  if (stored["edits"].size() >= kMaxEdits)
    return ResourceExhaustedError("draft '" + id + "' has " + std::to_string(kMaxEdits) +
                                  " edits; sign it or regenerate");
  stored["edits"].push_back({{"at", UtcNowIso(true)}, {"by", caller.pseudonym}, {"text", text}});
  stored["text"] = text;
  std::vector<Json> hints = Check(text, stored["record"], stored["study"]);
  for (const Json& h : stored["hints"])
    if (h.value("rule_id", "").rfind("dictation.", 0) == 0) hints.push_back(h);
  stored["hints"] = hints;
  row.updated_at = UtcNowIso(true);
  row.phi = Dump(stored);
  RETURN_IF_ERROR(p_.store->Put(row));
  return ViewOf(row, std::move(stored));
}

StatusOr<Json> Workflow::Regenerate(const std::string& id, const Caller& caller,
                                    const ProgressFn& progress) {
  ASSIGN_OR_RETURN(Loaded l, Load(id, caller));
  DraftRequest req;
  req.ref.encounter_id = l.doc["encounter"].value("id", "");
  req.ref.accession = l.doc["study"].value("accession", "");
  req.batch_job = l.row.batch_job;
  return Draft(req, caller, progress);
}

StatusOr<Json> Workflow::Sign(const std::string& id, const std::string& text, const Caller& caller,
                              int64_t if_revision) {
  if (!caller.may_sign)
    return PermissionDeniedError("role '" + caller.role + "' may not sign reports");
  ASSIGN_OR_RETURN(Loaded l, Load(id, caller));
  DraftRow& row = l.row;
  Json& doc = l.doc;
  if (row.status == "signed") {
    // A second click, or a retry after a lost answer: the same report, nothing written again.
    if (text.empty() || text == doc.value("final", "")) return ViewOf(row, std::move(doc));
    return FailedPreconditionError("draft '" + id + "' was signed at " + row.signed_at +
                                   " with another text; a signed report is never changed");
  }
  RETURN_IF_ERROR(CheckRevision(row, if_revision));
  const std::string final_text = text.empty() ? doc.value("text", "") : text;
  if (final_text.find_first_not_of(" \t\r\n") == std::string::npos)
    return InvalidArgumentError("the report to sign is empty");
  const std::string now = UtcNowIso(true);
  // Claim the draft so that one request writes back: a second one reads the claim (or loses
  // the revision race) and is told to wait.
  if (BeingSigned(doc))
    return AbortedError("draft '" + id + "' is being signed by another request; reload it");
  doc["signing"] = {{"by", caller.pseudonym}, {"at_s", NowSeconds()}};
  row.phi = Dump(doc);
  RETURN_IF_ERROR(p_.store->Put(row));
  // On any failure below, the claim is released (best effort: it also expires).
  struct Release {
    Workflow* w;
    DraftRow* row;
    Json* doc;
    bool armed = true;
    ~Release() {
      if (!armed) return;
      DraftRow r = *row;
      Json d = *doc;
      d.erase("signing");
      r.phi = Dump(d);
      (void)w->p_.store->Put(r);
    }
  } release{this, &row, &doc};
  const std::string signer_name = caller.name.empty() ? caller.sub : caller.name;
  doc["signer"] = {{"id", caller.sub}, {"role", caller.role}, {"name", signer_name}};
  // Write-back first: the draft becomes signed only when both systems have the report. A
  // DiagnosticReport written by an earlier attempt whose SR failed is not written again.
  std::string fhir_loc;
  const Json pending = doc["writeback"];
  if (pending.is_object() &&
      pending.value("final_text_sha256", "") == crypto::Hex(crypto::Sha256(final_text)) &&
      !pending.value("fhir", "").empty()) {
    fhir_loc = pending.value("fhir", "");
  } else {
    const Json report = DiagnosticReportOf(doc, "final", final_text, now);
    ASSIGN_OR_RETURN(fhir_loc, p_.records->Create("DiagnosticReport", Dump(report)));
    doc["writeback"]["fhir"] = fhir_loc;
    doc["writeback"]["final_text_sha256"] = crypto::Hex(crypto::Sha256(final_text));
    row.updated_at = now;
    row.phi = Dump(doc);
    RETURN_IF_ERROR(p_.store->Put(row));
  }
  dicom::SrIdentity sr_id;
  ASSIGN_OR_RETURN(std::string sr_bytes,
                   SignedSr(doc, final_text, signer_name, nullptr, &sr_id, o_.organization));
  auto dicom_loc = p_.images->Store(sr_bytes);
  if (!dicom_loc.ok())
    return Status(dicom_loc.status().code(),
                  "the DiagnosticReport was written (" + fhir_loc +
                      ") but the DICOM SR was not: " + dicom_loc.status().message() +
                      "; the draft stays unsigned, sign again to retry");
  doc["final"] = final_text;
  doc["text"] = final_text;
  doc["diff"] = LineDiff(doc.value("draft", ""), final_text);
  doc["writeback"] = {{"fhir", fhir_loc},
                      {"fhir_resource", fhir_loc},
                      {"dicom", *dicom_loc},
                      {"fhir_status", "final"},
                      {"sr",
                       {{"series_uid", sr_id.series_uid},
                        {"sop_class_uid", sr_id.sop_class_uid},
                        {"sop_instance_uid", sr_id.sop_instance_uid}}}};
  if (pending.is_object() && pending.contains("preliminary"))
    doc["writeback"]["preliminary"] = pending["preliminary"];
  doc["hints"] = Check(final_text, doc["record"], doc["study"]);
  doc.erase("signing");
  row.status = "signed";
  row.signed_at = now;
  row.updated_at = now;
  row.signer_key = caller.pseudonym;
  row.phi = Dump(doc);
  RETURN_IF_ERROR(p_.store->Put(row));
  release.armed = false;
  if (p_.observer) p_.observer->Signed(doc.value("draft", ""), final_text);
  return ViewOf(row, std::move(doc));
}

StatusOr<Json> Workflow::Preliminary(const std::string& id, const Caller& caller) {
  ASSIGN_OR_RETURN(Loaded l, Load(id, caller));
  DraftRow& row = l.row;
  Json& doc = l.doc;
  if (row.status == "signed")
    return FailedPreconditionError("draft '" + id + "' is signed; its final report is written");
  const Json report =
      DiagnosticReportOf(doc, "preliminary", doc.value("text", ""), UtcNowIso(true));
  ASSIGN_OR_RETURN(std::string loc, p_.records->Create("DiagnosticReport", Dump(report)));
  doc["writeback"]["preliminary"] = loc;
  row.updated_at = UtcNowIso(true);
  row.phi = Dump(doc);
  RETURN_IF_ERROR(p_.store->Put(row));
  return ViewOf(row, std::move(doc));
}

}  // namespace medscribe::clinical
