// File helpers for the ML core (which does not link medscribe_common): whole-file reads and
// atomic, durable writes (temporary file, fsync, rename), with Status errors naming the path.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::model {

// NotFound when the file cannot be opened, IoError when it cannot be read.
StatusOr<std::string> ReadBytes(const std::string& path);
// Writes `path` + ".tmp", flushes it to disk (fsync), renames it over `path` and flushes the
// directory: readers see the old or the new file, and after a crash the new one is complete.
Status WriteBytesAtomic(const std::string& path, std::string_view data);
// fsync of a directory, so that renames and creations inside it survive a crash.
Status SyncDirectory(const std::string& dir);

}  // namespace medscribe::model
