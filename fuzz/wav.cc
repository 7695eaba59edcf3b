// libFuzzer target: WAV decoding (speech::DecodeWav) and the resampler on whatever it accepts.
// Any input must give either audio or a Status; never a crash, hang or out-of-bounds access.
#include <cstddef>
#include <cstdint>
#include <string>

#include "speech/audio.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;  // larger inputs add nothing but time
  auto audio = medscribe::speech::DecodeWav(std::string(reinterpret_cast<const char*>(data), size));
  if (!audio.ok()) return 0;
  const std::string again = medscribe::speech::EncodeWav16(*audio);
  auto decoded = medscribe::speech::DecodeWav(again);
  if (!decoded.ok() || decoded->samples.size() != audio->samples.size()) __builtin_trap();
  if (audio->sample_rate > 0 && audio->sample_rate <= 384000) {
    (void)medscribe::speech::Resample(*audio, 16000);
  }
  return 0;
}
