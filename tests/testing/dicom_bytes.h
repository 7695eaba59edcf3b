// DicomBytes: writes a DICOM Part 10 file byte by byte, independently of DCMTK's writer, for tests
// that need what DCMTK would not write (32-bit pixels in big endian, floating-point pixel data,
// descriptors with a chosen VR) or that check the reader against an encoder it does not share.
//
// The dataset is Explicit VR, little or big endian; the file meta group (always Explicit VR
// Little Endian) names the SOP class and instance given to Add as (0008,0016) and (0008,0018).
// Elements are written in tag order whatever the order of Add calls.
//
// Example:
//   DicomBytes b(/*big_endian=*/true);
//   b.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.1").Us(0x0028, 0x0010, 2);
//   b.Add(0x7FE0, 0x0010, "OW", b.U16(7) + b.U16(9));
//   std::string file = b.File();
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace medscribe::testing {

class DicomBytes {
 public:
  explicit DicomBytes(bool big_endian = false) : big_(big_endian) {}

  // Values in the dataset's byte order.
  std::string U16(uint16_t v) const { return Word(v, 2); }
  std::string U32(uint32_t v) const { return Word(v, 4); }
  std::string F32(float v) const {
    uint32_t bits = 0;
    std::memcpy(&bits, &v, 4);
    return Word(bits, 4);
  }
  std::string F64(double v) const {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, 8);
    return Word(bits, 8);
  }
  // `bytes` low bytes of v, in the dataset's byte order.
  std::string Word(uint64_t v, int bytes) const { return Encode(v, bytes, big_); }

  // Adds (or replaces) an element; `value` is padded to an even length (with '\0' for UI and the
  // binary VRs, ' ' otherwise).
  DicomBytes& Add(uint16_t group, uint16_t element, std::string_view vr, std::string value) {
    elements_[(uint32_t{group} << 16) | element] =
        Element(group, element, vr, std::move(value), big_);
    return *this;
  }
  DicomBytes& Us(uint16_t group, uint16_t element, uint16_t v) {
    return Add(group, element, "US", U16(v));
  }
  // Encapsulated Pixel Data: an empty offset table, then one fragment per frame (padded to an
  // even length), then the sequence delimiter.
  DicomBytes& Encapsulated(const std::vector<std::string>& frames) {
    const auto item = [this](uint16_t element, const std::string& value) {
      return Word(0xFFFE, 2) + Word(element, 2) + Word(value.size(), 4) + value;
    };
    std::string out = Word(0x7FE0, 2) + Word(0x0010, 2) + "OB" + std::string(2, '\0') +
                      Word(0xFFFFFFFF, 4) + item(0xE000, "");
    for (std::string f : frames) {
      if (f.size() % 2 != 0) f += '\0';
      out += item(0xE000, f);
    }
    elements_[0x7FE00010] = out + item(0xE0DD, "");
    return *this;
  }
  // The transfer syntax the meta group names, when not the native one of the byte order.
  DicomBytes& Syntax(std::string uid) {
    syntax_ = std::move(uid);
    return *this;
  }

  std::string File() const {
    const std::string sop_class = Value(0x00080016), sop_instance = Value(0x00080018);
    const std::string meta = Element(2, 1, "OB", std::string{'\0', '\1'}, false) +
                             Element(2, 2, "UI", sop_class, false) +
                             Element(2, 3, "UI", sop_instance, false) +
                             Element(2, 0x10, "UI",
                                     !syntax_.empty() ? syntax_
                                     : big_           ? "1.2.840.10008.1.2.2"
                                                      : "1.2.840.10008.1.2.1",
                                     false);
    std::string out(128, '\0');
    out += "DICM" + Element(2, 0, "UL", Encode(meta.size(), 4, false), false) + meta;
    for (const auto& [tag, bytes] : elements_) out += bytes;
    return out;
  }

 private:
  static std::string Encode(uint64_t v, int bytes, bool big) {
    std::string out(static_cast<size_t>(bytes), '\0');
    for (int i = 0; i < bytes; ++i)
      out[static_cast<size_t>(big ? bytes - 1 - i : i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
    return out;
  }
  static bool Binary(std::string_view vr) {
    return vr == "OB" || vr == "OW" || vr == "OF" || vr == "OD" || vr == "OL" || vr == "UN";
  }
  static std::string Element(uint16_t group, uint16_t element, std::string_view vr,
                             std::string value, bool big) {
    if (value.size() % 2 != 0) value += (vr == "UI" || Binary(vr)) ? '\0' : ' ';
    std::string out = Encode(group, 2, big) + Encode(element, 2, big) + std::string(vr);
    if (Binary(vr) || vr == "UT" || vr == "SQ")
      out += std::string(2, '\0') + Encode(value.size(), 4, big);
    else
      out += Encode(value.size(), 2, big);
    return out + value;
  }
  // The value of a short text element added earlier, without its padding; "" when absent.
  std::string Value(uint32_t tag) const {
    const auto it = elements_.find(tag);
    if (it == elements_.end()) return "";
    std::string v = it->second.substr(8);
    while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.pop_back();
    return v;
  }

  bool big_;
  std::string syntax_;
  std::map<uint32_t, std::string> elements_;  // tag -> the encoded element
};

}  // namespace medscribe::testing
