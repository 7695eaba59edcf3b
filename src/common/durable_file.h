// Replacing a file so that a crash leaves the old file or the new one, never a mix.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace medscribe {

// Writes `data` to `path`: the bytes go to PATH.tmp (created with `mode` before any byte is
// written, so a key is never readable by others, even briefly), are fsynced, renamed over PATH,
// and the directory is fsynced. IoError naming the file and the OS reason; on failure PATH is
// unchanged.
Status WriteFileDurably(const std::filesystem::path& path, std::string_view data,
                        unsigned mode = 0644);

}  // namespace medscribe
