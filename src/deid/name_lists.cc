#include "deid/name_lists.h"

#include <cstdlib>

#include "common/files.h"
#include "common/strings.h"

namespace medscribe::deid {
namespace {

bool Letters(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

// Calls `line` for each line of `text` (without its end of line).
template <typename F>
void ForEachLine(std::string_view text, F line) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(at, end - at);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line(l);
    at = end + 1;
  }
}

// The file's bytes, or "" when it cannot be read (a list that is not installed).
std::string ReadAll(const std::string& path) {
  StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? *std::move(text) : std::string();
}

}  // namespace

void ParseCensusNames(std::string_view perl_module, NameLists* out) {
  std::unordered_set<std::string>* into = nullptr;
  ForEachLine(perl_module, [&](std::string_view l) {
    if (into == nullptr) {
      if (l.find("<<ENDNAMES") == std::string_view::npos) return;
      if (l.find("FIRSTNAMES") != std::string_view::npos)
        into = &out->given;
      else if (l.find("SURNAMES") != std::string_view::npos)
        into = &out->surnames;
      return;
    }
    if (l == "ENDNAMES") {
      into = nullptr;
      return;
    }
    const std::string_view name = l.substr(0, l.find_first_of(" \t"));
    if (Letters(name) && name.size() > 1) into->insert(AsciiLower(name));
  });
}

void ParseEnglishWords(std::string_view word_list, NameLists* out) {
  ForEachLine(word_list, [&](std::string_view l) {
    if (Letters(l) && AsciiLower(l) == l) out->english.insert(std::string(l));
  });
}

const NameLists& PackagedNames() {
  static const NameLists* lists = [] {
    auto* n = new NameLists;
    std::string names = "/usr/share/perl5/Text/Names.pm";
    std::string words = "/usr/share/dict/american-english";
    if (const char* dir = std::getenv("MEDSCRIBE_NAME_LISTS_DIR"); dir != nullptr && *dir) {
      names = std::string(dir) + "/Names.pm";
      words = std::string(dir) + "/american-english";
    }
    ParseCensusNames(ReadAll(names), n);
    ParseEnglishWords(ReadAll(words), n);
    if (n->given.empty()) {
      n->source = "no packaged name lists (" + names + " not found: install libtext-names-perl)";
    } else {
      n->source = std::to_string(n->given.size()) + " given names and " +
                  std::to_string(n->surnames.size()) + " surnames from " + names;
      n->source += n->english.empty()
                       ? ", no English word list (" + words + " not found)"
                       : ", " + std::to_string(n->english.size()) + " English words from " + words;
    }
    return n;
  }();
  return *lists;
}

}  // namespace medscribe::deid
