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

std::optional<std::string> CompleteShortLastFragment(std::string_view b) {
  const std::string_view explicit_ob("\xE0\x7F\x10\x00OB\x00\x00\xFF\xFF\xFF\xFF", 12);
  const std::string_view explicit_ow("\xE0\x7F\x10\x00OW\x00\x00\xFF\xFF\xFF\xFF", 12);
  const std::string_view implicit("\xE0\x7F\x10\x00\xFF\xFF\xFF\xFF", 8);
  size_t pos = std::string_view::npos;
  for (std::string_view header : {explicit_ob, explicit_ow, implicit}) {
    const size_t at = b.rfind(header);
    if (at != std::string_view::npos && (pos == std::string_view::npos || at > pos))
      pos = at + header.size();
  }
  if (pos == std::string_view::npos) return std::nullopt;
  const std::string_view item("\xFE\xFF\x00\xE0", 4), delimiter("\xFE\xFF\xDD\xE0", 4);
  while (pos + 8 <= b.size()) {
    if (b.substr(pos, 4) == delimiter) return std::nullopt;  // intact
    if (b.substr(pos, 4) != item) return std::nullopt;
    const uint64_t length = Le32(reinterpret_cast<const unsigned char*>(b.data()) + pos + 4);
    if (pos + 8 + length <= b.size()) {
      pos += 8 + length;
      continue;
    }
    // The last fragment, cut short.
    std::string data(b.substr(pos + 8));
    if (data.size() < 2 || static_cast<uint8_t>(data[data.size() - 2]) != 0xFF ||
        static_cast<uint8_t>(data.back()) != 0xD9)
      return std::nullopt;
    if (data.size() % 2) data.push_back('\0');
    std::string out(b.substr(0, pos + 4));
    const auto n = static_cast<uint32_t>(data.size());
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((n >> (8 * k)) & 0xFF));
    out += data;
    out += std::string(delimiter) + std::string(4, '\0');
    return out;
  }
  // Every fragment whole but no delimiter: the last must end its codestream.
  if (pos != b.size() || b.size() < 2 || static_cast<uint8_t>(b[b.size() - 2]) != 0xFF ||
      static_cast<uint8_t>(b.back()) != 0xD9)
    return std::nullopt;
  return std::string(b) + std::string(delimiter) + std::string(4, '\0');
}

}  // namespace medscribe::dicom
