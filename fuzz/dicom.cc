// libFuzzer target: DICOM parsing (DicomDataset::FromBytes), metadata (ReadInfo) and pixel
// decoding in both modes (display in gray, at a fixed pixel spacing and in color), and writing it
// back. Any input must give a result or a Status; never a crash, a hang or an allocation sized by
// a declared length beyond the limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dicom/dataset.h"
#include "dicom/image.h"
#include "dicom/info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMaxInput = 1 << 20;
  if (size > kMaxInput) return 0;
  auto ds = medscribe::dicom::DicomDataset::FromBytes(
      std::string_view(reinterpret_cast<const char*>(data), size), kMaxInput);
  if (!ds.ok()) return 0;
  auto info = medscribe::dicom::ReadInfo(*ds);
  if (!info.ok()) return 0;
  medscribe::dicom::ImageDecodeOptions options;
  options.max_pixels = 1 << 22;
  options.raw = true;
  (void)medscribe::dicom::DecodeImage(*ds, options);
  options.raw = false;
  options.size = 32;
  (void)medscribe::dicom::DecodeImage(*ds, options);
  options.mm_per_pixel = 0.7;  // resampled by the file's own (untrusted) pixel spacing
  (void)medscribe::dicom::DecodeImage(*ds, options);
  options.mm_per_pixel = 0;
  options.keep_color = true;
  (void)medscribe::dicom::DecodeImage(*ds, options);
  (void)ds->ToBytes();  // what de-identification stores
  return 0;
}
