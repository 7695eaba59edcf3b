#include "model/gguf.h"

#include <cstdio>
#include <cstring>
#include <map>

#include "model/export.h"
#include "model/io.h"

namespace medscribe::model {
namespace {

constexpr uint32_t kGgufVersion = 3;
constexpr size_t kAlignment = 32;
constexpr int64_t kBlock = 32;

// GGUF metadata value types.
enum : uint32_t {
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
};

// The GGML tensor type and the llama_ftype (the file's main type) of each export type.
struct TypeCodes {
  uint32_t ggml, file;
};
TypeCodes CodesOf(GgufType t) {
  switch (t) {
    case GgufType::kF32:
      return {0, 0};
    case GgufType::kF16:
      return {1, 1};
    case GgufType::kQ4_0:
      return {2, 2};
    case GgufType::kQ8_0:
      return {8, 7};
  }
  return {0, 0};
}

// Little-endian GGUF serialization into a byte string.
class Writer {
 public:
  template <typename T>
  void Raw(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void Str(std::string_view s) {
    Raw<uint64_t>(s.size());
    out_.append(s);
  }
  void KeyU32(std::string_view k, uint32_t v) { Key(k, kU32), Raw(v); }
  void KeyF32(std::string_view k, float v) { Key(k, kF32), Raw(v); }
  void KeyBool(std::string_view k, bool v) { Key(k, kBool), Raw<uint8_t>(v ? 1 : 0); }
  void KeyStr(std::string_view k, std::string_view v) { Key(k, kString), Str(v); }
  void KeyStrings(std::string_view k, const std::vector<std::string>& v) {
    Key(k, kArray), Raw(kString), Raw<uint64_t>(v.size());
    for (const std::string& s : v) Str(s);
  }
  template <typename T>
  void KeyArray(std::string_view k, uint32_t type, const std::vector<T>& v) {
    Key(k, kArray), Raw(type), Raw<uint64_t>(v.size());
    for (const T& x : v) Raw(x);
  }
  void Pad() { out_.resize((out_.size() + kAlignment - 1) / kAlignment * kAlignment, '\0'); }
  std::string& bytes() { return out_; }
  int keys = 0;

 private:
  void Key(std::string_view k, uint32_t type) {
    Str(k);
    Raw(type);
    ++keys;
  }
  std::string out_;
};

std::string Bytes(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()),
                     static_cast<size_t>(c.numel()) * c.element_size());
}

// HF rotate-half rows of a query or key projection [heads * head_dim, in] to llama.cpp's
// interleaved pairs: within each head, row i of the first half and row i of the second half
// become rows 2i and 2i + 1.
torch::Tensor InterleaveRope(const torch::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0), half = rows / heads / 2;
  return w.reshape({heads, 2, half, w.size(1)}).transpose(1, 2).reshape({rows, w.size(1)});
}

struct OutTensor {
  std::string name;
  std::vector<int64_t> shape;  // torch order: [rows, cols]
  uint32_t type;
  std::string data;
};

}  // namespace

StatusOr<GgufType> ParseGgufType(std::string_view name) {
  if (name == "f32") return GgufType::kF32;
  if (name == "f16") return GgufType::kF16;
  if (name == "q8_0") return GgufType::kQ8_0;
  if (name == "q4_0") return GgufType::kQ4_0;
  return InvalidArgumentError("unknown GGUF type '" + std::string(name) +
                              "' (f32, f16, q8_0 or q4_0)");
}

GgufVocab PlaceholderVocab(int size) {
  GgufVocab v;
  constexpr const char* kSpecial[] = {"<pad>", "<unk>", "<s>", "</s>"};
  for (int i = 0; i < size; ++i) {
    char piece[16];
    if (i < 4) {
      std::snprintf(piece, sizeof(piece), "%s", kSpecial[i]);
    } else if (i < 260) {
      std::snprintf(piece, sizeof(piece), "<0x%02X>", i - 4);
    } else {
      std::snprintf(piece, sizeof(piece), "\xe2\x96\x81w%d", i);
    }
    v.tokens.emplace_back(piece);
    v.scores.push_back(i < 260 ? 0.0f : -static_cast<float>(i));
    v.types.push_back(i == 1    ? kGgufUnknown
                      : i < 4   ? kGgufControl
                      : i < 260 ? kGgufByte
                                : kGgufNormal);
  }
  return v;
}

std::string QuantizeBlocks(const torch::Tensor& t, GgufType type) {
  const torch::Tensor x = t.to(torch::kFloat32).contiguous().reshape({-1, kBlock});
  const int64_t blocks = x.size(0);
  torch::Tensor d, q;
  if (type == GgufType::kQ8_0) {
    d = x.abs().amax(1) / 127.0;
    const torch::Tensor id = torch::where(d > 0, 1.0 / d, torch::zeros_like(d));
    q = (x * id.unsqueeze(1)).round().clamp(-127, 127).to(torch::kInt8);
  } else {
    // The value of largest magnitude, sign kept, maps to -8.
    const torch::Tensor at = x.abs().argmax(1, /*keepdim=*/true);
    d = x.gather(1, at).squeeze(1) / -8.0;
    const torch::Tensor id = torch::where(d != 0, 1.0 / d, torch::zeros_like(d));
    q = (x * id.unsqueeze(1) + 8.5).trunc().clamp(0, 15).to(torch::kUInt8);
    q = q.narrow(1, 0, kBlock / 2)
            .bitwise_or(q.narrow(1, kBlock / 2, kBlock / 2).mul(16))
            .contiguous();
  }
  const torch::Tensor d16 = d.to(torch::kHalf).contiguous();
  const size_t qbytes = static_cast<size_t>(q.size(1));
  std::string out;
  out.reserve(static_cast<size_t>(blocks) * (2 + qbytes));
  const char* dp = static_cast<const char*>(d16.data_ptr());
  const char* qp = static_cast<const char*>(q.data_ptr());
  for (int64_t b = 0; b < blocks; ++b) {
    out.append(dp + b * 2, 2);
    out.append(qp + static_cast<size_t>(b) * qbytes, qbytes);
  }
  return out;
}

torch::Tensor DequantizeBlocks(std::string_view bytes, GgufType type, int64_t rows, int64_t cols) {
  const int64_t blocks = rows * cols / kBlock;
  const int64_t qbytes = type == GgufType::kQ8_0 ? kBlock : kBlock / 2;
  torch::Tensor d16 = torch::empty({blocks}, torch::kHalf);
  torch::Tensor q = torch::empty({blocks, qbytes}, torch::kUInt8);
  for (int64_t b = 0; b < blocks; ++b) {
    const char* p = bytes.data() + b * (2 + qbytes);
    std::memcpy(static_cast<char*>(d16.data_ptr()) + b * 2, p, 2);
    std::memcpy(static_cast<char*>(q.data_ptr()) + b * qbytes, p + 2, static_cast<size_t>(qbytes));
  }
  const torch::Tensor d = d16.to(torch::kFloat32).unsqueeze(1);
  torch::Tensor v;
  if (type == GgufType::kQ8_0) {
    v = q.view(torch::kInt8).to(torch::kFloat32);
  } else {
    const torch::Tensor lo = q.bitwise_and(15), hi = q.bitwise_right_shift(4);
    v = torch::cat({lo, hi}, 1).to(torch::kFloat32) - 8;
  }
  return (v * d).reshape({rows, cols});
}

Status WriteGguf(const DecoderConfig& c, const NamedTensors& decoder, const GgufVocab& vocab,
                 GgufType type, const std::string& name, const std::string& path) {
  const size_t v = static_cast<size_t>(c.vocab_size);
  if (vocab.tokens.size() != v || vocab.scores.size() != v || vocab.types.size() != v) {
    return InvalidArgumentError("the tokenizer has " + std::to_string(vocab.tokens.size()) +
                                " pieces; the model's vocabulary is " + std::to_string(v));
  }
  std::map<std::string, torch::Tensor> by_name(decoder.begin(), decoder.end());
  const auto take = [&](const std::string& from,
                        std::vector<int64_t> shape) -> StatusOr<torch::Tensor> {
    auto it = by_name.find(from);
    if (it == by_name.end()) return DataLossError("the decoder has no tensor " + from);
    if (it->second.sizes().vec() != shape) {
      return DataLossError("decoder tensor " + from + " has shape " + c10::str(it->second.sizes()) +
                           ", expected " + c10::str(shape));
    }
    return it->second.to(torch::kFloat32).contiguous();
  };
  std::vector<OutTensor> out;
  const auto add = [&](const std::string& gguf_name, const torch::Tensor& t) {
    OutTensor o{gguf_name, t.sizes().vec(), 0, {}};
    // Quantized blocks run along a row; a vector, or a row that is no multiple of 32, stays f32.
    GgufType as = t.dim() == 1 ? GgufType::kF32 : type;
    if ((as == GgufType::kQ8_0 || as == GgufType::kQ4_0) && t.size(-1) % kBlock != 0)
      as = GgufType::kF16;
    o.type = CodesOf(as).ggml;
    if (as == GgufType::kF32) {
      o.data = Bytes(t);
    } else if (as == GgufType::kF16) {
      o.data = Bytes(t.to(torch::kHalf));
    } else {
      o.data = QuantizeBlocks(t, as);
    }
    out.push_back(std::move(o));
  };
  const int64_t h = c.hidden_size, ff = c.intermediate_size, hd = c.head_dim();
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads;
  ASSIGN_OR_RETURN(torch::Tensor embed, take("model.embed_tokens.weight", {c.vocab_size, h}));
  add("token_embd.weight", embed);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string from = "model.layers." + std::to_string(i) + ".";
    const std::string to = "blk." + std::to_string(i) + ".";
    ASSIGN_OR_RETURN(torch::Tensor attn_norm, take(from + "input_layernorm.weight", {h}));
    ASSIGN_OR_RETURN(torch::Tensor wq, take(from + "self_attn.q_proj.weight", {nh * hd, h}));
    ASSIGN_OR_RETURN(torch::Tensor wk, take(from + "self_attn.k_proj.weight", {nkv * hd, h}));
    ASSIGN_OR_RETURN(torch::Tensor wv, take(from + "self_attn.v_proj.weight", {nkv * hd, h}));
    ASSIGN_OR_RETURN(torch::Tensor wo, take(from + "self_attn.o_proj.weight", {h, nh * hd}));
    ASSIGN_OR_RETURN(torch::Tensor ffn_norm, take(from + "post_attention_layernorm.weight", {h}));
    ASSIGN_OR_RETURN(torch::Tensor gate, take(from + "mlp.gate_proj.weight", {ff, h}));
    ASSIGN_OR_RETURN(torch::Tensor up, take(from + "mlp.up_proj.weight", {ff, h}));
    ASSIGN_OR_RETURN(torch::Tensor down, take(from + "mlp.down_proj.weight", {h, ff}));
    add(to + "attn_norm.weight", attn_norm);
    add(to + "attn_q.weight", InterleaveRope(wq, nh));
    add(to + "attn_k.weight", InterleaveRope(wk, nkv));
    add(to + "attn_v.weight", wv);
    add(to + "attn_output.weight", wo);
    add(to + "ffn_norm.weight", ffn_norm);
    add(to + "ffn_gate.weight", gate);
    add(to + "ffn_up.weight", up);
    add(to + "ffn_down.weight", down);
  }
  ASSIGN_OR_RETURN(torch::Tensor norm, take("model.norm.weight", {h}));
  add("output_norm.weight", norm);
  if (!c.tie_word_embeddings) {
    ASSIGN_OR_RETURN(torch::Tensor head, take("lm_head.weight", {c.vocab_size, h}));
    add("output.weight", head);
  }

  Writer kv;
  kv.KeyStr("general.architecture", "llama");
  kv.KeyStr("general.name", name);
  kv.KeyU32("general.file_type", CodesOf(type).file);
  kv.KeyU32("general.quantization_version", 2);
  kv.KeyU32("general.alignment", kAlignment);
  kv.KeyU32("llama.vocab_size", static_cast<uint32_t>(c.vocab_size));
  kv.KeyU32("llama.context_length", static_cast<uint32_t>(c.max_position_embeddings));
  kv.KeyU32("llama.embedding_length", static_cast<uint32_t>(h));
  kv.KeyU32("llama.block_count", static_cast<uint32_t>(c.num_hidden_layers));
  kv.KeyU32("llama.feed_forward_length", static_cast<uint32_t>(ff));
  kv.KeyU32("llama.rope.dimension_count", static_cast<uint32_t>(hd));
  kv.KeyU32("llama.attention.head_count", static_cast<uint32_t>(nh));
  kv.KeyU32("llama.attention.head_count_kv", static_cast<uint32_t>(nkv));
  kv.KeyF32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  kv.KeyF32("llama.rope.freq_base", static_cast<float>(c.rope_theta));
  kv.KeyStr("tokenizer.ggml.model", "llama");
  kv.KeyStrings("tokenizer.ggml.tokens", vocab.tokens);
  kv.KeyArray("tokenizer.ggml.scores", kF32, vocab.scores);
  kv.KeyArray("tokenizer.ggml.token_type", kI32, vocab.types);
  kv.KeyU32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab.bos));
  kv.KeyU32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(vocab.eos));
  kv.KeyU32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(vocab.unk));
  kv.KeyU32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(vocab.pad));
  kv.KeyBool("tokenizer.ggml.add_bos_token", true);
  kv.KeyBool("tokenizer.ggml.add_eos_token", false);

  Writer file;
  file.bytes() = "GGUF";
  file.Raw(kGgufVersion);
  file.Raw<uint64_t>(out.size());
  file.Raw<uint64_t>(static_cast<uint64_t>(kv.keys));
  file.bytes() += kv.bytes();
  uint64_t offset = 0;
  for (const OutTensor& t : out) {
    file.Str(t.name);
    file.Raw<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) file.Raw<uint64_t>(*d);  // ne0 first
    file.Raw(t.type);
    file.Raw(offset);
    offset += (t.data.size() + kAlignment - 1) / kAlignment * kAlignment;
  }
  file.Pad();
  for (const OutTensor& t : out) {
    file.bytes() += t.data;
    file.Pad();
  }
  return WriteBytesAtomic(path, file.bytes());
}

Status ExportGguf(const std::string& model_dir, const GgufVocab& vocab, GgufType type,
                  const std::string& path) {
  ASSIGN_OR_RETURN(FloatModelFiles files,
                   ReadFloatModelDir(model_dir, "export the float model it came from"));
  NamedTensors decoder;
  for (const auto& [n, t] : files.weights.tensors)
    if (n.rfind("decoder.", 0) == 0) decoder.emplace_back(n.substr(8), t);
  if (decoder.empty()) return DataLossError(model_dir + "/model.safetensors holds no decoder");
  return WriteGguf(files.config.decoder, decoder, vocab, type, files.config.name, path);
}

}  // namespace medscribe::model
