// dicom_decode: DICOM decode + window + resize throughput, in process.
//
// Usage: dicom_decode DIR [SIZE] [JOBS]
// Reads every file under DIR into memory first (so the disk is not measured), then decodes each
// to a SIZE x SIZE display image (default 256) with JOBS threads (0: all cores), three times, and
// prints the best rate as "images_per_s=<rate>" (plus failures, which must be 0).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/parallel.h"
#include "dicom/dataset.h"
#include "dicom/image.h"

int main(int argc, char** argv) {
  using namespace medscribe;
  if (argc < 2) {
    std::fprintf(stderr, "usage: dicom_decode DIR [SIZE] [JOBS]\n");
    return 2;
  }
  const int size = argc > 2 ? std::atoi(argv[2]) : 256;
  const int jobs = argc > 3 ? std::atoi(argv[3]) : 0;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[1])) {
    if (e.is_regular_file()) files.push_back(ReadFile(e.path()).value());
  }
  double best = 0;
  std::atomic<int> failures{0};
  for (int round = 0; round < 3; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    ParallelFor(files.size(), jobs, [&](size_t i) {
      auto ds = dicom::DicomDataset::FromBytes(files[i]);
      dicom::ImageDecodeOptions o;
      o.size = size;
      auto img = ds.ok() ? dicom::DecodeImage(*ds, o) : ds.status();
      if (!img.ok()) failures++;
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, files.size() / s);
  }
  std::printf("files=%zu failures=%d images_per_s=%.1f\n", files.size(), failures.load(), best);
  return failures == 0 ? 0 : 1;
}
