// Chinese personal names in free text (Traditional Chinese clinical notes): a surname from the
// list of 100+ single and compound surnames and one or two given-name characters, after a cue
// word (女兒, 家屬, 病患, 醫師, 個管師, ...), before a title (醫師, 先生, 小姐, ...), or without a
// cue when both given characters are common in names and rare in clinical words (許雅雯; never
// 高血壓, 唐氏症). Places that begin like a name (高雄, 林口) are kept.
//
// Thread safety: reentrant; the lists are immutable after first use.
#pragma once

#include <string>

#include "deid/text_deid.h"

namespace medscribe::deid {

// `text` with the names found replaced by "[NAME]" (counted under "name" in `stats`, optional).
// `strict` (a short field without cue words, e.g. a DICOM description): every run of two to four
// Han characters that starts with a surname is taken for a name as well. Any bytes are accepted;
// invalid UTF-8 passes through.
std::string ScrubChineseNames(const std::string& text, ScrubStats* stats, bool strict);

}  // namespace medscribe::deid
