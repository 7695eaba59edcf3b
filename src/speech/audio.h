// Mono audio buffers, WAV (RIFF PCM) IO and sample-rate conversion.
//
// Audio is held as float samples in [-1, 1] with a sample rate. WAV files are written as 16-bit PCM
// mono; reading accepts 8/16/24/32-bit integer PCM and 32-bit float, any channel count (mixed down
// to mono), and rejects anything else with a clear error.
//
// Thread safety: free functions without shared state; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::speech {

struct Audio {
  int sample_rate = 16000;
  std::vector<float> samples;  // mono, [-1, 1]
  double duration_s() const {
    return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
  }
};

// Encodes 16-bit PCM mono WAV bytes (samples are clipped to [-1, 1]).
std::string EncodeWav16(const Audio& audio);
// Parses WAV bytes. DataLoss for a truncated or malformed file, Unimplemented for an encoding
// other than PCM integer or IEEE float.
StatusOr<Audio> DecodeWav(const std::string& bytes);
// Converts to `target_rate` with libsamplerate's fastest band-limited sinc converter (ample for
// speech).
// InvalidArgument for a non-positive rate.
StatusOr<Audio> Resample(const Audio& audio, int target_rate);

// 16-bit PCM samples (clipped to [-1, 1]). With `dither`, one sample in four, chosen by a
// generator seeded identically on every call, is raised by one step: a deterministic function of
// the audio alone that keeps digital silence (runs of exact zeros, as synthesized or gated audio
// has) away from the -inf log energies a recognizer's acoustic model never saw.
std::vector<int16_t> ToPcm16(const Audio& audio, bool dither);

}  // namespace medscribe::speech
