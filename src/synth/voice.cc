#include "synth/voice.h"

#include "common/subprocess.h"

namespace medscribe::synth {
namespace {

StatusOr<ProcessResult> RunEspeak(const std::string& text, const std::string& voice, int wpm) {
  auto r = RunProcess({"espeak-ng", "-v", voice, "-s", std::to_string(wpm), "--stdout", text});
  if (!r.ok() && r.status().code() == ErrorCode::kNotFound) {
    return Status(ErrorCode::kUnavailable,
                  "espeak-ng is not installed; run scripts/bootstrap.sh or pass --no-speech");
  }
  return r;
}

}  // namespace

const std::vector<std::string>& DefaultVoices() {
  static const std::vector<std::string> kVoices = {"en-us", "en-us+f2",       "en-us+m3", "en",
                                                   "en+f3", "en-gb-scotland", "en-us+f4", "en-029"};
  return kVoices;
}

Status CheckVoice(const std::string& voice) {
  if (voice.empty() || voice[0] == '-')
    return InvalidArgumentError("invalid voice name '" + voice + "'");
  ASSIGN_OR_RETURN(ProcessResult r, RunEspeak("ok", voice, 175));
  if (r.exit_code != 0) {
    return InvalidArgumentError(
        "unknown voice '" + voice +
        "'; list voices with `espeak-ng --voices=en` (variants: name+f2, name+m3)");
  }
  return OkStatus();
}

StatusOr<speech::Audio> Speak(const std::string& text, const std::string& voice,
                              int words_per_minute) {
  ASSIGN_OR_RETURN(ProcessResult r, RunEspeak(text, voice, words_per_minute));
  if (r.exit_code != 0) {
    return InternalError("espeak-ng failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
  }
  auto audio = speech::DecodeWav(r.out);
  if (!audio.ok()) return audio.status().WithContext("espeak-ng output");
  return audio;
}

}  // namespace medscribe::synth
