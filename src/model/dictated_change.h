// The change against the prior study that a dictation states, and the prompt token that carries
// it to the decoder.
//
// The comparison with the prior study is known only from the physician's dictation. A shallow
// decoder does not learn to copy a change word out of a transcript's running text, but it reads
// a token whose embedding is its own: the prompt (model/prompt.h) ends the dictation line with
// one of kChangeTokens, found here by keyword, and the tokenizer holds each as one piece. The
// transcript stays in the prompt in full; the token only adds what the keywords say.
//
// Keywords: "no prior" / "no previous" / "no comparison" state that there is no prior study; a
// change word (new; increased, larger, worse, worsening, progressed; decreased, smaller,
// improved, improvement, resolving, resolved; unchanged, stable, "no (interval) change", "no
// new") counts only within kAnchorWindow words of a comparison word (prior, previous, compared,
// comparison, interval, since), so that "clinical question: new cough" says nothing; the
// first that counts wins, as a dictation states one change. Case and punctuation are ignored, so
// a recognizer's transcript (lower case, no punctuation) and a typed dictation read alike.
//
// Thread safety: pure functions.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace medscribe::model {

enum class DictatedChange { kNotStated, kNoPrior, kNew, kIncreased, kDecreased, kUnchanged };

inline constexpr int kAnchorWindow = 8;

// The prompt tokens, one per stated change (kNotStated has none), in DictatedChange order from
// kNoPrior. The tokenizer's trainer takes them as user-defined symbols.
inline constexpr const char* kChangeTokens[] = {"<change_no_prior>", "<change_new>",
                                                "<change_increased>", "<change_decreased>",
                                                "<change_unchanged>"};

DictatedChange ChangeOfDictation(std::string_view transcript);

// The words (lower case) that state change `c`, as ChangeOfDictation reads them; empty for
// kNotStated and kNoPrior.
std::span<const std::string_view> ChangeWords(DictatedChange c);

// The words a report must not use when the dictation states `c`: every other change's words
// (all of them for kNoPrior); empty for kNotStated. A report states one change per study, so a
// draft that contradicts the physician's dictated comparison is wrong whatever the image shows.
std::vector<std::string_view> ContradictingWords(DictatedChange c);

// The tokens a draft must not generate when the dictation states `c`: each contradicting word,
// lower case and capitalized, that `encode` (a tokenizer's Encode: text -> ids) makes one token.
// A word split into several tokens is left alone (banning its first piece would ban every word
// that begins with it) and, when `split` is given, appended to it. Sorted, without repeats.
std::vector<int> ContradictingTokens(
    DictatedChange c, const std::function<std::vector<int>(std::string_view)>& encode,
    std::vector<std::string>* split = nullptr);

// The tokens of the words that state `c` itself (ChangeWords), lower case and capitalized, that
// `encode` makes one token each: where a draft would write a contradicting word, it writes one
// of these instead (engine::SamplingParams::redirect). Empty for kNotStated and kNoPrior.
std::vector<int> StatingTokens(DictatedChange c,
                               const std::function<std::vector<int>(std::string_view)>& encode);

// Every change word at the start of a word, lower case and capitalized, in SentencePiece's form
// ("▁new", "▁New", ...). The tokenizer's trainer takes them as user-defined symbols so
// that each word is one token and ContradictingTokens can ban it; a longer word that begins
// with one ("newly") becomes that piece and the rest.
std::vector<std::string> ChangeWordPieces();

// The token for `c`; "" for kNotStated.
std::string_view ChangeToken(DictatedChange c);

}  // namespace medscribe::model
