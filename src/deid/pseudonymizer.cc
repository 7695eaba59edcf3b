#include "deid/pseudonymizer.h"

#include <cctype>
#include <cstring>

#include "common/civil_time.h"
#include "common/uid.h"
#include "crypto/hmac.h"

namespace medscribe::deid {
namespace {

uint64_t Be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::string Pseudonymizer::PatientId(std::string_view original) const {
  std::string hex = crypto::Hex(crypto::HmacSha256(key_, "patient:" + std::string(original)));
  std::string out = "P" + hex.substr(0, 15);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Pseudonymizer::Token(std::string_view kind, std::string_view original) const {
  const std::string hex =
      crypto::Hex(crypto::HmacSha256(key_, std::string(kind) + ":" + std::string(original)));
  std::string prefix(kind.substr(0, 3));
  for (char& c : prefix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return prefix + "-" + hex.substr(0, 12);
}

std::string Pseudonymizer::Uid(std::string_view uid) const {
  const crypto::Digest d = crypto::HmacSha256(key_, "uid:" + std::string(uid));
  return Uid2_25(Be64(d.data()), Be64(d.data() + 8));
}

int Pseudonymizer::DateShiftDays(std::string_view patient_id) const {
  const crypto::Digest d = crypto::HmacSha256(key_, "dateshift:" + std::string(patient_id));
  return -30 - static_cast<int>(Be64(d.data()) % 1066);
}

std::string ShiftDicomDate(std::string_view v, int days) {
  if (v.size() != 8 || v.find_first_not_of("0123456789") != std::string_view::npos) return "";
  const int y = std::stoi(std::string(v.substr(0, 4))), m = std::stoi(std::string(v.substr(4, 2))),
            d = std::stoi(std::string(v.substr(6, 2)));
  if (m < 1 || m > 12 || d < 1 || d > 31) return "";
  return AddDays(Date{y, m, d}, days).Dicom();
}

}  // namespace medscribe::deid
