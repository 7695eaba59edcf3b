#include "dicom/jpeg_header.h"

namespace medscribe::dicom {
namespace {

int Be16(const uint8_t* p) { return (p[0] << 8) | p[1]; }

bool IsFrameHeader(uint8_t marker) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC); SOF55 (F7) for JPEG-LS.
  return (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) ||
         marker == 0xF7;
}

}  // namespace

StatusOr<JpegFrameHeader> ReadJpegFrameHeader(const uint8_t* data, size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) {
    return DataLossError("compressed frame does not start with a JPEG start-of-image marker");
  }
  size_t pos = 2;
  while (pos + 4 <= size) {
    if (data[pos] != 0xFF) return DataLossError("corrupt JPEG codestream: expected a marker");
    const uint8_t marker = data[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // markers without a segment
      pos += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) {
      return DataLossError("corrupt JPEG codestream: no frame header before the image data");
    }
    const size_t length = static_cast<size_t>(Be16(data + pos + 2));
    if (length < 2 || pos + 2 + length > size) {
      return DataLossError("corrupt JPEG codestream: a marker segment has an invalid length");
    }
    if (IsFrameHeader(marker)) {
      if (length < 8) return DataLossError("corrupt JPEG codestream: frame header too short");
      JpegFrameHeader h;
      h.precision = data[pos + 4];
      h.height = Be16(data + pos + 5);
      h.width = Be16(data + pos + 7);
      h.jpeg_ls = marker == 0xF7;
      return h;
    }
    pos += 2 + length;
  }
  return DataLossError("corrupt JPEG codestream: it ends before a frame header");
}

}  // namespace medscribe::dicom
