// `medscribe dicom info|decode|convert`: inspect, decode and transcode DICOM files.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "common/files.h"
#include "common/npy.h"
#include "common/png.h"
#include "deid/pseudonymizer.h"
#include "deid/text_deid.h"
#include "dicom/dataset.h"
#include "dicom/image.h"
#include "dicom/info.h"
#include "ingest/sample.h"

namespace medscribe::cli {
namespace {

nlohmann::ordered_json InfoJson(const std::string& path, const dicom::DicomInfo& i) {
  nlohmann::ordered_json j{
      {"path", path},
      {"sop_class_uid", i.sop_class_uid},
      {"sop_class", i.sop_class_name},
      {"sop_instance_uid", i.sop_instance_uid},
      {"study_instance_uid", i.study_instance_uid},
      {"series_instance_uid", i.series_instance_uid},
      {"transfer_syntax_uid", i.transfer_syntax_uid},
      {"transfer_syntax", i.transfer_syntax_name},
      {"modality", i.modality},
      {"manufacturer", i.manufacturer},
      {"model", i.model},
      {"body_part", i.body_part},
      {"view_position", i.view_position},
      {"rows", i.rows},
      {"columns", i.columns},
      {"frames", i.frames},
      {"samples_per_pixel", i.samples_per_pixel},
      {"bits_allocated", i.bits_allocated},
      {"bits_stored", i.bits_stored},
      {"pixel_representation", i.pixel_representation},
      {"photometric_interpretation", i.photometric},
      {"rescale_slope", i.rescale_slope},
      {"rescale_intercept", i.rescale_intercept},
      {"burned_in_annotation", i.burned_in_annotation},
      {"has_accession_number", i.has_accession_number},
      {"decodable", i.decodable},
  };
  if (i.has_window) {
    j["window_center"] = i.window_center;
    j["window_width"] = i.window_width;
  }
  if (!i.decodable) j["not_decodable_because"] = i.why_not_decodable;
  if (!i.warnings.empty()) j["warnings"] = i.warnings;
  return j;
}

int RunInfo(const std::vector<std::string>& files) {
  int failed = 0;
  // What ingest would do with each file: the same preparation (decode, de-identification) with
  // a throwaway key, its output discarded.
  const deid::Pseudonymizer throwaway(std::string(32, 'k'));
  const deid::TextScrubber scrubber({}, 0);
  const ingest::ImagePolicy policy{256, false, &scrubber};
  for (const std::string& path : files) {
    auto ds = dicom::DicomDataset::LoadFile(path);
    auto info = ds.ok() ? dicom::ReadInfo(*ds) : StatusOr<dicom::DicomInfo>(ds.status());
    if (!info.ok()) {
      std::fprintf(stderr, "error: %s: %s\n", path.c_str(), info.status().message().c_str());
      ++failed;
      continue;
    }
    nlohmann::ordered_json j = InfoJson(path, *info);
    if (const std::string refusal = ingest::RefusalFromInfo(*info); !refusal.empty()) {
      j["ingest"] = "quarantined as " + refusal;
    } else {
      auto bytes = ReadFile(path);
      std::string reason;
      auto prepared = bytes.ok() ? ingest::PrepareImageBytes(*bytes, "", policy, throwaway, &reason)
                                 : StatusOr<ingest::SampleImage>(bytes.status());
      j["ingest"] = prepared.ok() ? std::string("accepted")
                                  : "quarantined as " + reason + ": " + prepared.status().message();
    }
    std::printf("%s\n", j.dump().c_str());
  }
  return failed ? kExitFailed : kExitOk;
}

int RunDecode(const std::string& in, const std::string& out, bool raw, int size) {
  const bool npy = out.size() > 4 && out.compare(out.size() - 4, 4, ".npy") == 0;
  const bool png = out.size() > 4 && out.compare(out.size() - 4, 4, ".png") == 0;
  if (!npy && !png) return ReportError(InvalidArgumentError("--out must end in .npy or .png"));
  if (raw && png) {
    return ReportError(
        InvalidArgumentError("--raw writes float values of every frame; use an .npy output (PNG "
                             "holds one 8-bit frame)"));
  }
  auto ds = dicom::DicomDataset::LoadFile(in);
  if (!ds.ok())
    return ReportError(ds.status().WithContext(in)) == kExitUsage ? kExitUsage : kExitFailed;
  dicom::ImageDecodeOptions options;
  options.raw = raw;
  options.size = size;
  auto image = dicom::DecodeImage(*ds, options);
  if (!image.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", in.c_str(), image.status().message().c_str());
    return kExitFailed;
  }
  Status written;
  if (npy) {
    std::vector<size_t> shape = {static_cast<size_t>(image->rows),
                                 static_cast<size_t>(image->cols)};
    if (raw) shape.insert(shape.begin(), static_cast<size_t>(image->frames));
    if (image->channels > 1) shape.push_back(static_cast<size_t>(image->channels));
    written = WriteFile(out, EncodeNpyFloat32(image->pixels.data(), shape));
  } else {
    written = WritePngGray(out, image->pixels, image->cols, image->rows);
  }
  if (!written.ok()) return ReportError(written);
  return kExitOk;
}

}  // namespace

Runner RegisterDicom(CLI::App& app) {
  app.require_subcommand(1);
  CLI::App* info = app.add_subcommand(
      "info", "Print key metadata of DICOM files as JSON lines (no patient identifiers)");
  auto files = std::make_shared<std::vector<std::string>>();
  info->add_option("files", *files, "DICOM files")->required()->type_name("FILE");
  info->footer(
      "Each line ends with \"ingest\": accepted, or why ingest would quarantine the file. A file "
      "that cannot be read gives one line 'error: FILE: reason' on stderr; the exit code is 1 if "
      "any failed.");

  CLI::App* decode = app.add_subcommand("decode", "Decode a DICOM image to .npy (float32) or .png");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto raw = std::make_shared<bool>(false);
  auto size = std::make_shared<int>(256);
  decode->add_option("file", *in, "DICOM file")->required()->type_name("FILE");
  decode->add_option("--out", *out, "Output file: OUT.npy or OUT.png")
      ->required()
      ->type_name("OUT");
  decode->add_flag("--raw", *raw,
                   "Stored values after the Modality LUT, full size, every frame (.npy only)");
  decode
      ->add_option("--size", *size,
                   "Model image size: windowed, resized to fit SIZE x SIZE, padded")
      ->capture_default_str();
  decode->footer(
      "Without --raw: first frame, VOI window from the file (else min-max), MONOCHROME1 inverted,\n"
      "values in [0, 1]. A file that cannot be decoded gives one line with the reason and exit 1.");

  CLI::App* convert =
      app.add_subcommand("convert", "Rewrite a DICOM file in another transfer syntax");
  auto syntax = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto source = std::make_shared<std::string>();
  convert->add_option("file", *source, "DICOM file")->required()->type_name("FILE");
  convert->add_option("--out", *target, "Output DICOM file")->required()->type_name("OUT");
  convert
      ->add_option("--syntax", *syntax,
                   "implicit-little, explicit-little, explicit-big, deflated, jpeg-lossless, "
                   "jpeg-ls-lossless, rle or jpeg2000-lossless (or a transfer syntax UID)")
      ->required();
  convert->footer(
      "Every syntax written is lossless: the pixel values read back are the ones read in. The\n"
      "input must be decodable here (see `medscribe dicom info`).");

  return [=](GlobalOptions&) -> int {
    if (info->parsed()) return RunInfo(*files);
    if (convert->parsed()) {
      auto ts = dicom::ParseTransferSyntax(*syntax);
      if (!ts.ok()) return ReportError(ts.status());
      auto ds = dicom::DicomDataset::LoadFile(*source);
      if (!ds.ok()) return ReportError(ds.status());
      if (Status s = ds->SaveFile(*target, *ts); !s.ok()) return ReportError(s);
      std::fprintf(stderr, "wrote %s (%s)\n", target->c_str(),
                   std::string(dicom::TransferSyntaxName(*ts)).c_str());
      return kExitOk;
    }
    return RunDecode(*in, *out, *raw, *size);
  };
}

}  // namespace medscribe::cli
