// conv2d micro-kernels, written once over a vector type V (simd/vec_*.h) and its extension
// M (simd/vec_ext_*.h), instantiated by each ISA's ukernels_<isa>.cc with that
// ISA's register tile. Include only from ukernels_<isa>.cc.
#pragma once
#include <array>
#include <cstddef>
#include <type_traits>
#include <cstdint>

#include "kernels/conv2d/conv_ukernel_types.h"
#include "kernels/simd/vec_math.h"

// The reduction loops are lambdas run by ConvTile::by_width. Left to itself GCC compiled
// conv_gemm's as a function of its own, where the tile's accumulators (a member array
// reached through the captured reference, which every float load might alias) were loaded
// and stored around each FMA: 24 stores per k step of the 8 x 3 tile. Inlined, they stay
// in registers. The tile's start and finish are inlined too (out of line, the start values
// went to the tile through the stack: 2-7 % of a blocked 1x1 conv).
#if defined(__GNUC__) || defined(__clang__)
#define TF_INLINE_LOOP __attribute__((always_inline))
#else
#define TF_INLINE_LOOP
#endif

namespace tf::ukernel {

// The epilogue activations. M is V extended with the ops vector math needs
// (simd/vec_ext_<isa>.h); sigmoid is the shared one of simd/vec_math.h.
template <class V, class M>
struct ConvMath {
  using T = typename V::T;

  static T apply(T x, ConvActivation act, T alpha) {
    switch (act) {
      case ConvActivation::kNone: return x;
      case ConvActivation::kRelu: return V::max(x, V::zero());
      case ConvActivation::kRelu6: return V::min(V::max(x, V::zero()), V::set1(6.0f));
      case ConvActivation::kSigmoid: return vecmath::sigmoid<M>(x);
      // sigmoid(x) reaches exactly 0 below -103.97, so silu(-1e37) is -0, not x * tiny.
      case ConvActivation::kSilu: return V::mul(x, vecmath::sigmoid<M>(x));
      case ConvActivation::kLeakyRelu: return V::fmadd(alpha, V::min(x, V::zero()), V::max(x, V::zero()));
    }
    return x;
  }
};

// The MR x NV-vector register tile the GEMM kernels accumulate in: its start values (the
// biases, or C itself when accumulating) and its end (activation, masked stores to C).
// Row r's vector v sits at c + r * ldc + v * vstride (vstride L: the row's vectors side by
// side; the blocked layout's channel blocks are planes apart).
template <class V, class M, size_t MR, size_t NV>
struct ConvTile {
  using T = typename V::T;
  static constexpr size_t L = V::kLanes;
  T acc[MR][NV];
  size_t cnt[NV];  // valid lanes of each column vector

  TF_INLINE_LOOP ConvTile(size_t mr, size_t nr, const float* c, size_t ldc, const ConvEpilogue& ep, size_t vstride = L) {
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) cnt[v] = nr > v * L ? (nr - v * L < L ? nr - v * L : L) : 0;
    T bias_col[NV];
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      bias_col[v] = V::zero();
      if (ep.bias_cols != nullptr && cnt[v] != 0) {
        bias_col[v] = cnt[v] == L ? V::load(ep.bias_cols + v * L) : V::load_tail(ep.bias_cols + v * L, cnt[v]);
      }
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) {
      const T br = V::set1(ep.bias_rows != nullptr && r < mr ? ep.bias_rows[r] : 0.0f);
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) acc[r][v] = V::add(br, bias_col[v]);
    }
    const float* from = ep.accumulate ? c : ep.start;
    if (from != nullptr) {
      const bool replace = ep.accumulate;  // partial sums in C replace the biases
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r) {
        if (r >= mr) break;
        const float* fr = from + r * ldc;
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) {
          const float* fv = fr + v * vstride;
          const T f = cnt[v] == L ? V::load(fv) : cnt[v] != 0 ? V::load_tail(fv, cnt[v]) : V::zero();
          acc[r][v] = replace ? f : V::add(acc[r][v], f);
        }
      }
    }
  }

  // The B row at bk, masked to the tile's columns (masked loads need no branch: a full
  // mask loads all, an empty one nothing).
  void load_row(const float* bk, bool full, T* bv) const {
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      if constexpr (L > 1) {
        bv[v] = full ? V::load(bk + v * L) : V::load_tail(bk + v * L, cnt[v]);
      } else {
        bv[v] = full || cnt[v] != 0 ? V::load(bk + v * L) : V::zero();
      }
    }
  }

  // acc[r] += a(r) * bv for every row r: one rank-1 update of the tile.
  template <class A>
  void rank1(const T* bv, A&& a) {
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) {
      const T ar = V::set1(a(r));
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) acc[r][v] = V::fmadd(ar, bv[v], acc[r][v]);
    }
  }

  // Runs loop(full), full = the columns fill all NV vectors: two copies of the reduction
  // loop so the full tile's loads carry no mask.
  template <class Loop>
  TF_INLINE_LOOP static inline void by_width(size_t nr, Loop&& loop) {
    if (nr == NV * L) {
      loop(true);
    } else {
      loop(false);
    }
  }

  TF_INLINE_LOOP void finish(size_t mr, float* c, size_t ldc, const ConvEpilogue& ep, size_t vstride = L) {
    if (ep.act != ConvActivation::kNone) {
      const T alpha = V::set1(ep.alpha);
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) acc[r][v] = ConvMath<V, M>::apply(acc[r][v], ep.act, alpha);
      }
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) {
      if (r >= mr) break;
      float* cr = c + r * ldc;
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) {
        if (cnt[v] == L) {
          V::store(cr + v * vstride, acc[r][v]);
        } else if (cnt[v] != 0) {
          V::store_tail(cr + v * vstride, acc[r][v], cnt[v]);
        }
      }
    }
  }
};

// The register-blocked GEMM tile: MR rows (broadcast from the packed A panel) by NV
// vectors of B. See ConvGemmUkernel for the contract.
template <class V, class M, size_t MR, size_t NV>
void conv_gemm(size_t mr, size_t nr, size_t kc, const float* a, const float* b, const int64_t* boff, float* c,
               size_t ldc, const ConvEpilogue& ep) {
  using Tile = ConvTile<V, M, MR, NV>;
  Tile tile(mr, nr, c, ldc, ep);
  Tile::by_width(nr, [&](bool full) TF_INLINE_LOOP {
    if (ep.b_stride != 0) {
      // B rows b_stride floats apart (a packed tile): no offset to load per row.
      const size_t ldb = ep.b_stride;
      for (size_t k = 0; k < kc; ++k) {
        typename V::T bv[NV];
        tile.load_row(b + k * ldb, full, bv);
        const float* ak = a + k * MR;
        tile.rank1(bv, [&](size_t r) { return ak[r]; });
      }
      return;
    }
    for (size_t k = 0; k < kc; ++k) {
      typename V::T bv[NV];
      tile.load_row(b + boff[k], full, bv);
      const float* ak = a + k * MR;
      tile.rank1(bv, [&](size_t r) { return ak[r]; });
    }
  });
  tile.finish(mr, c, ldc, ep);
}

// The indirect GEMM tile (NHWC convs, no input packing): MR output pixels whose inputs
// are read through per-tap row pointers, by NV vectors of output channels. See
// ConvIgemmUkernel for the contract.
template <class V, class M, size_t MR, size_t NV>
void conv_igemm(size_t mr, size_t nr, size_t taps, size_t cin, const float* const* rows, const float* b, float* c,
                size_t ldc, const ConvEpilogue& ep) {
  using Tile = ConvTile<V, M, MR, NV>;
  constexpr size_t NR = NV * V::kLanes;
  Tile tile(mr, nr, c, ldc, ep);
  Tile::by_width(nr, [&](bool full) TF_INLINE_LOOP {
    for (size_t t = 0; t < taps; ++t) {
      const float* const* rt = rows + t * MR;
      const float* bt = b + t * cin * NR;
      for (size_t ci = 0; ci < cin; ++ci) {
        typename V::T bv[NV];
        tile.load_row(bt + ci * NR, full, bv);
        tile.rank1(bv, [&](size_t r) { return rt[r][ci]; });
      }
    }
  });
  tile.finish(mr, c, ldc, ep);
}

// The gathering GEMM tile (NCHW convs, output channels on the lanes): MR output pixels
// whose inputs sit at fixed offsets koff[k] from each pixel's pointer, by NV vectors of
// output channels. See ConvGatherGemmUkernel for the contract.
template <class V, class M, size_t MR, size_t NV>
void conv_gather_gemm(size_t mr, size_t nr, size_t kc, const float* const* pix, const int64_t* koff, const float* b,
                      float* c, size_t ldc, const ConvEpilogue& ep) {
  using Tile = ConvTile<V, M, MR, NV>;
  constexpr size_t NR = NV * V::kLanes;
  Tile tile(mr, nr, c, ldc, ep);
  const float* px[MR];
#pragma GCC unroll 16
  for (size_t r = 0; r < MR; ++r) px[r] = pix[r];
  Tile::by_width(nr, [&](bool full) TF_INLINE_LOOP {
    for (size_t k = 0; k < kc; ++k) {
      typename V::T bv[NV];
      tile.load_row(b + k * NR, full, bv);
      const int64_t o = koff[k];
      tile.rank1(bv, [&](size_t r) { return px[r][o]; });
    }
  });
  tile.finish(mr, c, ldc, ep);
}

// The blocked direct conv tile (NCHWc): R output pixels by NV channel blocks, each input
// lane broadcast from x: pixel r's lane i of reduction block kb is value(xoff[kb], r, i)
// (a pixel's LI lanes side by side; LI = 1: x is NCHW planes).
template <class V, class M, size_t R, size_t NV, size_t LI, class Value>
TF_INLINE_LOOP inline void blocked_tile(size_t vectors, size_t kblocks, const int64_t* xoff, const float* w, float* y,
                                        size_t ystride, const ConvEpilogue& ep, Value&& value) {
  using Tile = ConvTile<V, M, R, NV>;
  constexpr size_t L = V::kLanes, NR = NV * L;
  Tile tile(R, vectors * L, y, L, ep, ystride);
  Tile::by_width(vectors * L, [&](bool full) TF_INLINE_LOOP {
    for (size_t kb = 0; kb < kblocks; ++kb) {
      const int64_t o = xoff[kb];
      const float* wk = w + kb * LI * NR;
#pragma GCC unroll 16
      for (size_t i = 0; i < LI; ++i) {
        typename V::T bv[NV];
        tile.load_row(wk + i * NR, full, bv);
        tile.rank1(bv, [&](size_t r) { return value(o, r, i); });
      }
    }
  });
  tile.finish(R, y, L, ep, ystride);
}

// Tile sizes below R that short tiles are made of: the largest power of two below R, so a
// tile of R instantiates log2(R) smaller ones instead of R - 1 (the ukernel files' build
// time went 26 -> 46 s with a 12-pixel tile and every size under it; a short tile is at
// most one per run of tiles, at the end of a map).
constexpr size_t blocked_shorter(size_t r) {
  size_t p = 1;
  while (2 * p < r) p *= 2;
  return p;
}

// ep for the part of a blocked conv's pixels that starts at pixel p (its start values too).
template <class V>
ConvEpilogue blocked_from(const ConvEpilogue& ep, size_t p) {
  ConvEpilogue e = ep;
  if (ep.start != nullptr) e.start = ep.start + p * V::kLanes;
  return e;
}

// The whole tiles of R among a blocked conv's `pixels` output pixels; returns how many
// pixels they cover (the caller runs the rest in smaller tiles, no rows computed that would
// be dropped, no pixel read past its own). tile_value(p, R) is the value lambda of
// blocked_tile for the tile whose first pixel is p. A run of tiles in one call: per call,
// the epilogue's setup and the call cost ~2 % of a tile of a DenseNet-121 1x1.
template <class V, class M, size_t R, size_t NV, size_t LI, class TileValue>
TF_INLINE_LOOP inline size_t blocked_runs(size_t pixels, size_t vectors, size_t kblocks, const int64_t* xoff,
                                          const float* w, float* y, size_t ystride, const ConvEpilogue& ep,
                                          TileValue&& tile_value) {
  size_t p = 0;
  for (; p + R <= pixels; p += R) {
    blocked_tile<V, M, R, NV, LI>(vectors, kblocks, xoff, w, y + p * V::kLanes, ystride, blocked_from<V>(ep, p),
                                  tile_value(p, std::integral_constant<size_t, R>{}));
  }
  return p;
}

// The blocked conv's ukernel: pixels S * LI floats apart, so a tile's rows are compile-time
// offsets from one pointer per reduction block. See ConvBlockedUkernel.
template <class V, class M, size_t R, size_t NV, size_t S, size_t LI>
void conv_blocked(size_t pixels, size_t vectors, size_t kblocks, const float* x, const int64_t* xoff, const float* w,
                  float* y, size_t ystride, const ConvEpilogue& ep) {
  const size_t p = blocked_runs<V, M, R, NV, LI>(pixels, vectors, kblocks, xoff, w, y, ystride, ep,
                                                 [&](size_t q, auto) TF_INLINE_LOOP {
                                                   const float* xq = x + q * S * LI;
                                                   return [xq](int64_t o, size_t r, size_t i) {
                                                     return xq[o + static_cast<int64_t>(r * S * LI + i)];
                                                   };
                                                 });
  if constexpr (R > 1) {
    if (p < pixels) {
      conv_blocked<V, M, blocked_shorter(R), NV, S, LI>(pixels - p, vectors, kblocks, x + p * S * LI, xoff, w,
                                                        y + p * V::kLanes, ystride, blocked_from<V>(ep, p));
    }
  }
}

// The same over pixels anywhere in x (a pointer each). See ConvBlockedGatherUkernel.
template <class V, class M, size_t R, size_t NV, size_t LI>
void conv_blocked_gather(size_t pixels, size_t vectors, size_t kblocks, const float* x, const int64_t* pix,
                         const int64_t* xoff, const float* w, float* y, size_t ystride, const ConvEpilogue& ep) {
  const size_t p = blocked_runs<V, M, R, NV, LI>(pixels, vectors, kblocks, xoff, w, y, ystride, ep,
                                                 [&](size_t q, auto) TF_INLINE_LOOP {
                                                   std::array<const float*, R> px;
#pragma GCC unroll 16
                                                   for (size_t r = 0; r < R; ++r) px[r] = x + pix[q + r];
                                                   return [px](int64_t o, size_t r, size_t i) {
                                                     return px[r][o + static_cast<int64_t>(i)];
                                                   };
                                                 });
  if constexpr (R > 1) {
    if (p < pixels) {
      conv_blocked_gather<V, M, blocked_shorter(R), NV, LI>(pixels - p, vectors, kblocks, x, pix + p, xoff, w,
                                                            y + p * V::kLanes, ystride, blocked_from<V>(ep, p));
    }
  }
}

// See ConvBlockedAffineUkernel. max(0, v) returns v when v is NaN (x86: the second operand
// wins; NEON propagates).
template <class V>
void conv_blocked_affine(const float* x, size_t pixels, const float* scale, const float* shift, bool relu, float* y) {
  constexpr size_t L = V::kLanes;
  const typename V::T s = V::load(scale), t = V::load(shift);
  if (relu) {
    for (size_t p = 0; p < pixels; ++p) V::store(y + p * L, V::max(V::zero(), V::fmadd(V::load(x + p * L), s, t)));
  } else {
    for (size_t p = 0; p < pixels; ++p) V::store(y + p * L, V::fmadd(V::load(x + p * L), s, t));
  }
}

// F full vectors and (kTail) a last one of `rest` lanes of one depthwise output row from
// x[i]: one accumulator each, so their FMAs overlap.
template <class V, class M, size_t F, bool kTail>
inline void dw_row_vectors(size_t taps, const float* x, const int64_t* off, const float* w, float bias, float* y,
                           size_t rest, ConvActivation act, float alpha) {
  using T = typename V::T;
  using CM = ConvMath<V, M>;
  constexpr size_t L = V::kLanes;
  constexpr size_t N = F + (kTail ? 1 : 0);
  const T va = V::set1(alpha);
  T acc[N];
#pragma GCC unroll 8
  for (size_t u = 0; u < N; ++u) acc[u] = V::set1(bias);
  for (size_t t = 0; t < taps; ++t) {
    const T wt = V::set1(w[t]);
    const float* xt = x + off[t];
#pragma GCC unroll 8
    for (size_t u = 0; u < F; ++u) acc[u] = V::fmadd(wt, V::load(xt + u * L), acc[u]);
    if (kTail) acc[F] = V::fmadd(wt, V::load_tail(xt + F * L, rest), acc[F]);
  }
#pragma GCC unroll 8
  for (size_t u = 0; u < F; ++u) V::store(y + u * L, CM::apply(acc[u], act, va));
  if (kTail) V::store_tail(y + F * L, CM::apply(acc[F], act, va), rest);
}

// The rest of a depthwise row after its U-vector steps, in one pass: `full` (<= F) whole
// vectors and `rest` lanes, through the dw_row_vectors instantiation of that width.
template <class V, class M, size_t F>
void dw_row_rest(size_t full, size_t rest, size_t taps, const float* x, const int64_t* off, const float* w, float bias,
                 float* y, ConvActivation act, float alpha) {
  if constexpr (F > 0) {
    if (full < F) {
      dw_row_rest<V, M, F - 1>(full, rest, taps, x, off, w, bias, y, act, alpha);
      return;
    }
  }
  if (rest != 0) {
    dw_row_vectors<V, M, F, true>(taps, x, off, w, bias, y, rest, act, alpha);
  } else if constexpr (F > 0) {
    dw_row_vectors<V, M, F, false>(taps, x, off, w, bias, y, 0, act, alpha);
  }
}

// Depthwise: one output row, U vectors at a time. See ConvDwRowUkernel.
template <class V, class M>
void conv_dw_row(size_t n, size_t taps, const float* x, const int64_t* off, const float* w, float bias, float* y,
                 ConvActivation act, float alpha) {
  constexpr size_t L = V::kLanes;
  constexpr size_t U = 4;
  size_t i = 0;
  for (; i + U * L <= n; i += U * L) dw_row_vectors<V, M, U, false>(taps, x + i, off, w, bias, y + i, 0, act, alpha);
  // The rest in one pass too: vector by vector, each of its taps' FMAs waited for the one
  // before (a 56-wide row of a 3x3 conv took about 4x as long).
  dw_row_rest<V, M, U - 1>((n - i) / L, (n - i) % L, taps, x + i, off, w, bias, y + i, act, alpha);
}

// Depthwise KxK (NHWC), column stride S, P output pixels x U channel vectors from channel
// c: each input vector is loaded once and feeds the outputs whose window holds it (up to
// K / S of them). With kTail, only the first `rest` lanes of the last vector are touched.
template <class V, class M, size_t K, size_t S, size_t P, size_t U, bool kTail>
inline void dw_rows_tile(const float* const* x, size_t xstride, const float* w, size_t wstride, const float* bias,
                         float* y, size_t ystride, size_t c, size_t rest, ConvActivation act, float alpha) {
  using T = typename V::T;
  constexpr size_t L = V::kLanes;
  auto ld = [&](const float* q, size_t u) {
    return kTail && u == U - 1 ? V::load_tail(q + u * L, rest) : V::load(q + u * L);
  };
  T acc[P][U];
#pragma GCC unroll 4
  for (size_t u = 0; u < U; ++u) {
    const T b = bias != nullptr ? ld(bias + c, u) : V::zero();
#pragma GCC unroll 4
    for (size_t q = 0; q < P; ++q) acc[q][u] = b;
  }
#pragma GCC unroll 5
  for (size_t r = 0; r < K; ++r) {
    T wr[K][U];
#pragma GCC unroll 5
    for (size_t kx = 0; kx < K; ++kx) {
#pragma GCC unroll 4
      for (size_t u = 0; u < U; ++u) wr[kx][u] = ld(w + (K * r + kx) * wstride + c, u);
    }
#pragma GCC unroll 16
    for (size_t j = 0; j < (P - 1) * S + K; ++j) {  // input column j feeds output q at kx = j - S q
#pragma GCC unroll 4
      for (size_t u = 0; u < U; ++u) {
        const T xv = ld(x[r] + j * xstride + c, u);
#pragma GCC unroll 5
        for (size_t kx = 0; kx < K; ++kx) {
          if (j >= kx && (j - kx) % S == 0 && (j - kx) / S < P) {
            acc[(j - kx) / S][u] = V::fmadd(wr[kx][u], xv, acc[(j - kx) / S][u]);
          }
        }
      }
    }
  }
  const T va = V::set1(alpha);
#pragma GCC unroll 4
  for (size_t q = 0; q < P; ++q) {
#pragma GCC unroll 4
    for (size_t u = 0; u < U; ++u) {
      const T v = ConvMath<V, M>::apply(acc[q][u], act, va);
      float* yq = y + q * ystride + c + u * L;
      if (kTail && u == U - 1) {
        V::store_tail(yq, v, rest);
      } else {
        V::store(yq, v);
      }
    }
  }
}

// P output pixels, every channel: full blocks of U vectors, then single vectors, the last
// one masked.
template <class V, class M, size_t K, size_t S, size_t P>
inline void dw_rows_pixels(size_t channels, const float* const* x, size_t xstride, const float* w, size_t wstride,
                           const float* bias, float* y, size_t ystride, ConvActivation act, float alpha) {
  constexpr size_t L = V::kLanes;
  // P * U accumulators + K * U weights of a kernel row + an input vector in registers.
  constexpr size_t U = (P + K + 1) * 2 <= V::kRegisters ? 2 : 1;
  size_t c = 0;
  for (; c + U * L <= channels; c += U * L) {
    dw_rows_tile<V, M, K, S, P, U, false>(x, xstride, w, wstride, bias, y, ystride, c, L, act, alpha);
  }
  for (; c + L <= channels; c += L) {
    dw_rows_tile<V, M, K, S, P, 1, false>(x, xstride, w, wstride, bias, y, ystride, c, L, act, alpha);
  }
  if (c < channels) {
    dw_rows_tile<V, M, K, S, P, 1, true>(x, xstride, w, wstride, bias, y, ystride, c, channels - c, act, alpha);
  }
}

template <class V, class M, size_t K, size_t S>
void dw_rows(size_t n, size_t channels, const float* const* x, size_t xstride, const float* w, size_t wstride,
             const float* bias, float* y, size_t ystride, ConvActivation act, float alpha) {
  constexpr size_t P = 4;
  const float* xp[K];
  size_t p = 0;
  for (; p + P <= n; p += P) {
    for (size_t r = 0; r < K; ++r) xp[r] = x[r] + p * S * xstride;
    dw_rows_pixels<V, M, K, S, P>(channels, xp, xstride, w, wstride, bias, y + p * ystride, ystride, act, alpha);
  }
  for (; p < n; ++p) {
    for (size_t r = 0; r < K; ++r) xp[r] = x[r] + p * S * xstride;
    dw_rows_pixels<V, M, K, S, 1>(channels, xp, xstride, w, wstride, bias, y + p * ystride, ystride, act, alpha);
  }
}

// See ConvDwRowsUkernel. Pixels outer, channels inner: the window under P outputs (K rows
// of (P - 1) S + K pixels) stays in L1 while every channel block reads it, and the input
// rows and the output row are each read or written front to back (channel blocks outer
// strode through the rows a pixel apart: 3x3 stride 1 ran 2-3x slower on maps in L2).
template <class V, class M>
void conv_dw_rows(size_t n, size_t k, size_t stride, size_t channels, const float* const* x, size_t xstride,
                  const float* w, size_t wstride, const float* bias, float* y, size_t ystride, ConvActivation act,
                  float alpha) {
  if (k == 3) {
    if (stride == 1) return dw_rows<V, M, 3, 1>(n, channels, x, xstride, w, wstride, bias, y, ystride, act, alpha);
    return dw_rows<V, M, 3, 2>(n, channels, x, xstride, w, wstride, bias, y, ystride, act, alpha);
  }
  if (stride == 1) return dw_rows<V, M, 5, 1>(n, channels, x, xstride, w, wstride, bias, y, ystride, act, alpha);
  return dw_rows<V, M, 5, 2>(n, channels, x, xstride, w, wstride, bias, y, ystride, act, alpha);
}

// Depthwise over channels (NHWC), a run of output pixels through per-tap pointers (the
// padding columns and the kernels conv_dw_rows does not take). See ConvDwPixelsUkernel.
// U vectors of channels at a time, their weights for up to kRegTaps taps held in
// registers across the pixels, so each multiply-add loads one input vector (a pixel at a
// time reloaded the weights too: two loads per multiply-add).
template <class V, class M>
void conv_dw_pixels(size_t pixels, size_t channels, size_t taps, const float* const* x, const float* w,
                    size_t wstride, const float* bias, float* y, size_t ystride, ConvActivation act, float alpha) {
  using T = typename V::T;
  using CM = ConvMath<V, M>;
  constexpr size_t L = V::kLanes;
  constexpr size_t U = 2;
  constexpr size_t kRegTaps = 9;
  const T va = V::set1(alpha);
  size_t c = 0;
  if (taps <= kRegTaps) {
    for (; c + U * L <= channels; c += U * L) {
      T wr[kRegTaps][U];
#pragma GCC unroll 9
      for (size_t t = 0; t < kRegTaps; ++t) {
#pragma GCC unroll 4
        for (size_t u = 0; u < U; ++u) wr[t][u] = t < taps ? V::load(w + t * wstride + c + u * L) : V::zero();
      }
      T b[U];
#pragma GCC unroll 4
      for (size_t u = 0; u < U; ++u) b[u] = bias != nullptr ? V::load(bias + c + u * L) : V::zero();
      for (size_t p = 0; p < pixels; ++p) {
        const float* const* xp = x + p * taps;
        T acc[U];
#pragma GCC unroll 4
        for (size_t u = 0; u < U; ++u) acc[u] = b[u];
#pragma GCC unroll 9
        for (size_t t = 0; t < kRegTaps; ++t) {
          if (t >= taps) break;
#pragma GCC unroll 4
          for (size_t u = 0; u < U; ++u) acc[u] = V::fmadd(wr[t][u], V::load(xp[t] + c + u * L), acc[u]);
        }
        float* yp = y + p * ystride + c;
#pragma GCC unroll 4
        for (size_t u = 0; u < U; ++u) V::store(yp + u * L, CM::apply(acc[u], act, va));
      }
    }
  }
  // The remaining channels (and kernels with more taps): a vector at a time, weights loaded.
  for (; c < channels; c += L) {
    const size_t rest = channels - c < L ? channels - c : L;
    auto ld = [&](const float* q) { return rest == L ? V::load(q) : V::load_tail(q, rest); };
    for (size_t p = 0; p < pixels; ++p) {
      const float* const* xp = x + p * taps;
      T acc = bias != nullptr ? ld(bias + c) : V::zero();
      for (size_t t = 0; t < taps; ++t) {
        acc = V::fmadd(ld(w + t * wstride + c), ld(xp[t] + c), acc);
      }
      acc = CM::apply(acc, act, va);
      float* yp = y + p * ystride + c;
      if (rest == L) {
        V::store(yp, acc);
      } else {
        V::store_tail(yp, acc, rest);
      }
    }
  }
}

template <class V, class M>
void conv_activation(float* y, size_t n, ConvActivation act, float alpha) {
  using CM = ConvMath<V, M>;
  constexpr size_t L = V::kLanes;
  const typename V::T va = V::set1(alpha);
  size_t i = 0;
  for (; i + L <= n; i += L) V::store(y + i, CM::apply(V::load(y + i), act, va));
  if (i < n) V::store_tail(y + i, CM::apply(V::load_tail(y + i, n - i), act, va), n - i);
}

// The 1-D Winograd transforms of F(m x m, 3x3), m = 2 (points 0, +-1, infinity) or 4
// (0, +-1, +-2, infinity): input tiles of kT = m + 2 values, outputs of kM = m.
template <class V>
struct WinogradF2 {
  using T = typename V::T;
  static constexpr size_t kT = 4, kM = 2;
  static void input(const T d[4], T o[4]) {  // B^T d
    o[0] = V::sub(d[0], d[2]);
    o[1] = V::add(d[1], d[2]);
    o[2] = V::sub(d[2], d[1]);
    o[3] = V::sub(d[1], d[3]);
  }
  static void output(const T m[4], T o[2]) {  // A^T m
    o[0] = V::add(V::add(m[0], m[1]), m[2]);
    o[1] = V::sub(V::sub(m[1], m[2]), m[3]);
  }
};

template <class V>
struct WinogradF4 {
  using T = typename V::T;
  static constexpr size_t kT = 6, kM = 4;
  static void input(const T d[6], T o[6]) {  // B^T d
    const T four = V::set1(4.0f), minus_five = V::set1(-5.0f);
    const T s12 = V::add(d[1], d[2]), s34 = V::add(d[3], d[4]);
    const T d12 = V::sub(d[1], d[2]), d43 = V::sub(d[4], d[3]);
    const T d31 = V::sub(d[3], d[1]), d42 = V::sub(d[4], d[2]);
    o[0] = V::fmadd(four, d[0], V::fmadd(minus_five, d[2], d[4]));
    o[1] = V::fmadd(V::set1(-4.0f), s12, s34);
    o[2] = V::fmadd(four, d12, d43);
    o[3] = V::fmadd(V::set1(2.0f), d31, d42);
    o[4] = V::fmadd(V::set1(-2.0f), d31, d42);
    o[5] = V::fmadd(four, d[1], V::fmadd(minus_five, d[3], d[5]));
  }
  static void output(const T m[6], T o[4]) {  // A^T m
    const T p = V::add(m[1], m[2]), q = V::sub(m[1], m[2]);
    const T r = V::add(m[3], m[4]), s = V::sub(m[3], m[4]);
    o[0] = V::add(V::add(m[0], p), r);
    o[1] = V::fmadd(V::set1(2.0f), s, q);
    o[2] = V::fmadd(V::set1(4.0f), r, p);
    o[3] = V::add(V::fmadd(V::set1(8.0f), s, q), m[5]);
  }
};

// A Winograd transform of a K x K tile of vectors, separably: the 1-D transform `op` (K
// values to R) on every column of load(r, c), then on every row of the result; store(r, c,
// value) receives the R x R outputs. Always inlined: GCC left the input transform's copy as
// a call, its arrays in memory.
template <class T, size_t K, size_t R, class Op, class Load, class Store>
[[gnu::always_inline]] inline void winograd_2d(Op&& op, Load&& load, Store&& store) {
  T t[R][K];  // op on the columns: rows combined
#pragma GCC unroll 6
  for (size_t c = 0; c < K; ++c) {
    T col[K], o[R];
#pragma GCC unroll 6
    for (size_t r = 0; r < K; ++r) col[r] = load(r, c);
    op(col, o);
#pragma GCC unroll 6
    for (size_t r = 0; r < R; ++r) t[r][c] = o[r];
  }
#pragma GCC unroll 6
  for (size_t r = 0; r < R; ++r) {  // op on the rows: columns combined
    T o[R];
    op(t[r], o);
#pragma GCC unroll 6
    for (size_t c = 0; c < R; ++c) store(r, c, o[c]);
  }
}

// Winograd input transform B^T d B, vectorised across tiles. See ConvWinogradInputUkernel.
template <class V, class F>
void conv_winograd_input(size_t n, const float* const* d, float* const* v) {
  using T = typename V::T;
  constexpr size_t L = V::kLanes, K = F::kT;
  for (size_t i = 0; i < n; i += L) {
    const size_t rest = n - i < L ? n - i : L;
    winograd_2d<T, K, K>(
        [](const T* x, T* o) { F::input(x, o); },
        [&](size_t r, size_t c) { return rest == L ? V::load(d[K * r + c] + i) : V::load_tail(d[K * r + c] + i, rest); },
        [&](size_t r, size_t c, T x) {
          if (rest == L) {
            V::store(v[K * r + c] + i, x);
          } else {
            V::store_tail(v[K * r + c] + i, x, rest);
          }
        });
  }
}

// Winograd output transform act(bias + A^T m A), vectorised across tiles. See
// ConvWinogradOutputUkernel.
template <class V, class M, class F>
void conv_winograd_output(size_t n, const float* m, size_t m_stride, float bias, float* y, ConvActivation act,
                          float alpha) {
  using T = typename V::T;
  using CM = ConvMath<V, M>;
  constexpr size_t L = V::kLanes, K = F::kT, R = F::kM;
  const T vb = V::set1(bias);
  const T va = V::set1(alpha);
  for (size_t i = 0; i < n; i += L) {
    const size_t rest = n - i < L ? n - i : L;
    winograd_2d<T, K, R>(
        [](const T* x, T* o) { F::output(x, o); },
        [&](size_t r, size_t c) {
          const float* p = m + (K * r + c) * m_stride + i;
          return rest == L ? V::load(p) : V::load_tail(p, rest);
        },
        [&](size_t r, size_t c, T x) {
          const T out = CM::apply(V::add(vb, x), act, va);
          if (rest == L) {
            V::store(y + (R * r + c) * n + i, out);
          } else {
            V::store_tail(y + (R * r + c) * n + i, out, rest);
          }
        });
  }
}

// A blocked conv tile of R pixels by NV vectors of channels: every form, or (kAllForms
// false: the half tile) only those of blocked x at column stride 1, which are all its convs
// take (each form is R unrolled kernels: the half tile's twelve would double the build).
template <class V, class M, size_t R, size_t NV, bool kAllForms>
void fill_blocked_tile(ConvBlockedTile& t) {
  static_assert(R <= kMaxBlockedR, "conv_blocked.cc sizes a tile's pixel offsets by kMaxBlockedR");
  t.r = R;
  t.nr = NV * V::kLanes;
  t.strided = &conv_blocked<V, M, R, NV, 1, V::kLanes>;
  t.gather = &conv_blocked_gather<V, M, R, NV, V::kLanes>;
  if constexpr (kAllForms) {
    t.strided_s2 = &conv_blocked<V, M, R, NV, 2, V::kLanes>;
    t.nchw_in = &conv_blocked<V, M, R, NV, 1, 1>;
    t.nchw_in_s2 = &conv_blocked<V, M, R, NV, 2, 1>;
    t.nchw_in_gather = &conv_blocked_gather<V, M, R, NV, 1>;
  }
}

// Fills the conv2d part of a UkernelTable with an MR x (NV vectors) GEMM tile.
// MR x NV: the packed GEMM's tile; LMR x LNV: the same GEMM's tile on the channel-lane
// path; IMR x INV: the indirect GEMM's (NHWC output channels on the lanes, where a narrower
// tile wastes fewer lanes on 64-channel layers); BR x BNV: the blocked direct conv's (its half
// tile: 2 BR x BNV / 2).
template <class V, class M, size_t MR, size_t NV, size_t LMR, size_t LNV, size_t IMR, size_t INV, size_t BR, size_t BNV,
          class Table>
void fill_conv(Table& t) {
  t.conv.mr = MR;
  t.conv.nr = NV * V::kLanes;
  t.conv.gemm = &conv_gemm<V, M, MR, NV>;
  t.conv.vector_lanes = V::kLanes;
  t.conv.gemm_1v = &conv_gemm<V, M, MR, 1>;
  t.conv.gemm_2v = &conv_gemm<V, M, MR, (NV < 2 ? NV : 2)>;
  t.conv.lanes_mr = LMR;
  t.conv.lanes_nr = LNV * V::kLanes;
  t.conv.lanes_gemm = &conv_gemm<V, M, LMR, LNV>;
  t.conv.lanes_gemm_1row = &conv_gemm<V, M, 1, LNV>;
  t.conv.igemm_mr = IMR;
  t.conv.igemm_nr = INV * V::kLanes;
  t.conv.igemm = &conv_igemm<V, M, IMR, INV>;
  t.conv.gather_gemm = &conv_gather_gemm<V, M, IMR, INV>;
  fill_blocked_tile<V, M, BR, BNV, true>(t.conv.blocked);
  fill_blocked_tile<V, M, (BNV > 1 ? 2 * BR : BR), (BNV > 1 ? BNV / 2 : BNV), false>(t.conv.blocked_half);
  t.conv.blocked_affine = &conv_blocked_affine<V>;
  t.conv.dw_row = &conv_dw_row<V, M>;
  t.conv.dw_pixels = &conv_dw_pixels<V, M>;
  t.conv.dw_rows = &conv_dw_rows<V, M>;
  t.conv.activation = &conv_activation<V, M>;
  t.conv.winograd_input = &conv_winograd_input<V, WinogradF2<V>>;
  t.conv.winograd_output = &conv_winograd_output<V, M, WinogradF2<V>>;
  t.conv.winograd4_input = &conv_winograd_input<V, WinogradF4<V>>;
  t.conv.winograd4_output = &conv_winograd_output<V, M, WinogradF4<V>>;
}

}  // namespace tf::ukernel
