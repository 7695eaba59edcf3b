// Live traffic recorded for drift monitoring (docs/monitoring.md): each draft the gateway makes
// (the features of features.h over the sample the model read, its image and the draft, and the
// rule hints it got) and each
// report signed (the clinicians' edit rate: how much of the draft they changed), added up per
// time window and written to DIR/live-<window start, UTC: YYYYMMDDTHHMMSSZ>.json
// (docs/formats/drift-window.md) after every record, atomically, so a crash loses at most the
// record being written and a restart goes on counting into the same window.
//
// Numbers are binned at the deployed model's reference profile as they arrive (a feature the
// reference lacks counts in one bin), so no raw value reaches the disk: counts only, no PHI.
//
// Thread safety: a LiveRecorder may be called from any thread; records are serialized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "monitor/drift.h"

namespace medscribe::monitor {

// One window, or several added up.
struct LiveWindow {
  int64_t start = 0, end = 0;  // Unix seconds: [start, end)
  std::string reference;       // fingerprint of the reference profile the counts are binned at
  Profile profile;             // input and output features of the drafts
  int64_t drafts = 0;
  std::map<std::string, int64_t> hints;  // hints the drafts got, by rule id
  int64_t signed_reports = 0;
  double draft_words = 0, edited_words = 0;  // over the signed reports' drafts
  // Words changed (removed plus added) per word drafted; 0 without a signed report.
  double edit_rate() const { return draft_words > 0 ? edited_words / draft_words : 0; }
};

std::string WindowToJson(const LiveWindow& w);
// InvalidArgument naming what is malformed.
StatusOr<LiveWindow> WindowFromJson(std::string_view text);

// A short, stable fingerprint of a profile (FNV-1a over its JSON), naming the reference a
// window's counts were binned at.
std::string ProfileFingerprint(const Profile& p);

// The words removed from `draft` plus the words added in `final_text` (a word-level longest
// common subsequence; whitespace only separates words).
double EditedWords(std::string_view draft, std::string_view final_text);

class LiveRecorder {
 public:
  using Clock = std::function<int64_t()>;  // Unix seconds

  // Records into `dir` (created when missing), in windows of `window_s` seconds (REQUIRES:
  // window_s > 0) aligned on the Unix epoch. `clock` defaults to the system's. IoError when
  // the directory cannot be made.
  static StatusOr<std::unique_ptr<LiveRecorder>> Open(const std::string& dir, Profile reference,
                                                      int64_t window_s, Clock clock = nullptr);

  // A draft: the sample the model read (dataset JSON), its first image's pixels as the model
  // read them (may be null with n == 0), the draft's text and its hints' rule ids.
  Status Drafted(std::string_view sample_json, const float* pixels, size_t n,
                 std::string_view draft, const std::vector<std::string>& hint_rules = {});
  // A signature: the text drafted and the text signed.
  Status Signed(std::string_view draft, std::string_view final_text);

  const std::string& dir() const { return dir_; }

 private:
  LiveRecorder(std::string dir, Profile reference, int64_t window_s, Clock clock);
  // Moves to the window of `now` (loading what an earlier process wrote into it), REQUIRES mu_.
  Status Roll(int64_t now);
  Status Write();  // the current window to its file; REQUIRES mu_

  const std::string dir_;
  const Profile reference_;
  const std::string fingerprint_;
  const int64_t window_s_;
  const Clock clock_;
  std::mutex mu_;
  LiveWindow window_;  // the current window's counts and tallies (end == 0: none yet)
};

// The reference profile in `path`: a profile JSON (format "medscribe-profile"), a JSON file with
// a `drift_profile` member (a training run's run.json, a dataset's manifest.json), or a directory
// holding run.json or manifest.json (a run, a registry artifact, a dataset). NotFound saying
// what to give when there is none; DataLoss / InvalidArgument for a malformed file.
StatusOr<Profile> LoadReferenceProfile(const std::string& path);

// The windows in `dir` that end after `since` (Unix seconds), added up. NotFound when there is
// none; FailedPrecondition when a window was binned against another reference than
// `reference_fingerprint` (when non-empty); DataLoss naming a malformed file.
StatusOr<LiveWindow> ReadWindows(const std::string& dir, int64_t since,
                                 const std::string& reference_fingerprint);

}  // namespace medscribe::monitor
