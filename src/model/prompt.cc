#include "model/prompt.h"

#include <cmath>
#include <cstdio>

#include "model/dictated_change.h"
#include "model/lab_names.h"

namespace medscribe::model {
namespace {

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

std::string Codes(const json::Value* list, bool with_display) {
  std::string out;
  if (!list || !list->is_array()) return out;
  for (const json::Value& c : list->as_array()) {
    if (!out.empty()) out += "; ";
    out += Str(c.Find("code"));
    const std::string display = with_display ? ShortDisplay(Str(c.Find("display"))) : "";
    if (!display.empty()) out += " " + display;
  }
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

}  // namespace

StatusOr<Prompt> BuildPrompt(const json::Value& s, const PromptOptions& o) {
  if (!s.is_object() || !s.Find("modalities")) {
    return InvalidArgumentError("not a MedScribe sample (no 'modalities')");
  }
  const json::Value* structured = Path(s, {"modalities", "structured"});
  std::string history;
  if (structured) {
    const std::string age = Str(Path(*structured, {"patient", "age"}));
    const std::string sex = Str(Path(*structured, {"patient", "sex"}));
    history += (age.empty() ? "age unknown" : age) + (sex.empty() ? "" : " " + sex);
    const std::string dept = Str(Path(*structured, {"encounter", "department"}));
    const std::string cls = Str(Path(*structured, {"encounter", "class"}));
    if (!dept.empty()) history += ", " + dept;
    if (!cls.empty()) history += " (" + cls + ")";
    history += ".";
    const std::string dx = Codes(structured->Find("conditions"), true);
    const std::string px = Codes(structured->Find("procedures"), false);
    if (!dx.empty()) history += " Problems: " + dx + ".";
    if (!px.empty()) history += " Procedures: " + px + ".";
    if (const json::Value* order = structured->Find("order"); order && order->is_object()) {
      const std::string reason = Str(order->Find("reason"));
      const std::string codes = Codes(order->Find("codes"), false);
      if (!reason.empty() || !codes.empty()) {
        history += " Order:" + (reason.empty() ? "" : " " + reason) +
                   (codes.empty() ? "" : " (" + codes + ")");
      }
    }
  }
  std::string note = ClinicalPartOfNote(Str(Path(s, {"modalities", "text_context"})));
  if (note.size() > o.max_note_chars) {
    size_t cut = o.max_note_chars;
    while (cut > 0 && (static_cast<unsigned char>(note[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    note.resize(cut);
  }
  if (!note.empty()) history += " Note: " + note;

  std::string labs;
  if (const json::Value* l = structured ? structured->Find("labs") : nullptr; l && l->is_array()) {
    for (const json::Value& x : l->as_array()) {
      if (!labs.empty()) labs += "; ";
      const std::string code = Str(x.Find("code"));
      const std::string_view short_name = LabShortName(code);
      const std::string display = ShortDisplay(Str(x.Find("display")));
      labs += !short_name.empty() ? std::string(short_name) : display.empty() ? code : display;
      labs += ' ';
      labs += Number(x.Find("value"));
      if (const std::string unit = Str(x.Find("unit")); !unit.empty()) labs += " " + unit;
      const std::string flag = Str(x.Find("interpretation"));
      if (!flag.empty() && flag != "N") labs += " " + flag;
    }
  }
  std::string dictation = o.dictation ? Str(Path(s, {"modalities", "speech_transcript"})) : "";

  Prompt p;
  if (o.image) p.text += "<image>\n";
  if (o.image && !o.image_read.empty()) p.text += "image read: " + o.image_read + "\n";
  p.text += "<history> " + history + "\n";
  p.text += "<labs> " + (labs.empty() ? std::string("none") : labs) + "\n";
  p.text += "<dictation> " + (dictation.empty() ? std::string("none") : dictation);
  if (const std::string_view change = ChangeToken(ChangeOfDictation(dictation)); !change.empty())
    p.text += " " + std::string(change);
  p.text += "\n";
  p.text += "<report>";
  p.target = Str(s.Find("target_report"));
  return p;
}

}  // namespace medscribe::model
