// A sealed key file (`medscribe keys seal`) is read from disk at the gateway's start, where it
// may have been damaged or replaced: ReadSealedObject must answer every input with a Status
// (JSON, base64, hex and the TPM's marshalled structures), and what it accepts must name PCRs
// 0..23 and hold the areas a TPM would load.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tpm/sealed_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto o = medscribe::tpm::ReadSealedObject(text, "fuzz");
  if (!o.ok()) return 0;
  if (o->pcrs.empty() || o->public_area.empty() || o->private_area.empty()) __builtin_trap();
  for (int p : o->pcrs)
    if (p < 0 || p > 23) __builtin_trap();
  return 0;
}
