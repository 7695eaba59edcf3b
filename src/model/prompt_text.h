// Text helpers shared by the prompt builders (prompt.h, discharge_prompt.h): reading the sample's
// JSON, short code displays, and the clinical part of a de-identified note.
//
// Thread safety: pure functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "model/json.h"

namespace medscribe::model::prompt_text {

// The string at `v`, or "" when it is absent or not a string.
std::string Str(const json::Value* v);
// The member at the path of keys, or nullptr.
const json::Value* Path(const json::Value& root, std::initializer_list<const char*> keys);
// A number as printf's %g writes it, or "".
std::string Number(const json::Value* v);
// A code's display up to its first comma, at most four words: "Heart failure".
std::string ShortDisplay(const std::string& display);
// True when `text` holds a de-identification placeholder ("[NAME]", "[PHONE]").
bool HasPlaceholder(std::string_view text);
// The note without the segments (lines, sentences, Chinese clauses) that held an identifier, now
// a placeholder: they carry nothing clinical. Whitespace runs collapse to one space.
std::string ClinicalPartOfNote(const std::string& note);
// `text` cut to at most `max_bytes` at a UTF-8 character boundary.
std::string CutUtf8(std::string text, size_t max_bytes);

}  // namespace medscribe::model::prompt_text
