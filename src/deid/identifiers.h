// The identifier strings of a patient as they may appear in free text, from the FHIR record.
#pragma once

#include <string>
#include <vector>

#include "fhir/resources.h"

namespace medscribe::deid {

// Names in the orders and cases text uses ("Mary Smith", "Smith, Mary", "SMITH^MARY", "Mary",
// "Smith", the Chinese name and its parts), identifier values (MRN, SSN, national ID), phone
// numbers, e-mail addresses, and address lines, city and postal code.
std::vector<std::string> IdentifiersOf(const fhir::Patient& p);

}  // namespace medscribe::deid
