// Callers for tests of the clinical workflow and its API.
#pragma once

#include <string>

#include "clinical/workflow.h"

namespace medscribe::testing {

// A radiologist who may sign, of `department`; every department when it is empty.
inline clinical::Caller Radiologist(const std::string& department = "") {
  clinical::Caller c;
  c.sub = "dr.lee";
  c.name = "Lee^Anna";
  c.pseudonym = "p-1";
  c.role = "radiologist";
  c.department = department;
  c.any_department = department.empty();
  c.may_sign = true;
  return c;
}

}  // namespace medscribe::testing
