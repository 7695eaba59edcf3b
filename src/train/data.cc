#include "train/data.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "model/io.h"
#include "model/multimodal.h"
#include "train/npy.h"
#include "train/tar.h"

namespace medscribe::train {
namespace fs = std::filesystem;

namespace {

StatusOr<std::string> Slurp(const fs::path& p) { return model::ReadBytes(p.string()); }

}  // namespace

namespace {

// The shard files of `split`, from the dataset's manifest.
StatusOr<std::vector<std::string>> SplitShards(const std::string& dir, const std::string& split) {
  auto text = Slurp(fs::path(dir) / "manifest.json");
  if (!text.ok()) {
    return NotFoundError("'" + dir +
                         "' is not a dataset (no manifest.json); create one with "
                         "`medscribe ingest`");
  }
  auto manifest = model::json::Parse(*text);
  if (!manifest.ok() || manifest->Find("format") == nullptr ||
      !manifest->Find("format")->is_string() ||
      manifest->Find("format")->as_string() != "medscribe-dataset") {
    return DataLossError("'" + dir + "/manifest.json' is not a MedScribe dataset manifest");
  }
  const model::json::Value* shards = manifest->Find("shards");
  if (!shards || !shards->is_array()) return DataLossError("manifest.json lists no shards");
  std::vector<std::string> out;
  for (const model::json::Value& s : shards->as_array()) {
    const model::json::Value* name = s.Find("name");
    const model::json::Value* sp = s.Find("split");
    if (!name || !name->is_string() || !sp || !sp->is_string()) {
      return DataLossError("manifest.json has a malformed shard entry");
    }
    if (sp->as_string() != split) continue;
    if (name->as_string().find('/') != std::string::npos) {
      return DataLossError("manifest.json names a shard outside the dataset directory");
    }
    out.push_back((fs::path(dir) / name->as_string()).string());
  }
  return out;
}

Status Decode(const std::string& where, std::string_view json, std::string_view npy, RawSample& r) {
  auto j = model::json::Parse(json);
  if (!j.ok()) return DataLossError(where + ".json: " + j.status().message());
  r.sample = std::move(j).value();
  if (!r.sample.is_object()) return DataLossError(where + ".json is not an object");
  auto t = ReadNpyFloat32(npy);
  if (!t.ok()) return DataLossError(where + ".img.npy: " + t.status().message());
  if (t->dim() != 3 || t->size(0) < 1) {
    return DataLossError(where + ".img.npy is not [images, S, S]");
  }
  r.image = (*t)[0].unsqueeze(0).clone();
  return OkStatus();
}

}  // namespace

namespace {

// How ingest prepared the dataset's images, from the manifest's settings.options: the spacing
// they were resampled to and their size, each 0 when the manifest does not record it.
struct ImagePreparation {
  double mm_per_pixel = 0, image_size = 0;
};
StatusOr<ImagePreparation> ManifestImagePreparation(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, Slurp(fs::path(dir) / "manifest.json"));
  auto manifest = model::json::Parse(text);
  if (!manifest.ok()) return DataLossError("'" + dir + "/manifest.json' is not JSON");
  const model::json::Value* settings = manifest->Find("settings");
  const model::json::Value* options = settings ? settings->Find("options") : nullptr;
  const auto positive = [&](std::string_view key) {
    const model::json::Value* v = options ? options->Find(key) : nullptr;
    return v && v->is_number() && v->as_double() > 0 ? v->as_double() : 0.0;
  };
  return ImagePreparation{positive("mm_per_pixel"), positive("image_size")};
}

}  // namespace

StatusOr<double> DatasetImageSpacing(const std::string& dir) {
  ASSIGN_OR_RETURN(const ImagePreparation p, ManifestImagePreparation(dir));
  return p.mm_per_pixel;
}

Status CheckDatasetImageSpacing(const std::string& dir, const model::VisionConfig& v) {
  ASSIGN_OR_RETURN(const ImagePreparation p, ManifestImagePreparation(dir));
  const double size = p.image_size > 0 ? p.image_size : v.image_size;
  const double at_model = p.mm_per_pixel * size / v.image_size;
  if (model::SameImageSpacing(at_model, v.mm_per_pixel)) return OkStatus();
  const auto says = [](double mm) {
    return mm > 0 ? "resampled to " + std::to_string(mm).substr(0, 6) + " mm per pixel"
                  : std::string("fitted to the square");
  };
  return FailedPreconditionError("the images of '" + dir + "' were " + says(at_model) +
                                 " (at the model's input), but the model reads images " +
                                 says(v.mm_per_pixel) +
                                 "; use a dataset ingested as the model's was (`medscribe ingest "
                                 "--image-spacing`)");
}

StatusOr<SplitIndex> IndexSplit(const std::string& dir, const std::string& split) {
  SplitIndex index;
  ASSIGN_OR_RETURN(index.shards, SplitShards(dir, split));
  for (size_t shard = 0; shard < index.shards.size(); ++shard) {
    const std::string name = fs::path(index.shards[shard]).filename().string();
    ASSIGN_OR_RETURN(std::string bytes, Slurp(index.shards[shard]));
    auto members = ReadTar(bytes);
    if (!members.ok()) return DataLossError(name + ": " + members.status().message());
    std::map<std::string, size_t> by_key;
    const size_t first = index.samples.size();
    for (const TarMember& m : *members) {
      const size_t dot = m.name.find('.');
      if (dot == std::string::npos) continue;
      const std::string key = m.name.substr(0, dot), field = m.name.substr(dot + 1);
      if (field != "json" && field != "img.npy") continue;
      auto [it, fresh] = by_key.emplace(key, index.samples.size());
      if (fresh) index.samples.push_back(SampleLocation{shard, key, {}, {}});
      SampleLocation& loc = index.samples[it->second];
      const uint64_t offset = static_cast<uint64_t>(m.data.data() - bytes.data());
      (field == "json" ? loc.json : loc.image) = {offset, m.data.size()};
    }
    for (size_t i = first; i < index.samples.size(); ++i) {
      const SampleLocation& loc = index.samples[i];
      if (loc.json.size > 0 && loc.image.size == 0 &&
          std::string_view(bytes.data() + loc.json.offset, loc.json.size)
                  .find("\"task\":\"discharge_summary\"") != std::string_view::npos) {
        return FailedPreconditionError(
            name + ": sample " + loc.key +
            " is an inpatient stay (task discharge_summary); the report model trains on "
            "radiology samples only (docs/discharge.md)");
      }
      if (index.samples[i].json.size == 0 || index.samples[i].image.size == 0) {
        return DataLossError(name + ": sample " + index.samples[i].key +
                             " lacks its .json or .img.npy");
      }
    }
  }
  return index;
}

StatusOr<RawSample> ReadSample(const SplitIndex& index, size_t i) {
  const SampleLocation& loc = index.samples.at(i);
  const std::string& path = index.shards[loc.shard];
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open shard '" + path + "'");
  auto read = [&](const SampleLocation::Span& s) -> StatusOr<std::string> {
    std::string buf(s.size, '\0');
    in.seekg(static_cast<std::streamoff>(s.offset));
    if (!in.read(buf.data(), static_cast<std::streamsize>(s.size))) {
      return DataLossError("shard '" + path + "' is shorter than when it was indexed");
    }
    return buf;
  };
  ASSIGN_OR_RETURN(std::string json, read(loc.json));
  ASSIGN_OR_RETURN(std::string npy, read(loc.image));
  RawSample r;
  r.key = loc.key;
  RETURN_IF_ERROR(Decode(fs::path(path).filename().string() + ": " + loc.key, json, npy, r));
  return r;
}

StatusOr<SplitSamples> ReadSplit(const std::string& dir, const std::string& split) {
  ASSIGN_OR_RETURN(SplitIndex index, IndexSplit(dir, split));
  SplitSamples out;
  for (size_t i = 0; i < index.samples.size(); ++i) {
    ASSIGN_OR_RETURN(RawSample r, ReadSample(index, i));
    out.samples.push_back(std::move(r));
  }
  return out;
}

bool DropModality(uint64_t seed, uint64_t draw, double p) {
  if (p <= 0) return false;
  uint64_t h = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ (draw + 0x632BE59BD9B4E019ULL);
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53) < p;
}

torch::Tensor DecisionTokenWeights(const TextEncoder& enc, double weight) {
  static const std::set<std::string> kDecisions = {
      "left",    "right",     "bilateral", "small",     "moderate", "large",  "mild",     "severe",
      "trace",   "minimal",   "tiny",      "upper",     "middle",   "lower",  "basilar",  "apical",
      "new",     "increased", "decreased", "unchanged", "improved", "stable", "worsened", "larger",
      "smaller", "resolved",  "resolving", "no",        "without",  "mm",     "cm"};
  const int v = enc.vocab_size();
  std::vector<float> w(static_cast<size_t>(v), 1.0f);
  for (int id = 0; id < v; ++id) {
    std::string piece;
    for (char c : enc.Decode({id}))
      if (std::isalnum(static_cast<unsigned char>(c)))
        piece += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool digits = !piece.empty() && std::all_of(piece.begin(), piece.end(), ::isdigit);
    if (digits || kDecisions.count(piece)) w[static_cast<size_t>(id)] = static_cast<float>(weight);
  }
  return torch::tensor(w, torch::kFloat32);
}

Example MakeExample(const RawSample& s, const TextEncoder& enc, const model::PromptOptions& o,
                    size_t max_tokens) {
  Example e;
  e.key = s.key;
  e.image = s.image;
  auto prompt = model::BuildPrompt(s.sample, o);
  const std::string text = prompt.ok() ? prompt->text : "<image>\n<report>";
  const std::string target = prompt.ok() ? prompt->target : "";
  e.input_ids.push_back(enc.bos());
  for (int id : enc.Encode(text)) e.input_ids.push_back(id);
  e.labels.assign(e.input_ids.size(), model::kIgnoreIndex);
  for (int id : enc.Encode(" " + target)) {
    e.input_ids.push_back(id);
    e.labels.push_back(id);
  }
  e.input_ids.push_back(enc.eos());
  e.labels.push_back(enc.eos());
  if (e.input_ids.size() > max_tokens) {
    e.input_ids.resize(max_tokens);
    e.labels.resize(max_tokens);
  }
  return e;
}

Batch Collate(const std::vector<const Example*>& examples, int pad_id) {
  size_t t = 0;
  for (const Example* e : examples) t = std::max(t, e->input_ids.size());
  const int64_t b = static_cast<int64_t>(examples.size());
  Batch out;
  out.input_ids = torch::full({b, static_cast<int64_t>(t)}, pad_id, torch::kLong);
  out.attention_mask = torch::zeros({b, static_cast<int64_t>(t)}, torch::kLong);
  out.labels = torch::full({b, static_cast<int64_t>(t)}, model::kIgnoreIndex, torch::kLong);
  std::vector<torch::Tensor> images, targets;
  for (int64_t i = 0; i < b; ++i) {
    const Example& e = *examples[i];
    const int64_t n = static_cast<int64_t>(e.input_ids.size());
    out.input_ids[i].narrow(0, 0, n).copy_(torch::tensor(e.input_ids, torch::kLong));
    out.labels[i].narrow(0, 0, n).copy_(torch::tensor(e.labels, torch::kLong));
    out.attention_mask[i].narrow(0, 0, n).fill_(1);
    for (int64_t l : e.labels) out.target_tokens += l != model::kIgnoreIndex;
    images.push_back(e.image);
    out.keys.push_back(e.key);
    if (e.finding_targets.defined()) targets.push_back(e.finding_targets);
  }
  if (b == 0) return out;  // an empty Poisson batch: no images
  out.images = torch::stack(images);
  if (!targets.empty() && targets.size() == examples.size())
    out.finding_targets = torch::stack(targets);
  return out;
}

Batch Row(const Batch& b, int64_t i) {
  const int64_t len = b.attention_mask[i].sum().item<int64_t>();
  Batch out;
  out.input_ids = b.input_ids.narrow(0, i, 1).narrow(1, 0, len);
  out.attention_mask = b.attention_mask.narrow(0, i, 1).narrow(1, 0, len);
  out.labels = b.labels.narrow(0, i, 1).narrow(1, 0, len);
  out.target_tokens = out.labels.ne(model::kIgnoreIndex).sum().item<int64_t>();
  if (b.images.defined()) out.images = b.images.narrow(0, i, 1);
  out.keys = {b.keys[static_cast<size_t>(i)]};
  if (b.finding_targets.defined()) out.finding_targets = b.finding_targets.narrow(0, i, 1);
  return out;
}

std::vector<size_t> LengthBucketed(std::vector<size_t> order, const std::vector<int>& lengths,
                                   size_t window, size_t batch, uint64_t seed, uint64_t epoch) {
  std::mt19937_64 rng((seed ^ 0xB0C4E75EEDULL) * 0x9E3779B97F4A7C15ULL + epoch);
  const auto shorter = [&](size_t a, size_t b) { return lengths[a] < lengths[b]; };
  std::vector<size_t> out;
  out.reserve(order.size());
  for (size_t w = 0; w < order.size(); w += window) {
    const size_t end = std::min(order.size(), w + window);
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(w),
                     order.begin() + static_cast<std::ptrdiff_t>(end), shorter);
    std::vector<size_t> starts;  // of the window's batches
    for (size_t b = w; b < end; b += batch) starts.push_back(b);
    for (size_t i = starts.size(); i > 1; --i) std::swap(starts[i - 1], starts[rng() % i]);
    for (size_t b : starts)
      out.insert(out.end(), order.begin() + static_cast<std::ptrdiff_t>(b),
                 order.begin() + static_cast<std::ptrdiff_t>(std::min(end, b + batch)));
  }
  return out;
}

std::vector<size_t> EpochOrder(size_t n, uint64_t seed, uint64_t epoch) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + epoch);
  for (size_t i = n; i > 1; --i) {  // Fisher-Yates with the engine's raw output: portable
    std::swap(order[i - 1], order[rng() % i]);
  }
  return order;
}

}  // namespace medscribe::train
