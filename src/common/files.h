// File-system helpers that report failures as Status.
//
// StagedDirectory implements "nothing half-written": a command writes its whole output into a
// hidden staging directory next to the target and Commit() renames it into place. If the object
// is destroyed without Commit() (error, exception, early return), the staging directory is removed.
//
// Example:
//   ASSIGN_OR_RETURN(auto staged, StagedDirectory::Create(out_dir, /*force=*/false));
//   RETURN_IF_ERROR(WriteFile(staged->path() / "cohort.json", text));
//   RETURN_IF_ERROR(staged->Commit());
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe {

// Writes `data` to `path` (created or truncated). IoError names the path and the OS reason.
Status WriteFile(const std::filesystem::path& path, std::string_view data);
StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// Home directory for all state: `flag` if non-empty, else $MEDSCRIBE_HOME, else ~/.medscribe.
std::filesystem::path ResolveHome(const std::string& flag);

class StagedDirectory {
 public:
  // Checks that `target` can be produced: its parent is writable, and it is absent or an empty
  // directory, or `force` is set (an existing target is then replaced at Commit()).
  // Errors: AlreadyExists (non-empty without force), PermissionDenied / IoError (unwritable).
  static StatusOr<std::unique_ptr<StagedDirectory>> Create(const std::filesystem::path& target,
                                                           bool force);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  // Where to write; becomes `target` at Commit().
  const std::filesystem::path& path() const { return staging_; }
  // Atomically moves the staged output into place. REQUIRES: not yet committed.
  Status Commit();

 private:
  StagedDirectory(std::filesystem::path target, std::filesystem::path staging)
      : target_(std::move(target)), staging_(std::move(staging)) {}
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

}  // namespace medscribe
