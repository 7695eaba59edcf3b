// Private directories in memory-backed storage for the plaintext of encrypted artifacts (the
// weights of an encrypted registry entry): what a process decrypts stays out of the disk, its
// backups and its snapshots.
//
// The storage is $MEDSCRIBE_RUNTIME_DIR when set, else /dev/shm, else $XDG_RUNTIME_DIR; it must
// be a tmpfs or ramfs. Each directory (mode 0700) is named medscribe-<tag>-<pid>-<random> and
// removed when the process exits normally; directories left by processes that no longer run
// (killed with SIGKILL) are removed by the next call from any process of the same user.
//
// Thread safety: the functions may be called from any thread.
#pragma once

#include <string>

#include "common/status.h"

namespace medscribe::registry {

// A new empty private directory, removed at the process's exit. `tag`: letters, digits, '-'.
// FailedPrecondition, saying what to do, when no memory-backed storage is available.
StatusOr<std::string> MakePlaintextDir(const std::string& tag);

// Whether `path` lies on a tmpfs or ramfs.
bool IsMemoryBacked(const std::string& path);

}  // namespace medscribe::registry
