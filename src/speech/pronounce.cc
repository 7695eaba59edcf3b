#include "speech/pronounce.h"

#include <array>
#include <utility>

#include "common/subprocess.h"

namespace medscribe::speech {
namespace {

// espeak-ng English phoneme mnemonics and their ARPAbet phones, longest mnemonics first so that
// a greedy match takes "aI@" before "aI" before "a".
constexpr std::array<std::pair<std::string_view, std::string_view>, 68> kTable = {{
    {"aI@", "AY ER"}, {"aU@", "AW ER"}, {"i@3", "IY ER"}, {"tS", "CH"},   {"dZ", "JH"},
    {"A:", "AA"},     {"A@", "AA R"},   {"aI", "AY"},     {"aU", "AW"},   {"e@", "EH R"},
    {"eI", "EY"},     {"I2", "IH"},     {"I#", "IH"},     {"i:", "IY"},   {"i@", "IY ER"},
    {"O:", "AO"},     {"O@", "AO R"},   {"o@", "AO R"},   {"O2", "AA"},   {"oU", "OW"},
    {"OI", "OY"},     {"U@", "UH R"},   {"u:", "UW"},     {"@L", "AH L"}, {"@2", "AH"},
    {"@5", "AH"},     {"3:", "ER"},     {"a#", "AH"},     {"a2", "AH"},   {"t2", "T"},
    {"d2", "D"},      {"t#", "T"},      {"d#", "D"},      {"z#", "Z"},    {"hw", "W"},
    {"n-", "N"},      {"l-", "L"},      {"r-", "R"},      {"p", "P"},     {"b", "B"},
    {"t", "T"},       {"d", "D"},       {"k", "K"},       {"g", "G"},     {"f", "F"},
    {"v", "V"},       {"T", "TH"},      {"D", "DH"},      {"s", "S"},     {"z", "Z"},
    {"S", "SH"},      {"Z", "ZH"},      {"h", "HH"},      {"m", "M"},     {"n", "N"},
    {"N", "NG"},      {"l", "L"},       {"r", "R"},       {"j", "Y"},     {"w", "W"},
    {"a", "AE"},      {"A", "AA"},      {"E", "EH"},      {"I", "IH"},    {"i", "IY"},
    {"0", "AA"},      {"O", "AO"},      {"U", "UH"},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kVowelsLast = {{
    {"V", "AH"},
    {"@", "AH"},
    {"3", "ER"},
    {"e", "EH"},
}};

}  // namespace

StatusOr<std::string> EspeakToArpabet(std::string_view e) {
  std::string out;
  size_t i = 0;
  while (i < e.size()) {
    const char c = e[i];
    if (c == '\'' || c == ',' || c == ';' || c == '_' || c == '|' || c == '=' || c == ' ' ||
        c == '\n' || c == '\r' || c == '-') {
      ++i;
      continue;
    }
    std::string_view phones;
    size_t len = 0;
    for (const auto& [m, p] : kTable) {
      if (e.substr(i, m.size()) == m) {
        phones = p, len = m.size();
        break;
      }
    }
    if (len == 0) {
      for (const auto& [m, p] : kVowelsLast) {
        if (e.substr(i, m.size()) == m) {
          phones = p, len = m.size();
          break;
        }
      }
    }
    if (len == 0)
      return InvalidArgumentError("unknown espeak phoneme at '" + std::string(e.substr(i)) + "'");
    out += (out.empty() ? "" : " ") + std::string(phones);
    i += len;
  }
  if (out.empty()) return InvalidArgumentError("no phonemes");
  return out;
}

StatusOr<std::string> Pronounce(const std::string& word, const std::string& voice) {
  auto r = RunProcess({"espeak-ng", "-v", voice.substr(0, voice.find('+')), "-q", "-x", word});
  if (!r.ok() && r.status().code() == ErrorCode::kNotFound) {
    return Status(ErrorCode::kUnavailable, "espeak-ng is not installed; run scripts/bootstrap.sh");
  }
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return InternalError("espeak-ng failed on '" + word + "'");
  return EspeakToArpabet(r->out);
}

}  // namespace medscribe::speech
