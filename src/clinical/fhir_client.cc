// A FHIR R4 server as record source and sink (sources.h), over HTTP(S) with libcurl.
#include <simdjson.h>

#include <algorithm>
#include <map>

#include "clinical/http_client.h"
#include "clinical/sources.h"
#include "common/url.h"
#include "fhir/reader.h"

namespace medscribe::clinical {
namespace {

constexpr char kFhirJson[] = "application/fhir+json";
// A search reads at most this many pages and bytes; one page at most kMaxPageBytes (the
// client's own limit when lower). An encounter's record is far smaller.
constexpr int kMaxPages = 20;
constexpr size_t kMaxPageBytes = 16u << 20;
constexpr size_t kMaxSearchBytes = 64u << 20;

class FhirServer final : public RecordSource {
 public:
  FhirServer(HttpServerRef server, Url base) : s_(std::move(server)), base_(std::move(base)) {}

  std::string name() const override { return "FHIR server " + s_.base; }

  StatusOr<EncounterRecord> Fetch(const EncounterRef& ref) override {
    EncounterRecord r;
    std::string encounter_id = ref.encounter_id;
    if (encounter_id.empty()) {
      // The study's order or ImagingStudy carries the accession as an identifier.
      ASSIGN_OR_RETURN(auto found, Search("ImagingStudy?identifier=" + UrlEncode(ref.accession)));
      for (const auto& x : found)
        if (auto* s = std::get_if<fhir::ImagingStudy>(&x)) encounter_id = s->encounter.id;
      if (encounter_id.empty()) {
        ASSIGN_OR_RETURN(auto orders,
                         Search("ServiceRequest?identifier=" + UrlEncode(ref.accession)));
        for (const auto& x : orders)
          if (auto* s = std::get_if<fhir::ServiceRequest>(&x)) encounter_id = s->encounter.id;
      }
      if (encounter_id.empty())
        return NotFoundError("no study with accession '" + ref.accession + "' in " + name());
    }
    ASSIGN_OR_RETURN(fhir::Resource enc, Read("Encounter", encounter_id));
    r.encounter = std::get<fhir::Encounter>(enc);
    ASSIGN_OR_RETURN(fhir::Resource pat, Read("Patient", r.encounter.subject.id));
    r.patient = std::get<fhir::Patient>(pat);
    const std::string by_encounter =
        "?encounter=Encounter/" + UrlEncode(encounter_id) + "&_count=500";
    ASSIGN_OR_RETURN(auto list, Search("ServiceRequest" + by_encounter));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::ServiceRequest>(&x)) r.order = *v;
    ASSIGN_OR_RETURN(list, Search("ImagingStudy" + by_encounter));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::ImagingStudy>(&x)) r.study = *v;
    ASSIGN_OR_RETURN(
        list, Search("Observation?subject=Patient/" + UrlEncode(r.patient.id) + "&_count=500"));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::Observation>(&x)) r.observations.push_back(*v);
    ASSIGN_OR_RETURN(list, Search("Condition" + by_encounter));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::Condition>(&x)) r.conditions.push_back(*v);
    ASSIGN_OR_RETURN(list, Search("Condition?subject=Patient/" + UrlEncode(r.patient.id) +
                                  "&category=problem-list-item&_count=500"));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::Condition>(&x); v && v->encounter.empty())
        r.conditions.push_back(*v);
    ASSIGN_OR_RETURN(list, Search("Procedure" + by_encounter));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::Procedure>(&x)) r.procedures.push_back(*v);
    ASSIGN_OR_RETURN(list, Search("DocumentReference" + by_encounter));
    for (auto& x : list)
      if (auto* v = std::get_if<fhir::DocumentReference>(&x)) r.notes.push_back(*v);
    return r;
  }

  StatusOr<std::vector<std::string>> FindEncounters(const std::string& query,
                                                    size_t limit) override {
    if (query.find_first_of("#\r\n ") != std::string::npos)
      return InvalidArgumentError("the search has characters a URL query cannot hold");
    ASSIGN_OR_RETURN(auto found, Search("Encounter?" + query));
    std::vector<std::string> out;
    for (const auto& x : found)
      if (auto* e = std::get_if<fhir::Encounter>(&x); e && out.size() < limit) out.push_back(e->id);
    return out;
  }

  StatusOr<std::string> Dictation(const EncounterRecord&) override {
    return NotFoundError("dictation audio is taken from the request with a FHIR server source");
  }

  StatusOr<std::string> Create(const std::string& type, const std::string& json) override {
    ASSIGN_OR_RETURN(HttpResponse r,
                     s_.http.Post(s_.base + "/" + type, s_.Headers(kFhirJson, kFhirJson), json));
    if (r.status != 200 && r.status != 201)
      return UnavailableError(name() + " refused the " + type + " (HTTP " +
                              std::to_string(r.status) + "): " + r.body.substr(0, 300));
    if (!r.location.empty()) {
      std::string loc = r.location;
      const size_t at = loc.find(type + "/");
      if (at != std::string::npos) loc = loc.substr(at);
      const size_t hist = loc.find("/_history");
      if (hist != std::string::npos) loc = loc.substr(0, hist);
      return loc;
    }
    auto parsed = fhir::ParseResource(r.body);
    if (parsed.ok()) return type + "/" + fhir::IdOf(*parsed);
    return type;
  }

  StatusOr<std::string> Update(const std::string& location, const std::string& json) override {
    // "Type/id", possibly with "/_history/N": only the resource itself is updated.
    const size_t slash = location.find('/');
    const std::string type = location.substr(0, slash);
    std::string id = slash == std::string::npos ? "" : location.substr(slash + 1);
    const size_t rest = id.find('/');
    const std::string tail = rest == std::string::npos ? "" : id.substr(rest);
    id = id.substr(0, rest);
    auto safe = [](const std::string& t) {
      return !t.empty() && t.size() <= 64 && t != "." && t != ".." &&
             t.find_first_not_of(
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") ==
                 std::string::npos;
    };
    const bool history = tail.rfind("/_history/", 0) == 0 && safe(tail.substr(10));
    if (!safe(type) || !safe(id) || (!tail.empty() && !history))
      return InvalidArgumentError("'" + location + "' is not a FHIR resource location (Type/id)");
    ASSIGN_OR_RETURN(HttpResponse r, s_.http.Put(s_.base + "/" + type + "/" + id,
                                                 s_.Headers(kFhirJson, kFhirJson), json));
    if (r.status != 200 && r.status != 201)
      return UnavailableError(name() + " refused the new version of " + type + "/" + id +
                              " (HTTP " + std::to_string(r.status) + "): " + r.body.substr(0, 300));
    const size_t hist = r.location.find(type + "/" + id + "/_history/");
    if (hist != std::string::npos) return r.location.substr(hist);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view version;
    const simdjson::padded_string body(r.body);
    if (!parser.parse(body).get(doc) && !doc.at_pointer("/meta/versionId").get(version))
      return type + "/" + id + "/_history/" + std::string(version);
    return type + "/" + id;
  }

 private:
  StatusOr<HttpResponse> GetOk(const std::string& path) {
    ASSIGN_OR_RETURN(HttpResponse r, s_.http.Get(s_.base + "/" + path, s_.Headers(kFhirJson)));
    if (r.status >= 500)
      return UnavailableError(name() + " failed (HTTP " + std::to_string(r.status) + ")");
    if (r.status == 401 || r.status == 403)
      return UnavailableError(name() + " refused MedScribe's credentials (HTTP " +
                              std::to_string(r.status) + ")");
    return r;
  }

  StatusOr<fhir::Resource> Read(const std::string& type, const std::string& id) {
    if (id.empty() || id.find_first_of("/?#") != std::string::npos)
      return NotFoundError("no " + type + " '" + id + "' in " + name());
    ASSIGN_OR_RETURN(HttpResponse r, GetOk(type + "/" + UrlEncode(id)));
    if (r.status == 404 || r.status == 410)
      return NotFoundError("no " + type + " '" + id + "' in " + name());
    if (r.status != 200)
      return UnavailableError(name() + ": reading " + type + " answered HTTP " +
                              std::to_string(r.status));
    auto res = fhir::ParseResource(r.body);
    if (!res.ok() || fhir::ResourceTypeOf(*res) != type)
      return UnavailableError(name() + " answered a " + type + " MedScribe cannot read" +
                              (res.ok() ? "" : ": " + res.status().message()));
    return res;
  }

  // The resources of every page of a search, following Bundle.link next only where it stays on
  // the configured base (same scheme, host and port, under its path: the service token goes
  // with every request), within kMaxPages and kMaxSearchBytes.
  StatusOr<std::vector<fhir::Resource>> Search(const std::string& query) {
    std::vector<fhir::Resource> out;
    std::string url = s_.base + "/" + query;
    size_t bytes = 0;
    for (int page = 0; !url.empty(); ++page) {
      if (page == kMaxPages)
        return ResourceExhaustedError(name() + " answered a search with more than " +
                                      std::to_string(kMaxPages) + " pages");
      ASSIGN_OR_RETURN(HttpResponse r, s_.http.Get(url, s_.Headers(kFhirJson)));
      if (r.status >= 500 || r.status == 401 || r.status == 403)
        return UnavailableError(name() + " failed a search (HTTP " + std::to_string(r.status) +
                                ")");
      if (r.status != 200)
        return UnavailableError(name() + " refused a search (HTTP " + std::to_string(r.status) +
                                "): " + r.body.substr(0, 200));
      bytes += r.body.size();
      if (bytes > kMaxSearchBytes)
        return ResourceExhaustedError(name() + " answered a search with more than " +
                                      std::to_string(kMaxSearchBytes >> 20) + " MiB");
      fhir::FhirReader reader;
      reader.AddJson(r.body, "search");
      for (const auto& x : reader.resources()) out.push_back(x);
      url = NextLink(r.body);
      if (url.empty()) break;
      auto next = ParseHttpUrl(url);
      if (!next.ok() || !IsUnder(*next, base_))
        return UnavailableError(name() +
                                " sent a paging link outside its base URL; MedScribe follows "
                                "links only on " +
                                base_.origin() + std::string(base_.path()) +
                                " (check the server's base URL setting)");
    }
    return out;
  }

  // Bundle.link[relation=next].url, "" when there is none (or the bundle is not JSON).
  static std::string NextLink(const std::string& bundle) {
    simdjson::dom::parser parser;
    if (parser.allocate(bundle.size() + 64, 64) != simdjson::SUCCESS) return "";
    simdjson::dom::element doc;
    if (parser.parse(simdjson::padded_string(bundle)).get(doc)) return "";
    simdjson::dom::array links;
    if (doc["link"].get(links)) return "";
    for (simdjson::dom::element l : links) {
      std::string_view rel, url;
      if (!l["relation"].get(rel) && rel == "next" && !l["url"].get(url)) return std::string(url);
    }
    return "";
  }

  HttpServerRef s_;
  Url base_;
};

}  // namespace

StatusOr<std::shared_ptr<RecordSource>> OpenFhirServer(const HttpSourceOptions& o) {
  ASSIGN_OR_RETURN(
      HttpServerRef server,
      HttpServerRef::Make(o.base_url, o.bearer_token,
                          {.ca_file = o.ca_file,
                           .timeout_ms = o.timeout_ms,
                           .max_response_bytes = std::min(o.max_response_bytes, kMaxPageBytes)},
                          "FHIR base URL"));
  auto base = ParseHttpUrl(server.base);
  if (!base.ok()) return InvalidArgumentError("FHIR base URL: " + base.status().message());
  return std::shared_ptr<RecordSource>(
      std::make_shared<FhirServer>(std::move(server), std::move(*base)));
}

}  // namespace medscribe::clinical
