// DICOM UIDs derived from 128-bit values (ITU-T X.667 / PS3.5 B.2: "2.25." + the value in
// decimal), as used for synthetic and pseudonymous UIDs. At most 44 characters.
#pragma once

#include <cstdint>
#include <string>

namespace medscribe {

std::string Uid2_25(uint64_t high, uint64_t low);

}  // namespace medscribe
