#include "model/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "model/io.h"
#include "model/json.h"

namespace medscribe::model {
namespace {

constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  size_t bytes;
};
constexpr DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64, 8},   {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},     {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* ByName(std::string_view name) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}
const DtypeInfo* ByType(torch::ScalarType t) {
  for (const DtypeInfo& d : kDtypes) {
    if (d.type == t) return &d;
  }
  return nullptr;
}

StatusOr<std::string> Slurp(const std::string& path) { return ReadBytes(path); }

}  // namespace

StatusOr<std::string> EncodeSafetensors(const NamedTensors& tensors,
                                        const std::map<std::string, std::string>& metadata) {
  json::Object header;
  std::vector<torch::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__" || header.count(name)) {
      return InvalidArgumentError("tensor name '" + name + "' is empty, reserved or repeated");
    }
    const DtypeInfo* d = ByType(t.scalar_type());
    if (!d) return InvalidArgumentError("tensor '" + name + "' has an unsupported dtype");
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * d->bytes;
    json::Array shape;
    for (int64_t s : c.sizes()) shape.push_back(json::Value(s));
    header[name] = json::Value(
        json::Object{{"dtype", json::Value(d->name)},
                     {"shape", json::Value(std::move(shape))},
                     {"data_offsets",
                      json::Value(json::Array{json::Value(offset), json::Value(offset + bytes)})}});
    offset += bytes;
    contiguous.push_back(std::move(c));
  }
  if (!metadata.empty()) {
    json::Object meta;
    for (const auto& [k, v] : metadata) meta[k] = json::Value(v);
    header["__metadata__"] = json::Value(std::move(meta));
  }
  std::string head = json::Dump(json::Value(std::move(header)));
  head.append((8 - head.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += head;
  out.reserve(out.size() + offset);
  for (const torch::Tensor& c : contiguous) {
    out.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  }
  return out;
}

Status SaveSafetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  ASSIGN_OR_RETURN(std::string bytes, EncodeSafetensors(tensors, metadata));
  return WriteBytesAtomic(path, bytes);
}

StatusOr<Safetensors> DecodeSafetensors(std::string_view bytes) {
  if (bytes.size() < 8)
    return DataLossError("safetensors file shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > kMaxHeaderBytes || n > bytes.size() - 8) {
    return DataLossError("safetensors header length " + std::to_string(n) +
                         " exceeds the file or the 100 MiB limit");
  }
  auto header = json::Parse(bytes.substr(8, n));
  if (!header.ok()) return DataLossError("safetensors header: " + header.status().message());
  if (!header->is_object()) return DataLossError("safetensors header is not a JSON object");
  const std::string_view data = bytes.substr(8 + n);
  Safetensors out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header->as_object()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return DataLossError("__metadata__ is not an object");
      for (const auto& [k, v] : entry.as_object()) {
        if (!v.is_string()) return DataLossError("__metadata__ values must be strings");
        out.metadata[k] = v.as_string();
      }
      continue;
    }
    const std::string& tensor = name;  // a structured binding cannot be captured in C++17
    auto bad = [&tensor](const std::string& why) {
      return DataLossError("tensor '" + tensor + "': " + why);
    };
    if (!entry.is_object()) return bad("entry is not an object");
    auto dtype = json::GetString(entry, "dtype");
    if (!dtype.ok()) return bad(dtype.status().message());
    const DtypeInfo* d = ByName(*dtype);
    if (!d) return bad("unsupported dtype " + *dtype);
    const json::Value* shape = entry.Find("shape");
    const json::Value* offsets = entry.Find("data_offsets");
    if (!shape || !shape->is_array() || !offsets || !offsets->is_array() ||
        offsets->as_array().size() != 2) {
      return bad("needs 'shape' and two 'data_offsets'");
    }
    std::vector<int64_t> sizes;
    uint64_t numel = 1;
    for (const json::Value& s : shape->as_array()) {
      if (!s.is_int() || s.as_int() < 0) return bad("shape entries must be non-negative integers");
      sizes.push_back(s.as_int());
      if (s.as_int() != 0 && numel > (uint64_t{1} << 62) / static_cast<uint64_t>(s.as_int())) {
        return bad("shape too large");
      }
      numel *= static_cast<uint64_t>(s.as_int());
    }
    const json::Value& b = offsets->as_array()[0];
    const json::Value& e = offsets->as_array()[1];
    if (!b.is_int() || !e.is_int() || b.as_int() < 0 || e.as_int() < b.as_int() ||
        static_cast<uint64_t>(e.as_int()) > data.size()) {
      return bad("data_offsets outside the file");
    }
    const uint64_t begin = static_cast<uint64_t>(b.as_int()),
                   end = static_cast<uint64_t>(e.as_int());
    if (numel * d->bytes != end - begin) {
      return bad("shape needs " + std::to_string(numel * d->bytes) + " bytes, offsets give " +
                 std::to_string(end - begin));
    }
    ranges.emplace_back(begin, end);
    torch::Tensor t = torch::empty(sizes, torch::TensorOptions().dtype(d->type));
    if (end > begin) std::memcpy(t.data_ptr(), data.data() + begin, end - begin);
    out.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) return DataLossError("tensor data ranges overlap");
  }
  return out;
}

StatusOr<Safetensors> LoadSafetensors(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, Slurp(path));
  auto st = DecodeSafetensors(bytes);
  if (!st.ok()) return Status(st.status().code(), path + ": " + st.status().message());
  return st;
}

StatusOr<Safetensors> LoadSafetensorsDir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single)) return LoadSafetensors(single.string());
  if (!fs::exists(index)) {
    return NotFoundError("'" + dir +
                         "' has neither model.safetensors nor model.safetensors.index.json");
  }
  ASSIGN_OR_RETURN(std::string text, Slurp(index.string()));
  auto j = json::Parse(text);
  if (!j.ok()) return DataLossError(index.string() + ": " + j.status().message());
  const json::Value* map = j->Find("weight_map");
  if (!map || !map->is_object()) return DataLossError(index.string() + " has no weight_map");
  std::set<std::string> files;
  for (const auto& [tensor, file] : map->as_object()) {
    if (!file.is_string() || file.as_string().find('/') != std::string::npos ||
        file.as_string().find("..") != std::string::npos) {
      return DataLossError(index.string() + ": weight_map entry of '" + tensor +
                           "' is not a file name in the directory");
    }
    files.insert(file.as_string());
  }
  Safetensors all;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(Safetensors part, LoadSafetensors((fs::path(dir) / f).string()));
    for (auto& [name, t] : part.tensors) all.tensors[name] = std::move(t);
    for (auto& [k, v] : part.metadata) all.metadata[k] = v;
  }
  for (const auto& [tensor, file] : map->as_object()) {
    if (!all.tensors.count(tensor)) {
      return DataLossError("tensor '" + tensor + "' is listed in the index but not in " +
                           file.as_string());
    }
  }
  return all;
}

}  // namespace medscribe::model
