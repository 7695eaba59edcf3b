// Reading FHIR R4 resources from untrusted JSON: single resources, NDJSON files and Bundles.
//
// The JSON parser (simdjson) works with size and depth limits and no recursion, so hostile input
// (huge lines, nesting 100,000 deep, invalid UTF-8) is rejected with a reason instead of
// exhausting memory or the stack. Resources of other types are skipped; resources without an id
// or of a supported type but malformed are rejected. Nothing is dropped silently: every line or
// entry that was not accepted is reported with its source and reason.
//
// Example:
//   FhirReader reader;
//   RETURN_IF_ERROR(reader.AddPath("cohort/fhir"));
//   for (const auto& r : reader.rejected()) LOG_WARN("{}: {}", r.source, r.reason);
//   const std::vector<Resource>& resources = reader.resources();
//
// Thread safety: a FhirReader is not thread-safe; ParseResource is.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhir/resources.h"

namespace medscribe::fhir {

struct FhirLimits {
  size_t max_resource_bytes = 8u << 20;  // one NDJSON line or one Bundle entry's resource
  size_t max_bundle_bytes = 256u << 20;  // a whole Bundle file
  size_t max_depth = 64;                 // JSON nesting
};

// Parses one resource. NotFound for a valid resource of a type MedScribe does not read (the
// caller skips it); InvalidArgument for JSON that is not a resource, has no id, or has elements
// of the wrong type; ResourceExhausted for input over the limits.
StatusOr<Resource> ParseResource(std::string_view json, const FhirLimits& limits = {});

struct Rejected {
  std::string source;  // "path:line" or "path#entry"
  std::string reason;
  // Machine-readable class: "fhir_too_large" (over a limit) or "fhir_invalid" (anything else).
  std::string code = "fhir_invalid";
};

// The files AddPath reads for `path`: the file itself, or a directory's .ndjson and .json files
// (not recursive), sorted. NotFound when `path` is neither.
StatusOr<std::vector<std::filesystem::path>> ListFhirFiles(const std::string& path);

class FhirReader {
 public:
  explicit FhirReader(FhirLimits limits = {}) : limits_(limits) {}

  // Reads a file (.ndjson: one resource per line; .json: a Bundle or a single resource) or every
  // such file in a directory (sorted by name). IoError / NotFound when the path cannot be read;
  // bad content is recorded in rejected(), not returned as an error.
  Status AddPath(const std::string& path);
  void AddNdjson(std::string_view text, const std::string& source);
  void AddJson(std::string_view text, const std::string& source);

  const std::vector<Resource>& resources() const { return resources_; }
  // Where each resource came from ("path:line", "path#entry"), parallel to resources().
  const std::vector<std::string>& sources() const { return sources_; }
  const std::vector<Rejected>& rejected() const { return rejected_; }
  size_t skipped() const { return skipped_; }  // valid resources of types not read

 private:
  // Keeps an accepted resource, counts a skipped one, or records why it was rejected.
  void Record(StatusOr<Resource> r, const std::string& source);

  FhirLimits limits_;
  std::vector<Resource> resources_;
  std::vector<std::string> sources_;
  std::vector<Rejected> rejected_;
  size_t skipped_ = 0;
};

}  // namespace medscribe::fhir
