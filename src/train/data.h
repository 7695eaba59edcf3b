// Training examples from a dataset version (docs/formats/dataset.md): the shards of one split,
// indexed once and read sample by sample on demand (the trainer streams the train split) with
// the ML core's own tar and .npy readers, turned into prompts (model/prompt.h) and token ids,
// and batched with padding.
//
// The text encoder is an interface so that the ML core does not depend on a tokenizer library;
// the command line passes the SentencePiece tokenizer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "model/config.h"
#include "model/json.h"
#include "model/prompt.h"

namespace medscribe::train {

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  virtual std::vector<int> Encode(const std::string& text) const = 0;
  virtual std::string Decode(const std::vector<int>& ids) const = 0;
  virtual int vocab_size() const = 0;
  virtual int image_token() const = 0;
  virtual int bos() const = 0;
  virtual int eos() const = 0;
  virtual int pad() const = 0;
};

struct RawSample {
  std::string key;
  model::json::Value sample;  // <key>.json
  torch::Tensor image;        // [1, S, S]: the first image of <key>.img.npy
};

// Where each sample of a split lies in its shard (offsets of its .json and .img.npy members), so
// that samples can be read on demand instead of holding the split in memory.
struct SampleLocation {
  struct Span {
    uint64_t offset = 0, size = 0;
  };
  size_t shard = 0;  // index into SplitIndex::shards
  std::string key;
  Span json, image;
};
struct SplitIndex {
  std::vector<std::string> shards;      // paths
  std::vector<SampleLocation> samples;  // shard order
};
// Walks the shards of `split` once. NotFound when `dir` is not a dataset; DataLoss for a shard
// that does not parse or a sample without its .json or .img.npy. (Shard hashes are `medscribe
// dataset verify`'s job.)
StatusOr<SplitIndex> IndexSplit(const std::string& dir, const std::string& split);
// Reads and decodes sample `i`. REQUIRES: i < index.samples.size(). DataLoss when its bytes do
// not parse. Thread-safe (each call opens the shard itself).
StatusOr<RawSample> ReadSample(const SplitIndex& index, size_t i);

// The pixel spacing in mm that the dataset's images were resampled to (its manifest's
// settings.options.mm_per_pixel, `medscribe ingest --image-spacing`); 0 when they were fitted to
// the square or the manifest does not say.
StatusOr<double> DatasetImageSpacing(const std::string& dir);

// OK when the dataset's images were prepared as a model with vision config `v` reads them:
// resampled to v.mm_per_pixel (scaled by the two image sizes, within 1%), or fitted for a model
// that fits; FailedPrecondition naming both spacings and what to do otherwise.
Status CheckDatasetImageSpacing(const std::string& dir, const model::VisionConfig& v);

// Every sample of `split`, in shard order (IndexSplit, then ReadSample of each).
struct SplitSamples {
  std::vector<RawSample> samples;
};
StatusOr<SplitSamples> ReadSplit(const std::string& dir, const std::string& split);

struct Example {
  std::string key;
  std::vector<int64_t> input_ids;  // bos, prompt, target, eos
  std::vector<int64_t> labels;     // model::kIgnoreIndex over bos and prompt
  torch::Tensor image;             // [1, S, S]
  torch::Tensor finding_targets;   // [kFindingTargetSize] float (model/findings.h), or undefined
};

// A weight per token id of `enc`'s vocabulary [vocab] float: `weight` for the pieces that carry a
// report's decisions — a side (left, right, bilateral), a size or severity (small, mild, large,
// ...), a zone, a change against the prior study (new, increased, unchanged, ...), a negation
// (no, without), a digit — and 1 for the rest, the phrasing.
torch::Tensor DecisionTokenWeights(const TextEncoder& enc, double weight);

// Tokenizes a sample; the sequence is cut at `max_tokens` (the target loses its end first).
Example MakeExample(const RawSample& s, const TextEncoder& enc, const model::PromptOptions& o,
                    size_t max_tokens);

struct Batch {
  torch::Tensor images;           // [B, 1, S, S]
  torch::Tensor input_ids;        // [B, T] padded with pad()
  torch::Tensor attention_mask;   // [B, T]
  torch::Tensor labels;           // [B, T]
  int64_t target_tokens = 0;      // labels that count
  std::vector<std::string> keys;  // the samples' keys, in batch order
  torch::Tensor finding_targets;  // [B, kFindingTargetSize], undefined unless every example has
};
// An empty `examples` gives a batch of 0 rows with no images (undefined).
Batch Collate(const std::vector<const Example*>& examples, int pad_id);
// Row i of `b` as a batch of its own, cut after the row's last attended position.
// REQUIRES: 0 <= i < b.input_ids.size(0); padding on the right (Collate's).
Batch Row(const Batch& b, int64_t i);

// Order of examples for an epoch: a permutation that depends only on (seed, epoch).
std::vector<size_t> EpochOrder(size_t n, uint64_t seed, uint64_t epoch);

// `order` (an epoch's permutation) with each window of `window` consecutive examples sorted by
// `lengths[example]` and cut into batches of `batch`, whose order within the window is then
// shuffled (from seed and epoch): batches of like lengths, so less padding, in a random order.
// The last, shorter window is treated alike. REQUIRES: window and batch > 0; lengths covers
// every example of `order`.
std::vector<size_t> LengthBucketed(std::vector<size_t> order, const std::vector<int>& lengths,
                                   size_t window, size_t batch, uint64_t seed, uint64_t epoch);

// Whether the draw-th example of a run with `seed` is shown without a modality dropped with
// probability `p` (a fixed hash of seed and draw: reproducible, independent between draws).
bool DropModality(uint64_t seed, uint64_t draw, double p);

}  // namespace medscribe::train
