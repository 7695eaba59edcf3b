// Personal names in free text by dictionary: given names and surnames (English-language and
// international, romanized), with the words that look like names but are not (clinical eponyms,
// capitalized clinical and place words, given names that are also common words).
//
// The lists are the project's own: common given names and surnames of the populations a hospital
// in the United States or Taiwan serves. Recognition is by shape and dictionary together:
//   - a given name followed by a capitalized word ("Renata Sokolova", "Agnes M. Hale");
//   - a capitalized word followed by a dictionary surname ("Siobhan Fitzgerald");
//   - "Surname, Given" ("Novak, Ingrid");
//   - a dictionary given name or surname standing alone, unless it is also a common word
//     ("May", "Will", "Park") or an eponym followed by its clinical noun ("Wilson disease",
//     "Foley catheter", "Hunter syndrome").
//
// Thread safety: the dictionaries are immutable after first use; all functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include "deid/text_deid.h"

namespace medscribe::deid {

// True when `word` (capitalized as written, e.g. "Agnes") is in the given-name dictionary.
bool IsGivenName(std::string_view word);
// True when `word` (e.g. "Fitzgerald") is in the surname dictionary.
bool IsSurname(std::string_view word);
// True when `word`, in lower case, is an entry of the packaged English word list (name_lists.h):
// "brain", "oriented", not "Mary". False for every word when the list is missing.
bool IsEnglishWord(std::string_view word);

// `text` with the personal names the dictionaries recognize replaced by "[NAME]"; each
// replacement counts under "name" in `stats` (optional). Bytes outside ASCII words pass through
// unchanged (the function never splits a UTF-8 sequence).
std::string ScrubDictionaryNames(std::string_view text, ScrubStats* stats);

// For written text: a dictionary given name written in lower case right after a word naming a
// relative or companion ("spoke w/ daughter jenny"), with a lower-case dictionary surname after
// it, is replaced by "[NAME]"; names that are also common words ("son will call", "daughter
// rose") are left. Counts as ScrubDictionaryNames.
std::string ScrubLowercaseCompanionNames(std::string_view text, ScrubStats* stats);

// For text without capitals (speech recognition output): a dictionary name of one or two words
// after a cue word ("patient", "doctor", "daughter", "spoke with", ...), whatever its case, is
// replaced by "[NAME]"; names that are also common words are left. Counts as ScrubDictionaryNames.
std::string ScrubSpokenNames(std::string_view text, ScrubStats* stats);

}  // namespace medscribe::deid
