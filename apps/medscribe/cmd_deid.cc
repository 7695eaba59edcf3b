// `medscribe deid text`: de-identify free text with the scrubber ingest uses, to check it on a
// site's own notes before they are ingested.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "common/files.h"
#include "deid/text_deid.h"

namespace medscribe::cli {
namespace {

struct TextOptions {
  std::vector<std::string> files;
  std::vector<std::string> known;
  int shift = 0;
  bool stats = false;
  bool field = false;
};

int RunText(const TextOptions& o) {
  const deid::TextScrubber scrubber(o.known, o.shift);
  deid::ScrubStats stats;
  auto scrub = [&](const std::string& text) {
    const std::string out =
        o.field ? scrubber.ScrubField(text, &stats) : scrubber.Scrub(text, &stats);
    std::fwrite(out.data(), 1, out.size(), stdout);
  };
  if (o.files.empty()) {
    scrub(std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()));
  }
  for (const std::string& path : o.files) {
    auto text = ReadFile(path);
    if (!text.ok()) return ReportError(text.status());
    scrub(*text);
  }
  std::fflush(stdout);
  if (o.stats) std::fprintf(stderr, "%s\n", nlohmann::json(stats.by_category).dump().c_str());
  return kExitOk;
}

}  // namespace

Runner RegisterDeid(CLI::App& app) {
  app.require_subcommand(1);
  CLI::App* text = app.add_subcommand(
      "text", "De-identify text files (or standard input) to standard output, as ingest does");
  auto o = std::make_shared<TextOptions>();
  text->add_option("files", o->files, "Text files (UTF-8); standard input when none")
      ->type_name("FILE");
  text->add_option("--known", o->known,
                   "An identifier of the patient to replace wherever it appears (repeatable; "
                   "ingest passes the record's names, MRN, phone, e-mail, address)")
      ->type_name("TEXT");
  text->add_option("--shift", o->shift, "Date shift in days (ingest derives one per patient)")
      ->capture_default_str();
  text->add_flag("--field", o->field,
                 "Treat the input as a short field (DICOM description): any Chinese name-shaped "
                 "word is a name");
  text->add_flag("--stats", o->stats,
                 "Print the replacements by category as JSON on standard error");
  text->footer(
      "Replacements are tags ([NAME], [PHONE], [ADDRESS], [ID], ...); dates are shifted and keep\n"
      "their format; ages over 89 become 90+. Categories and methods: "
      "docs/formats/deid-profile.md.\n"
      "Example: medscribe deid text note.txt --known 'Mary Smith' --shift -30 --stats");
  return [=](GlobalOptions&) -> int { return RunText(*o); };
}

}  // namespace medscribe::cli
