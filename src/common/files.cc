#include "common/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace medscribe {

namespace fs = std::filesystem;

Status WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return IoError("cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return IoError("cannot write '" + path.string() + "' (disk full?)");
  return OkStatus();
}

StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open '" + path.string() + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path ResolveHome(const std::string& flag) {
  if (!flag.empty()) return fs::path(flag);
  if (const char* env = std::getenv("MEDSCRIBE_HOME"); env && *env) return fs::path(env);
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".medscribe";
}

StatusOr<std::unique_ptr<StagedDirectory>> StagedDirectory::Create(const fs::path& target,
                                                                   bool force) {
  std::error_code ec;
  const fs::path abs = fs::absolute(target, ec);
  if (ec) return InvalidArgumentError("invalid output path '" + target.string() + "'");
  if (fs::exists(abs, ec)) {
    if (!fs::is_directory(abs, ec)) {
      return AlreadyExistsError("output '" + target.string() +
                                "' exists and is not a directory; choose another path");
    }
    if (!fs::is_empty(abs, ec) && !force) {
      return AlreadyExistsError("output directory '" + target.string() +
                                "' is not empty; pass --force to replace it, or choose another");
    }
  }
  const fs::path parent = abs.parent_path();
  if (!fs::is_directory(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) {
      return PermissionDeniedError("cannot create parent directory '" + parent.string() +
                                   "': " + ec.message());
    }
  }
  if (access(parent.c_str(), W_OK) != 0) {
    return PermissionDeniedError("directory '" + parent.string() +
                                 "' is not writable; choose another output path");
  }
  std::string tmpl = (parent / ("." + abs.filename().string() + ".staging-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return IoError("cannot create staging directory in '" + parent.string() +
                   "': " + std::strerror(errno));
  }
  return std::unique_ptr<StagedDirectory>(new StagedDirectory(abs, fs::path(tmpl)));
}

StagedDirectory::~StagedDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

Status StagedDirectory::Commit() {
  std::error_code ec;
  fs::path old;
  if (fs::exists(target_, ec)) {
    // Move the previous output aside first so that a failed rename loses nothing.
    old = target_;
    old += ".old-" + std::to_string(getpid());
    fs::rename(target_, old, ec);
    if (ec) return IoError("cannot move old '" + target_.string() + "' aside: " + ec.message());
  }
  fs::rename(staging_, target_, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, target_, ec);
    return IoError("cannot move output into '" + target_.string() + "': " + ec.message());
  }
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
  return OkStatus();
}

}  // namespace medscribe
