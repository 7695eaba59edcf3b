// Runs a child process and captures its output, without a shell.
//
// Example:
//   ASSIGN_OR_RETURN(ProcessResult r, RunProcess({"espeak-ng", "--stdout", "hello"}));
//   if (r.exit_code != 0) return InternalError(r.err);
//
// Thread safety: safe to call from many threads at once (each call owns its pipes).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string out;     // standard output
  std::string err;     // standard error
};

// Starts argv[0] (looked up on PATH) with the given arguments, closes its standard input, and
// waits for it. NotFound when the program does not exist; ResourceExhausted when its output
// exceeds `max_output` bytes (the child is killed). REQUIRES: !argv.empty().
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                   size_t max_output = 256u << 20);

// The path of the running executable (/proc/self/exe), or "medscribe" (looked up on PATH) when
// it cannot be read: for a command that starts this very binary again.
std::string SelfExecutable();

// Starts argv[0] (an absolute path, or looked up on PATH) in a process group of its own, with
// standard input from /dev/null and standard output and error appended to `log`. It gets SIGTERM
// when the thread that started it ends, its process included (PR_SET_PDEATHSIG), so a
// supervisor killed with SIGKILL does not leave it running: start and reap it from one thread
// that outlives it. Returns its pid; the caller reaps it (waitpid).
// REQUIRES: !argv.empty().
StatusOr<int> StartLoggedProcess(const std::vector<std::string>& argv, const std::string& log);

// StartLoggedProcess, then waits: the exit status, or 128 + signal number.
StatusOr<int> RunLoggedProcess(const std::vector<std::string>& argv, const std::string& log);

}  // namespace medscribe
