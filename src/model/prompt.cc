#include "model/prompt.h"

#include <cmath>
#include <cstdio>

#include "model/dictated_change.h"
#include "model/lab_names.h"
#include "model/prompt_text.h"

namespace medscribe::model {
using prompt_text::ClinicalPartOfNote;
using prompt_text::Number;
using prompt_text::Path;
using prompt_text::ShortDisplay;
using prompt_text::Str;

namespace {

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
  note = prompt_text::CutUtf8(std::move(note), o.max_note_chars);
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
