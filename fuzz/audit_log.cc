// An audit log and its checkpoints are verified on a copy that may come from a compromised
// host: VerifyAuditLog, VerifyAuditCheckpoints and ExportAuditFhir must answer any bytes with a
// Status or a verdict, never crash. The input is split at the first 0xFF byte into the log and
// the checkpoints file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "gateway/audit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("medscribe_fuzz_audit_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find('\xff');
  const fs::path log = dir / "a.log", marks = dir / "a.log.checkpoints";
  std::ofstream(log, std::ios::binary | std::ios::trunc) << in.substr(0, cut);
  std::ofstream(marks, std::ios::binary | std::ios::trunc)
      << (cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1));
  const std::string key(32, 'k');
  auto v = medscribe::gateway::VerifyAuditLog(log, key);
  if (v.ok() && v->ok && v->records == 0 && !in.substr(0, cut).empty() &&
      in.substr(0, cut).find_first_not_of("\n") != std::string_view::npos)
    __builtin_trap();  // lines that are not records never verify
  (void)medscribe::gateway::VerifyAuditCheckpoints(log, marks, std::string(32, 'p'));
  (void)medscribe::gateway::ExportAuditFhir(log);
  return 0;
}
