// `medscribe synth`: write a synthetic multimodal cohort.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli.h"
#include "common/logging.h"
#include "common/progress.h"
#include "synth/cohort.h"

namespace medscribe::cli {

Runner RegisterSynth(CLI::App& app) {
  auto o = std::make_shared<synth::SynthOptions>();
  auto seed = std::make_shared<int64_t>(1);
  auto no_speech = std::make_shared<bool>(false);
  auto lab_shift = std::make_shared<std::vector<std::string>>();
  app.footer(
      "Writes a cohort of chest-radiograph encounters: DICOM images with the findings drawn in,\n"
      "FHIR R4 resources (labs, conditions, procedures, notes, historical reports), dictation\n"
      "audio, and ground truth. Same seed and options give byte-identical output.\n"
      "With --kind inpatient: inpatient stays instead (the discharge scenario): FHIR R4 records\n"
      "of whole stays (problems, daily labs and vital signs, medication orders and\n"
      "administrations, procedures, imaging reports, admission, progress and consult notes,\n"
      "signed discharge summaries), dictated discharge notes, and ground truth.\n"
      "Configuration keys (--config FILE / --set key=value): synth.out, synth.encounters,\n"
      "synth.seed, synth.image_size, synth.speech, synth.jobs.\n"
      "Example: medscribe synth --out cohort --encounters 200 --seed 7\n"
      "         medscribe synth --kind inpatient --out stays --encounters 100 --no-speech");
  auto* out = app.add_option("--out", o->out_dir,
                             "Output directory (created; must be empty unless --force)")
                  ->type_name("DIR");
  auto* n = app.add_option("--encounters", o->encounters,
                           "Number of encounters (with --kind inpatient: stays) to generate")
                ->type_name("N");
  app.add_option("--kind", o->kind,
                 "radiology (chest-radiograph encounters) or inpatient (inpatient stays with "
                 "discharge summaries)")
      ->capture_default_str();
  auto* s = app.add_option("--seed", *seed, "Random seed")->capture_default_str();
  auto* sz = app.add_option("--image-size", o->image_size,
                            "Base image matrix in pixels (profiles scale it)")
                 ->capture_default_str();
  auto* ns = app.add_flag("--no-speech", *no_speech, "Skip dictation audio (no audio/ directory)");
  app.add_option("--speech-encounters", o->speech_encounters,
                 "Dictation audio for the first N encounters only (the others were not "
                 "dictated: their samples have no transcript); default: every encounter")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  auto* j =
      app.add_option("--jobs", o->jobs, "Worker threads (0: all cores)")->capture_default_str();
  app.add_flag("--force", o->force, "Replace a non-empty output directory");
  app.add_option("--departments", o->departments,
                 "Only these departments (ED, ICU, CARDIOLOGY, ONCOLOGY, PULMONOLOGY, "
                 "OUTPATIENT), at their usual relative frequencies; e.g. a site of a federation "
                 "whose case mix differs from another's")
      ->delimiter(',')
      ->type_name("LIST");
  app.add_option("--device-mix", o->device_mix,
                 "Weights of the four detector profiles (AcmeDR 500, NW-CR 3000, HX-Flex, "
                 "Orion CR-7; default 0.3,0.2,0.3,0.2): another site's or a new detector's mix")
      ->delimiter(',')
      ->type_name("W,W,W,W");
  app.add_option("--lab-shift", *lab_shift,
                 "Multiply lab values, e.g. crp=1.5,wbc=0.8 (another laboratory's analyzer or "
                 "calibration; flags follow)")
      ->delimiter(',')
      ->type_name("LAB=FACTOR,...");
  app.add_option("--voice", o->voices,
                 "espeak-ng voice to use (repeatable; default: a built-in set)")
      ->type_name("NAME");

  return [=](GlobalOptions& g) -> int {
    // Configuration fills what the command line left unset.
    auto from_config = [&](CLI::Option* opt, const char* key, auto& target) -> Status {
      if (opt->count() > 0 || !g.config.Has(key)) return OkStatus();
      using T = std::decay_t<decltype(target)>;
      if constexpr (std::is_same_v<T, bool>) {
        ASSIGN_OR_RETURN(target, g.config.GetBool(key, target));
      } else {
        ASSIGN_OR_RETURN(int64_t v, g.config.GetInt(key, 0));
        target = static_cast<T>(v);
      }
      return OkStatus();
    };
    bool speech = !*no_speech;
    for (Status st :
         {from_config(n, "synth.encounters", o->encounters), from_config(s, "synth.seed", *seed),
          from_config(sz, "synth.image_size", o->image_size),
          from_config(ns, "synth.speech", speech), from_config(j, "synth.jobs", o->jobs)}) {
      if (!st.ok()) return ReportError(st);
    }
    if (out->count() == 0 && g.config.Has("synth.out"))
      o->out_dir = g.config.GetString("synth.out", "");
    o->speech = speech;
    if (*seed < 0) return ReportError(InvalidArgumentError("--seed must not be negative"));
    o->seed = static_cast<uint64_t>(*seed);
    for (const std::string& kv : *lab_shift) {
      const size_t eq = kv.find('=');
      char* end = nullptr;
      const double factor = eq == std::string::npos ? 0 : std::strtod(kv.c_str() + eq + 1, &end);
      if (eq == std::string::npos || end == kv.c_str() + eq + 1 || *end != '\0')
        return ReportError(InvalidArgumentError(
            "--lab-shift takes LAB=FACTOR pairs (e.g. crp=1.5), not '" + kv + "'"));
      o->lab_shift[kv.substr(0, eq)] = factor;
    }
    if (Status st = synth::ValidateOptions(*o); !st.ok()) return ReportError(st);

    LOG_DEBUG("synthesizing {} encounters (seed {}, image size {}, speech {})", o->encounters,
              o->seed, o->image_size, o->speech ? "on" : "off");
    ProgressBar progress("synth", static_cast<uint64_t>(o->encounters));
    auto summary = synth::WriteCohort(*o, &progress);
    if (!summary.ok()) return ReportError(summary.status());
    std::fputs(synth::FormatSummary(*summary, o->out_dir).c_str(), stdout);
    return kExitOk;
  };
}

}  // namespace medscribe::cli
