// Speech synthesis of dictations with espeak-ng.
//
// espeak-ng keeps global state, so every call here is serialized on one process-wide mutex; run
// other work (rendering, encoding) in parallel around it.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "speech/audio.h"

namespace medscribe::synth {

// Voices the cohort speaks with by default (espeak-ng names with variants).
const std::vector<std::string>& DefaultVoices();
// InvalidArgument when espeak-ng does not know `voice`; Unavailable when espeak-ng cannot start.
Status CheckVoice(const std::string& voice);
// Speaks `text` at `words_per_minute`; audio at espeak-ng's native rate (22050 Hz).
StatusOr<speech::Audio> Speak(const std::string& text, const std::string& voice,
                              int words_per_minute);

}  // namespace medscribe::synth
