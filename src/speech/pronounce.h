// Pronunciations for words the recognizer's dictionary lacks (report vocabulary such as
// "atelectasis"), from espeak-ng's letter-to-sound rules mapped to the ARPAbet phones of CMUdict.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::speech {

// Maps espeak-ng phoneme mnemonics (`espeak-ng -q -x` output, e.g. ",eItlI2kt'A:siz") to ARPAbet
// ("EY T L IH K T AA S IY Z"). Stress and syllable marks are dropped. InvalidArgument for a
// mnemonic the table does not know.
StatusOr<std::string> EspeakToArpabet(std::string_view espeak);

// Pronounces a lower-case word with espeak-ng in the accent of `voice` (an espeak-ng voice such as
// "en-us", "en-gb-scotland", "en-029"; a "+variant" suffix is ignored). Unavailable when
// espeak-ng is missing.
StatusOr<std::string> Pronounce(const std::string& word, const std::string& voice = "en-us");

}  // namespace medscribe::speech
