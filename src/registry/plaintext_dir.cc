#include "registry/plaintext_dir.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

namespace medscribe::registry {
namespace fs = std::filesystem;
namespace {

constexpr long kTmpfsMagic = 0x01021994;
constexpr long kRamfsMagic = 0x858458f6;
constexpr const char* kPrefix = "medscribe-";

// The directories this process made; removed when static objects are destroyed.
class Owned {
 public:
  ~Owned() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& d : dirs_) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  }
  void Add(std::string dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(std::move(dir));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

Owned& OwnedDirs() {
  static Owned owned;
  return owned;
}

// The pid in "medscribe-<tag>-<pid>-<random>", or 0.
pid_t PidOf(const std::string& name) {
  const size_t last = name.rfind('-');
  if (last == std::string::npos || last == 0) return 0;
  const size_t before = name.rfind('-', last - 1);
  if (before == std::string::npos) return 0;
  const std::string digits = name.substr(before + 1, last - before - 1);
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return static_cast<pid_t>(std::stol(digits));
}

// Removes what processes that no longer run left in `root` (ours only: the same owner).
void SweepStale(const fs::path& root) {
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(root, ec)) {
    const std::string name = d.path().filename().string();
    if (name.rfind(kPrefix, 0) != 0) continue;
    struct stat st {};
    if (lstat(d.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
      continue;
    const pid_t pid = PidOf(name);
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) fs::remove_all(d.path(), ec);
  }
}

}  // namespace

bool IsMemoryBacked(const std::string& path) {
  struct statfs s {};
  if (statfs(path.c_str(), &s) != 0) return false;
  return static_cast<long>(s.f_type) == kTmpfsMagic || static_cast<long>(s.f_type) == kRamfsMagic;
}

StatusOr<std::string> MakePlaintextDir(const std::string& tag) {
  std::string root;
  if (const char* env = std::getenv("MEDSCRIBE_RUNTIME_DIR"); env != nullptr && *env != '\0') {
    root = env;
    if (!IsMemoryBacked(root))
      return FailedPreconditionError(
          "MEDSCRIBE_RUNTIME_DIR=" + root +
          " is not memory-backed storage (tmpfs or ramfs); decrypted model files are never "
          "written to disk: point it at a tmpfs");
  } else {
    std::vector<std::string> candidates = {"/dev/shm"};
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x != nullptr && *x != '\0')
      candidates.push_back(x);
    for (const std::string& c : candidates)
      if (IsMemoryBacked(c) && access(c.c_str(), W_OK | X_OK) == 0) {
        root = c;
        break;
      }
    if (root.empty())
      return FailedPreconditionError(
          "no memory-backed storage for decrypted model files (/dev/shm is not a writable "
          "tmpfs); mount a tmpfs and set MEDSCRIBE_RUNTIME_DIR to it");
  }
  SweepStale(root);
  std::string templ =
      (fs::path(root) / (kPrefix + tag + "-" + std::to_string(getpid()) + "-XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr)  // mode 0700
    return IoError("cannot create a private directory in " + root + ": " + std::strerror(errno));
  OwnedDirs().Add(templ);
  return templ;
}

}  // namespace medscribe::registry
