#include "clinical/discharge_document.h"

#include <cctype>
#include <set>

#include "clinical/draft_vars.h"
#include "common/base64.h"
#include "common/strings.h"

namespace medscribe::clinical {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kLoinc = "http://loinc.org";

std::string Trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// XHTML narrative of a section: one <p> per line.
std::string Narrative(const std::string& text) {
  std::string div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
  size_t start = 0;
  bool any = false;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = Trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    div += "<p>" + XmlEscape(line) + "</p>";
    any = true;
  }
  if (!any) div += "<p>None.</p>";
  return div + "</div>";
}

Json Loinc(const char* code, const char* display) {
  return Json{
      {"coding", Json::array({Json{{"system", kLoinc}, {"code", code}, {"display", display}}})},
      {"text", display}};
}

}  // namespace

std::vector<std::string> CitedTags(const std::string& text) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t open = text.find('['); open != std::string::npos; open = text.find('[', open + 1)) {
    size_t i = open + 1;
    if (i >= text.size() || !std::isupper(static_cast<unsigned char>(text[i]))) continue;
    ++i;
    const size_t digits = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == digits || i >= text.size() || text[i] != ']') continue;
    const std::string tag = text.substr(open + 1, i - open - 1);
    if (seen.insert(tag).second) out.push_back(tag);
  }
  return out;
}

Json DischargeDocument(const DischargeDocumentInputs& in) {
  const Json subject{{"reference", "Patient/" + in.patient_id}};
  const Json encounter{{"reference", "Encounter/" + in.encounter_id}};
  const Json author{{"reference", "Practitioner/" + in.author_id}, {"display", in.author_name}};
  Json sections = Json::array();
  for (const auto& [name, body] : SummarySections(in.text)) {
    std::string title = name;
    for (size_t i = 1; i < title.size(); ++i)
      if (title[i - 1] != ' ' && title[i - 1] != '-')
        title[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(title[i])));
    Json section{{"title", title},
                 {"text", Json{{"status", "generated"}, {"div", Narrative(body)}}}};
    Json entries = Json::array();
    for (const std::string& tag : CitedTags(body)) {
      auto it = in.sources.find(tag);
      if (it != in.sources.end()) entries.push_back(Json{{"reference", it->second}});
    }
    if (!entries.empty()) section["entry"] = entries;
    sections.push_back(std::move(section));
  }
  const Json composition{
      {"resourceType", "Composition"},
      {"id", in.id},
      {"identifier", Json{{"system", "urn:medscribe:draft"}, {"value", in.id}}},
      {"status", "final"},
      {"type", Loinc("18842-5", "Discharge summary")},
      {"subject", subject},
      {"encounter", encounter},
      {"date", in.timestamp},
      {"author", Json::array({author})},
      {"title", "Discharge summary"},
      {"attester",
       Json::array({Json{{"mode", "legal"}, {"time", in.timestamp}, {"party", author}}})},
      {"section", sections},
  };
  const Json bundle{
      {"resourceType", "Bundle"},
      {"id", in.id + "-document"},
      {"identifier", Json{{"system", "urn:medscribe:document"}, {"value", in.id}}},
      {"type", "document"},
      {"timestamp", in.timestamp},
      {"entry", Json::array({Json{{"fullUrl", "urn:uuid:" + in.id}, {"resource", composition}}})},
  };
  const Json reference{
      {"resourceType", "DocumentReference"},
      {"id", in.id + "-docref"},
      {"status", "current"},
      {"docStatus", "final"},
      {"type", Loinc("18842-5", "Discharge summary")},
      {"category",
       Json::array(
           {Json{{"coding",
                  Json::array({Json{
                      {"system",
                       "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"},
                      {"code", "clinical-note"},
                      {"display", "Clinical Note"}}})}}})},
      {"subject", subject},
      {"date", in.timestamp},
      {"author", Json::array({author})},
      {"authenticator", author},
      {"description", "Discharge summary"},
      {"content",
       Json::array({Json{{"attachment", Json{{"contentType", "text/plain; charset=utf-8"},
                                             {"language", in.language},
                                             {"data", Base64Encode(in.text)},
                                             {"title", "Discharge summary"}}}}})},
      {"context", Json{{"encounter", Json::array({encounter})}}},
  };
  return Json{{"Bundle", bundle}, {"DocumentReference", reference}};
}

}  // namespace medscribe::clinical
