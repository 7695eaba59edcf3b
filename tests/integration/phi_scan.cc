// phi_scan: proves that no PHI planted in a synthetic cohort survives into a dataset, the
// warehouse or the logs, and that every DICOM image in the dataset carries the de-identification
// attributes.
//
// Usage: phi_scan TRUTH.jsonl KEYFILE DATASET_DIR [FILE_OR_DIR...]
//
// Every planted string (truth/labels.jsonl "planted_phi") is searched, ASCII case-insensitively,
// in every byte of every file: shards member by member, the dataset's other files, and the extra
// files (warehouse, logs). Two kinds are searched in the sample of their own encounter only:
// dates (a shifted date of one patient may coincide with a real date of another) and numbers such
// as ZIP codes (which may coincide with a count or a size elsewhere), searched as whole numbers;
// dates are also searched in the dataset's other files and the warehouse. A date found in its
// own sample is excused when it equals one of the encounter's planted dates shifted by the
// sample's offset (meta.date_time minus the truth's study time): that is a shifted date that
// happens to coincide with another real date of the patient, not a disclosure.
// Exit 0 when clean, 1 with one line per leak otherwise.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/files.h"
#include "crypto/hmac.h"
#include "dataset/shard.h"
#include "deid/pseudonymizer.h"
#include "dicom/dataset.h"

namespace {

namespace fs = std::filesystem;
using namespace medscribe;

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Days since 1970-01-01 of a planted date ("2024-03-05", "20240305", "03/05/2024",
// "March 5, 2024"), or nullopt.
std::optional<long> DayNumber(const std::string& s) {
  static const char* months[] = {"January",   "February", "March",    "April",
                                 "May",       "June",     "July",     "August",
                                 "September", "October",  "November", "December"};
  int y = 0, m = 0, d = 0;
  char name[16] = {};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &d) == 3 && s.size() >= 10) {
  } else if (s.size() == 8 && std::all_of(s.begin(), s.end(), IsDigit)) {
    y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(4, 2)), d = std::stoi(s.substr(6, 2));
  } else if (std::sscanf(s.c_str(), "%2d/%2d/%4d", &m, &d, &y) == 3) {
  } else if (std::sscanf(s.c_str(), "%15s %d, %d", name, &d, &y) == 3) {
    for (int i = 0; i < 12; ++i) {
      if (std::string(name) == months[i]) m = i + 1;
    }
  }
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1800) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(m)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

bool IsDate(const std::string& s) {
  static const std::regex date(
      R"(^(\d{4}-\d{2}-\d{2}|\d{8}|\d{1,2}/\d{1,2}/\d{4}|[A-Za-z]+ \d{1,2}, \d{4})$)");
  return std::regex_match(s, date) || s.find("年") != std::string::npos;
}

// Finds many needles in one pass: candidates by their first four bytes.
class Matcher {
 public:
  void Add(const std::string& needle, int id) {
    const std::string n = Lower(needle);
    if (n.size() < 4) return;
    by_prefix_[Prefix(n.data())].push_back({n, id});
  }
  // Calls hit(id, offset) for every occurrence.
  template <typename Hit>
  void Scan(const std::string& hay_raw, Hit hit) const {
    const std::string hay = Lower(hay_raw);
    for (size_t i = 0; i + 4 <= hay.size(); ++i) {
      auto it = by_prefix_.find(Prefix(hay.data() + i));
      if (it == by_prefix_.end()) continue;
      for (const auto& [n, id] : it->second) {
        if (hay.compare(i, n.size(), n) != 0) continue;
        const bool digits = std::all_of(n.begin(), n.end(), IsDigit);
        if (digits && ((i > 0 && IsDigit(hay[i - 1])) ||
                       (i + n.size() < hay.size() && IsDigit(hay[i + n.size()])))) {
          continue;  // part of a longer number
        }
        hit(id, i);
      }
    }
  }

 private:
  static uint32_t Prefix(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  std::unordered_map<uint32_t, std::vector<std::pair<std::string, int>>> by_prefix_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: phi_scan TRUTH.jsonl KEYFILE DATASET_DIR [FILE_OR_DIR...]\n");
    return 2;
  }
  auto key = crypto::LoadOrCreateKeyFile(argv[2]);
  if (!key.ok()) {
    std::fprintf(stderr, "error: %s\n", key.status().message().c_str());
    return 2;
  }
  const deid::Pseudonymizer p(*key);
  std::vector<std::string> strings;                       // id -> planted string
  std::map<std::string, std::string> owner;               // sample key -> encounter id
  std::map<std::string, Matcher> dates_of;                // sample key -> its dates and numbers
  std::map<std::string, std::vector<long>> planted_days;  // sample key -> its planted dates
  std::map<std::string, long> study_day;                  // sample key -> the real study date
  Matcher global, all_dates;
  std::ifstream truth(argv[1]);
  for (std::string line; std::getline(truth, line);) {
    const auto t = nlohmann::json::parse(line);
    const std::string sample_key = p.Token("encounter", t["encounter_id"].get<std::string>());
    if (auto d = DayNumber(t.value("study_datetime", "").substr(0, 10))) study_day[sample_key] = *d;
    for (const auto& s : t["planted_phi"]) {
      const int id = static_cast<int>(strings.size());
      strings.push_back(s.get<std::string>());
      const std::string& v = strings.back();
      if (IsDate(v)) {
        dates_of[sample_key].Add(v, id);
        if (auto d = DayNumber(v)) planted_days[sample_key].push_back(*d);
        all_dates.Add(v, id);
      } else if (std::all_of(v.begin(), v.end(), IsDigit)) {
        dates_of[sample_key].Add(v, id);
      } else {
        global.Add(strings.back(), id);
      }
    }
  }
  size_t leaks = 0, files = 0, bytes = 0, dicoms = 0;
  auto report = [&](const std::string& where, int id, const std::string& hay, size_t at) {
    if (++leaks <= 50) {
      const size_t from = at > 40 ? at - 40 : 0;
      std::string context = hay.substr(from, 100);
      for (char& c : context) {
        if (static_cast<unsigned char>(c) < 32) c = '.';
      }
      std::printf("LEAK %s: \"%s\" in ...%s...\n", where.c_str(), strings[id].c_str(),
                  context.c_str());
    }
  };
  auto scan_file = [&](const fs::path& path, bool dates) {
    auto data = ReadFile(path);
    if (!data.ok()) return;
    ++files;
    bytes += data->size();
    global.Scan(*data, [&](int id, size_t at) { report(path.string(), id, *data, at); });
    if (dates)
      all_dates.Scan(*data, [&](int id, size_t at) { report(path.string(), id, *data, at); });
  };

  const fs::path dataset = argv[3];
  for (const auto& e : fs::recursive_directory_iterator(dataset)) {
    if (!e.is_regular_file()) continue;
    if (e.path().extension() != ".tar") {
      scan_file(e.path(), /*dates=*/true);
      continue;
    }
    auto data = ReadFile(e.path());
    auto members = data.ok() ? dataset::ReadShard(*data) : data.status();
    if (!members.ok()) {
      std::printf("FAIL %s: %s\n", e.path().c_str(), members.status().message().c_str());
      ++leaks;
      continue;
    }
    ++files;
    bytes += data->size();
    // The shift of each sample: its meta.date_time minus the truth's study date.
    std::map<std::string, long> shift_of;
    for (const dataset::ShardMember& m : *members) {
      if (m.field() != "json" || !study_day.count(m.key())) continue;
      const auto j = nlohmann::json::parse(m.data, nullptr, false);
      if (!j.is_object() || !j.contains("meta")) continue;
      if (auto d = DayNumber(j["meta"].value("date_time", "").substr(0, 10))) {
        shift_of[m.key()] = *d - study_day[m.key()];
      }
    }
    for (const dataset::ShardMember& m : *members) {
      const std::string where = e.path().filename().string() + ":" + m.name;
      global.Scan(m.data, [&](int id, size_t at) { report(where, id, m.data, at); });
      if (auto it = dates_of.find(m.key()); it != dates_of.end()) {
        it->second.Scan(m.data, [&](int id, size_t at) {
          const auto day = DayNumber(strings[id]);
          if (day && shift_of.count(m.key())) {
            for (long planted : planted_days[m.key()]) {
              if (planted + shift_of[m.key()] == *day)
                return;  // a shifted date, by coincidence real
            }
          }
          report(where, id, m.data, at);
        });
      }
      if (m.name.size() > 4 && m.name.substr(m.name.size() - 4) == ".dcm") {
        ++dicoms;
        auto ds = dicom::DicomDataset::FromBytes(m.data);
        auto get = [&](const char* attr) {
          auto v = ds.ok() ? ds->GetString(attr) : ds.status();
          return v.ok() ? *v : std::string();
        };
        if (!ds.ok() || get("PatientIdentityRemoved") != "YES" ||
            get("LongitudinalTemporalInformationModified") != "MODIFIED" ||
            get("DeidentificationMethod").empty() ||
            get("DeidentificationMethodCodeSequence[0].CodeValue").empty()) {
          std::printf("FAIL %s: de-identification attributes are not all set\n", where.c_str());
          ++leaks;
        }
      }
    }
  }
  for (int i = 4; i < argc; ++i) {
    const fs::path extra = argv[i];
    // Log lines start with their own timestamps: dates are not searched there.
    const bool dates = extra.extension() != ".log";
    if (fs::is_directory(extra)) {
      for (const auto& e : fs::recursive_directory_iterator(extra)) {
        if (e.is_regular_file()) scan_file(e.path(), dates && e.path().extension() != ".log");
      }
    } else {
      scan_file(extra, dates);
    }
  }
  std::printf(
      "phi_scan: %zu planted strings, %zu files (%zu bytes), %zu DICOM images: %zu "
      "problem(s)\n",
      strings.size(), files, bytes, dicoms, leaks);
  return leaks == 0 ? 0 : 1;
}
