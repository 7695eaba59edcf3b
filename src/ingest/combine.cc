#include "ingest/combine.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <system_error>
#include <vector>

#include "common/files.h"
#include "common/npy.h"
#include "crypto/hmac.h"
#include "dataset/shard.h"
#include "ingest/manifest.h"
#include "monitor/features.h"

namespace medscribe::ingest {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// How a version prepares its images: settings.options mm_per_pixel and image_size (0: not set);
// nullopt when its settings have no options (a feedback export holds the images the model read).
std::optional<std::pair<double, double>> ImagePreparation(const std::string& settings_json) {
  const Json s = Json::parse(settings_json, nullptr, false);
  if (!s.is_object() || !s.contains("options") || !s["options"].is_object()) return std::nullopt;
  const Json& options = s["options"];
  const auto number = [&](const char* key) {
    const auto it = options.find(key);
    return it != options.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  return std::pair{number("mm_per_pixel"), number("image_size")};
}

std::string SaysPreparation(const std::pair<double, double>& p) {
  std::string out = p.first > 0 ? fmt::format("resampled to {} mm per pixel", p.first)
                                : std::string("not resampled");
  if (p.second > 0) out += fmt::format(", {} px", p.second);
  return out;
}

// `images` images of `from` pixels averaged down by a whole factor to `to`; InvalidArgument when
// `from` is not the same whole multiple of `to` in both directions.
StatusOr<std::vector<float>> BoxDownsample(const std::vector<float>& pixels, int64_t images,
                                           std::pair<int64_t, int64_t> from,
                                           std::pair<int64_t, int64_t> to) {
  if (to.first <= 0 || to.second <= 0 || from.first % to.first || from.second % to.second ||
      from.first / to.first != from.second / to.second)
    return InvalidArgumentError("not a whole factor");
  const int64_t f = from.first / to.first;
  std::vector<float> out(static_cast<size_t>(images * to.first * to.second));
  for (int64_t i = 0; i < images; ++i)
    for (int64_t r = 0; r < to.first; ++r)
      for (int64_t c = 0; c < to.second; ++c) {
        double sum = 0;
        for (int64_t y = 0; y < f; ++y)
          for (int64_t x = 0; x < f; ++x)
            sum +=
                pixels[static_cast<size_t>((i * from.first + r * f + y) * from.second + c * f + x)];
        out[static_cast<size_t>((i * to.first + r) * to.second + c)] =
            static_cast<float>(sum / static_cast<double>(f * f));
      }
  return out;
}

// Writes samples of one split into shards of about `limit` bytes, named <split>-NNNNNN.tar in
// the part directory.
class SplitWriter {
 public:
  SplitWriter(fs::path dir, std::string split, uint64_t limit)
      : dir_(std::move(dir)), split_(std::move(split)), limit_(limit) {}

  // The shard the sample went to.
  StatusOr<std::string> Add(const std::vector<const dataset::ShardMember*>& members) {
    if (!writer_) {
      name_ = fmt::format("{}-{:06d}.tar", split_, shards_.size());
      ASSIGN_OR_RETURN(writer_, dataset::ShardWriter::Create((dir_ / name_).string()));
    }
    for (const dataset::ShardMember* m : members) {
      RETURN_IF_ERROR(writer_->Add(m->name, m->data));
      bytes_ += m->data.size();
    }
    ++samples_;
    const std::string shard = name_;
    if (bytes_ >= limit_) RETURN_IF_ERROR(Close());
    return shard;
  }

  Status Close() {
    if (!writer_) return OkStatus();
    ASSIGN_OR_RETURN(dataset::ShardSummary sum, writer_->Finish());
    shards_.push_back({name_, split_, sum.sha256, sum.bytes, samples_});
    writer_.reset();
    bytes_ = samples_ = 0;
    return OkStatus();
  }

  const std::vector<ShardEntry>& shards() const { return shards_; }

 private:
  fs::path dir_;
  std::string split_;
  uint64_t limit_;
  std::unique_ptr<dataset::ShardWriter> writer_;
  std::string name_;
  uint64_t bytes_ = 0, samples_ = 0;
  std::vector<ShardEntry> shards_;
};

// The combined version written into `out` (which CombineDatasets prepared).
StatusOr<CombineResult> Combine(const CombineOptions& o, const fs::path& out) {
  ASSIGN_OR_RETURN(const std::string base_id, DatasetId(o.base));
  ASSIGN_OR_RETURN(const std::string added_id, DatasetId(o.added));
  ASSIGN_OR_RETURN(const Part base, ReadDatasetPart(o.base));
  ASSIGN_OR_RETURN(const Part added, ReadDatasetPart(o.added));
  const auto base_prep = ImagePreparation(base.settings_json);
  const auto added_prep = ImagePreparation(added.settings_json);
  if (base_prep && added_prep && *base_prep != *added_prep) {
    return FailedPreconditionError(
        "the images of '" + o.base.string() + "' were " + SaysPreparation(*base_prep) +
        " and those of '" + o.added.string() + "' " + SaysPreparation(*added_prep) +
        "; a model reads images one way, so combine versions prepared alike (ingest both with "
        "the same --image-spacing and --image-size)");
  }
  std::error_code ec;
  const fs::path part_dir = PartDir(out, 0, 1);
  fs::create_directories(part_dir, ec);
  if (ec) return IoError("cannot create '" + part_dir.string() + "': " + ec.message());

  std::map<std::string, std::string> patient_split;  // the base's split of each patient
  for (const IndexEntry& e : base.index) patient_split.emplace(e.patient_id, e.split);
  std::set<std::string> added_keys;
  for (const IndexEntry& e : added.index) added_keys.insert(e.key);

  CombineResult result;
  Part part;
  std::map<std::string, std::unique_ptr<SplitWriter>> writers;
  monitor::ProfileBuilder drift;
  std::pair<int64_t, int64_t> image_size{0, 0};  // rows and columns of the base's images
  // Copies the samples of one version, in its shards' order.
  const auto copy = [&](const fs::path& dir, const Part& from, bool is_base) -> Status {
    std::map<std::string, const IndexEntry*> by_key;
    for (const IndexEntry& e : from.index) by_key[e.key] = &e;
    for (const ShardEntry& s : from.shards) {
      const std::string where = dir.string() + "/" + s.name;
      ASSIGN_OR_RETURN(const std::string bytes, ReadFile(dir / s.name));
      if (bytes.size() != s.bytes || crypto::Hex(crypto::Sha256(bytes)) != s.sha256)
        return DataLossError(where +
                             " does not match its digest in the manifest (run `medscribe "
                             "dataset verify`)");
      auto members = dataset::ReadShard(bytes);
      if (!members.ok()) return DataLossError(where + ": " + members.status().message());
      // The members of one sample are adjacent.
      for (size_t i = 0; i < members->size();) {
        const std::string key = (*members)[i].key();
        std::vector<const dataset::ShardMember*> sample;
        for (; i < members->size() && (*members)[i].key() == key; ++i)
          sample.push_back(&(*members)[i]);
        const auto it = by_key.find(key);
        if (it == by_key.end())
          return DataLossError(where + ": sample " + key + " is not in its index.jsonl");
        if (is_base && added_keys.count(key)) {
          ++result.replaced;
          continue;
        }
        IndexEntry e = *it->second;
        if (!is_base) {
          const auto p = patient_split.find(e.patient_id);
          if (p != patient_split.end() && p->second != e.split) {
            e.split = p->second;
            ++result.moved;
          }
        }
        std::vector<dataset::ShardMember> scaled;  // members rewritten at the base's size
        scaled.reserve(sample.size());
        for (const dataset::ShardMember* m : sample) {
          if (m->field() != "img.npy") continue;
          auto layout = ParseNpyFloat32(m->data);
          if (!layout.ok())
            return DataLossError(where + ": " + key + ".img.npy: " + layout.status().message());
          if (layout->shape.size() != 3 || layout->count == 0)
            return DataLossError(where + ": " + key + ".img.npy is not [images, rows, columns]");
          std::pair<int64_t, int64_t> size{layout->shape[1], layout->shape[2]};
          if (image_size.first == 0) image_size = size;
          std::vector<float> pixels(layout->count);
          std::memcpy(pixels.data(), m->data.data() + layout->data_offset, layout->count * 4);
          if (size != image_size && !is_base && !added_prep) {
            // Images the workflow prepared at a multiple of the base's size: averaged down.
            auto down = BoxDownsample(pixels, layout->shape[0], size, image_size);
            if (down.ok()) {
              pixels = std::move(down).value();
              size = image_size;
              ++result.resampled;
              scaled.push_back(
                  {m->name, EncodeNpyFloat32(pixels.data(), {static_cast<size_t>(layout->shape[0]),
                                                             static_cast<size_t>(size.first),
                                                             static_cast<size_t>(size.second)})});
            }
          }
          if (size != image_size)
            return FailedPreconditionError(fmt::format(
                "{}: the image of {} is {}x{} pixels, the base's are {}x{}; a model reads images "
                "one way, so combine versions prepared alike",
                where, key, size.first, size.second, image_size.first, image_size.second));
          if (e.split == "train")  // the first image, for drift
            monitor::AddImageFeatures(pixels.data(), static_cast<size_t>(size.first * size.second),
                                      drift);
        }
        if (!scaled.empty()) {
          for (const dataset::ShardMember* m : sample) {
            if (m->field() != "json") continue;
            Json j = Json::parse(m->data, nullptr, false);
            if (j.is_object() && j.contains("modalities") && j["modalities"].is_object() &&
                j["modalities"].contains("image") && j["modalities"]["image"].is_object() &&
                j["modalities"]["image"].contains("shape"))
              j["modalities"]["image"]["shape"] = {1, image_size.first, image_size.second};
            scaled.push_back({m->name, j.dump(-1, ' ', false, Json::error_handler_t::replace)});
          }
          for (const dataset::ShardMember*& m : sample) {
            for (const dataset::ShardMember& r : scaled)
              if (r.name == m->name) m = &r;
          }
        }
        auto& w = writers[e.split];
        if (!w) w = std::make_unique<SplitWriter>(part_dir, e.split, o.shard_bytes);
        ASSIGN_OR_RETURN(e.shard, w->Add(sample));
        if (e.split == "train") {
          for (const dataset::ShardMember* m : sample) {
            if (m->field() == "json") {
              monitor::AddSampleFeatures(m->data, drift);
              const Json j = Json::parse(m->data, nullptr, false);
              if (j.is_object())
                monitor::AddReportFeatures(j.value("target_report", std::string()), drift);
            }
          }
        }
        part.index.push_back(std::move(e));
        ++result.samples;
      }
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(copy(o.base, base, true));
  RETURN_IF_ERROR(copy(o.added, added, false));
  for (auto& [split, w] : writers) {
    RETURN_IF_ERROR(w->Close());
    part.shards.insert(part.shards.end(), w->shards().begin(), w->shards().end());
  }

  part.settings_json =
      Json{{"kind", "combined"},
           {"base", {{"dataset_id", base_id}, {"settings", Json::parse(base.settings_json)}}},
           {"added", {{"dataset_id", added_id}, {"settings", Json::parse(added.settings_json)}}},
           {"options",
            Json::parse(base.settings_json)
                .value("options",
                       Json::parse(added.settings_json).value("options", Json::object()))},
           {"tool", "medscribe dataset combine"}}
          .dump();
  part.lineage = base.lineage;
  part.lineage.insert(part.lineage.end(), added.lineage.begin(), added.lineage.end());
  for (const auto& [dir, id] : {std::pair{&o.base, &base_id}, std::pair{&o.added, &added_id}}) {
    uint64_t bytes = 0;
    if (auto text = ReadFile(*dir / "manifest.json"); text.ok()) bytes = text->size();
    part.lineage.push_back(
        {"dataset", fs::absolute(*dir).lexically_normal().filename().string(), *id, bytes});
  }
  part.quarantine = base.quarantine;
  part.quarantine.insert(part.quarantine.end(), added.quarantine.begin(), added.quarantine.end());
  for (const Part* p : {&base, &added}) {
    for (const auto& [kind, t] : p->tallies) {
      Tally& x = part.tallies[kind];
      x.inputs += t.inputs;
      x.ingested += t.ingested;
      x.quarantined += t.quarantined;
    }
  }
  part.fhir_other_types = base.fhir_other_types + added.fhir_other_types;
  if (!drift.empty()) part.drift_state = drift.StateJson();
  RETURN_IF_ERROR(WriteFile(part_dir / "part.json", PartToJson(part)));
  ASSIGN_OR_RETURN(result.dataset_id, MergeParts(out));
  return result;
}

}  // namespace

StatusOr<CombineResult> CombineDatasets(const CombineOptions& o) {
  RETURN_IF_ERROR(DatasetId(o.base).status());
  RETURN_IF_ERROR(DatasetId(o.added).status());
  std::error_code ec;
  const fs::path out = fs::absolute(o.out).lexically_normal();
  for (const fs::path& in : {o.base, o.added}) {
    if (fs::equivalent(out, in, ec))
      return InvalidArgumentError("--out '" + o.out.string() +
                                  "' is one of the inputs; write the new version elsewhere");
  }
  if (fs::exists(out)) {
    if (!o.force)
      return AlreadyExistsError("'" + o.out.string() +
                                "' exists; give another --out, or --force to replace it");
    if (!fs::exists(out / "manifest.json") && !fs::is_empty(out, ec))
      return AlreadyExistsError("'" + o.out.string() +
                                "' exists and is not a dataset; --force replaces only a dataset");
    fs::remove_all(out, ec);
    if (ec) return IoError("cannot remove '" + out.string() + "': " + ec.message());
  }
  auto r = Combine(o, out);
  if (!r.ok()) fs::remove_all(out, ec);  // nothing half-written is left behind
  return r;
}

}  // namespace medscribe::ingest
