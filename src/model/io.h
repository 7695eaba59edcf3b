// File helpers for the ML core (which does not link medscribe_common): whole-file reads and
// atomic writes (temporary file, then rename), with Status errors naming the path.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::model {

// NotFound when the file cannot be opened, IoError when it cannot be read.
StatusOr<std::string> ReadBytes(const std::string& path);
// Writes `path` + ".tmp" and renames it over `path`: readers see the old or the new file.
Status WriteBytesAtomic(const std::string& path, std::string_view data);

}  // namespace medscribe::model
