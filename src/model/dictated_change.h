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

#include <string_view>

namespace medscribe::model {

enum class DictatedChange { kNotStated, kNoPrior, kNew, kIncreased, kDecreased, kUnchanged };

inline constexpr int kAnchorWindow = 8;

// The prompt tokens, one per stated change (kNotStated has none), in DictatedChange order from
// kNoPrior. The tokenizer's trainer takes them as user-defined symbols.
inline constexpr const char* kChangeTokens[] = {"<change_no_prior>", "<change_new>",
                                                "<change_increased>", "<change_decreased>",
                                                "<change_unchanged>"};

DictatedChange ChangeOfDictation(std::string_view transcript);

// The token for `c`; "" for kNotStated.
std::string_view ChangeToken(DictatedChange c);

}  // namespace medscribe::model
