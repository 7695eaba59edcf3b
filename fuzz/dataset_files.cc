// libFuzzer target: the files of a dataset directory read as untrusted input (a dataset may have
// been copied, edited or damaged): part.json, quarantine lines, image arrays (.img.npy), and
// manifest.json through `dataset verify` and through reading a dataset back as a part (what
// `dataset combine` reads).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/files.h"
#include "common/npy.h"
#include "ingest/manifest.h"
#include "ingest/quarantine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 16)) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)medscribe::ingest::PartFromJson(bytes);
  (void)medscribe::ingest::QuarantineFromJsonLine(bytes);
  (void)medscribe::ParseNpyFloat32(bytes);
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fuzz-dataset-XXXXXX").string();
    return std::filesystem::path(mkdtemp(tmpl.data()));
  }();
  if (medscribe::WriteFile(dir / "manifest.json", bytes).ok()) {
    (void)medscribe::ingest::VerifyDataset(dir);
    (void)medscribe::ingest::ReadDatasetPart(dir);
  }
  return 0;
}
