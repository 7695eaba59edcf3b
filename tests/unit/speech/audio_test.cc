#include "speech/audio.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace medscribe::speech {
namespace {

Audio Tone(int rate, double freq, double seconds) {
  Audio a;
  a.sample_rate = rate;
  const int n = static_cast<int>(rate * seconds);
  for (int i = 0; i < n; ++i)
    a.samples.push_back(0.5f *
                        static_cast<float>(std::sin(2 * std::numbers::pi * freq * i / rate)));
  return a;
}

// Dominant frequency by counting zero crossings.
double ZeroCrossingFrequency(const Audio& a) {
  int crossings = 0;
  for (size_t i = 1; i < a.samples.size(); ++i)
    if ((a.samples[i - 1] < 0) != (a.samples[i] < 0)) ++crossings;
  return crossings / 2.0 / a.duration_s();
}

TEST(AudioTest, WavRoundTripIs16BitMonoPcm) {
  const Audio tone = Tone(16000, 440, 0.25);
  const std::string wav = EncodeWav16(tone);
  ASSERT_EQ(wav.size(), 44 + tone.samples.size() * 2);
  EXPECT_EQ(wav.substr(0, 4), "RIFF");
  auto back = DecodeWav(wav);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sample_rate, 16000);
  ASSERT_EQ(back->samples.size(), tone.samples.size());
  for (size_t i = 0; i < tone.samples.size(); ++i)
    EXPECT_NEAR(back->samples[i], tone.samples[i], 1.0 / 32000);
}

TEST(AudioTest, ResamplePreservesDurationAndPitch) {
  const Audio tone = Tone(22050, 440, 1.0);
  auto out = Resample(tone, 16000);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->sample_rate, 16000);
  EXPECT_NEAR(out->duration_s(), 1.0, 0.01);
  EXPECT_NEAR(ZeroCrossingFrequency(*out), 440, 5);
  EXPECT_FALSE(Resample(tone, 0).ok());
}

TEST(AudioTest, StreamedWavWithPlaceholderLengthReadsToTheEnd) {
  std::string wav = EncodeWav16(Tone(8000, 100, 0.1));
  for (int i : {40, 41, 42}) wav[static_cast<size_t>(i)] = '\xff';
  wav[43] = '\x7f';
  auto a = DecodeWav(wav);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->samples.size(), 800u);
}

TEST(AudioTest, MalformedWavIsRejectedWithReason) {
  EXPECT_EQ(DecodeWav("").status().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(DecodeWav("RIFF\x10\0\0\0WAVEdata").status().code(), ErrorCode::kDataLoss);
  std::string wav = EncodeWav16(Tone(8000, 100, 0.01));
  EXPECT_EQ(DecodeWav(wav.substr(0, 50)).status().code(), ErrorCode::kDataLoss);  // truncated
  wav[20] = 2;  // format code 2 (ADPCM)
  EXPECT_EQ(DecodeWav(wav).status().code(), ErrorCode::kUnimplemented);
}

}  // namespace
}  // namespace medscribe::speech
