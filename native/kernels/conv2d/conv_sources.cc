#include "kernels/conv2d/conv_sources.h"

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/column_phases.h"
#include "kernels/conv2d/conv_scratch.h"

namespace tf {

namespace {

// Columns [begin, end) of column phase b hold input values: v with 0 <= v * sw + b - pl < w
// (every sw-th input); the rest are padding. The same for every row.
std::pair<int64_t, int64_t> copied_columns(const Conv2dInput& in, const PhaseGeometry& g, int64_t b) {
  const int64_t pl = in.pads[1];
  const int64_t first = pl > b ? (pl - b + g.sw - 1) / g.sw : 0;
  const int64_t begin = std::min<int64_t>(first, g.wph);
  return {begin, std::max<int64_t>(begin, std::min<int64_t>(g.wph, (in.w + pl - b + g.sw - 1) / g.sw))};
}

// The input affine over rows [u0, u1) of every phase of a padded copy pad_rows wrote:
// only the columns and rows that hold input values (the padding stays zero).
void affine_rows(const Conv2dInput& in, const PhaseGeometry& g, int64_t u0, int64_t u1, float* dst, int64_t phase_stride,
                 int64_t u_base, float scale, float shift, bool relu) {
  const int64_t pt = in.pads[0];
  if (phase_stride < 0) phase_stride = g.phase_size();
  for (int64_t b = 0; b < g.sw; ++b) {
    const auto [begin, end] = copied_columns(in, g, b);
    for (int64_t a = 0; a < g.sh; ++a) {
      float* phase = dst + (a * g.sw + b) * phase_stride;
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t ih = u * g.sh + a - pt;
        if (ih < 0 || ih >= in.h) continue;
        float* row = phase + (u - u_base) * g.wph + begin;
        channel_affine(row, row, static_cast<size_t>(end - begin), scale, shift, relu);
      }
    }
  }
}

}  // namespace

size_t ConvSources::source_of(int64_t c, int64_t* local) const {
  size_t i = 0;
  while (i + 1 < data.size() && c >= channels[i]) c -= channels[i++];
  *local = c;
  return i;
}

void pad_rows(const float* src, const Conv2dInput& in, const PhaseGeometry& g, int64_t u0, int64_t u1, float* dst,
              int64_t phase_stride, int64_t u_base, bool add) {
  const int64_t pt = in.pads[0];
  if (phase_stride < 0) phase_stride = g.phase_size();
  const ColumnPhases columns(in.w, in.pads[1], g.sw, g.wph);
  // One row's phase rows: on the stack for the strides convs have (a vector past that).
  constexpr int64_t kStackPhases = 16;
  float* stack_rows[kStackPhases];
  std::vector<float*> heap_rows(g.sw > kStackPhases ? static_cast<size_t>(g.sw) : 0);
  float** rows = g.sw > kStackPhases ? heap_rows.data() : stack_rows;
  for (int64_t a = 0; a < g.sh; ++a) {
    for (int64_t u = u0; u < u1; ++u) {
      for (int64_t b = 0; b < g.sw; ++b) rows[b] = dst + (a * g.sw + b) * phase_stride + (u - u_base) * g.wph;
      const int64_t ih = u * g.sh + a - pt;
      if (ih >= 0 && ih < in.h) {
        columns.split(src + ih * in.w, rows, add);
      } else if (!add) {
        for (int64_t b = 0; b < g.sw; ++b) std::memset(rows[b], 0, sizeof(float) * g.wph);
      }
    }
  }
}

namespace {

// GCC turns a zeroing loop into a libc memset call, costlier than the stores for the dozen
// floats of a band row: 8-10 % of a blocked [128,28,28] F(4x4) conv went to memset.
#if defined(__GNUC__) && !defined(__clang__)
#define TF_NO_MEMSET_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TF_NO_MEMSET_CALLS
#endif

// Zeroes the first `head` and last `tail` of n floats at p (n: a band row, a dozen floats).
TF_NO_MEMSET_CALLS inline void zero_few(float* p, int64_t head, int64_t tail, int64_t n) {
  for (int64_t v = 0; v < head; ++v) p[v] = 0.0f;
  for (int64_t v = n - tail; v < n; ++v) p[v] = 0.0f;
}

}  // namespace

TF_NO_MEMSET_CALLS void pad_rows_blocked(const float* xblock, int64_t used, int64_t lanes, const Conv2dInput& in,
                                         const PhaseGeometry& g, int64_t u0, int64_t u1, float* dst, int64_t channel_stride,
                                         int64_t phase_stride, int64_t u_base) {
  const int64_t pt = in.pads[0], pl = in.pads[1];
  for (int64_t a = 0; a < g.sh; ++a) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t ih = u * g.sh + a - pt;
      for (int64_t b = 0; b < g.sw; ++b) {
        float* row = dst + (a * g.sw + b) * phase_stride + (u - u_base) * g.wph;  // channel 0's phase row
        auto out = [&](int64_t l) { return row + l * channel_stride; };
        if (ih < 0 || ih >= in.h) {
          for (int64_t l = 0; l < used; ++l) zero_few(out(l), g.wph, 0, g.wph);
          continue;
        }
        // Columns v read input column v * sw + b - pl; [v0, v1) of them lie inside the row.
        const auto [v0, v1] = copied_columns(in, g, b);
        for (int64_t l = 0; l < used; ++l) zero_few(out(l), v0, g.wph - v1, g.wph);  // padding columns
        // Column v's lanes at at(v) (only v in [v0, v1): never before the row).
        const float* xrow = xblock + ih * in.w * lanes;
        const int64_t step = g.sw * lanes;
        auto at = [&](int64_t col) { return xrow + (col * g.sw + b - pl) * lanes; };
        int64_t v = v0;
#if defined(__SSE2__)
        if (lanes % 4 == 0) {
          const int64_t used4 = used & ~int64_t{3};
          for (; v + 4 <= v1; v += 4) {
            const float* p = at(v);
            for (int64_t l = 0; l < used4; l += 4) {
              __m128 r0 = _mm_loadu_ps(p + l), r1 = _mm_loadu_ps(p + step + l), r2 = _mm_loadu_ps(p + 2 * step + l),
                     r3 = _mm_loadu_ps(p + 3 * step + l);
              _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_k: channel l + k at columns v .. v + 3
              _mm_storeu_ps(out(l) + v, r0);
              _mm_storeu_ps(out(l + 1) + v, r1);
              _mm_storeu_ps(out(l + 2) + v, r2);
              _mm_storeu_ps(out(l + 3) + v, r3);
            }
            for (int64_t l = used4; l < used; ++l) {
              for (int64_t k = 0; k < 4; ++k) out(l)[v + k] = p[k * step + l];
            }
          }
          // The last 1-3 columns the same way (small maps: a 7-column phase row ran 3 of its
          // 7 columns one channel at a time, 40 % of this copy): the row's last 4 columns
          // again when it has 4, else 4 from v, the ones past v1 (padding) given zeros.
          if (v < v1 && v1 - v0 >= 4) v = v1 - 4;
          if (v < v1 && v + 4 <= g.wph) {
            const float* p = at(v);
            const int64_t k_in = std::min<int64_t>(4, v1 - v);
            for (int64_t l = 0; l < used4; l += 4) {
              __m128 r[4];
              for (int64_t k = 0; k < 4; ++k) r[k] = k < k_in ? _mm_loadu_ps(p + k * step + l) : _mm_setzero_ps();
              _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]);
              for (int64_t k = 0; k < 4; ++k) _mm_storeu_ps(out(l + k) + v, r[k]);
            }
            for (int64_t l = used4; l < used; ++l) {
              for (int64_t k = 0; k < k_in; ++k) out(l)[v + k] = p[k * step + l];
            }
            v = v1;
          }
        }
#endif
        for (; v < v1; ++v) {
          for (int64_t l = 0; l < used; ++l) out(l)[v] = at(v)[l];
        }
      }
    }
  }
}

void gather_rows(const ConvSources& s, int64_t n, int64_t c, const Conv2dInput& in, const PhaseGeometry& g, int64_t u0,
                 int64_t u1, float* dst, int64_t phase_stride, int64_t u_base) {
  const int64_t hw = in.h * in.w;
  if (s.kind == ConvSources::Kind::kConcat) {
    int64_t local = 0;
    const size_t i = s.source_of(c, &local);
    pad_rows(s.plane(i, n, local, hw), in, g, u0, u1, dst, phase_stride, u_base);
    if (s.in_scale != nullptr) affine_rows(in, g, u0, u1, dst, phase_stride, u_base, s.in_scale[c], s.in_shift[c], s.in_relu);
    return;
  }
  // The sum is made while copying: each row is still in L1 when the next source is added.
  for (size_t i = 0; i < s.data.size(); ++i) {
    pad_rows(s.plane(i, n, c, hw), in, g, u0, u1, dst, phase_stride, u_base, i > 0);
  }
}

void prefetch_rows(const ConvSources& s, int64_t n, int64_t c, const Conv2dInput& in, int64_t ih0, int64_t ih1) {
  ih0 = std::max<int64_t>(ih0, 0);
  ih1 = std::min(ih1, in.h);
  if (ih0 >= ih1) return;
  const int64_t hw = in.h * in.w;
  auto one = [&](const float* plane) {
    const char* p = reinterpret_cast<const char*>(plane + ih0 * in.w);
    const char* e = reinterpret_cast<const char*>(plane + ih1 * in.w);
    for (; p < e; p += 64) __builtin_prefetch(p, 0, 3);
  };
  if (s.kind == ConvSources::Kind::kConcat) {
    int64_t local = 0;
    const size_t i = s.source_of(c, &local);
    one(s.plane(i, n, local, hw));
    return;
  }
  for (size_t i = 0; i < s.data.size(); ++i) one(s.plane(i, n, c, hw));
}

ConcatSegments::ConcatSegments(const ConvSources& s, int64_t groups, int64_t cin_g, int64_t taps, int64_t plane,
                               const std::vector<int64_t>& boff_single)
    : k0(static_cast<size_t>(groups)), source(static_cast<size_t>(groups)), first(static_cast<size_t>(groups)) {
  const int64_t k = cin_g * taps;
  boff.resize(static_cast<size_t>(groups * k));
  for (int64_t g = 0; g < groups; ++g) {
    int64_t ci = 0;
    while (ci < cin_g) {
      int64_t local = 0;
      const size_t i = s.source_of(g * cin_g + ci, &local);
      const int64_t len = std::min(cin_g - ci, s.channels[i] - local);  // >= 1: source i holds channel ci
      k0[g].push_back(ci * taps);
      source[g].push_back(i);
      first[g].push_back(local);
      for (int64_t kk = ci * taps; kk < (ci + len) * taps; ++kk) boff[g * k + kk] = boff_single[kk] - ci * plane;
      ci += len;
    }
    k0[g].push_back(k);
    max_pieces = std::max(max_pieces, source[g].size());
  }
}

void ConcatSegments::bases(const ConvSources& s, int64_t g, int64_t n, int64_t hw, size_t q0, const float** out) const {
  for (size_t p = 0; p < source[g].size(); ++p) out[p] = s.plane(source[g][p], n, first[g][p], hw) + q0;
}

void add_activate(float* y, const float* t, const float* skip, size_t n, ConvActivationUkernel activation,
                  ConvActivation act, float alpha) {
  for (size_t i = 0; i < n; ++i) y[i] = t[i] + skip[i];
  if (act != ConvActivation::kNone) activation(y, n, act, alpha);
}

void add_activate_parallel(float* y, const float* t, const float* skip, size_t n, ConvActivationUkernel activation,
                           ConvActivation act, float alpha) {
  constexpr size_t kChunk = 16384;  // floats: a chunk's three streams stay within L1
  parallel(ceil_div(n, kChunk), static_cast<double>(n), [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      const size_t i0 = c * kChunk;
      add_activate(y + i0, t + i0, skip + i0, std::min(kChunk, n - i0), activation, act, alpha);
    }
  });
}

}  // namespace tf
