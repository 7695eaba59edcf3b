#include "synth/voice.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "common/files.h"
#include "speech/audio.h"
#include "synth/cohort.h"
#include "testing/temp_dir.h"

namespace medscribe::synth {
namespace {

namespace fs = std::filesystem;

TEST(VoiceTest, KnownVoicesPassAndUnknownOnesAreRejected) {
  for (const std::string& v : DefaultVoices()) EXPECT_TRUE(CheckVoice(v).ok()) << v;
  const Status bad = CheckVoice("xx-no-such-voice");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("xx-no-such-voice"), std::string::npos);
}

TEST(VoiceTest, SpeaksAtTheRequestedRate) {
  auto slow = Speak("Compared with the prior study, the right pleural effusion has increased.",
                    "en-us", 120);
  auto fast = Speak("Compared with the prior study, the right pleural effusion has increased.",
                    "en-us", 200);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(fast.ok());
  EXPECT_GT(slow->duration_s(), 2.0);
  EXPECT_GT(slow->duration_s(), fast->duration_s() * 1.3);
}

TEST(VoiceTest, CohortAudioIs16kHzMono16BitAndDeterministic) {
  medscribe::testing::TempDir tmp;
  const fs::path& dir = tmp.path();
  SynthOptions o;
  o.encounters = 3;
  o.seed = 4;
  o.image_size = 64;
  o.out_dir = (dir / "a").string();
  ASSERT_TRUE(WriteCohort(o, nullptr).ok());
  o.out_dir = (dir / "b").string();
  o.jobs = 1;
  ASSERT_TRUE(WriteCohort(o, nullptr).ok());
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "enc-00000" + std::to_string(i) + ".wav";
    const std::string bytes = *ReadFile(dir / "a" / "audio" / name);
    EXPECT_EQ(bytes, *ReadFile(dir / "b" / "audio" / name));
    EXPECT_EQ(bytes.substr(22, 2), std::string("\x01\x00", 2));  // channels
    auto audio = speech::DecodeWav(bytes);
    ASSERT_TRUE(audio.ok());
    EXPECT_EQ(audio->sample_rate, 16000);
    EXPECT_GT(audio->duration_s(), 1.0);
  }
}

TEST(VoiceTest, UnknownVoiceFailsTheCohortCleanly) {
  medscribe::testing::TempDir tmp;
  SynthOptions o;
  o.encounters = 2;
  o.out_dir = (tmp / "c").string();
  o.voices = {"en-us", "zz-unknown"};
  EXPECT_EQ(WriteCohort(o, nullptr).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

}  // namespace
}  // namespace medscribe::synth
