#include "fhir/reader.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>

#include "common/base64.h"
#include "common/files.h"

namespace medscribe::fhir {
namespace {

namespace dom = simdjson::dom;

Status Bad(const std::string& path, const std::string& what) {
  return InvalidArgumentError(path + ": " + what);
}

// "Type/id" -> {Type, id}; anything else (absolute URLs, fragments) -> empty.
Reference ParseReference(const std::string& ref) {
  const size_t slash = ref.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size() ||
      ref.find('/', slash + 1) != std::string::npos) {
    return {};
  }
  return {ref.substr(0, slash), ref.substr(slash + 1)};
}

// Typed, bounds-checked access to one JSON object; `path` names it in error messages.
class Obj {
 public:
  Obj(dom::object o, std::string path) : o_(o), path_(std::move(path)) {}

  bool Has(const char* key) const { return o_.at_key(key).error() == simdjson::SUCCESS; }

  Status Str(const char* key, std::string& out) const {
    dom::element e;
    if (o_.at_key(key).get(e) != simdjson::SUCCESS) return OkStatus();
    std::string_view v;
    if (e.get_string().get(v) != simdjson::SUCCESS)
      return Bad(path_ + "." + key, "must be a string");
    out.assign(v);
    return OkStatus();
  }

  Status Num(const char* key, std::optional<double>& out) const {
    dom::element e;
    if (o_.at_key(key).get(e) != simdjson::SUCCESS) return OkStatus();
    double v = 0;
    if (e.get_double().get(v) != simdjson::SUCCESS)
      return Bad(path_ + "." + key, "must be a number");
    out = v;
    return OkStatus();
  }

  // Calls fn for the object at `key`, if present. InvalidArgument if it is not an object.
  Status Child(const char* key, const std::function<Status(const Obj&)>& fn) const {
    dom::element e;
    if (o_.at_key(key).get(e) != simdjson::SUCCESS) return OkStatus();
    dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS)
      return Bad(path_ + "." + key, "must be an object");
    return fn(Obj(o, path_ + "." + key));
  }

  // Calls fn for each object in the array at `key`, if present.
  Status Each(const char* key, const std::function<Status(const Obj&)>& fn) const {
    dom::element e;
    if (o_.at_key(key).get(e) != simdjson::SUCCESS) return OkStatus();
    dom::array a;
    if (e.get_array().get(a) != simdjson::SUCCESS)
      return Bad(path_ + "." + key, "must be an array");
    size_t i = 0;
    for (dom::element item : a) {
      dom::object o;
      const std::string where = path_ + "." + key + "[" + std::to_string(i++) + "]";
      if (item.get_object().get(o) != simdjson::SUCCESS) return Bad(where, "must be an object");
      RETURN_IF_ERROR(fn(Obj(o, where)));
    }
    return OkStatus();
  }

  // Strings of the array at `key`, if present.
  Status Strings(const char* key, std::vector<std::string>& out) const {
    dom::element e;
    if (o_.at_key(key).get(e) != simdjson::SUCCESS) return OkStatus();
    dom::array a;
    if (e.get_array().get(a) != simdjson::SUCCESS)
      return Bad(path_ + "." + key, "must be an array");
    for (dom::element item : a) {
      std::string_view v;
      if (item.get_string().get(v) != simdjson::SUCCESS)
        return Bad(path_ + "." + key, "must hold strings");
      out.emplace_back(v);
    }
    return OkStatus();
  }

  Status Ref(const char* key, Reference& out) const {
    return Child(key, [&](const Obj& r) -> Status {
      std::string ref;
      RETURN_IF_ERROR(r.Str("reference", ref));
      out = ParseReference(ref);
      return OkStatus();
    });
  }

  // A CodeableConcept's codings.
  Status Codings(const char* key, std::vector<Coding>& out) const {
    return Child(key, [&](const Obj& cc) {
      return cc.Each("coding", [&](const Obj& c) -> Status {
        Coding coding;
        RETURN_IF_ERROR(c.Str("system", coding.system));
        RETURN_IF_ERROR(c.Str("code", coding.code));
        RETURN_IF_ERROR(c.Str("display", coding.display));
        out.push_back(std::move(coding));
        return OkStatus();
      });
    });
  }

  const std::string& path() const { return path_; }

 private:
  dom::object o_;
  std::string path_;
};

// The first identifier whose type code is `type` (e.g. "ACSN"), or "".
Status IdentifierOfType(const Obj& o, const char* type, std::string& out) {
  return o.Each("identifier", [&](const Obj& id) -> Status {
    std::vector<Coding> codes;
    RETURN_IF_ERROR(id.Codings("type", codes));
    if (out.empty() && !codes.empty() && codes[0].code == type)
      RETURN_IF_ERROR(id.Str("value", out));
    return OkStatus();
  });
}

// Text of a base64 attachment, if it is text.
Status AttachmentText(const Obj& a, std::string& text, std::string* language) {
  std::string content_type, data;
  RETURN_IF_ERROR(a.Str("contentType", content_type));
  RETURN_IF_ERROR(a.Str("data", data));
  if (language) RETURN_IF_ERROR(a.Str("language", *language));
  if (data.empty() || content_type.rfind("text/", 0) != 0) return OkStatus();
  auto decoded = Base64Decode(data);
  if (!decoded.ok()) return Bad(a.path() + ".data", "is not valid base64");
  text = std::move(decoded).value();
  return OkStatus();
}

StatusOr<Resource> Convert(const Obj& o, const std::string& type) {
  std::string id;
  RETURN_IF_ERROR(o.Str("id", id));
  if (id.empty()) return Bad(type, "has no id");
  if (type == "Patient") {
    Patient p;
    p.id = id;
    RETURN_IF_ERROR(o.Str("gender", p.gender));
    RETURN_IF_ERROR(o.Str("birthDate", p.birth_date));
    RETURN_IF_ERROR(o.Each("identifier", [&](const Obj& i) -> Status {
      Identifier ident;
      RETURN_IF_ERROR(i.Str("system", ident.system));
      RETURN_IF_ERROR(i.Str("value", ident.value));
      std::vector<Coding> codes;
      RETURN_IF_ERROR(i.Codings("type", codes));
      if (!codes.empty()) ident.type_code = codes[0].code;
      p.identifiers.push_back(std::move(ident));
      return OkStatus();
    }));
    RETURN_IF_ERROR(o.Each("name", [&](const Obj& n) -> Status {
      HumanName name;
      RETURN_IF_ERROR(n.Str("family", name.family));
      RETURN_IF_ERROR(n.Str("text", name.text));
      RETURN_IF_ERROR(n.Strings("given", name.given));
      p.names.push_back(std::move(name));
      return OkStatus();
    }));
    RETURN_IF_ERROR(o.Each("telecom", [&](const Obj& t) -> Status {
      std::string v;
      RETURN_IF_ERROR(t.Str("value", v));
      if (!v.empty()) p.telecom.push_back(v);
      return OkStatus();
    }));
    RETURN_IF_ERROR(o.Each("address", [&](const Obj& a) -> Status {
      RETURN_IF_ERROR(a.Strings("line", p.address));
      for (const char* k : {"city", "district", "postalCode"}) {
        std::string v;
        RETURN_IF_ERROR(a.Str(k, v));
        if (!v.empty()) p.address.push_back(v);
      }
      return OkStatus();
    }));
    return Resource(std::move(p));
  }
  if (type == "Encounter") {
    Encounter e;
    e.id = id;
    RETURN_IF_ERROR(o.Str("status", e.status));
    RETURN_IF_ERROR(o.Child("class", [&](const Obj& c) { return c.Str("code", e.class_code); }));
    RETURN_IF_ERROR(
        o.Child("serviceType", [&](const Obj& c) { return c.Str("text", e.service_type); }));
    RETURN_IF_ERROR(o.Ref("subject", e.subject));
    RETURN_IF_ERROR(o.Child("period", [&](const Obj& p) -> Status {
      RETURN_IF_ERROR(p.Str("start", e.start));
      return p.Str("end", e.end);
    }));
    RETURN_IF_ERROR(o.Child("hospitalization", [&](const Obj& h) -> Status {
      std::vector<Coding> d;
      RETURN_IF_ERROR(h.Codings("dischargeDisposition", d));
      if (!d.empty()) e.discharge_disposition = d[0].code;
      return OkStatus();
    }));
    return Resource(std::move(e));
  }
  if (type == "ServiceRequest") {
    ServiceRequest s;
    s.id = id;
    RETURN_IF_ERROR(IdentifierOfType(o, "ACSN", s.accession));
    RETURN_IF_ERROR(o.Str("authoredOn", s.authored_on));
    RETURN_IF_ERROR(o.Ref("subject", s.subject));
    RETURN_IF_ERROR(o.Ref("encounter", s.encounter));
    RETURN_IF_ERROR(o.Codings("code", s.code));
    RETURN_IF_ERROR(o.Each("reasonCode", [&](const Obj& r) -> Status {
      if (s.reason.empty()) RETURN_IF_ERROR(r.Str("text", s.reason));
      return r.Each("coding", [&](const Obj& c) -> Status {
        Coding k;
        RETURN_IF_ERROR(c.Str("system", k.system));
        RETURN_IF_ERROR(c.Str("code", k.code));
        RETURN_IF_ERROR(c.Str("display", k.display));
        s.reason_codes.push_back(std::move(k));
        return OkStatus();
      });
    }));
    return Resource(std::move(s));
  }
  if (type == "ImagingStudy") {
    ImagingStudy s;
    s.id = id;
    RETURN_IF_ERROR(IdentifierOfType(o, "ACSN", s.accession));
    RETURN_IF_ERROR(o.Each("identifier", [&](const Obj& i) -> Status {
      std::string system, value;
      RETURN_IF_ERROR(i.Str("system", system));
      RETURN_IF_ERROR(i.Str("value", value));
      if (system == "urn:dicom:uid" && value.rfind("urn:oid:", 0) == 0)
        s.study_uid = value.substr(8);
      return OkStatus();
    }));
    RETURN_IF_ERROR(o.Str("started", s.started));
    RETURN_IF_ERROR(o.Ref("subject", s.subject));
    RETURN_IF_ERROR(o.Ref("encounter", s.encounter));
    RETURN_IF_ERROR(o.Each("series", [&](const Obj& se) -> Status {
      std::string uid;
      RETURN_IF_ERROR(se.Str("uid", uid));
      s.series_uids.push_back(uid);
      return se.Each("instance", [&](const Obj& in) -> Status {
        std::string iuid;
        RETURN_IF_ERROR(in.Str("uid", iuid));
        s.instance_uids.push_back(iuid);
        return OkStatus();
      });
    }));
    return Resource(std::move(s));
  }
  if (type == "Observation") {
    Observation ob;
    ob.id = id;
    RETURN_IF_ERROR(o.Str("status", ob.status));
    RETURN_IF_ERROR(o.Str("effectiveDateTime", ob.effective));
    RETURN_IF_ERROR(o.Ref("subject", ob.subject));
    RETURN_IF_ERROR(o.Ref("encounter", ob.encounter));
    RETURN_IF_ERROR(o.Codings("code", ob.code));
    RETURN_IF_ERROR(o.Str("valueString", ob.value_string));
    RETURN_IF_ERROR(o.Child("valueQuantity", [&](const Obj& q) -> Status {
      RETURN_IF_ERROR(q.Num("value", ob.value));
      RETURN_IF_ERROR(q.Str("code", ob.unit));
      if (ob.unit.empty()) RETURN_IF_ERROR(q.Str("unit", ob.unit));
      return OkStatus();
    }));
    RETURN_IF_ERROR(o.Each("referenceRange", [&](const Obj& r) -> Status {
      RETURN_IF_ERROR(r.Child("low", [&](const Obj& q) { return q.Num("value", ob.low); }));
      return r.Child("high", [&](const Obj& q) { return q.Num("value", ob.high); });
    }));
    RETURN_IF_ERROR(o.Each("interpretation", [&](const Obj& i) {  // a list of CodeableConcepts
      return i.Each("coding", [&](const Obj& c) {
        return ob.interpretation.empty() ? c.Str("code", ob.interpretation) : OkStatus();
      });
    }));
    return Resource(std::move(ob));
  }
  if (type == "Condition" || type == "Procedure") {
    Reference subject, encounter;
    std::vector<Coding> code;
    std::string when;
    RETURN_IF_ERROR(o.Ref("subject", subject));
    RETURN_IF_ERROR(o.Ref("encounter", encounter));
    RETURN_IF_ERROR(o.Codings("code", code));
    RETURN_IF_ERROR(o.Str(type == "Condition" ? "recordedDate" : "performedDateTime", when));
    if (type == "Condition") {
      Condition c{id, when, "", "", "", subject, encounter, code};
      RETURN_IF_ERROR(o.Str("onsetDateTime", c.onset));
      std::vector<Coding> v;
      RETURN_IF_ERROR(o.Codings("verificationStatus", v));
      if (!v.empty()) c.verification = v[0].code;
      RETURN_IF_ERROR(o.Each("category", [&](const Obj& k) -> Status {
        return k.Each("coding", [&](const Obj& cc) {
          return c.category.empty() ? cc.Str("code", c.category) : OkStatus();
        });
      }));
      return Resource(std::move(c));
    }
    Procedure pr{id, when, subject, encounter, code, ""};
    RETURN_IF_ERROR(o.Child("outcome", [&](const Obj& c) { return c.Str("text", pr.outcome); }));
    return Resource(std::move(pr));
  }
  if (type == "DocumentReference") {
    DocumentReference d;
    d.id = id;
    RETURN_IF_ERROR(o.Str("date", d.date));
    std::vector<Coding> type_codes;
    RETURN_IF_ERROR(o.Codings("type", type_codes));
    if (!type_codes.empty()) d.type_code = type_codes[0].code;
    RETURN_IF_ERROR(o.Ref("subject", d.subject));
    RETURN_IF_ERROR(o.Child("context", [&](const Obj& c) {
      return c.Each("encounter", [&](const Obj& e) -> Status {
        std::string ref;
        RETURN_IF_ERROR(e.Str("reference", ref));
        const Reference parsed = ParseReference(ref);
        if (d.encounter.empty() && parsed.type == "Encounter") d.encounter = parsed;
        return OkStatus();
      });
    }));
    RETURN_IF_ERROR(o.Each("content", [&](const Obj& c) {
      return c.Child("attachment", [&](const Obj& a) -> Status {
        std::string content_type;
        RETURN_IF_ERROR(a.Str("contentType", content_type));
        if (content_type.rfind("audio/", 0) == 0) {
          if (!d.audio.empty()) return OkStatus();
          std::string data;
          RETURN_IF_ERROR(a.Str("data", data));
          auto decoded = Base64Decode(data);
          if (!decoded.ok()) return Bad(a.path() + ".data", "is not valid base64");
          d.audio = std::move(decoded).value();
          return OkStatus();
        }
        return d.text.empty() ? AttachmentText(a, d.text, &d.language) : OkStatus();
      });
    }));
    return Resource(std::move(d));
  }
  if (type == "DiagnosticReport") {
    DiagnosticReport r;
    r.id = id;
    RETURN_IF_ERROR(o.Str("status", r.status));
    RETURN_IF_ERROR(o.Str("effectiveDateTime", r.effective));
    RETURN_IF_ERROR(o.Str("conclusion", r.conclusion));
    RETURN_IF_ERROR(o.Ref("subject", r.subject));
    RETURN_IF_ERROR(o.Ref("encounter", r.encounter));
    RETURN_IF_ERROR(o.Each("imagingStudy", [&](const Obj& i) -> Status {
      std::string ref;
      RETURN_IF_ERROR(i.Str("reference", ref));
      if (Reference parsed = ParseReference(ref); !parsed.empty())
        r.imaging_studies.push_back(parsed);
      return OkStatus();
    }));
    RETURN_IF_ERROR(o.Each("presentedForm", [&](const Obj& a) {
      return r.text.empty() ? AttachmentText(a, r.text, nullptr) : OkStatus();
    }));
    RETURN_IF_ERROR(o.Each("resultsInterpreter", [&](const Obj& i) -> Status {
      if (!r.interpreter.empty()) return OkStatus();
      std::string ref;
      RETURN_IF_ERROR(i.Str("reference", ref));
      if (!ref.empty()) {
        r.interpreter = ref;
        return OkStatus();
      }
      return i.Str("display", r.interpreter);
    }));
    return Resource(std::move(r));
  }
  if (type == "MedicationRequest") {
    MedicationRequest m;
    m.id = id;
    RETURN_IF_ERROR(o.Str("status", m.status));
    RETURN_IF_ERROR(o.Str("intent", m.intent));
    RETURN_IF_ERROR(o.Str("authoredOn", m.authored_on));
    RETURN_IF_ERROR(o.Ref("subject", m.subject));
    RETURN_IF_ERROR(o.Ref("encounter", m.encounter));
    RETURN_IF_ERROR(o.Codings("medicationCodeableConcept", m.medication));
    RETURN_IF_ERROR(o.Each("category", [&](const Obj& k) {
      return k.Each("coding", [&](const Obj& c) {
        return m.category.empty() ? c.Str("code", m.category) : OkStatus();
      });
    }));
    RETURN_IF_ERROR(o.Each("dosageInstruction", [&](const Obj& d) {
      return m.dosage.empty() ? d.Str("text", m.dosage) : OkStatus();
    }));
    RETURN_IF_ERROR(
        o.Child("statusReason", [&](const Obj& r) { return r.Str("text", m.status_reason); }));
    RETURN_IF_ERROR(o.Each("reasonReference", [&](const Obj& r) -> Status {
      std::string ref;
      RETURN_IF_ERROR(r.Str("reference", ref));
      if (Reference parsed = ParseReference(ref); !parsed.empty()) m.reasons.push_back(parsed);
      return OkStatus();
    }));
    return Resource(std::move(m));
  }
  if (type == "MedicationAdministration") {
    MedicationAdministration m;
    m.id = id;
    RETURN_IF_ERROR(o.Str("status", m.status));
    RETURN_IF_ERROR(o.Ref("subject", m.subject));
    RETURN_IF_ERROR(o.Ref("context", m.encounter));
    RETURN_IF_ERROR(o.Ref("request", m.request));
    RETURN_IF_ERROR(o.Codings("medicationCodeableConcept", m.medication));
    RETURN_IF_ERROR(o.Str("effectiveDateTime", m.start));
    RETURN_IF_ERROR(o.Child("effectivePeriod", [&](const Obj& p) -> Status {
      RETURN_IF_ERROR(p.Str("start", m.start));
      return p.Str("end", m.end);
    }));
    RETURN_IF_ERROR(o.Child("dosage", [&](const Obj& d) { return d.Str("text", m.dosage); }));
    return Resource(std::move(m));
  }
  if (type == "AllergyIntolerance") {
    AllergyIntolerance a;
    a.id = id;
    RETURN_IF_ERROR(o.Ref("patient", a.subject));
    RETURN_IF_ERROR(o.Ref("encounter", a.encounter));
    RETURN_IF_ERROR(o.Codings("code", a.code));
    std::vector<Coding> status;
    RETURN_IF_ERROR(o.Codings("clinicalStatus", status));
    if (!status.empty()) a.clinical_status = status[0].code;
    RETURN_IF_ERROR(o.Each("reaction", [&](const Obj& r) {
      return r.Each("manifestation", [&](const Obj& m) -> Status {
        std::string text;
        RETURN_IF_ERROR(m.Str("text", text));
        if (!text.empty()) a.reactions.push_back(text);
        return OkStatus();
      });
    }));
    return Resource(std::move(a));
  }
  return NotFoundError("resource type " + type + " is not read");
}

StatusOr<Resource> ConvertElement(dom::element e, const std::string& where) {
  dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return Bad(where, "is not a JSON object");
  std::string_view type;
  if (o.at_key("resourceType").get_string().get(type) != simdjson::SUCCESS) {
    return Bad(where, "has no resourceType");
  }
  return Convert(Obj(o, std::string(type)), std::string(type));
}

Status ParseError(simdjson::error_code err, size_t max_depth) {
  if (err == simdjson::DEPTH_ERROR) {
    return InvalidArgumentError("JSON nests deeper than " + std::to_string(max_depth) + " levels");
  }
  if (err == simdjson::CAPACITY)
    return Status(ErrorCode::kResourceExhausted, "JSON document exceeds the size limit");
  return InvalidArgumentError(std::string("invalid JSON: ") + simdjson::error_message(err));
}

}  // namespace

std::string ResourceTypeOf(const Resource& r) {
  static const char* kNames[] = {"Patient",
                                 "Encounter",
                                 "ServiceRequest",
                                 "ImagingStudy",
                                 "Observation",
                                 "Condition",
                                 "Procedure",
                                 "DocumentReference",
                                 "DiagnosticReport",
                                 "MedicationRequest",
                                 "MedicationAdministration",
                                 "AllergyIntolerance"};
  static_assert(std::size(kNames) == std::variant_size_v<Resource>);
  return kNames[r.index()];
}

const std::string& IdOf(const Resource& r) {
  return std::visit([](const auto& x) -> const std::string& { return x.id; }, r);
}

StatusOr<Resource> ParseResource(std::string_view json, const FhirLimits& limits) {
  if (json.size() > limits.max_resource_bytes) {
    return Status(ErrorCode::kResourceExhausted, "resource of " + std::to_string(json.size()) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(limits.max_resource_bytes));
  }
  dom::parser parser(limits.max_resource_bytes);
  if (auto err = parser.allocate(std::max<size_t>(json.size(), 64), limits.max_depth); err) {
    return ParseError(err, limits.max_depth);
  }
  const simdjson::padded_string padded(json);
  dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) return ParseError(err, limits.max_depth);
  return ConvertElement(doc, "resource");
}

void FhirReader::Record(StatusOr<Resource> r, const std::string& source) {
  if (r.ok()) {
    resources_.push_back(std::move(r).value());
    sources_.push_back(source);
  } else if (r.status().code() == ErrorCode::kNotFound) {
    ++skipped_;  // a valid resource of a type MedScribe does not read
  } else {
    rejected_.push_back(
        {source, r.status().message(),
         r.status().code() == ErrorCode::kResourceExhausted ? "fhir_too_large" : "fhir_invalid"});
  }
}

void FhirReader::AddNdjson(std::string_view text, const std::string& source) {
  size_t line = 0, pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view l = text.substr(pos, end - pos);
    ++line;
    pos = end + 1;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t'))
      l.remove_suffix(1);
    if (l.empty()) continue;
    Record(ParseResource(l, limits_), source + ":" + std::to_string(line));
  }
}

void FhirReader::AddJson(std::string_view text, const std::string& source) {
  if (text.size() > limits_.max_bundle_bytes) {
    rejected_.push_back({source,
                         "file exceeds the Bundle size limit of " +
                             std::to_string(limits_.max_bundle_bytes) + " bytes",
                         "fhir_too_large"});
    return;
  }
  dom::parser parser(limits_.max_bundle_bytes);
  if (auto err = parser.allocate(std::max<size_t>(text.size(), 64), limits_.max_depth); err) {
    rejected_.push_back({source, ParseError(err, limits_.max_depth).message()});
    return;
  }
  const simdjson::padded_string padded(text);
  dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) {
    rejected_.push_back({source, ParseError(err, limits_.max_depth).message()});
    return;
  }
  std::string_view type;
  if (doc["resourceType"].get_string().get(type) == simdjson::SUCCESS && type == "Bundle") {
    dom::array entries;
    if (doc["entry"].get_array().get(entries) != simdjson::SUCCESS) return;  // an empty Bundle
    size_t i = 0;
    for (dom::element entry : entries) {
      const std::string where = source + "#entry" + std::to_string(i++);
      dom::element res;
      if (entry["resource"].get(res) != simdjson::SUCCESS) {
        rejected_.push_back({where, "entry has no resource"});
        continue;
      }
      Record(ConvertElement(res, "resource"), where);
    }
    return;
  }
  Record(ConvertElement(doc, "resource"), source);
}

StatusOr<std::vector<std::filesystem::path>> ListFhirFiles(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      const auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".ndjson" || ext == ".json")) files.push_back(e.path());
    }
    if (ec) return IoError("cannot list FHIR input '" + path + "': " + ec.message());
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return NotFoundError("FHIR input '" + path + "' is neither a file nor a directory");
  }
  return files;
}

Status FhirReader::AddPath(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<std::filesystem::path> files, ListFhirFiles(path));
  for (const std::filesystem::path& f : files) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    if (f.extension() == ".ndjson")
      AddNdjson(text, f.string());
    else
      AddJson(text, f.string());
  }
  return OkStatus();
}

}  // namespace medscribe::fhir
