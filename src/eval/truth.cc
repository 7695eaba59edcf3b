#include "eval/truth.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace medscribe::eval {

Labels LabelsOfFindings(const std::vector<std::string>& types) {
  static const std::map<std::string, std::vector<int>> kToClass = {
      {"cardiomegaly", {kCardiomegaly}},
      {"pleural_effusion", {kPleuralEffusion}},
      {"consolidation", {kConsolidation, kLungOpacity, kPneumonia}},
      {"edema", {kEdema}},
      {"pneumothorax", {kPneumothorax}},
      {"nodule", {kLungLesion}},
      {"mass", {kLungLesion}},
      {"atelectasis", {kAtelectasis}},
      {"rib_fracture", {kFracture}},
      {"endotracheal_tube", {kSupportDevices}},
      {"central_line", {kSupportDevices}},
      {"pacemaker", {kSupportDevices}},
      {"chest_tube", {kSupportDevices}}};
  Labels t;
  bool any = false;
  for (const std::string& type : types) {
    auto it = kToClass.find(type);
    if (it == kToClass.end()) continue;
    for (int c : it->second) {
      t.mention[c] = Mention::kPositive;
      any |= c != kSupportDevices;
    }
  }
  t.mention[kNoFinding] = any ? Mention::kAbsent : Mention::kPositive;
  return t;
}

StatusOr<std::vector<TruthRecord>> ReadTruth(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot open the truth file '" + path +
                         "' (a cohort's truth/labels.jsonl from `medscribe synth`)");
  }
  std::vector<TruthRecord> out;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("report_text") || !j.contains("findings") ||
        !j["findings"].is_array() || !j.contains("encounter_id")) {
      return InvalidArgumentError(path + ":" + std::to_string(line_no) +
                                  ": not a record of a cohort's truth/labels.jsonl");
    }
    const std::string generator = j.value("generator", "medscribe-synth 1");
    if (generator != kTruthGenerator) {
      return FailedPreconditionError(
          path + " was written by " + generator + "; this evaluation needs a cohort of " +
          std::string(kTruthGenerator) +
          " (its record no longer gives the findings away): re-synthesize it with `medscribe "
          "synth` and ingest it again");
    }
    TruthRecord r;
    r.encounter_id = j.value("encounter_id", "");
    r.report_text = j.value("report_text", "");
    std::vector<std::string> types;
    for (const auto& f : j["findings"])
      if (f.is_object()) types.push_back(f.value("type", ""));
    r.labels = LabelsOfFindings(types);
    out.push_back(std::move(r));
  }
  if (out.empty()) return InvalidArgumentError(path + " holds no truth records");
  return out;
}

}  // namespace medscribe::eval
