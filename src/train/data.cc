#include "train/data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
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

StatusOr<SplitSamples> ReadSplit(const std::string& dir, const std::string& split) {
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
  SplitSamples out;
  const model::json::Value* shards = manifest->Find("shards");
  if (!shards || !shards->is_array()) return DataLossError("manifest.json lists no shards");
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
    ASSIGN_OR_RETURN(std::string bytes, Slurp(fs::path(dir) / name->as_string()));
    auto members = ReadTar(bytes);
    if (!members.ok()) return DataLossError(name->as_string() + ": " + members.status().message());
    std::map<std::string, RawSample> by_key;
    std::vector<std::string> order;
    for (const TarMember& m : *members) {
      const size_t dot = m.name.find('.');
      if (dot == std::string::npos) continue;
      const std::string key = m.name.substr(0, dot), field = m.name.substr(dot + 1);
      if (!by_key.count(key)) order.push_back(key);
      RawSample& r = by_key[key];
      r.key = key;
      if (field == "json") {
        auto j = model::json::Parse(m.data);
        if (!j.ok())
          return DataLossError(name->as_string() + ": " + m.name + ": " + j.status().message());
        r.sample = std::move(j).value();
      } else if (field == "img.npy") {
        auto t = ReadNpyFloat32(m.data);
        if (!t.ok())
          return DataLossError(name->as_string() + ": " + m.name + ": " + t.status().message());
        if (t->dim() != 3 || t->size(0) < 1) {
          return DataLossError(name->as_string() + ": " + m.name + " is not [images, S, S]");
        }
        r.image = (*t)[0].unsqueeze(0).clone();
      }
    }
    for (const std::string& key : order) {
      RawSample& r = by_key[key];
      if (!r.sample.is_object() || !r.image.defined()) {
        return DataLossError(name->as_string() + ": sample " + key +
                             " lacks its .json or .img.npy");
      }
      out.samples.push_back(std::move(r));
    }
  }
  return out;
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
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < b; ++i) {
    const Example& e = *examples[i];
    const int64_t n = static_cast<int64_t>(e.input_ids.size());
    out.input_ids[i].narrow(0, 0, n).copy_(torch::tensor(e.input_ids, torch::kLong));
    out.labels[i].narrow(0, 0, n).copy_(torch::tensor(e.labels, torch::kLong));
    out.attention_mask[i].narrow(0, 0, n).fill_(1);
    for (int64_t l : e.labels) out.target_tokens += l != model::kIgnoreIndex;
    images.push_back(e.image);
  }
  out.images = torch::stack(images);
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
