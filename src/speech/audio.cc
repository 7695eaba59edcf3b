#include "speech/audio.h"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace medscribe::speech {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
uint32_t GetU32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint16_t GetU16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

constexpr uint32_t kStreamingDataSize = 0x7FFFF000;

}  // namespace

std::string EncodeWav16(const Audio& audio) {
  const auto data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  out += "RIFF";
  PutU32(out, 36 + data_bytes);
  out += "WAVEfmt ";
  PutU32(out, 16);
  PutU16(out, 1);  // PCM
  PutU16(out, 1);  // mono
  PutU32(out, static_cast<uint32_t>(audio.sample_rate));
  PutU32(out, static_cast<uint32_t>(audio.sample_rate) * 2);
  PutU16(out, 2);
  PutU16(out, 16);
  out += "data";
  PutU32(out, data_bytes);
  for (float s : audio.samples) {
    const float c = std::clamp(s, -1.0f, 1.0f);
    PutU16(out, static_cast<uint16_t>(static_cast<int16_t>(std::lrint(c * 32767.0f))));
  }
  return out;
}

StatusOr<Audio> DecodeWav(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 12 || std::memcmp(p, "RIFF", 4) != 0 || std::memcmp(p + 8, "WAVE", 4) != 0) {
    return DataLossError("not a RIFF/WAVE file");
  }
  uint16_t format = 0, channels = 0, bits = 0;
  uint32_t rate = 0;
  bool have_fmt = false;
  size_t pos = 12;
  while (pos + 8 <= n) {
    uint32_t size = GetU32(p + pos + 4);
    const size_t body = pos + 8;
    // Writers that stream to a pipe cannot know the length and declare a placeholder
    // (0x7FFFF000 or 0xFFFFFFFF) for the data chunk: it then runs to the end of the file.
    if (std::memcmp(p + pos, "data", 4) == 0 && size >= kStreamingDataSize) {
      size = static_cast<uint32_t>(n - body);
    }
    if (size > n - body) return DataLossError("WAV chunk extends past the end of the file");
    if (std::memcmp(p + pos, "fmt ", 4) == 0) {
      if (size < 16) return DataLossError("WAV fmt chunk too short");
      format = GetU16(p + body);
      channels = GetU16(p + body + 2);
      rate = GetU32(p + body + 4);
      bits = GetU16(p + body + 14);
      if (format == 0xFFFE && size >= 26) format = GetU16(p + body + 24);  // WAVE_FORMAT_EXTENSIBLE
      have_fmt = true;
    } else if (std::memcmp(p + pos, "data", 4) == 0) {
      if (!have_fmt) return DataLossError("WAV data chunk before fmt chunk");
      if (channels == 0 || rate == 0) return DataLossError("WAV declares 0 channels or 0 Hz");
      const bool pcm = format == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
      const bool flt = format == 3 && bits == 32;
      if (!pcm && !flt) {
        return UnimplementedError("WAV encoding " + std::to_string(format) + " with " +
                                  std::to_string(bits) + " bits is not supported; use PCM");
      }
      const size_t width = bits / 8;
      const size_t frames = size / (width * channels);
      Audio audio;
      audio.sample_rate = static_cast<int>(rate);
      audio.samples.resize(frames);
      for (size_t f = 0; f < frames; ++f) {
        double acc = 0;
        for (size_t ch = 0; ch < channels; ++ch) {
          const unsigned char* s = p + body + (f * channels + ch) * width;
          double v = 0;
          if (flt) {
            float x;
            std::memcpy(&x, s, 4);
            v = x;
          } else if (bits == 8) {
            v = (s[0] - 128) / 128.0;
          } else if (bits == 16) {
            v = static_cast<int16_t>(GetU16(s)) / 32768.0;
          } else if (bits == 24) {
            int32_t x = s[0] | (s[1] << 8) | (s[2] << 16);
            if (x & 0x800000) x -= 0x1000000;
            v = x / 8388608.0;
          } else {
            v = static_cast<int32_t>(GetU32(s)) / 2147483648.0;
          }
          acc += v;
        }
        audio.samples[f] = static_cast<float>(acc / channels);
      }
      return audio;
    }
    pos = body + size + (size & 1);
  }
  return DataLossError("WAV file has no data chunk");
}

StatusOr<Audio> Resample(const Audio& audio, int target_rate) {
  if (target_rate <= 0 || audio.sample_rate <= 0) {
    return InvalidArgumentError("sample rates must be positive");
  }
  if (audio.sample_rate == target_rate || audio.samples.empty()) {
    Audio copy = audio;
    copy.sample_rate = target_rate;
    return copy;
  }
  const double ratio = static_cast<double>(target_rate) / audio.sample_rate;
  Audio out;
  out.sample_rate = target_rate;
  out.samples.resize(static_cast<size_t>(std::ceil(audio.samples.size() * ratio)) + 16);
  SRC_DATA data{};
  data.data_in = audio.samples.data();
  data.input_frames = static_cast<long>(audio.samples.size());
  data.data_out = out.samples.data();
  data.output_frames = static_cast<long>(out.samples.size());
  data.src_ratio = ratio;
  const int err = src_simple(&data, SRC_SINC_FASTEST, 1);
  if (err != 0) return InternalError(std::string("resampling failed: ") + src_strerror(err));
  out.samples.resize(static_cast<size_t>(data.output_frames_gen));
  return out;
}

std::vector<int16_t> ToPcm16(const Audio& audio, bool dither) {
  std::vector<int16_t> pcm(audio.samples.size());
  uint32_t state = 0x9E3779B9u;  // xorshift32, the same sequence on every call
  for (size_t i = 0; i < pcm.size(); ++i) {
    long v = std::lround(std::clamp(audio.samples[i], -1.0f, 1.0f) * 32767.0f);
    if (dither) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      if ((state & 3u) == 0 && v < 32767) ++v;
    }
    pcm[i] = static_cast<int16_t>(v);
  }
  return pcm;
}

}  // namespace medscribe::speech
