// A hyperparameter study kept in a database, a SQLite file (tuners on one machine share it
// through SQLite's locks) or a PostgreSQL server (tuners on several machines): its definition's
// digest, its trials (parameters, state, owner, heartbeat) and every value they reported. Trials
// are claimed in transactions, so two workers never run one trial; a trial whose owner stopped (its
// process gone, or no heartbeat within the stale time) is claimed again and resumed, and a finished
// trial is never run again.
//
// Thread safety: one Study per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "tune/search_space.h"
#include "warehouse/sql_conn.h"

namespace medscribe::tune {

enum class TrialState { kRunning, kCompleted, kPruned, kFailed };
const char* StateName(TrialState s);

struct Trial {
  int id = 0;  // 1, 2, ... in the order trials were created
  Assignment params;
  int bracket = 0;
  TrialState state = TrialState::kRunning;
  std::optional<double> value;  // the last value reported (the objective once completed)
  int64_t step = 0;             // the step of that value
  std::string owner, note;
  int starts = 0;  // how many times it was claimed (more than 1: resumed)
  double seconds = 0;
  std::vector<std::pair<int64_t, double>> reports;  // (step, value), by step
};

class Study {
 public:
  // Opens the study database at `location` (a SQLite file, or a postgresql:// URL). With `create`,
  // a missing study is created for `config`; without, NotFound. FailedPrecondition when the file
  // holds a study of another definition.
  static StatusOr<Study> Open(const std::string& location, const StudyConfig& config, bool create);

  // A trial for `owner` to run: first a running trial whose owner is gone (`alive(owner)` false,
  // or no heartbeat for `stale_s` seconds before `now`), resumed with its parameters; else a new
  // trial sampled from the finished ones while fewer than the study's trials exist. nullopt when
  // there is none to take.
  StatusOr<std::optional<Trial>> Claim(const std::string& owner, int64_t now, int64_t stale_s,
                                       const std::function<bool(const std::string&)>& alive);
  // Keeps the claim alive. Aborted when the trial is no longer `owner`'s.
  Status Heartbeat(int trial, const std::string& owner, int64_t now);
  // Records `value` at `step`. At a rung of the trial's bracket, whether it goes on (ASHA over
  // the values every trial of the bracket reported at that rung); elsewhere true. Aborted when
  // the trial is no longer `owner`'s.
  StatusOr<bool> Report(int trial, const std::string& owner, int64_t step, double value);
  // Ends the trial (completed, pruned or failed) with its objective, if any, and a note.
  Status Finish(int trial, const std::string& owner, TrialState state, std::optional<double> value,
                double seconds, const std::string& note);
  StatusOr<std::vector<Trial>> Trials();
  // Whether every trial was created and none is running.
  StatusOr<bool> Done();
  const StudyConfig& config() const { return config_; }
  const std::string& id() const { return id_; }  // the definition's digest, first 16 hex digits

 private:
  Study(std::unique_ptr<sql::SqlConn> db, StudyConfig config, std::string id)
      : db_(std::move(db)), config_(std::move(config)), id_(std::move(id)) {}
  // A running trial's bracket and seconds so far, when `owner` holds it; else Aborted.
  // REQUIRES: inside a transaction.
  struct OwnedTrial {
    int bracket = 0;
    double seconds = 0;
  };
  StatusOr<OwnedTrial> OwnedRow(int trial, const std::string& owner);
  std::unique_ptr<sql::SqlConn> db_;
  StudyConfig config_;
  std::string id_;
};

}  // namespace medscribe::tune
