#include "synth/voice.h"

#include <espeak-ng/speak_lib.h>

#include <mutex>

namespace medscribe::synth {
namespace {

std::mutex& EspeakMutex() {
  static std::mutex mu;
  return mu;
}

std::vector<short>* g_sink = nullptr;  // GUARDED_BY(EspeakMutex())
int g_rate = 0;                        // GUARDED_BY(EspeakMutex())

int OnSamples(short* wav, int count, espeak_EVENT* /*events*/) {
  if (wav != nullptr && count > 0 && g_sink != nullptr) g_sink->insert(g_sink->end(), wav, wav + count);
  return 0;
}

// REQUIRES: EspeakMutex() held.
Status EnsureInitialized() {
  if (g_rate > 0) return OkStatus();
  const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0) {
    return Status(ErrorCode::kUnavailable,
                  "espeak-ng could not start (is espeak-ng-data installed? run scripts/bootstrap.sh)");
  }
  espeak_SetSynthCallback(OnSamples);
  g_rate = rate;
  return OkStatus();
}

}  // namespace

const std::vector<std::string>& DefaultVoices() {
  static const std::vector<std::string> kVoices = {"en-us",    "en-us+f2", "en-us+m3",
                                                   "en",       "en+f3",    "en-gb-scotland",
                                                   "en-us+f4", "en-029"};
  return kVoices;
}

Status CheckVoice(const std::string& voice) {
  std::lock_guard<std::mutex> lock(EspeakMutex());
  RETURN_IF_ERROR(EnsureInitialized());
  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) {
    return InvalidArgumentError("unknown voice '" + voice +
                                "'; list voices with `espeak-ng --voices=en` (variants: name+f2, name+m3)");
  }
  return OkStatus();
}

StatusOr<speech::Audio> Speak(const std::string& text, const std::string& voice,
                              int words_per_minute) {
  std::lock_guard<std::mutex> lock(EspeakMutex());
  RETURN_IF_ERROR(EnsureInitialized());
  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) {
    return InvalidArgumentError("unknown voice '" + voice + "'");
  }
  espeak_SetParameter(espeakRATE, words_per_minute, 0);
  std::vector<short> samples;
  g_sink = &samples;
  const espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                        espeakCHARS_UTF8, nullptr, nullptr);
  espeak_Synchronize();
  g_sink = nullptr;
  if (err != EE_OK) return InternalError("espeak-ng failed to synthesize the dictation");
  speech::Audio audio;
  audio.sample_rate = g_rate;
  audio.samples.reserve(samples.size());
  for (short s : samples) audio.samples.push_back(static_cast<float>(s) / 32768.0f);
  return audio;
}

}  // namespace medscribe::synth
