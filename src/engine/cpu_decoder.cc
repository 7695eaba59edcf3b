#include "engine/cpu_decoder.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace medscribe::engine {
namespace {

std::vector<float> Floats(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Rows of `parts` stacked into one weight (same format and input size).
PackedWeight Stack(std::vector<PackedWeight> parts) {
  PackedWeight w = std::move(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    PackedWeight& p = parts[i];
    w.n += p.n;
    w.f32.insert(w.f32.end(), p.f32.begin(), p.f32.end());
    w.bf16.insert(w.bf16.end(), p.bf16.begin(), p.bf16.end());
    w.q8.insert(w.q8.end(), p.q8.begin(), p.q8.end());
    w.q4.insert(w.q4.end(), p.q4.begin(), p.q4.end());
    w.scales.insert(w.scales.end(), p.scales.begin(), p.scales.end());
  }
  return w;
}

WeightFormat HeadFormat(WeightFormat f) {
  return f == WeightFormat::kInt4 ? WeightFormat::kInt8 : f;
}

}  // namespace

int64_t DecoderWeights::streamed_bytes() const {
  int64_t n = head.bytes();
  for (const Layer& l : layers)
    n += l.qkv.bytes() + l.o.bytes() + l.gate_up.bytes() + l.down.bytes();
  return n;
}

model::NamedTensors DecoderTensors(const DecoderWeights& w) {
  // Stored per Hugging Face matrix: split the stacked weights back by rows.
  model::NamedTensors out;
  const model::DecoderConfig& c = w.config;
  const auto f32 = [](const std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
  };
  const auto rows = [](const PackedWeight& p, int64_t r0, int64_t n) {
    PackedWeight s;
    s.format = p.format;
    s.n = n;
    s.k = p.k;
    const auto cut = [&](const auto& v, int64_t per_row) {
      using V = std::decay_t<decltype(v)>;
      if (v.empty()) return V{};
      return V(v.begin() + r0 * per_row, v.begin() + (r0 + n) * per_row);
    };
    s.f32 = cut(p.f32, p.k);
    s.bf16 = cut(p.bf16, p.k);
    s.q8 = cut(p.q8, p.k);
    s.q4 = cut(p.q4, p.k / 2);
    s.scales = cut(p.scales, p.format == WeightFormat::kInt4 ? p.k / kInt4Group : 1);
    return s;
  };
  const auto put = [&](const std::string& name, const PackedWeight& p) {
    for (auto& t : ToStored("decoder." + name + ".weight", p)) out.push_back(std::move(t));
  };
  out.emplace_back("decoder.model.embed_tokens.weight",
                   f32(w.embed, {c.vocab_size, c.hidden_size}));
  const int64_t hd = c.head_dim(), q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd,
                ff = c.intermediate_size;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const DecoderWeights::Layer& L = w.layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.emplace_back("decoder." + p + "input_layernorm.weight", f32(L.attn_norm, {c.hidden_size}));
    out.emplace_back("decoder." + p + "post_attention_layernorm.weight",
                     f32(L.mlp_norm, {c.hidden_size}));
    put(p + "self_attn.q_proj", rows(L.qkv, 0, q));
    put(p + "self_attn.k_proj", rows(L.qkv, q, kv));
    put(p + "self_attn.v_proj", rows(L.qkv, q + kv, kv));
    put(p + "self_attn.o_proj", L.o);
    put(p + "mlp.gate_proj", rows(L.gate_up, 0, ff));
    put(p + "mlp.up_proj", rows(L.gate_up, ff, ff));
    put(p + "mlp.down_proj", L.down);
  }
  out.emplace_back("decoder.model.norm.weight", f32(w.norm, {c.hidden_size}));
  put("lm_head", w.head);
  return out;
}

StatusOr<std::shared_ptr<const DecoderWeights>> DecoderFromTensors(const model::DecoderConfig& c,
                                                                   WeightFormat format,
                                                                   const model::Safetensors& st) {
  auto w = std::make_shared<DecoderWeights>();
  w->config = c;
  w->format = format;
  const auto get = [&](const std::string& name) -> const torch::Tensor* {
    auto it = st.tensors.find("decoder." + name);
    return it == st.tensors.end() ? nullptr : &it->second;
  };
  const auto vec = [&](const std::string& name, int64_t n) -> StatusOr<std::vector<float>> {
    const torch::Tensor* t = get(name);
    if (!t || t->numel() != n || !t->is_floating_point())
      return DataLossError("tensor 'decoder." + name + "' is missing or of the wrong size");
    return Floats(*t);
  };
  const auto packed = [&](const std::string& name, WeightFormat f, int64_t n,
                          int64_t k) -> StatusOr<PackedWeight> {
    const torch::Tensor* v = get(name + ".weight");
    if (!v) return DataLossError("tensor 'decoder." + name + ".weight' is missing");
    const torch::Tensor* s = get(name + ".weight.scales");
    return FromStored("decoder." + name + ".weight", f, n, k, *v, s ? *s : torch::Tensor());
  };
  const int64_t d = c.hidden_size, hd = c.head_dim(), ff = c.intermediate_size;
  const int64_t q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd;
  ASSIGN_OR_RETURN(w->embed, vec("model.embed_tokens.weight", int64_t{c.vocab_size} * d));
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    DecoderWeights::Layer L;
    ASSIGN_OR_RETURN(L.attn_norm, vec(p + "input_layernorm.weight", d));
    ASSIGN_OR_RETURN(L.mlp_norm, vec(p + "post_attention_layernorm.weight", d));
    ASSIGN_OR_RETURN(PackedWeight wq, packed(p + "self_attn.q_proj", format, q, d));
    ASSIGN_OR_RETURN(PackedWeight wk, packed(p + "self_attn.k_proj", format, kv, d));
    ASSIGN_OR_RETURN(PackedWeight wv, packed(p + "self_attn.v_proj", format, kv, d));
    L.qkv = Stack({std::move(wq), std::move(wk), std::move(wv)});
    ASSIGN_OR_RETURN(L.o, packed(p + "self_attn.o_proj", format, d, q));
    ASSIGN_OR_RETURN(PackedWeight wg, packed(p + "mlp.gate_proj", format, ff, d));
    ASSIGN_OR_RETURN(PackedWeight wu, packed(p + "mlp.up_proj", format, ff, d));
    L.gate_up = Stack({std::move(wg), std::move(wu)});
    ASSIGN_OR_RETURN(L.down, packed(p + "mlp.down_proj", format, d, ff));
    w->layers.push_back(std::move(L));
  }
  ASSIGN_OR_RETURN(w->norm, vec("model.norm.weight", d));
  if (get("lm_head.weight")) {
    ASSIGN_OR_RETURN(w->head, packed("lm_head", HeadFormat(format), c.vocab_size, d));
  } else if (c.tie_word_embeddings) {
    ASSIGN_OR_RETURN(w->head, Pack(*get("model.embed_tokens.weight"), HeadFormat(format)));
  } else {
    return DataLossError("tensor 'decoder.lm_head.weight' is missing");
  }
  // The kernels' copies, once every matrix has its final rows.
  for (DecoderWeights::Layer& L : w->layers)
    for (PackedWeight* m : {&L.qkv, &L.o, &L.gate_up, &L.down}) PrepareForKernels(m);
  PrepareForKernels(&w->head);
  const model::RopeTables rope = model::MakeRope(c.max_position_embeddings, hd, c.rope_theta);
  w->rope_cos = Floats(rope.cos);
  w->rope_sin = Floats(rope.sin);
  return std::shared_ptr<const DecoderWeights>(std::move(w));
}

StatusOr<model::Safetensors> QuantizeTensors(const model::Safetensors& in, WeightFormat format) {
  model::Safetensors out;
  out.metadata = in.metadata;
  for (const auto& [name, t] : in.tensors) {
    const bool matrix = name.rfind("decoder.", 0) == 0 && t.dim() == 2 && t.is_floating_point() &&
                        name.find("embed_tokens") == std::string::npos;
    if (!matrix || format == WeightFormat::kF32) {
      out.tensors[name] = t;
      continue;
    }
    const WeightFormat f = name == "decoder.lm_head.weight" ? HeadFormat(format) : format;
    auto p = Pack(t, f);
    if (!p.ok()) return InvalidArgumentError(name + ": " + p.status().message());
    for (auto& [n, v] : ToStored(name, *p)) out.tensors[n] = v;
  }
  return out;
}

StatusOr<std::shared_ptr<const DecoderWeights>> PackDecoder(const model::LlamaForCausalLM& d,
                                                            WeightFormat format) {
  model::Safetensors st;
  for (const auto& item : d->named_parameters())
    st.tensors["decoder." + item.key()] = item.value().detach();
  ASSIGN_OR_RETURN(model::Safetensors q, QuantizeTensors(st, format));
  return DecoderFromTensors(d->config, format, q);
}

CpuDecoder::CpuDecoder(std::shared_ptr<const DecoderWeights> w, int num_blocks, int block_size,
                       CpuDecoderOptions options)
    : w_(std::move(w)), options_(options), block_size_(block_size) {
  if (options_.bf16_gemm_min_rows > 0) {
    const auto bf16 = [](const PackedWeight& p) { return Dequantize(p).to(torch::kBFloat16); };
    for (const DecoderWeights::Layer& L : w_->layers)
      gemm_.push_back({bf16(L.qkv), bf16(L.o), bf16(L.gate_up), bf16(L.down)});
    gemm_head_ = bf16(w_->head);
  }
  const model::DecoderConfig& c = w_->config;
  num_slots_ = int64_t{num_blocks} * block_size;
  const size_t row = static_cast<size_t>(c.num_key_value_heads * c.head_dim());
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    // Uninitialized: a slot is always written before it is read, and untouched pages of a
    // large cache cost no memory.
    k_.emplace_back(new float[static_cast<size_t>(num_slots_) * row]);
    v_.emplace_back(new float[static_cast<size_t>(num_slots_) * row]);
  }
}

void CpuDecoder::ChunkAttention(size_t layer, const std::vector<int64_t>& slots, int64_t start,
                                int64_t count, int64_t row0) {
  const model::DecoderConfig& c = w_->config;
  const int64_t hd = c.head_dim(), heads = c.num_attention_heads, kvh = c.num_key_value_heads;
  const int64_t qn = heads * hd, kvn = kvh * hd, qkvn = qn + 2 * kvn, end = start + count;
  const int64_t group = heads / kvh;
  torch::NoGradGuard no_grad;
  const auto gather = [&](float* cache) {  // [end, kv_heads, hd], the sequence's rows in order
    return torch::from_blob(cache, {num_slots_, kvh, hd}, torch::kFloat32)
        .index_select(0, torch::from_blob(const_cast<int64_t*>(slots.data()), {end}, torch::kLong));
  };
  const torch::Tensor k = gather(k_[layer].get()), v = gather(v_[layer].get());
  // Query i (position start + i) sees keys 0 .. start + i.
  const torch::Tensor hidden = torch::arange(end, torch::kLong)
                                   .view({1, end})
                                   .gt(torch::arange(start, end, torch::kLong).view({count, 1}));
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  at::parallel_for(0, heads, 1, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      const torch::Tensor q = torch::from_blob(qkv_.data() + row0 * qkvn + h * hd, {count, hd},
                                               {qkvn, 1}, torch::kFloat32);
      torch::Tensor scores = torch::mm(q, k.select(1, h / group).t()).mul_(scale);
      scores.masked_fill_(hidden, -INFINITY);
      torch::from_blob(attn_.data() + row0 * qn + h * hd, {count, hd}, {qn, 1}, torch::kFloat32)
          .copy_(torch::mm(torch::softmax(scores, -1), v.select(1, h / group)));
    }
  });
}

void CpuDecoder::Linear(const float* x, int64_t rows, const PackedWeight& w,
                        const torch::Tensor& gemm, float* y) const {
  if (!gemm.defined() || rows < options_.bf16_gemm_min_rows) return Matmul(x, rows, w, y);
  torch::NoGradGuard no_grad;
  const torch::Tensor in =
      torch::from_blob(const_cast<float*>(x), {rows, w.k}, torch::kFloat32).to(torch::kBFloat16);
  torch::from_blob(y, {rows, w.n}, torch::kFloat32).copy_(torch::linear(in, gemm));
}

int64_t CpuDecoder::cache_bytes() const {
  int64_t n = 0;
  const model::DecoderConfig& c = w_->config;
  for (size_t l = 0; l < k_.size(); ++l)
    n += 2 * num_slots_ * c.num_key_value_heads * c.head_dim() * 4;
  return n;
}

void CpuDecoder::Copy(const BlockCopy& c) {
  const model::DecoderConfig& cfg = w_->config;
  const size_t row = static_cast<size_t>(cfg.num_key_value_heads * cfg.head_dim());
  const size_t n = row * static_cast<size_t>(block_size_);
  for (size_t l = 0; l < k_.size(); ++l) {
    std::memcpy(k_[l].get() + c.to * n, k_[l].get() + c.from * n, n * 4);
    std::memcpy(v_[l].get() + c.to * n, v_[l].get() + c.from * n, n * 4);
  }
}

Status CpuDecoder::Forward(std::span<const SeqChunk> chunks, std::vector<float>* logits) {
  const DecoderWeights& W = *w_;
  const model::DecoderConfig& c = W.config;
  const int64_t d = c.hidden_size, hd = c.head_dim(), heads = c.num_attention_heads,
                kvh = c.num_key_value_heads, ff = c.intermediate_size, vocab = c.vocab_size;
  const int64_t qn = heads * hd, kvn = kvh * hd, qkvn = qn + 2 * kvn;
  // Validate everything before touching the cache.
  int64_t rows = 0, max_len = 0;
  for (const SeqChunk& ch : chunks) {
    const int64_t end = ch.start + ch.count;
    if (ch.start < 0 || ch.count < 1 || end > static_cast<int64_t>(ch.tokens.size()))
      return InvalidArgumentError("chunk outside the sequence's tokens");
    if (end > static_cast<int64_t>(ch.blocks.size()) * block_size_)
      return InvalidArgumentError("chunk outside the sequence's blocks");
    if (end > c.max_position_embeddings)
      return InvalidArgumentError("sequence longer than the model's context (" +
                                  std::to_string(c.max_position_embeddings) + " positions)");
    for (int64_t i = ch.start; i < end; ++i)
      if (ch.tokens[static_cast<size_t>(i)] < 0 || ch.tokens[static_cast<size_t>(i)] >= vocab)
        return InvalidArgumentError("token id outside the vocabulary");
    for (int64_t i = 0; i < (end + block_size_ - 1) / block_size_; ++i)
      if (ch.blocks[static_cast<size_t>(i)] < 0 ||
          int64_t{ch.blocks[static_cast<size_t>(i)]} * block_size_ >= num_slots_)
        return InvalidArgumentError("block id outside the cache");
    if (ch.image && ch.image->defined() &&
        (ch.image->dim() != 2 || ch.image->size(1) != d ||
         ch.image->scalar_type() != torch::kFloat32 || !ch.image->is_contiguous()))
      return InvalidArgumentError("image embeddings must be float32 [N, hidden]");
    rows += ch.count;
    max_len = std::max(max_len, end);
  }
  if (rows == 0) return OkStatus();
  // Per row: its chunk, position and cache slot.
  std::vector<int64_t> row_chunk, row_pos, row_slot;
  std::vector<std::vector<int64_t>> slots(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SeqChunk& ch = chunks[i];
    const int64_t end = ch.start + ch.count;
    slots[i].resize(static_cast<size_t>(end));
    for (int64_t p = 0; p < end; ++p)
      slots[i][static_cast<size_t>(p)] =
          int64_t{ch.blocks[static_cast<size_t>(p / block_size_)]} * block_size_ + p % block_size_;
    for (int64_t p = ch.start; p < end; ++p) {
      row_chunk.push_back(static_cast<int64_t>(i));
      row_pos.push_back(p);
      row_slot.push_back(slots[i][static_cast<size_t>(p)]);
    }
  }
  x_.resize(static_cast<size_t>(rows * d));
  h_.resize(x_.size());
  qkv_.resize(static_cast<size_t>(rows * qkvn));
  attn_.resize(static_cast<size_t>(rows * qn));
  gu_.resize(static_cast<size_t>(rows * 2 * ff));
  act_.resize(static_cast<size_t>(rows * ff));
  out_.resize(x_.size());
  for (int64_t r = 0; r < rows; ++r) {
    const SeqChunk& ch = chunks[static_cast<size_t>(row_chunk[static_cast<size_t>(r)])];
    const int64_t p = row_pos[static_cast<size_t>(r)];
    float* x = x_.data() + r * d;
    if (ch.image && ch.image->defined() && p >= ch.image_at &&
        p < ch.image_at + ch.image->size(0)) {
      std::memcpy(x, ch.image->data_ptr<float>() + (p - ch.image_at) * d,
                  static_cast<size_t>(d) * 4);
    } else {
      std::memcpy(x, W.embed.data() + int64_t{ch.tokens[static_cast<size_t>(p)]} * d,
                  static_cast<size_t>(d) * 4);
    }
  }
  const float eps = static_cast<float>(c.rms_norm_eps);
  for (size_t l = 0; l < W.layers.size(); ++l) {
    const DecoderWeights::Layer& L = W.layers[l];
    for (int64_t r = 0; r < rows; ++r)
      RmsNorm(x_.data() + r * d, L.attn_norm.data(), d, eps, h_.data() + r * d);
    const Gemm* G = gemm_.empty() ? nullptr : &gemm_[l];
    Linear(h_.data(), rows, L.qkv, G ? G->qkv : torch::Tensor(), qkv_.data());
    float* kc = k_[l].get();
    float* vc = v_[l].get();
    for (int64_t r = 0; r < rows; ++r) {
      float* q = qkv_.data() + r * qkvn;
      const int64_t p = row_pos[static_cast<size_t>(r)];
      const float* cs = W.rope_cos.data() + p * hd;
      const float* sn = W.rope_sin.data() + p * hd;
      Rope(q, heads, hd, cs, sn);
      Rope(q + qn, kvh, hd, cs, sn);
      const int64_t slot = row_slot[static_cast<size_t>(r)];
      std::memcpy(kc + slot * kvn, q + qn, static_cast<size_t>(kvn) * 4);
      std::memcpy(vc + slot * kvn, q + qn + kvn, static_cast<size_t>(kvn) * 4);
    }
    // Prefill chunks: attention as batched matrix products over the chunk's gathered keys and
    // values; single rows (decoding): the paged-attention kernel, rows in parallel.
    std::vector<int64_t> kernel_rows;
    int64_t r0 = 0;
    for (size_t ci = 0; ci < chunks.size(); ++ci) {
      const SeqChunk& ch = chunks[ci];
      if (ch.count >= kChunkAttentionRows) {
        ChunkAttention(l, slots[ci], ch.start, ch.count, r0);
      } else {
        for (int64_t i = 0; i < ch.count; ++i) kernel_rows.push_back(r0 + i);
      }
      r0 += ch.count;
    }
    at::parallel_for(0, static_cast<int64_t>(kernel_rows.size()), 1, [&](int64_t a, int64_t b) {
      std::vector<float> scratch(static_cast<size_t>(max_len));
      for (int64_t k = a; k < b; ++k) {
        const int64_t r = kernel_rows[static_cast<size_t>(k)];
        const size_t ci = static_cast<size_t>(row_chunk[static_cast<size_t>(r)]);
        const int64_t len = row_pos[static_cast<size_t>(r)] + 1;
        PagedAttention(qkv_.data() + r * qkvn, kc, vc,
                       std::span<const int64_t>(slots[ci].data(), static_cast<size_t>(len)), heads,
                       kvh, hd, attn_.data() + r * qn, scratch.data());
      }
    });
    Linear(attn_.data(), rows, L.o, G ? G->o : torch::Tensor(), out_.data());
    AddInPlace(x_.data(), out_.data(), rows * d);
    for (int64_t r = 0; r < rows; ++r)
      RmsNorm(x_.data() + r * d, L.mlp_norm.data(), d, eps, h_.data() + r * d);
    Linear(h_.data(), rows, L.gate_up, G ? G->gate_up : torch::Tensor(), gu_.data());
    for (int64_t r = 0; r < rows; ++r)
      SiluMul(gu_.data() + r * 2 * ff, gu_.data() + r * 2 * ff + ff, ff, act_.data() + r * ff);
    Linear(act_.data(), rows, L.down, G ? G->down : torch::Tensor(), out_.data());
    AddInPlace(x_.data(), out_.data(), rows * d);
  }
  // The rows whose logits are wanted, normed, through the head.
  std::vector<float> sel;
  int64_t r = 0, wanted = 0;
  for (const SeqChunk& ch : chunks) {
    for (int64_t i = 0; i < ch.count; ++i, ++r) {
      const bool want = ch.logits == SeqChunk::Logits::kAll ||
                        (ch.logits == SeqChunk::Logits::kLast && i == ch.count - 1);
      if (!want) continue;
      sel.resize(static_cast<size_t>((wanted + 1) * d));
      RmsNorm(x_.data() + r * d, W.norm.data(), d, eps, sel.data() + wanted * d);
      ++wanted;
    }
  }
  if (wanted > 0) {
    const size_t at = logits->size();
    logits->resize(at + static_cast<size_t>(wanted * vocab));
    Linear(sel.data(), wanted, W.head, gemm_head_, logits->data() + at);
  }
  return OkStatus();
}

}  // namespace medscribe::engine
