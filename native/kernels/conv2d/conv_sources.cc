#include "kernels/conv2d/conv_sources.h"

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
