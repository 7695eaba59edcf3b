#include "tune/study.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/civil_time.h"
#include "tune/asha.h"
#include "tune/sampler.h"

namespace medscribe::tune {
namespace {

// Portable between SQLite and PostgreSQL: text for doubles (%.17g), integers as BIGINT.
constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  id BIGINT PRIMARY KEY, params TEXT NOT NULL, bracket BIGINT NOT NULL, state TEXT NOT NULL,
  value TEXT, step BIGINT NOT NULL DEFAULT 0, owner TEXT NOT NULL, heartbeat BIGINT NOT NULL,
  starts BIGINT NOT NULL DEFAULT 1, seconds TEXT NOT NULL DEFAULT '0', note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL, finished_at TEXT);
CREATE TABLE IF NOT EXISTS reports (
  trial BIGINT NOT NULL, step BIGINT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (trial, step));
)sql";

std::string S(long v) { return std::to_string(v); }
std::string S(int v) { return std::to_string(v); }

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

TrialState ParseState(const std::string& s) {
  if (s == "completed") return TrialState::kCompleted;
  if (s == "pruned") return TrialState::kPruned;
  if (s == "failed") return TrialState::kFailed;
  return TrialState::kRunning;
}

Assignment ParseParams(const std::string& text) {
  Assignment a;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) a[k] = v.get<std::string>();
  return a;
}

std::string DumpParams(const Assignment& a) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : a) j[k] = v;
  return j.dump();
}

}  // namespace

const char* StateName(TrialState s) {
  switch (s) {
    case TrialState::kRunning:
      return "running";
    case TrialState::kCompleted:
      return "completed";
    case TrialState::kPruned:
      return "pruned";
    case TrialState::kFailed:
      return "failed";
  }
  return "running";
}

StatusOr<Study> Study::Open(const std::string& location, const StudyConfig& config, bool create) {
  const std::string digest = Digest(config);
  ASSIGN_OR_RETURN(auto db, sql::OpenSqlConn(location, kSchema, "the study"));
  Status s = db->Transaction("study", [&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, db->Query("SELECT value FROM study WHERE key = 'digest'"));
    if (rows.empty()) {
      if (!create)
        return NotFoundError("no study in " + location +
                             "; start it with `medscribe tune --config`");
      RETURN_IF_ERROR(db->Run("INSERT INTO study VALUES ('digest', $1)", {digest}));
      RETURN_IF_ERROR(db->Run("INSERT INTO study VALUES ('name', $1)", {config.name}));
      return db->Run("INSERT INTO study VALUES ('created_at', $1)", {UtcNowIso()});
    }
    if (rows[0][0] != digest)
      return FailedPreconditionError(
          location +
          " holds a study of another definition (space, sampler, seed, steps, ASHA or "
          "train arguments changed); keep the study file as it was to resume it, or start "
          "a new study in another --out");
    return OkStatus();
  });
  RETURN_IF_ERROR(s);
  return Study(std::move(db), config, digest.substr(0, 16));
}

StatusOr<std::optional<Trial>> Study::Claim(const std::string& owner, int64_t now, int64_t stale_s,
                                            const std::function<bool(const std::string&)>& alive) {
  std::optional<int> claimed;
  Status s = db_->Transaction("trials", [&]() -> Status {
    ASSIGN_OR_RETURN(auto running,
                     db_->Query("SELECT id, owner, heartbeat FROM trials WHERE state = 'running' "
                                "ORDER BY id"));
    for (const auto& r : running) {
      const bool stale = now - std::stoll(r[2]) > stale_s || (alive && !alive(r[1]));
      if (!stale) continue;
      claimed = std::stoi(r[0]);
      return db_->Run(
          "UPDATE trials SET owner = $1, heartbeat = $2, starts = starts + 1 WHERE id = $3",
          {owner, S(now), S(*claimed)});
    }
    ASSIGN_OR_RETURN(auto count, db_->Query("SELECT count(*) FROM trials"));
    const int n = std::stoi(count[0][0]);
    if (n >= config_.trials) return OkStatus();
    // The history: every finished trial that reported something.
    ASSIGN_OR_RETURN(auto done, db_->Query("SELECT params, state, value, step FROM trials WHERE "
                                           "state IN ('completed', 'pruned') AND value IS NOT "
                                           "NULL"));
    std::vector<Observation> history;
    for (const auto& r : done)
      history.push_back({ParseParams(r[0]), std::strtod(r[2].c_str(), nullptr), r[1] == "pruned",
                         std::stoll(r[3])});
    const int id = n + 1;
    const uint64_t seed = config_.seed * 1000003ULL + static_cast<uint64_t>(id);
    const Assignment params = config_.sampler == "random"
                                  ? SampleRandom(config_.space, seed)
                                  : SampleTpe(config_.space, history, config_.startup_trials, seed);
    claimed = id;
    return db_->Run(
        "INSERT INTO trials (id, params, bracket, state, owner, heartbeat, created_at) VALUES "
        "($1, $2, $3, 'running', $4, $5, $6)",
        {S(id), DumpParams(params), S((id - 1) % std::max(1, config_.asha.brackets)), owner, S(now),
         UtcNowIso()});
  });
  RETURN_IF_ERROR(s);
  if (!claimed) return std::optional<Trial>();
  ASSIGN_OR_RETURN(auto all, Trials());
  for (Trial& t : all)
    if (t.id == *claimed) return std::optional<Trial>(std::move(t));
  return InternalError("trial " + std::to_string(*claimed) + " vanished after its claim");
}

StatusOr<Study::OwnedTrial> Study::OwnedRow(int trial, const std::string& owner) {
  ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT owner, bracket, seconds FROM trials WHERE id = "
                                         "$1 AND state = 'running'",
                                         {S(trial)}));
  if (rows.empty() || rows[0][0] != owner)
    return Status(ErrorCode::kAborted,
                  "trial " + std::to_string(trial) + " was taken over by another worker");
  return OwnedTrial{std::stoi(rows[0][1]), std::strtod(rows[0][2].c_str(), nullptr)};
}

Status Study::Heartbeat(int trial, const std::string& owner, int64_t now) {
  return db_->Transaction("trials", [&]() -> Status {
    RETURN_IF_ERROR(OwnedRow(trial, owner).status());
    return db_->Run("UPDATE trials SET heartbeat = $1 WHERE id = $2", {S(now), S(trial)});
  });
}

StatusOr<bool> Study::Report(int trial, const std::string& owner, int64_t step, double value) {
  bool go_on = true;
  Status s = db_->Transaction("trials", [&]() -> Status {
    ASSIGN_OR_RETURN(const OwnedTrial row, OwnedRow(trial, owner));
    const int bracket = row.bracket;
    RETURN_IF_ERROR(
        db_->Run("INSERT INTO reports VALUES ($1, $2, $3) ON CONFLICT (trial, step) DO UPDATE SET "
                 "value = excluded.value",
                 {S(trial), S(step), Num(value)}));
    RETURN_IF_ERROR(db_->Run("UPDATE trials SET value = $1, step = $2 WHERE id = $3",
                             {Num(value), S(step), S(trial)}));
    const std::vector<int64_t> rungs = RungSteps(config_, bracket);
    if (std::find(rungs.begin(), rungs.end(), step) == rungs.end()) return OkStatus();
    ASSIGN_OR_RETURN(auto at_rung, db_->Query("SELECT r.value FROM reports r JOIN trials t ON "
                                              "t.id = r.trial WHERE t.bracket = $1 AND r.step = $2",
                                              {S(bracket), S(step)}));
    std::vector<double> values;
    for (const auto& r : at_rung) values.push_back(std::strtod(r[0].c_str(), nullptr));
    go_on = Promotable(value, values, config_.asha.reduction_factor);
    return OkStatus();
  });
  RETURN_IF_ERROR(s);
  return go_on;
}

Status Study::Finish(int trial, const std::string& owner, TrialState state,
                     std::optional<double> value, double seconds, const std::string& note) {
  return db_->Transaction("trials", [&]() -> Status {
    ASSIGN_OR_RETURN(const OwnedTrial row, OwnedRow(trial, owner));
    const double total = row.seconds + seconds;
    if (value)
      RETURN_IF_ERROR(
          db_->Run("UPDATE trials SET value = $1 WHERE id = $2", {Num(*value), S(trial)}));
    return db_->Run(
        "UPDATE trials SET state = $1, seconds = $2, note = $3, finished_at = $4 WHERE id = $5",
        {std::string(StateName(state)), Num(total), note, UtcNowIso(), S(trial)});
  });
}

StatusOr<std::vector<Trial>> Study::Trials() {
  ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT id, params, bracket, state, value, step, owner, "
                                         "starts, seconds, note FROM trials ORDER BY id"));
  ASSIGN_OR_RETURN(auto reports,
                   db_->Query("SELECT trial, step, value FROM reports ORDER BY trial, step"));
  std::vector<Trial> out;
  for (const auto& r : rows) {
    Trial t;
    t.id = std::stoi(r[0]);
    t.params = ParseParams(r[1]);
    t.bracket = std::stoi(r[2]);
    t.state = ParseState(r[3]);
    if (!r[4].empty()) t.value = std::strtod(r[4].c_str(), nullptr);
    t.step = std::stoll(r[5]);
    t.owner = r[6];
    t.starts = std::stoi(r[7]);
    t.seconds = std::strtod(r[8].c_str(), nullptr);
    t.note = r[9];
    for (const auto& p : reports)
      if (p[0] == r[0])
        t.reports.emplace_back(std::stoll(p[1]), std::strtod(p[2].c_str(), nullptr));
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<bool> Study::Done() {
  ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(
          "SELECT count(*), sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END) FROM trials"));
  const int n = std::stoi(rows[0][0]);
  const int running = rows[0][1].empty() ? 0 : std::stoi(rows[0][1]);
  return n >= config_.trials && running == 0;
}

}  // namespace medscribe::tune
