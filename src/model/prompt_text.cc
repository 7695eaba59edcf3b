#include "model/prompt_text.h"

#include <cstdio>

namespace medscribe::model::prompt_text {

std::string Str(const json::Value* v) { return v && v->is_string() ? v->as_string() : ""; }

const json::Value* Path(const json::Value& root, std::initializer_list<const char*> keys) {
  const json::Value* v = &root;
  for (const char* k : keys) {
    v = v->Find(k);
    if (!v) return nullptr;
  }
  return v;
}

std::string Number(const json::Value* v) {
  if (!v || !v->is_number()) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v->as_double());
  return buf;
}

// A code's display up to its first comma, at most four words: "I50.9 Heart failure".
std::string ShortDisplay(const std::string& display) {
  std::string out;
  int words = 0;
  for (size_t i = 0; i < display.size() && display[i] != ','; ++i) {
    if (display[i] == ' ' && ++words == 4) break;
    out += display[i];
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// True when `text` holds a de-identification placeholder ("[NAME]", "[REDACTED]", "[PHONE]").
bool HasPlaceholder(std::string_view text) {
  for (size_t open = text.find('['); open != std::string_view::npos;
       open = text.find('[', open + 1)) {
    size_t i = open + 1;
    while (i < text.size() && text[i] >= 'A' && text[i] <= 'Z') ++i;
    if (i > open + 1 && i < text.size() && text[i] == ']') return true;
  }
  return false;
}

// The note without the parts that only identify: segments (lines, sentences, Chinese clauses)
// that held an identifier, now a placeholder, carry nothing clinical.
std::string ClinicalPartOfNote(const std::string& note) {
  std::string out, segment;
  auto flush = [&] {
    if (!HasPlaceholder(segment)) out += segment;
    segment.clear();
  };
  for (size_t i = 0; i < note.size(); ++i) {
    segment += note[i];
    const bool ascii_end =
        note[i] == '\n' || (note[i] == '.' && (i + 1 == note.size() || note[i + 1] == ' '));
    // "，" and "。" (UTF-8 EF BC 8C, E3 80 82) end Chinese clauses.
    const bool cjk_end = i >= 2 && ((static_cast<unsigned char>(note[i - 2]) == 0xEF &&
                                     static_cast<unsigned char>(note[i - 1]) == 0xBC &&
                                     static_cast<unsigned char>(note[i]) == 0x8C) ||
                                    (static_cast<unsigned char>(note[i - 2]) == 0xE3 &&
                                     static_cast<unsigned char>(note[i - 1]) == 0x80 &&
                                     static_cast<unsigned char>(note[i]) == 0x82));
    if (ascii_end || cjk_end) flush();
  }
  flush();
  // Whitespace runs (line breaks included) collapse to one space.
  std::string compact;
  for (char c : out) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (compact.empty() || compact.back() == ' ')) continue;
    compact += space ? ' ' : c;
  }
  while (!compact.empty() && compact.back() == ' ') compact.pop_back();
  return compact;
}

std::string CutUtf8(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

}  // namespace medscribe::model::prompt_text
