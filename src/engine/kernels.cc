#include "engine/kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
// GCC 12's AVX-512 headers start some intrinsics from a self-initialized "undefined" vector,
// which -Wuninitialized reports at every use (GCC bug 105593): silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define MEDSCRIBE_X86 1
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx512vnni")))
#endif

namespace medscribe::engine {
namespace {

uint16_t ToBf16(float f) {  // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
float FromBf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Row `r` of w as float32 into `out` (k floats): the portable path's dequantization.
void RowToFloat(const PackedWeight& w, int64_t r, float* out) {
  const int64_t k = w.k;
  switch (w.format) {
    case WeightFormat::kF32:
      std::memcpy(out, w.f32.data() + r * k, static_cast<size_t>(k) * 4);
      break;
    case WeightFormat::kBF16:
      for (int64_t i = 0; i < k; ++i) out[i] = FromBf16(w.bf16[static_cast<size_t>(r * k + i)]);
      break;
    case WeightFormat::kInt8: {
      const float s = w.scales[static_cast<size_t>(r)];
      for (int64_t i = 0; i < k; ++i) out[i] = w.q8[static_cast<size_t>(r * k + i)] * s;
      break;
    }
    case WeightFormat::kInt4: {
      const int64_t groups = k / kInt4Group;
      for (int64_t g = 0; g < groups; ++g) {
        const float d = w.scales[static_cast<size_t>(r * groups + g)];
        const uint8_t* b = w.q4.data() + (r * groups + g) * (kInt4Group / 2);
        for (int j = 0; j < 16; ++j) {
          out[g * kInt4Group + j] = static_cast<float>((b[j] & 15) - 8) * d;
          out[g * kInt4Group + j + 16] = static_cast<float>((b[j] >> 4) - 8) * d;
        }
      }
      break;
    }
  }
}

// int8 activations: every row of x in blocks of kActivationBlock, each block quantized
// symmetrically (scale = max |x| / 127); `dequantized` holds q * scale as float for the paths
// without VNNI, so every CPU computes the same products (left empty where no path reads it).
struct Int8Activations {
  std::vector<int8_t> q;           // [m, k], in [-127, 127]
  std::vector<float> scales;       // [m, k / 64]
  std::vector<int32_t> offset8;    // [m, k / 64]: -128 times the sum of q over each 64 inputs
  std::vector<int32_t> offset4;    // [m, k / 32]: -8 times the sum of q over each 32 inputs
  std::vector<float> dequantized;  // [m, k]
};

// Rows [i0, i1) of QuantizeActivations (sizes already set).
void QuantizeRowsPortable(const float* x, int64_t i0, int64_t i1, int64_t k, Int8Activations* a) {
  const int64_t nb = k / kActivationBlock, ng = k / kInt4Group;
  const bool dequantize = !a->dequantized.empty();
  for (int64_t i = i0; i < i1; ++i) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + i * k + b * kActivationBlock;
      float amax = 0;
      for (int64_t j = 0; j < kActivationBlock; ++j) amax = std::max(amax, std::fabs(v[j]));
      const float s = amax > 0 ? amax / 127.0f : 1.0f;
      const float inv = 1.0f / s;
      a->scales[static_cast<size_t>(i * nb + b)] = s;
      int32_t sum[2] = {0, 0};
      for (int64_t j = 0; j < kActivationBlock; ++j) {
        const size_t at = static_cast<size_t>(i * k + b * kActivationBlock + j);
        const int q = static_cast<int>(std::nearbyint(std::clamp(v[j] * inv, -127.0f, 127.0f)));
        a->q[at] = static_cast<int8_t>(q);
        sum[j / kInt4Group] += q;
        if (dequantize) a->dequantized[at] = static_cast<float>(q) * s;
      }
      a->offset8[static_cast<size_t>(i * nb + b)] = -128 * (sum[0] + sum[1]);
      a->offset4[static_cast<size_t>(i * ng + 2 * b)] = -8 * sum[0];
      a->offset4[static_cast<size_t>(i * ng + 2 * b + 1)] = -8 * sum[1];
    }
  }
}

void MatmulRowsPortable(const float* x, int64_t m, const PackedWeight& w, float* y, int64_t r0,
                        int64_t r1) {
  std::vector<float> row(static_cast<size_t>(w.k));
  for (int64_t r = r0; r < r1; ++r) {
    RowToFloat(w, r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * w.k;
      float acc = 0;
      for (int64_t j = 0; j < w.k; ++j) acc += xi[j] * row[static_cast<size_t>(j)];
      y[i * w.n + r] = acc;
    }
  }
}

#ifdef MEDSCRIBE_X86

// The sum of the 16 lanes (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized in its header).
AVX512 inline float HorizontalSum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
  __m128 x = _mm512_castps512_ps128(v);
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
  return _mm_cvtss_f32(x);
}

// 16 weights of row `r` from column `c` as float32 (c a multiple of 16, c + 16 <= k).
template <WeightFormat F>
AVX512 inline __m512 Load16(const PackedWeight& w, int64_t r, int64_t c) {
  if constexpr (F == WeightFormat::kF32) {
    return _mm512_loadu_ps(w.f32.data() + r * w.k + c);
  } else if constexpr (F == WeightFormat::kBF16) {
    const __m256i h =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.bf16.data() + r * w.k + c));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {  // int8; the row scale is applied to the sum
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.q8.data() + r * w.k + c));
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
  }
}

// The input columns [c0, c1) of one tile; `add`: y += the partial products (later column
// blocks), else y = them. c0 and c1 are multiples of 32, or c1 = k.
struct Cols {
  int64_t c0, c1;
  bool add;
};

constexpr int64_t kPrefetchBytes = 768;
// The panel tiles are one contiguous stream each: they prefetch every cache line this far ahead
// in it (162M decode, 1 thread: int4 195 -> 264-333 tokens/s, int8 167 -> 216, against one line
// in four).
constexpr int64_t kPanelPrefetchBytes = 4096;

template <WeightFormat F>
AVX512 inline const void* RowPtr(const PackedWeight& w, int64_t r, int64_t c) {
  if constexpr (F == WeightFormat::kF32)
    return w.f32.data() + r * w.k + c;
  else if constexpr (F == WeightFormat::kBF16)
    return w.bf16.data() + r * w.k + c;
  else
    return w.q8.data() + r * w.k + c;
}

// y[m0 .. m0+M, r0 .. r0+R] for f32, bf16 and int8 weights.
template <WeightFormat F, int R, int M>
AVX512 void TileDense(const float* x, int64_t m0, const PackedWeight& w, int64_t r0, float* y,
                      Cols cols) {
  const int64_t k = w.k, end16 = cols.c0 + (cols.c1 - cols.c0) / 16 * 16;
  __m512 acc[R][M];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) acc[r][i] = _mm512_setzero_ps();
  for (int64_t c = cols.c0; c < end16; c += 16) {
    __m512 xv[M];
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) xv[i] = _mm512_loadu_ps(x + (m0 + i) * k + c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      // Rows are short streams (one row per output): prefetch ahead of the hardware.
      if ((c & 63) == 0)
        _mm_prefetch(reinterpret_cast<const char*>(RowPtr<F>(w, r0 + r, c)) + kPrefetchBytes,
                     _MM_HINT_T0);
      const __m512 wv = Load16<F>(w, r0 + r, c);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) acc[r][i] = _mm512_fmadd_ps(wv, xv[i], acc[r][i]);
    }
  }
  float tail_row[16];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float scale = 1;
    if constexpr (F == WeightFormat::kInt8) scale = w.scales[static_cast<size_t>(r0 + r)];
    for (int64_t c = end16; c < cols.c1; ++c) {
      const size_t at = static_cast<size_t>((r0 + r) * k + c);
      if constexpr (F == WeightFormat::kF32)
        tail_row[c - end16] = w.f32[at];
      else if constexpr (F == WeightFormat::kBF16)
        tail_row[c - end16] = FromBf16(w.bf16[at]);
      else
        tail_row[c - end16] = w.q8[at];
    }
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      float s = HorizontalSum(acc[r][i]);
      for (int64_t c = end16; c < cols.c1; ++c) s += x[(m0 + i) * k + c] * tail_row[c - end16];
      float& out = y[(m0 + i) * w.n + r0 + r];
      out = cols.add ? out + s * scale : s * scale;
    }
  }
}

// The same for int4 weights (k a multiple of 32): each group's 32 weights are expanded with
// their scale, w = q * d - 8 * d.
template <int R, int M>
AVX512 void TileInt4(const float* x, int64_t m0, const PackedWeight& w, int64_t r0, float* y,
                     Cols cols) {
  const int64_t k = w.k, groups = k / kInt4Group;
  __m512 acc[R][M];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) acc[r][i] = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi32(15);
  for (int64_t g = cols.c0 / kInt4Group; g < cols.c1 / kInt4Group; ++g) {
    __m512 xl[M], xh[M];
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      xl[i] = _mm512_loadu_ps(x + (m0 + i) * k + g * kInt4Group);
      xh[i] = _mm512_loadu_ps(x + (m0 + i) * k + g * kInt4Group + 16);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const int64_t at = (r0 + r) * groups + g;
      if ((g & 3) == 0)
        _mm_prefetch(reinterpret_cast<const char*>(w.q4.data() + at * 16) + kPrefetchBytes,
                     _MM_HINT_T0);
      const __m512 d = _mm512_set1_ps(w.scales[static_cast<size_t>(at)]);
      const __m512 off = _mm512_mul_ps(d, _mm512_set1_ps(-8.0f));
      const __m512i b = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.q4.data() + at * 16)));
      const __m512 wl = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(b, low)), d, off);
      const __m512 wh = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(b, 4)), d, off);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) {
        acc[r][i] = _mm512_fmadd_ps(wl, xl[i], acc[r][i]);
        acc[r][i] = _mm512_fmadd_ps(wh, xh[i], acc[r][i]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      float& out = y[(m0 + i) * w.n + r0 + r];
      const float s = HorizontalSum(acc[r][i]);
      out = cols.add ? out + s : s;
    }
}

template <int R, int M>
AVX512 void Tile(const float* x, int64_t m0, const PackedWeight& w, int64_t r0, float* y,
                 Cols cols) {
  switch (w.format) {
    case WeightFormat::kF32:
      return TileDense<WeightFormat::kF32, R, M>(x, m0, w, r0, y, cols);
    case WeightFormat::kBF16:
      return TileDense<WeightFormat::kBF16, R, M>(x, m0, w, r0, y, cols);
    case WeightFormat::kInt8:
      return TileDense<WeightFormat::kInt8, R, M>(x, m0, w, r0, y, cols);
    case WeightFormat::kInt4:
      return TileInt4<R, M>(x, m0, w, r0, y, cols);
  }
}

template <int R>
AVX512 void RowsTile(const float* x, int64_t m, const PackedWeight& w, int64_t r0, float* y,
                     Cols cols) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) Tile<R, 4>(x, i, w, r0, y, cols);
  switch (m - i) {
    case 3:
      Tile<R, 3>(x, i, w, r0, y, cols);
      break;
    case 2:
      Tile<R, 2>(x, i, w, r0, y, cols);
      break;
    case 1:
      Tile<R, 1>(x, i, w, r0, y, cols);
      break;
    default:
      break;
  }
}

// Columns in blocks of kColumnBlock when several row groups of x reuse each weight: the x
// rows' block then stays in L1 while every weight row passes.
constexpr int64_t kColumnBlock = 256;

AVX512 void MatmulRowsAvx512(const float* x, int64_t m, const PackedWeight& w, float* y, int64_t r0,
                             int64_t r1) {
  const int64_t block = m > 4 ? kColumnBlock : w.k;
  for (int64_t c0 = 0; c0 < w.k; c0 += block) {
    const Cols cols{c0, std::min(w.k, c0 + block), c0 > 0};
    int64_t r = r0;
    // One row of x (decode) reuses nothing across weight rows: it reads them one after another,
    // one sequential stream the hardware prefetcher follows, rather than four interleaved
    // (162M f32 decode, 1 thread: best 44 tokens/s against 40; 20M: 468 against 359).
    if (m > 1)
      for (; r + 4 <= r1; r += 4) RowsTile<4>(x, m, w, r, y, cols);
    for (; r < r1; ++r) RowsTile<1>(x, m, w, r, y, cols);
  }
}

// The panel kernels (AVX-512 VNNI): int8 activations against a 16-row tile of int8 or int4
// weights in PackedWeight::panel order, M rows of x at a time. Each instruction multiplies 4
// bytes of one x row (broadcast) by 4 bytes of each of the 16 weight rows and adds the sums
// into 16 int32 lanes, one per output, so a block's products stay in integers and its scales are
// applied once per block. VNNI multiplies unsigned by signed bytes: int8 weights are stored
// +128 and int4 as their unsigned nibbles, and each block's sum starts at -128 (-8) times the
// block's sum of x, which removes the offset exactly.
template <int M>
AVX512VNNI void PanelInt8(const Int8Activations& a, int64_t m0, const PackedWeight& w, int64_t t,
                          float* y) {
  const int64_t k = w.k, nb = k / kActivationBlock;
  const uint8_t* p = w.panel.data() + t * 16 * k;
  __m512 accf[M];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) accf[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i acc[M];
    const int8_t* xb[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      acc[i] = _mm512_set1_epi32(a.offset8[static_cast<size_t>((m0 + i) * nb + b)]);
      xb[i] = a.q.data() + (m0 + i) * k + b * kActivationBlock;
    }
    const uint8_t* pb = p + b * kActivationBlock * 16;
#pragma GCC unroll 16
    for (int q = 0; q < 16; ++q) {
      _mm_prefetch(reinterpret_cast<const char*>(pb + q * 64) + kPanelPrefetchBytes, _MM_HINT_T0);
      const __m512i wv = _mm512_loadu_si512(pb + q * 64);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        int32_t x4;
        std::memcpy(&x4, xb[i] + 4 * q, 4);
        acc[i] = _mm512_dpbusd_epi32(acc[i], wv, _mm512_set1_epi32(x4));
      }
    }
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i)
      accf[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i]),
                                _mm512_set1_ps(a.scales[static_cast<size_t>((m0 + i) * nb + b)]),
                                accf[i]);
  }
  const __m512 sw = _mm512_loadu_ps(w.panel_scales.data() + t * 16);
  const int64_t rows = std::min<int64_t>(16, w.n - t * 16);
  const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1);
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i)
    _mm512_mask_storeu_ps(y + (m0 + i) * w.n + t * 16, mask, _mm512_mul_ps(accf[i], sw));
}

template <int M>
AVX512VNNI void PanelInt4(const Int8Activations& a, int64_t m0, const PackedWeight& w, int64_t t,
                          float* y) {
  const int64_t k = w.k, nb = k / kActivationBlock, ng = k / kInt4Group;
  const uint8_t* p = w.panel.data() + t * 8 * k;
  const float* d = w.panel_scales.data() + t * ng * 16;
  const __m512i low = _mm512_set1_epi8(15);
  __m512 accf[M];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) accf[i] = _mm512_setzero_ps();
  for (int64_t g = 0; g < ng; ++g) {
    __m512i acc[M];
    const int8_t* xg[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      acc[i] = _mm512_set1_epi32(a.offset4[static_cast<size_t>((m0 + i) * ng + g)]);
      xg[i] = a.q.data() + (m0 + i) * k + g * kInt4Group;
    }
    const uint8_t* pg = p + g * kInt4Group * 8;
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
      _mm_prefetch(reinterpret_cast<const char*>(pg + s * 64) + kPanelPrefetchBytes, _MM_HINT_T0);
      const __m512i v = _mm512_loadu_si512(pg + s * 64);
      const __m512i lo = _mm512_and_si512(v, low);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        int32_t x0, x1;
        std::memcpy(&x0, xg[i] + 8 * s, 4);
        std::memcpy(&x1, xg[i] + 8 * s + 4, 4);
        acc[i] = _mm512_dpbusd_epi32(acc[i], lo, _mm512_set1_epi32(x0));
        acc[i] = _mm512_dpbusd_epi32(acc[i], hi, _mm512_set1_epi32(x1));
      }
    }
    const __m512 dv = _mm512_loadu_ps(d + g * 16);
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      const float sx = a.scales[static_cast<size_t>((m0 + i) * nb + g / 2)];
      accf[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i]), _mm512_mul_ps(dv, _mm512_set1_ps(sx)),
                                accf[i]);
    }
  }
  const int64_t rows = std::min<int64_t>(16, w.n - t * 16);
  const __mmask16 mask = static_cast<__mmask16>((1u << rows) - 1);
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) _mm512_mask_storeu_ps(y + (m0 + i) * w.n + t * 16, mask, accf[i]);
}

// Rows of x per panel pass: the tile's weights are read once per this many rows.
constexpr int kPanelRows = 8;

template <int M>
AVX512VNNI void PanelTile(const Int8Activations& a, int64_t m0, const PackedWeight& w, int64_t t,
                          float* y) {
  if (w.format == WeightFormat::kInt8)
    PanelInt8<M>(a, m0, w, t, y);
  else
    PanelInt4<M>(a, m0, w, t, y);
}

// Rows [m0, m0 + rest) of x against tile t, for rest < kPanelRows.
template <int M = kPanelRows - 1>
AVX512VNNI void PanelTail(const Int8Activations& a, int64_t m0, int64_t rest, const PackedWeight& w,
                          int64_t t, float* y) {
  if constexpr (M > 0) {
    if (rest == M) return PanelTile<M>(a, m0, w, t, y);
    PanelTail<M - 1>(a, m0, rest, w, t, y);
  }
}

// y[:, 16 t0 .. 16 t1) for every row of x.
AVX512VNNI void MatmulPanels(const Int8Activations& a, int64_t m, const PackedWeight& w, float* y,
                             int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; ++t) {
    int64_t i = 0;
    for (; i + kPanelRows <= m; i += kPanelRows) PanelTile<kPanelRows>(a, i, w, t, y);
    PanelTail(a, i, m - i, w, t, y);
  }
}

// QuantizeRowsPortable's rows with AVX-512: the same float operations (a product by the same
// reciprocal, rounding to nearest even), so the same bytes.
AVX512 void QuantizeRowsAvx512(const float* x, int64_t i0, int64_t i1, int64_t k,
                               Int8Activations* a) {
  const int64_t nb = k / kActivationBlock, ng = k / kInt4Group;
  const bool dequantize = !a->dequantized.empty();
  const __m512 lim = _mm512_set1_ps(127.0f);
  for (int64_t i = i0; i < i1; ++i) {
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t at = i * k + b * kActivationBlock;
      __m512 v[4];
      __m512 amax = _mm512_setzero_ps();
      for (int j = 0; j < 4; ++j) {
        v[j] = _mm512_loadu_ps(x + at + 16 * j);
        amax = _mm512_max_ps(amax, _mm512_abs_ps(v[j]));
      }
      amax = _mm512_max_ps(amax, _mm512_shuffle_f32x4(amax, amax, 0x4E));
      amax = _mm512_max_ps(amax, _mm512_shuffle_f32x4(amax, amax, 0xB1));
      amax = _mm512_max_ps(amax, _mm512_permute_ps(amax, 0x4E));
      amax = _mm512_max_ps(amax, _mm512_permute_ps(amax, 0xB1));
      const float m = _mm512_cvtss_f32(amax);
      const float s = m > 0 ? m / 127.0f : 1.0f;
      const __m512 inv = _mm512_set1_ps(1.0f / s);
      a->scales[static_cast<size_t>(i * nb + b)] = s;
      __m512i sum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
      for (int j = 0; j < 4; ++j) {
        const __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v[j], inv), -lim), lim);
        const __m512i q =
            _mm512_cvt_roundps_epi32(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(a->q.data() + at + 16 * j),
                         _mm512_cvtepi32_epi8(q));
        sum[j / 2] = _mm512_add_epi32(sum[j / 2], q);
        if (dequantize)
          _mm512_storeu_ps(a->dequantized.data() + at + 16 * j,
                           _mm512_mul_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(s)));
      }
      const int32_t s0 = _mm512_reduce_add_epi32(sum[0]), s1 = _mm512_reduce_add_epi32(sum[1]);
      a->offset8[static_cast<size_t>(i * nb + b)] = -128 * (s0 + s1);
      a->offset4[static_cast<size_t>(i * ng + 2 * b)] = -8 * s0;
      a->offset4[static_cast<size_t>(i * ng + 2 * b + 1)] = -8 * s1;
    }
  }
}

// exp(x) for x <= 0 (softmax, SiLU's exp(-|g|)): 2^(x log2 e) with a degree-6 polynomial
// on the fraction; relative error about 2e-7.
AVX512 inline __m512 ExpNeg(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_mul_ps(_mm512_sub_ps(t, n), _mm512_set1_ps(0.693147180559945f));
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

AVX512 void SiluMulAvx512(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  const __m512 one = _mm512_set1_ps(1.0f);
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    // silu(g) = g * sigmoid(g); sigmoid from e = exp(-|g|): g >= 0: 1/(1+e), else e/(1+e).
    const __m512 e = ExpNeg(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(g)));
    const __m512 inv = _mm512_div_ps(one, _mm512_add_ps(one, e));
    const __mmask16 neg = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_LT_OQ);
    const __m512 sig = _mm512_mask_mul_ps(inv, neg, inv, e);
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(g, sig), _mm512_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

AVX512 float DotAvx512(const float* a, const float* b, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
  float s = HorizontalSum(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

AVX512 void AxpyAvx512(float alpha, const float* x, float* y, int64_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

AVX512 void ExpShiftedAvx512(float* s, int64_t n, float max, float* sum) {
  __m512 acc = _mm512_setzero_ps();
  const __m512 m = _mm512_set1_ps(max);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = ExpNeg(_mm512_sub_ps(_mm512_loadu_ps(s + i), m));
    _mm512_storeu_ps(s + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  float total = HorizontalSum(acc);
  for (; i < n; ++i) {
    s[i] = std::exp(s[i] - max);
    total += s[i];
  }
  *sum = total;
}

// Attention for head_dim = 16 V: the query heads of one kv group share each key and value row
// load; queries and outputs stay in registers.
template <int V>
AVX512 void AttentionAvx512(const float* q, const float* k_cache, const float* v_cache,
                            std::span<const int64_t> slots, int64_t heads, int64_t kv_heads,
                            float* out, float* scratch) {
  constexpr int64_t hd = 16 * V;
  const int64_t len = static_cast<int64_t>(slots.size());
  const int64_t group = heads / kv_heads, row = kv_heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int64_t g = 0; g < kv_heads; ++g) {
    for (int64_t h = g * group; h < (g + 1) * group; ++h) {
      __m512 qv[V];
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v)
        qv[v] = _mm512_mul_ps(_mm512_loadu_ps(q + h * hd + v * 16), _mm512_set1_ps(scale));
      float max = -INFINITY;
      for (int64_t j = 0; j < len; ++j) {
        const float* kr = k_cache + slots[static_cast<size_t>(j)] * row + g * hd;
        __m512 acc = _mm512_mul_ps(qv[0], _mm512_loadu_ps(kr));
#pragma GCC unroll 8
        for (int v = 1; v < V; ++v) acc = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(kr + v * 16), acc);
        const float sc = HorizontalSum(acc);
        scratch[j] = sc;
        max = std::max(max, sc);
      }
      float sum = 0;
      ExpShiftedAvx512(scratch, len, max, &sum);
      const __m512 inv = _mm512_set1_ps(1.0f / sum);
      __m512 o[V];
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) o[v] = _mm512_setzero_ps();
      for (int64_t j = 0; j < len; ++j) {
        const float* vr = v_cache + slots[static_cast<size_t>(j)] * row + g * hd;
        const __m512 p = _mm512_set1_ps(scratch[j]);
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) o[v] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vr + v * 16), o[v]);
      }
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + h * hd + v * 16, _mm512_mul_ps(o[v], inv));
    }
  }
}

bool DetectAvx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
const bool kAvx512 = DetectAvx512();
const bool kVnni = kAvx512 && __builtin_cpu_supports("avx512vnni");

#else
const bool kAvx512 = false;
const bool kVnni = false;
#endif

// int8 activations: every row of x in blocks of kActivationBlock, each block quantized
// symmetrically (scale = max |x| / 127), with the offsets the panel kernels start from;
// `dequantize`: also q * scale as float, for the paths without panels, so every CPU computes
// the same products. Rows are split over threads for long prompts.
void QuantizeActivations(const float* x, int64_t m, int64_t k, Int8Activations* a,
                         bool dequantize) {
  const int64_t nb = k / kActivationBlock;
  a->q.resize(static_cast<size_t>(m * k));
  a->scales.resize(static_cast<size_t>(m * nb));
  a->offset8.resize(static_cast<size_t>(m * nb));
  a->offset4.resize(static_cast<size_t>(m * 2 * nb));
  a->dequantized.resize(dequantize ? static_cast<size_t>(m * k) : 0);
  const int64_t grain = std::max<int64_t>(1, (int64_t{32} << 10) / k);
  at::parallel_for(0, m, grain, [&](int64_t i0, int64_t i1) {
#ifdef MEDSCRIBE_X86
    if (kAvx512) return QuantizeRowsAvx512(x, i0, i1, k, a);
#endif
    QuantizeRowsPortable(x, i0, i1, k, a);
  });
}

float Dot(const float* a, const float* b, int64_t n) {
#ifdef MEDSCRIBE_X86
  if (kAvx512) return DotAvx512(a, b, n);
#endif
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void Axpy(float alpha, const float* x, float* y, int64_t n) {
#ifdef MEDSCRIBE_X86
  if (kAvx512) return AxpyAvx512(alpha, x, y, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// s[i] = exp(s[i] - max); returns the sum.
float ExpShifted(float* s, int64_t n, float max) {
  float sum = 0;
#ifdef MEDSCRIBE_X86
  if (kAvx512) {
    ExpShiftedAvx512(s, n, max, &sum);
    return sum;
  }
#endif
  for (int64_t i = 0; i < n; ++i) {
    s[i] = std::exp(s[i] - max);
    sum += s[i];
  }
  return sum;
}

}  // namespace

StatusOr<WeightFormat> ParseWeightFormat(const std::string& name) {
  if (name == "f32") return WeightFormat::kF32;
  if (name == "bf16") return WeightFormat::kBF16;
  if (name == "int8") return WeightFormat::kInt8;
  if (name == "int4") return WeightFormat::kInt4;
  return InvalidArgumentError("unknown weight format '" + name + "' (f32, bf16, int8 or int4)");
}

const char* WeightFormatName(WeightFormat f) {
  switch (f) {
    case WeightFormat::kF32:
      return "f32";
    case WeightFormat::kBF16:
      return "bf16";
    case WeightFormat::kInt8:
      return "int8";
    case WeightFormat::kInt4:
      return "int4";
  }
  return "?";
}

bool UsingAvx512() { return kAvx512; }
bool UsingVnni() { return kVnni; }

torch::Tensor QuantizeActivationsForTest(const torch::Tensor& x) {
  const torch::Tensor c = x.to(torch::kFloat32).contiguous();
  Int8Activations a;
  QuantizeActivations(c.data_ptr<float>(), c.size(0), c.size(1), &a, /*dequantize=*/true);
  return torch::from_blob(a.dequantized.data(), c.sizes(), torch::kFloat32).clone();
}

int64_t PackedWeight::bytes() const {
  return static_cast<int64_t>(f32.size() * 4 + bf16.size() * 2 + q8.size() + q4.size() +
                              scales.size() * 4);
}

StatusOr<PackedWeight> Pack(const torch::Tensor& t, WeightFormat format) {
  if (t.dim() != 2) return InvalidArgumentError("a packed weight must be a matrix");
  PackedWeight w;
  w.format = format;
  w.n = t.size(0);
  w.k = t.size(1);
  if (format == WeightFormat::kInt4 && w.k % kInt4Group != 0) {
    return InvalidArgumentError("int4 needs the input size (" + std::to_string(w.k) +
                                ") to be a multiple of 32");
  }
  const torch::Tensor f = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const float* src = f.data_ptr<float>();
  const size_t count = static_cast<size_t>(w.n * w.k);
  switch (format) {
    case WeightFormat::kF32:
      w.f32.assign(src, src + count);
      break;
    case WeightFormat::kBF16:
      w.bf16.resize(count);
      for (size_t i = 0; i < count; ++i) w.bf16[i] = ToBf16(src[i]);
      break;
    case WeightFormat::kInt8:
      w.q8.resize(count);
      w.scales.resize(static_cast<size_t>(w.n));
      for (int64_t r = 0; r < w.n; ++r) {
        const float* row = src + r * w.k;
        float amax = 0;
        for (int64_t i = 0; i < w.k; ++i) amax = std::max(amax, std::fabs(row[i]));
        const float s = amax > 0 ? amax / 127.0f : 1.0f;
        w.scales[static_cast<size_t>(r)] = s;
        for (int64_t i = 0; i < w.k; ++i)
          w.q8[static_cast<size_t>(r * w.k + i)] =
              static_cast<int8_t>(std::clamp(std::lround(row[i] / s), -127L, 127L));
      }
      break;
    case WeightFormat::kInt4: {
      const int64_t groups = w.k / kInt4Group;
      w.q4.resize(count / 2);
      w.scales.resize(static_cast<size_t>(w.n * groups));
      for (int64_t r = 0; r < w.n; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
          const float* v = src + r * w.k + g * kInt4Group;
          // The value of largest magnitude maps to -8 exactly; the rest round into [-8, 7].
          float extreme = 0;
          for (int i = 0; i < kInt4Group; ++i)
            if (std::fabs(v[i]) > std::fabs(extreme)) extreme = v[i];
          const float d = extreme != 0 ? extreme / -8.0f : 1.0f;
          const int64_t at = r * groups + g;
          w.scales[static_cast<size_t>(at)] = d;
          uint8_t* b = w.q4.data() + at * 16;
          for (int j = 0; j < 16; ++j) {
            const auto q = [&](float x) {
              return static_cast<uint8_t>(std::clamp(std::lround(x / d) + 8, 0L, 15L));
            };
            b[j] = static_cast<uint8_t>(q(v[j]) | (q(v[j + 16]) << 4));
          }
        }
      }
      break;
    }
  }
  return w;
}

std::vector<std::pair<std::string, torch::Tensor>> ToStored(const std::string& name,
                                                            const PackedWeight& w) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  const auto bytes = [](const void* p, int64_t n, torch::ScalarType t, std::vector<int64_t> s) {
    torch::Tensor x = torch::empty(s, torch::TensorOptions().dtype(t));
    std::memcpy(x.data_ptr(), p, static_cast<size_t>(n));
    return x;
  };
  switch (w.format) {
    case WeightFormat::kF32:
      out.emplace_back(name, Dequantize(w));
      break;
    case WeightFormat::kBF16:
      out.emplace_back(name, bytes(w.bf16.data(), w.n * w.k * 2, torch::kBFloat16, {w.n, w.k}));
      break;
    case WeightFormat::kInt8:
      out.emplace_back(name, bytes(w.q8.data(), w.n * w.k, torch::kInt8, {w.n, w.k}));
      out.emplace_back(name + ".scales", bytes(w.scales.data(), w.n * 4, torch::kFloat32, {w.n}));
      break;
    case WeightFormat::kInt4: {
      const int64_t groups = w.k / kInt4Group;
      out.emplace_back(name, bytes(w.q4.data(), w.n * w.k / 2, torch::kUInt8, {w.n, w.k / 2}));
      out.emplace_back(name + ".scales",
                       bytes(w.scales.data(), w.n * groups * 4, torch::kFloat32, {w.n, groups}));
      break;
    }
  }
  return out;
}

StatusOr<PackedWeight> FromStored(const std::string& name, WeightFormat format, int64_t n,
                                  int64_t k, const torch::Tensor& values,
                                  const torch::Tensor& scales) {
  const auto bad = [&](const std::string& why) {
    return DataLossError("quantized tensor '" + name + "': " + why);
  };
  const auto shaped = [](const torch::Tensor& t, std::vector<int64_t> s, torch::ScalarType d) {
    return t.defined() && t.scalar_type() == d && t.sizes() == torch::IntArrayRef(s);
  };
  if (format == WeightFormat::kF32 || format == WeightFormat::kBF16) {
    if (!values.defined() || !values.is_floating_point() || values.dim() != 2 ||
        values.size(0) != n || values.size(1) != k)
      return bad("expected floating point [" + std::to_string(n) + ", " + std::to_string(k) + "]");
    return Pack(values, format);
  }
  PackedWeight w;
  w.format = format;
  w.n = n;
  w.k = k;
  if (format == WeightFormat::kInt8) {
    if (!shaped(values, {n, k}, torch::kInt8)) return bad("expected I8 [n, k]");
    if (!shaped(scales, {n}, torch::kFloat32)) return bad("expected F32 scales [n]");
    const torch::Tensor v = values.contiguous();
    w.q8.assign(v.data_ptr<int8_t>(), v.data_ptr<int8_t>() + n * k);
    // Symmetric quantization never writes -128: a file that holds it was not written by Pack.
    if (std::find(w.q8.begin(), w.q8.end(), int8_t{-128}) != w.q8.end())
      return bad("a value is -128, outside the symmetric int8 range [-127, 127]");
  } else {
    if (k % kInt4Group != 0) return bad("input size not a multiple of 32");
    if (!shaped(values, {n, k / 2}, torch::kUInt8)) return bad("expected U8 [n, k / 2]");
    if (!shaped(scales, {n, k / kInt4Group}, torch::kFloat32))
      return bad("expected F32 scales [n, k / 32]");
    const torch::Tensor v = values.contiguous();
    w.q4.assign(v.data_ptr<uint8_t>(), v.data_ptr<uint8_t>() + n * k / 2);
  }
  const torch::Tensor s = scales.contiguous();
  w.scales.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  for (float x : w.scales)
    if (!std::isfinite(x)) return bad("a scale is not finite");
  return w;
}

void PrepareForKernels(PackedWeight* w) {
  w->panel.clear();
  w->panel_scales.clear();
  if (!kVnni || w->k % kActivationBlock != 0 || w->n <= 0) return;
  const int64_t tiles = (w->n + 15) / 16, k = w->k, ng = k / kInt4Group;
  if (w->format == WeightFormat::kInt8) {
    // Tile t, inputs 4c .. 4c + 3: 64 bytes, 4 per row (q + 128); padding rows hold q = 0.
    w->panel.assign(static_cast<size_t>(tiles * 16 * k), 128);
    w->panel_scales.assign(static_cast<size_t>(tiles * 16), 0.0f);
    for (int64_t r = 0; r < w->n; ++r) {
      const int64_t t = r / 16, j = r % 16;
      w->panel_scales[static_cast<size_t>(r)] = w->scales[static_cast<size_t>(r)];
      for (int64_t c = 0; c < k; ++c)
        w->panel[static_cast<size_t>((t * (k / 4) + c / 4) * 64 + j * 4 + c % 4)] =
            static_cast<uint8_t>(w->q8[static_cast<size_t>(r * k + c)] + 128);
    }
  } else if (w->format == WeightFormat::kInt4) {
    // Tile t, inputs 8c .. 8c + 7: 64 bytes, 4 per row, inputs 8c + i in the low nibble of
    // byte i and 8c + 4 + i in its high nibble; scales [tile][group][16 rows].
    w->panel.assign(static_cast<size_t>(tiles * 8 * k), 0x88);
    w->panel_scales.assign(static_cast<size_t>(tiles * ng * 16), 0.0f);
    const auto nibble = [&](int64_t r, int64_t c) {
      const uint8_t b = w->q4[static_cast<size_t>((r * ng + c / kInt4Group) * 16 + c % 16)];
      return c % kInt4Group < 16 ? b & 15 : b >> 4;
    };
    for (int64_t r = 0; r < w->n; ++r) {
      const int64_t t = r / 16, j = r % 16;
      for (int64_t g = 0; g < ng; ++g)
        w->panel_scales[static_cast<size_t>((t * ng + g) * 16 + j)] =
            w->scales[static_cast<size_t>(r * ng + g)];
      for (int64_t c = 0; c < k; c += 8)
        for (int64_t i = 0; i < 4; ++i)
          w->panel[static_cast<size_t>((t * (k / 8) + c / 8) * 64 + j * 4 + i)] =
              static_cast<uint8_t>(nibble(r, c + i) | nibble(r, c + 4 + i) << 4);
    }
  }
}

torch::Tensor Dequantize(const PackedWeight& w) {
  torch::Tensor out = torch::empty({w.n, w.k}, torch::kFloat32);
  for (int64_t r = 0; r < w.n; ++r) RowToFloat(w, r, out.data_ptr<float>() + r * w.k);
  return out;
}

void Matmul(const float* x, int64_t m, const PackedWeight& w, float* y) {
  if (m <= 0 || w.n <= 0) return;
  // int8 and int4 weights multiply int8 activations (per 64-input block) when the size allows.
  // Reused by this thread (no allocation per product); the tasks below read the caller's.
  thread_local Int8Activations reused;
  Int8Activations& act = reused;
  const bool a8 = (w.format == WeightFormat::kInt8 || w.format == WeightFormat::kInt4) &&
                  w.k % kActivationBlock == 0;
  const bool panels = a8 && kVnni && !w.panel.empty();
  if (a8) {
    QuantizeActivations(x, m, w.k, &act, /*dequantize=*/!panels);
    if (!panels) x = act.dequantized.data();
  }
#ifdef MEDSCRIBE_X86
  if (panels) {
    // Tiles of 16 outputs; a task streams at least ~64 KiB of weights.
    const int64_t tiles = (w.n + 15) / 16;
    const int64_t tile_bytes = std::max<int64_t>(1, w.bytes() / tiles);
    const int64_t grain = std::max<int64_t>(
        1, (int64_t{64} << 10) / tile_bytes / std::max<int64_t>(1, m / kPanelRows + 1));
    at::parallel_for(0, tiles, grain,
                     [&](int64_t t0, int64_t t1) { MatmulPanels(act, m, w, y, t0, t1); });
    return;
  }
#endif
  // Many rows (prompt chunks, large batches): float32 GEMM through LibTorch's BLAS on one slice
  // of output columns per thread (quantized weights expanded to float32 slice by slice; at 32+
  // rows the expansion is a few percent of the products).
  if (m >= kGemmRows) {
    const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
    at::parallel_for(0, w.n, (w.n + threads - 1) / threads, [&](int64_t r0, int64_t r1) {
      std::vector<float> buf;
      const float* wp = nullptr;
      if (w.format == WeightFormat::kF32) {
        wp = w.f32.data() + r0 * w.k;
      } else {
        buf.resize(static_cast<size_t>((r1 - r0) * w.k));
        for (int64_t r = r0; r < r1; ++r) RowToFloat(w, r, buf.data() + (r - r0) * w.k);
        wp = buf.data();
      }
      const torch::Tensor xt = torch::from_blob(const_cast<float*>(x), {m, w.k}, torch::kFloat32);
      const torch::Tensor wt =
          torch::from_blob(const_cast<float*>(wp), {r1 - r0, w.k}, torch::kFloat32);
      torch::from_blob(y + r0, {m, r1 - r0}, {w.n, 1}, torch::kFloat32)
          .copy_(torch::mm(xt, wt.t()));
    });
    return;
  }
  // Blocks of 4 output columns; a task streams at least ~64 KiB of weights.
  const int64_t blocks = (w.n + 3) / 4;
  const int64_t per_block = std::max<int64_t>(1, w.bytes() / std::max<int64_t>(1, w.n) * 4);
  const int64_t grain =
      std::max<int64_t>(1, (int64_t{64} << 10) / per_block / std::max<int64_t>(1, m / 4 + 1));
  at::parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    const int64_t r0 = b0 * 4, r1 = std::min(w.n, b1 * 4);
#ifdef MEDSCRIBE_X86
    if (kAvx512) return MatmulRowsAvx512(x, m, w, y, r0, r1);
#endif
    MatmulRowsPortable(x, m, w, y, r0, r1);
  });
}

void RmsNorm(const float* x, const float* weight, int64_t d, float eps, float* y) {
  const float ms = Dot(x, x, d) / static_cast<float>(d);
  const float inv = 1.0f / std::sqrt(ms + eps);
  for (int64_t i = 0; i < d; ++i) y[i] = weight[i] * (x[i] * inv);
}

void Rope(float* v, int64_t heads, int64_t head_dim, const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* x = v + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float a = x[i], b = x[i + half];
      x[i] = a * cos[i] - b * sin[i];
      x[i + half] = b * cos[i + half] + a * sin[i + half];
    }
  }
}

void SiluMul(const float* gate, const float* up, int64_t n, float* out) {
#ifdef MEDSCRIBE_X86
  if (kAvx512) return SiluMulAvx512(gate, up, n, out);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void AddInPlace(float* x, const float* y, int64_t n) { Axpy(1.0f, y, x, n); }

void PagedAttention(const float* q, const float* k_cache, const float* v_cache,
                    std::span<const int64_t> slots, int64_t heads, int64_t kv_heads,
                    int64_t head_dim, float* out, float* scratch) {
#ifdef MEDSCRIBE_X86
  if (kAvx512 && head_dim % 16 == 0 && head_dim <= 128 && !slots.empty()) {
    switch (head_dim / 16) {
      case 1:
        return AttentionAvx512<1>(q, k_cache, v_cache, slots, heads, kv_heads, out, scratch);
      case 2:
        return AttentionAvx512<2>(q, k_cache, v_cache, slots, heads, kv_heads, out, scratch);
      case 4:
        return AttentionAvx512<4>(q, k_cache, v_cache, slots, heads, kv_heads, out, scratch);
      case 8:
        return AttentionAvx512<8>(q, k_cache, v_cache, slots, heads, kv_heads, out, scratch);
      default:
        break;
    }
  }
#endif
  const int64_t len = static_cast<int64_t>(slots.size());
  const int64_t group = heads / kv_heads, row = kv_heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t g = h / group;
    const float* qh = q + h * head_dim;
    float max = -INFINITY;
    for (int64_t j = 0; j < len; ++j) {
      scratch[j] =
          Dot(qh, k_cache + slots[static_cast<size_t>(j)] * row + g * head_dim, head_dim) * scale;
      max = std::max(max, scratch[j]);
    }
    const float inv = 1.0f / ExpShifted(scratch, len, max);
    float* o = out + h * head_dim;
    std::fill(o, o + head_dim, 0.0f);
    for (int64_t j = 0; j < len; ++j)
      Axpy(scratch[j] * inv, v_cache + slots[static_cast<size_t>(j)] * row + g * head_dim, o,
           head_dim);
  }
}

}  // namespace medscribe::engine
