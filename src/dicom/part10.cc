#include "dicom/part10.h"

#include <zlib.h>

#include <cstring>

namespace medscribe::dicom {
namespace {

uint16_t Le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

bool LongLengthVr(const unsigned char* vr) {
  for (const char* v :
       {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}) {
    if (vr[0] == v[0] && vr[1] == v[1]) return true;
  }
  return false;
}

}  // namespace

StatusOr<Part10Meta> ScanPart10Meta(std::string_view bytes) {
  Part10Meta meta;
  if (bytes.size() < 132 || bytes.substr(128, 4) != "DICM") return meta;
  meta.present = true;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t pos = 132;
  while (pos + 8 <= bytes.size() && Le16(p + pos) == 0x0002) {
    const uint16_t element = Le16(p + pos + 2);
    const unsigned char* vr = p + pos + 4;
    size_t header = 8;
    uint64_t length = Le16(p + pos + 6);
    if (LongLengthVr(vr)) {
      if (pos + 12 > bytes.size()) return DataLossError("file meta information is truncated");
      header = 12;
      length = Le32(p + pos + 8);
    }
    if (length > bytes.size() - pos - header) {
      return DataLossError("a file meta element is longer than the file");
    }
    if (element == 0x0010) {
      std::string uid(bytes.substr(pos + header, static_cast<size_t>(length)));
      while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.pop_back();
      meta.transfer_syntax_uid = uid;
    }
    pos += header + static_cast<size_t>(length);
  }
  meta.dataset_offset = pos;
  return meta;
}

StatusOr<std::string> InflateRaw(std::string_view deflated, uint64_t max_output) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return InternalError("zlib initialization failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(deflated.data()));
  zs.avail_in = static_cast<uInt>(deflated.size());
  std::string out;
  char chunk[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return DataLossError(rc == Z_BUF_ERROR ? "deflated dataset is truncated"
                                             : "deflated dataset is corrupt");
    }
    const size_t produced = sizeof chunk - zs.avail_out;
    if (out.size() + produced > max_output) {
      inflateEnd(&zs);
      return Status(ErrorCode::kResourceExhausted, "deflated dataset inflates to more than " +
                                                       std::to_string(max_output) + " bytes");
    }
    out.append(chunk, produced);
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace medscribe::dicom
