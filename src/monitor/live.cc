#include "monitor/live.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/civil_time.h"
#include "common/durable_file.h"
#include "common/files.h"
#include "common/strings.h"
#include "monitor/features.h"

namespace medscribe::monitor {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string WindowName(int64_t start) {
  const DateTime t = DateTime::FromSeconds(static_cast<long>(start));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", t.date.year, t.date.month,
                t.date.day, t.hour, t.minute, t.second);
  return std::string("live-") + buf + ".json";
}

int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string WindowToJson(const LiveWindow& w) {
  const Json profile = Json::parse(ToJson(w.profile));
  return Json{{"format", "medscribe-drift-window"},
              {"version", 1},
              {"start", w.start},
              {"end", w.end},
              {"reference", w.reference},
              {"drafts", w.drafts},
              {"hints", w.hints},
              {"signed", w.signed_reports},
              {"draft_words", w.draft_words},
              {"edited_words", w.edited_words},
              {"profile", profile}}
             .dump(1) +
         "\n";
}

StatusOr<LiveWindow> WindowFromJson(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("format", "") != "medscribe-drift-window")
    return InvalidArgumentError("not a drift window (format \"medscribe-drift-window\")");
  LiveWindow w;
  try {
    w.start = j.at("start").get<int64_t>();
    w.end = j.at("end").get<int64_t>();
    w.reference = j.at("reference").get<std::string>();
    w.drafts = j.at("drafts").get<int64_t>();
    if (j.contains("hints")) w.hints = j.at("hints").get<std::map<std::string, int64_t>>();
    w.signed_reports = j.at("signed").get<int64_t>();
    w.draft_words = j.at("draft_words").get<double>();
    w.edited_words = j.at("edited_words").get<double>();
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("drift window: ") + e.what());
  }
  if (!j.contains("profile")) return InvalidArgumentError("drift window: no profile");
  ASSIGN_OR_RETURN(w.profile, ProfileFromJson(j["profile"].dump()));
  return w;
}

std::string ProfileFingerprint(const Profile& p) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : ToJson(p)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

double EditedWords(std::string_view draft, std::string_view final_text) {
  const std::vector<std::string_view> a = SplitWhitespace(draft), b = SplitWhitespace(final_text);
  // Longest common subsequence, one row at a time.
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t k = 1; k <= b.size(); ++k)
      cur[k] = a[i - 1] == b[k - 1] ? prev[k - 1] + 1 : std::max(prev[k], cur[k - 1]);
    std::swap(prev, cur);
  }
  const size_t lcs = prev[b.size()];
  return static_cast<double>((a.size() - lcs) + (b.size() - lcs));
}

LiveRecorder::LiveRecorder(std::string dir, Profile reference, int64_t window_s, Clock clock)
    : dir_(std::move(dir)),
      reference_(std::move(reference)),
      fingerprint_(ProfileFingerprint(reference_)),
      window_s_(window_s),
      clock_(clock ? std::move(clock) : Clock(SystemNow)) {}

StatusOr<std::unique_ptr<LiveRecorder>> LiveRecorder::Open(const std::string& dir,
                                                           Profile reference, int64_t window_s,
                                                           Clock clock) {
  if (window_s <= 0) return InvalidArgumentError("the drift window must be at least 1 second");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create the drift directory " + dir + ": " + ec.message());
  return std::unique_ptr<LiveRecorder>(
      new LiveRecorder(dir, std::move(reference), window_s, std::move(clock)));
}

Status LiveRecorder::Roll(int64_t now) {
  const int64_t start = now - ((now % window_s_) + window_s_) % window_s_;
  if (window_.end != 0 && window_.start == start) return OkStatus();
  window_ = LiveWindow{};
  window_.start = start;
  window_.end = start + window_s_;
  window_.reference = fingerprint_;
  const fs::path path = fs::path(dir_) / WindowName(start);
  if (!fs::exists(path)) return OkStatus();
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  auto earlier = WindowFromJson(text);
  // A file binned against another model's reference (the deployment changed within the
  // window) is kept aside, not added to.
  if (!earlier.ok() || earlier->reference != fingerprint_) {
    std::error_code ec;
    fs::rename(path, path.string() + ".replaced", ec);
    return OkStatus();
  }
  window_ = std::move(earlier).value();
  return OkStatus();
}

Status LiveRecorder::Write() {
  return WriteFileDurably(fs::path(dir_) / WindowName(window_.start), WindowToJson(window_), 0640);
}

Status LiveRecorder::Drafted(std::string_view sample_json, const float* pixels, size_t n,
                             std::string_view draft, const std::vector<std::string>& hint_rules) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Roll(clock_()));
  // This draft's values, binned at the reference's edges, added to the window's counts.
  ProfileBuilder b(&reference_, /*reference_edges_only=*/true);
  AddSampleFeatures(sample_json, b);
  AddImageFeatures(pixels, n, b);
  AddReportFeatures(draft, b);
  RETURN_IF_ERROR(Accumulate(window_.profile, b.Build()));
  ++window_.drafts;
  for (const std::string& rule : hint_rules) ++window_.hints[rule];
  return Write();
}

Status LiveRecorder::Signed(std::string_view draft, std::string_view final_text) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Roll(clock_()));
  ++window_.signed_reports;
  window_.draft_words += static_cast<double>(SplitWhitespace(draft).size());
  window_.edited_words += EditedWords(draft, final_text);
  return Write();
}

StatusOr<Profile> LoadReferenceProfile(const std::string& path) {
  std::error_code ec;
  fs::path file = path;
  if (fs::is_directory(file, ec)) {
    file = fs::exists(file / "run.json", ec) ? file / "run.json" : file / "manifest.json";
    if (!fs::exists(file, ec))
      return NotFoundError(path +
                           " holds neither run.json nor manifest.json: give a model, a "
                           "run or a dataset directory, or a profile JSON");
  }
  ASSIGN_OR_RETURN(const std::string text, ReadFile(file));
  const Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return DataLossError(file.string() + " is not a JSON object");
  if (j.value("format", "") == "medscribe-profile") return ProfileFromJson(text);
  const auto it = j.find("drift_profile");
  if (it == j.end() || !it->is_object())
    return NotFoundError(file.string() +
                         " has no drift_profile (ingest writes one into a dataset's manifest, "
                         "training copies it into run.json; re-ingest, or compare against "
                         "a dataset with --reference)");
  return ProfileFromJson(it->dump());
}

StatusOr<LiveWindow> ReadWindows(const std::string& dir, int64_t since,
                                 const std::string& reference_fingerprint) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return NotFoundError("no drift directory " + dir +
                         " (the gateway writes it when clinical.drift_dir is set)");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("live-", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  LiveWindow total;
  bool any = false;
  for (const fs::path& f : files) {
    ASSIGN_OR_RETURN(const std::string text, ReadFile(f));
    auto w = WindowFromJson(text);
    if (!w.ok()) return DataLossError(f.string() + ": " + w.status().message());
    if (w->end <= since) continue;
    if (!reference_fingerprint.empty() && w->reference != reference_fingerprint)
      return FailedPreconditionError(f.string() +
                                     " was binned against another reference profile (" +
                                     w->reference + ", this model's is " + reference_fingerprint +
                                     "): give --since after the deployment changed");
    if (!any) {
      total.start = w->start;
      total.reference = w->reference;
    }
    any = true;
    total.end = std::max(total.end, w->end);
    total.drafts += w->drafts;
    for (const auto& [rule, n] : w->hints) total.hints[rule] += n;
    total.signed_reports += w->signed_reports;
    total.draft_words += w->draft_words;
    total.edited_words += w->edited_words;
    RETURN_IF_ERROR(Accumulate(total.profile, w->profile));
  }
  if (!any) return NotFoundError("no drift window in " + dir + " ends after the given time");
  return total;
}

}  // namespace medscribe::monitor
