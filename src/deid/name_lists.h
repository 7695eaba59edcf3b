// Given names and surnames from packaged word lists, and the English words that tell which of
// them are also common words.
//
// Debian's libtext-names-perl carries the 1990 United States census lists of common given names
// (1,219 male, 4,275 female) and the 1,000 most common surnames, as here-documents in its Perl
// module (/usr/share/perl5/Text/Names.pm); wamerican carries an English word list
// (/usr/share/dict/american-english). The scrubber (names.h) adds these names to its own
// dictionaries; a name only the packaged lists know never stands alone as a name (it must sit
// beside another name or after a word that introduces a person), because a list of tens of
// thousands of names holds clinical words ("Carina", "Vena") that a list written for this purpose
// leaves out.
//
// Thread safety: PackagedNames() loads once, on first use, and is immutable afterwards.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

namespace medscribe::deid {

struct NameLists {
  std::unordered_set<std::string> given;     // lower case
  std::unordered_set<std::string> surnames;  // lower case
  std::unordered_set<std::string> english;   // lower-case entries of the word list
  std::string source;  // what was read, for reports ("" when nothing was found)
};

// The names in the here-documents of Text::Names ("$COMMON_MALE_FIRSTNAMES = <<ENDNAMES;" up to
// "ENDNAMES"): the first field of each line, lower-cased, into `given` (male and female) and
// `surnames`. Lines that are not a name (digits, punctuation) are skipped; text without the
// here-documents gives nothing.
void ParseCensusNames(std::string_view perl_module, NameLists* out);

// The entries of a word list (one per line) written in lower case letters only, into `english`.
void ParseEnglishWords(std::string_view word_list, NameLists* out);

// The lists read from the packaged files (paths above; MEDSCRIBE_NAME_LISTS_DIR, when set, is
// searched for Names.pm and american-english instead). Missing files give empty sets and a
// `source` that says so; the scrubber then uses its own dictionaries alone.
const NameLists& PackagedNames();

}  // namespace medscribe::deid
