// JPEG 2000 codestreams come inside DICOM files from other systems: DecodeJpeg2000 must answer
// any bytes with a Status or a frame of exactly the declared geometry, never crash or allocate
// by a size the header was not checked for.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dicom/jpeg2000.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const medscribe::dicom::Jpeg2000Geometry g :
       {medscribe::dicom::Jpeg2000Geometry{16, 16, 1, 16},
        medscribe::dicom::Jpeg2000Geometry{64, 64, 1, 8},
        medscribe::dicom::Jpeg2000Geometry{32, 32, 3, 8}}) {
    auto f = medscribe::dicom::DecodeJpeg2000(in, g);
    if (!f.ok()) continue;
    if (f->rows != g.rows || f->columns != g.columns || f->components != g.components ||
        f->samples.size() != static_cast<size_t>(g.rows) * g.columns * g.components)
      __builtin_trap();
  }
  return 0;
}
