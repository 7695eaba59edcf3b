#include "model/prompt.h"

#include <cmath>
#include <cstdio>

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

std::string Codes(const json::Value* list) {
  std::string out;
  if (!list || !list->is_array()) return out;
  for (const json::Value& c : list->as_array()) {
    if (!out.empty()) out += "; ";
    out += Str(c.Find("code"));
    const std::string display = Str(c.Find("display"));
    if (!display.empty()) out += " " + display;
  }
  return out;
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
    history += (age.empty() ? "age unknown" : age + "-year-old") + (sex.empty() ? "" : " " + sex);
    const std::string dept = Str(Path(*structured, {"encounter", "department"}));
    const std::string cls = Str(Path(*structured, {"encounter", "class"}));
    if (!dept.empty()) history += ", " + dept;
    if (!cls.empty()) history += " (" + cls + ")";
    history += ".";
    const std::string dx = Codes(structured->Find("conditions"));
    const std::string px = Codes(structured->Find("procedures"));
    if (!dx.empty()) history += " Diagnoses: " + dx + ".";
    if (!px.empty()) history += " Procedures: " + px + ".";
  }
  std::string note = Str(Path(s, {"modalities", "text_context"}));
  if (note.size() > o.max_note_chars) {
    size_t cut = o.max_note_chars;
    while (cut > 0 && (static_cast<unsigned char>(note[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    note.resize(cut);
  }
  if (!note.empty()) history += " Note: " + note;

  std::string labs;
  if (const json::Value* l = structured ? structured->Find("labs") : nullptr; l && l->is_array()) {
    for (const json::Value& x : l->as_array()) {
      if (!labs.empty()) labs += " ";
      const std::string display = Str(x.Find("display"));
      labs += display.empty() ? Str(x.Find("code")) : display;
      labs += " " + Number(x.Find("value")) + " " + Str(x.Find("unit"));
      const std::string flag = Str(x.Find("interpretation"));
      const std::string lo = Number(x.Find("low")), hi = Number(x.Find("high"));
      if (!flag.empty() || !lo.empty() || !hi.empty()) {
        labs += " (" + flag +
                (lo.empty() && hi.empty() ? "" : (flag.empty() ? "" : "; ") + lo + "-" + hi) + ")";
      }
      const std::string hours = Number(x.Find("hours_before_study"));
      if (!hours.empty()) labs += " " + hours + " h before";
      labs += ".";
    }
  }
  std::string dictation = o.dictation ? Str(Path(s, {"modalities", "speech_transcript"})) : "";

  Prompt p;
  if (o.image) p.text += "<image>\n";
  p.text += "<history> " + history + "\n";
  p.text += "<labs> " + (labs.empty() ? std::string("none") : labs) + "\n";
  p.text += "<dictation> " + (dictation.empty() ? std::string("none") : dictation) + "\n";
  p.text += "<report>";
  p.target = Str(s.Find("target_report"));
  return p;
}

}  // namespace medscribe::model
