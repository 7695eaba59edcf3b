#include "deid/identifiers.h"

#include <algorithm>
#include <cctype>

namespace medscribe::deid {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

std::vector<std::string> IdentifiersOf(const fhir::Patient& p) {
  std::vector<std::string> out;
  for (const fhir::HumanName& n : p.names) {
    std::string given;
    for (const std::string& g : n.given) given += (given.empty() ? "" : " ") + g;
    if (!n.text.empty()) out.push_back(n.text);
    if (!n.family.empty()) out.push_back(n.family);
    for (const std::string& g : n.given) out.push_back(g);
    if (!n.family.empty() && !given.empty()) {
      out.push_back(given + " " + n.family);
      out.push_back(n.family + " " + given);
      out.push_back(n.family + ", " + given);
      out.push_back(n.family + given);  // Chinese order without a space
      out.push_back(Upper(n.family) + "^" + Upper(given));
    }
  }
  for (const fhir::Identifier& id : p.identifiers) out.push_back(id.value);
  out.insert(out.end(), p.telecom.begin(), p.telecom.end());
  out.insert(out.end(), p.address.begin(), p.address.end());
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

}  // namespace medscribe::deid
