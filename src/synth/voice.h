// Speech synthesis of dictations with the espeak-ng program.
//
// Each utterance runs in its own espeak-ng process: the library keeps global state between
// utterances (so its output would depend on what was spoken before), while a fresh process makes
// the audio a function of (text, voice, rate) alone, and lets utterances run in parallel.
//
// Thread safety: all functions may be called concurrently.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "speech/audio.h"

namespace medscribe::synth {

// Voices the cohort speaks with by default (espeak-ng names with variants).
const std::vector<std::string>& DefaultVoices();
// InvalidArgument when espeak-ng does not know `voice`; Unavailable when espeak-ng is missing.
Status CheckVoice(const std::string& voice);
// Speaks `text` at `words_per_minute`; audio at espeak-ng's native rate (22050 Hz).
StatusOr<speech::Audio> Speak(const std::string& text, const std::string& voice,
                              int words_per_minute);

}  // namespace medscribe::synth
