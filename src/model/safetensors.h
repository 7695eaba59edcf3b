// safetensors: the tensor file format of Hugging Face (https://huggingface.co/docs/safetensors).
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"<key>": "<string>"}}
// then the tensor bytes (little-endian, row-major), offsets relative to the end of the header.
//
// Reading treats the file as untrusted: the header size, every dtype, shape and offset range is
// checked against the file before any tensor is created, ranges may not overlap, and element
// counts must match byte counts. Tensors are copied out of the file (no aliasing of the buffer).
//
// Thread safety: free functions on independent data.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "common/status.h"

namespace medscribe::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct Safetensors {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Serializes tensors (moved to CPU and made contiguous) in the given order. InvalidArgument for a
// duplicate or empty name or an unsupported dtype.
StatusOr<std::string> EncodeSafetensors(const NamedTensors& tensors,
                                        const std::map<std::string, std::string>& metadata = {});
Status SaveSafetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// DataLoss for a malformed file, with the reason.
StatusOr<Safetensors> DecodeSafetensors(std::string_view bytes);
StatusOr<Safetensors> LoadSafetensors(const std::string& path);

// Loads a model directory's weights: `model.safetensors`, or the shards named by
// `model.safetensors.index.json` ({"weight_map": {"<tensor>": "<file>"}}). NotFound when neither
// exists.
StatusOr<Safetensors> LoadSafetensorsDir(const std::string& dir);

}  // namespace medscribe::model
