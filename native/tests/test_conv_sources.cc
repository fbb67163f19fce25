// conv_sources: copy_strided against a guard page; the source-gathering padded copy
// (gather_rows: concat picks the right source's plane, sum adds every source's plane while
// copying) against a naive padded, phase-split reference, bit for bit, every source against
// a guard page; and
// PackedConv2d::run over sources against run over the materialised concat / sum (bit for
// bit: the same copies and the same reduction order) on the in-place 1x1 (K split by
// source, also across a K block edge), padded, strided, Winograd and depthwise paths, plus
// the residual epilogue (skip separate and skip == y) against conv, add, activation.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv2d/column_phases.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv_sources.h"
#include "test_util.h"
#include "tf_test.h"

using tf_test::GuardedBuffer;

namespace {

struct Sources {
  std::vector<GuardedBuffer> bufs;
  tf::ConvSources s;
};

Sources make_sources(tf::ConvSources::Kind kind, const std::vector<int64_t>& chans, int64_t n, int64_t hw,
                     tf_test::Rng& rng, bool special) {
  Sources out;
  out.s.kind = kind;
  for (int64_t c : chans) {
    out.bufs.emplace_back(static_cast<size_t>(n * c * hw), GuardedBuffer::Placement::kTail);
    for (size_t i = 0; i < out.bufs.back().size(); ++i) out.bufs.back()[i] = special ? rng.value() : rng.uniform(-1, 1);
  }
  for (size_t i = 0; i < chans.size(); ++i) {
    out.s.data.push_back(out.bufs[i].data());
    out.s.channels.push_back(chans[i]);
  }
  return out;
}

// The conv input (concat or sum of the sources), materialised: [n, cin, h, w].
std::vector<float> materialise(const Sources& src, int64_t n, int64_t hw) {
  const auto& s = src.s;
  const bool sum = s.kind == tf::ConvSources::Kind::kSum;
  int64_t cin = 0;
  for (int64_t c : s.channels) cin = sum ? c : cin + c;
  std::vector<float> x(static_cast<size_t>(n * cin * hw), 0.0f);
  for (int64_t b = 0; b < n; ++b) {
    int64_t at = 0;
    for (size_t i = 0; i < s.data.size(); ++i) {
      for (int64_t c = 0; c < s.channels[i]; ++c) {
        const float* p = s.data[i] + (b * s.channels[i] + c) * hw;
        float* d = x.data() + (b * cin + (sum ? c : at + c)) * hw;
        for (int64_t j = 0; j < hw; ++j) d[j] = sum && i > 0 ? d[j] + p[j] : p[j];
      }
      if (!sum) at += s.channels[i];
    }
  }
  return x;
}

}  // namespace

TF_TEST(conv_sources_copy_strided_reads_only_its_columns) {
  // The source ends on a guard page right after the last column read, (n - 1) * stride.
  for (int64_t stride = 1; stride <= 3; ++stride) {
    for (int64_t n = 1; n <= 21; ++n) {
      GuardedBuffer src(static_cast<size_t>((n - 1) * stride + 1), GuardedBuffer::Placement::kTail);
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
      std::vector<float> d(static_cast<size_t>(n) + 1, -1.0f);
      tf::copy_strided(src.data(), stride, d.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        TF_CHECK(d[static_cast<size_t>(i)] == src[static_cast<size_t>(i * stride)])
            << "stride " << stride << " n " << n << " i " << i << ": " << d[static_cast<size_t>(i)];
      }
      TF_CHECK(d[static_cast<size_t>(n)] == -1.0f) << "stride " << stride << " n " << n << ": wrote past n";
    }
  }
}

TF_TEST(conv_sources_gather_rows_matches_naive_padded_copy) {
  tf_test::Rng rng(11);
  const std::vector<std::vector<int64_t>> sets = {{1}, {3, 1, 2}, {2, 2, 2}};
  for (int kind = 0; kind < 2; ++kind) {
    for (const auto& chans0 : sets) {
      std::vector<int64_t> chans = chans0;
      if (kind == 1) chans.assign(chans0.size(), 3);
      // Strides 2 and 4 deinterleave 4 columns of every phase at a time where the whole
      // group lies inside the row (ColumnPhases::split): 37 columns reach that path.
      for (int64_t stride = 1; stride <= 4; ++stride) {
        for (int64_t pad = 0; pad <= 2; ++pad) {
          for (const int64_t w : {7, 37}) {
            const int64_t n = 2, h = 5;
            Sources src = make_sources(static_cast<tf::ConvSources::Kind>(kind), chans, n, h * w, rng, true);
            tf::Conv2dInput in;
            in.n = n;
            in.h = h;
            in.w = w;
            in.pads[0] = pad;
            in.pads[1] = pad + 1;
            in.pads[2] = pad;
            in.pads[3] = pad;
            const int64_t hp = h + 2 * pad, wp = w + 2 * pad + 1;
            const tf::PhaseGeometry g{stride, stride, (hp + stride - 1) / stride, (wp + stride - 1) / stride};
            tf_test::set_context("kind=" + std::to_string(kind) + " chans=" + tf_test::shape_str(chans) +
                                 " stride=" + std::to_string(stride) + " pad=" + std::to_string(pad) +
                                 " w=" + std::to_string(w));
            const std::vector<float> x = materialise(src, n, h * w);
            const int64_t cin = static_cast<int64_t>(x.size()) / (n * h * w);
            GuardedBuffer dst(static_cast<size_t>(g.plane_size()), GuardedBuffer::Placement::kTail);
            size_t bad = 0;
            for (int64_t b = 0; b < n; ++b) {
              for (int64_t c = 0; c < cin; ++c) {
                for (size_t i = 0; i < dst.size(); ++i) dst[i] = 777.0f;  // every element must be written
                // In two row ranges, as the conv's tasks do.
                tf::gather_rows(src.s, b, c, in, g, 0, g.hph / 2, dst.data());
                tf::gather_rows(src.s, b, c, in, g, g.hph / 2, g.hph, dst.data());
                for (int64_t pa = 0; pa < stride; ++pa) {
                  for (int64_t pb = 0; pb < stride; ++pb) {
                    for (int64_t u = 0; u < g.hph; ++u) {
                      for (int64_t v = 0; v < g.wph; ++v) {
                        const int64_t ih = u * stride + pa - in.pads[0], iw = v * stride + pb - in.pads[1];
                        const bool inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                        const float want = inside ? x[static_cast<size_t>(((b * cin + c) * h + ih) * w + iw)] : 0.0f;
                        const float got = dst[static_cast<size_t>((pa * stride + pb) * g.phase_size() + u * g.wph + v)];
                        if (!tf_test::same_float(got, want) && ++bad <= 5) {
                          TF_CHECK(false) << "n " << b << " c " << c << " phase " << pa << "," << pb << " [" << u << "][" << v
                                          << "] got " << got << " want " << want;
                        }
                      }
                    }
                  }
                }
              }
            }
            TF_CHECK(bad == 0) << bad << " elements differ from the naive padded copy";
          }
        }
      }
    }
  }
}

namespace {

struct ConvCase {
  int64_t k, stride, pad, groups_dw;  // groups_dw: 0 dense, 1 depthwise
  int64_t cout, h, w;
  const char* path;
  // Pack on the channel lanes (TENSORFUSE_CONV_LANES=channels: the tile sizes that decide
  // it otherwise differ per ISA).
  bool channel_lanes = false;
  const char* algorithm = nullptr;  // when set, the path the packing must choose
  // Pack with TENSORFUSE_CONV_BLOCKED=0: a stride-2 conv then gathers instead.
  bool no_blocked = false;
};

void run_case(const ConvCase& cc, tf::ConvSources::Kind kind, const std::vector<int64_t>& chans, tf_test::Rng& rng) {
  const int64_t n = 2, hw = cc.h * cc.w;
  Sources src = make_sources(kind, chans, n, hw, rng, false);
  const std::vector<float> x = materialise(src, n, hw);
  const int64_t cin = static_cast<int64_t>(x.size()) / (n * hw);
  tf::Conv2dParams p;
  p.groups = cc.groups_dw ? cin : 1;
  p.cout = cc.groups_dw ? cin : cc.cout;
  p.cin_per_group = cin / p.groups;
  p.kh = p.kw = cc.k;
  p.sh = p.sw = cc.stride;
  std::vector<float> wts(static_cast<size_t>(p.cout * p.cin_per_group * cc.k * cc.k)), bias(static_cast<size_t>(p.cout));
  for (float& v : wts) v = rng.uniform(-0.5f, 0.5f);
  for (float& v : bias) v = rng.uniform(-1, 1);
  auto pack = [&]() {
    if (cc.channel_lanes) setenv("TENSORFUSE_CONV_LANES", "channels", 1);
    if (cc.no_blocked) setenv("TENSORFUSE_CONV_BLOCKED", "0", 1);
    auto conv = std::make_unique<tf::PackedConv2d>(p, wts.data(), bias.data());
    if (cc.channel_lanes) unsetenv("TENSORFUSE_CONV_LANES");
    if (cc.no_blocked) unsetenv("TENSORFUSE_CONV_BLOCKED");
    return conv;
  };
  tf::Conv2dInput in;
  in.n = n;
  in.h = cc.h;
  in.w = cc.w;
  for (int64_t& pd : in.pads) pd = cc.pad;
  const int64_t hout = tf::conv_output_dim(cc.h, cc.pad, cc.pad, cc.k, cc.stride, 1);
  const int64_t wout = tf::conv_output_dim(cc.w, cc.pad, cc.pad, cc.k, cc.stride, 1);
  const size_t ny = static_cast<size_t>(n * p.cout * hout * wout);
  tf_test::set_context(std::string(cc.path) + " kind=" + std::to_string(static_cast<int>(kind)) +
                       " chans=" + tf_test::shape_str(chans));
  {
    const std::unique_ptr<tf::PackedConv2d> conv = pack();
    if (cc.algorithm != nullptr) {
      TF_CHECK(std::string(conv->algorithm()) == cc.algorithm) << "packed as " << conv->algorithm();
    }
    std::vector<float> want(ny);
    conv->run(x.data(), in, want.data());
    GuardedBuffer got(ny, GuardedBuffer::Placement::kTail);
    conv->run(src.s, in, got.data());
    size_t bad = 0;
    for (size_t i = 0; i < ny; ++i) {
      if (!tf_test::same_float(got[i], want[i]) && ++bad <= 5) TF_CHECK(false) << "at " << i << " got " << got[i] << " want " << want[i];
    }
    TF_CHECK(bad == 0) << bad << " outputs differ from the conv of the materialised input";
  }
  // The residual epilogue, on a single source: act(conv + bias + skip), skip apart and skip == y.
  if (kind != tf::ConvSources::Kind::kConcat || chans.size() != 1) return;
  for (int a = 0; a <= 5; ++a) {
    const std::unique_ptr<tf::PackedConv2d> conv = pack();
    std::vector<float> skip(ny), want(ny);
    for (float& v : skip) v = rng.uniform(-1, 1);
    conv->run(x.data(), in, want.data());
    for (size_t i = 0; i < ny; ++i) {
      float v = want[i] + skip[i];
      switch (static_cast<tf::ConvActivation>(a)) {
        case tf::ConvActivation::kNone: break;
        case tf::ConvActivation::kRelu: v = std::max(v, 0.0f); break;
        case tf::ConvActivation::kRelu6: v = std::min(std::max(v, 0.0f), 6.0f); break;
        case tf::ConvActivation::kSigmoid: v = 1.0f / (1.0f + std::exp(-v)); break;
        case tf::ConvActivation::kSilu: v = v / (1.0f + std::exp(-v)); break;
        case tf::ConvActivation::kLeakyRelu: v = v < 0 ? 0.25f * v : v; break;
      }
      want[i] = v;
    }
    for (int same = 0; same < 2; ++same) {
      tf::ConvSources s = src.s;
      s.act = static_cast<tf::ConvActivation>(a);
      s.alpha = 0.25f;
      GuardedBuffer y(ny, GuardedBuffer::Placement::kTail), sk(ny, GuardedBuffer::Placement::kHead);
      for (size_t i = 0; i < ny; ++i) (same ? y : sk)[i] = skip[i];
      s.skip = same ? y.data() : sk.data();
      conv->run(s, in, y.data());
      size_t bad = 0;
      for (size_t i = 0; i < ny; ++i) {
        if (!(std::fabs(y[i] - want[i]) <= 1e-4f * (1 + std::fabs(want[i]))) && ++bad <= 5) {
          TF_CHECK(false) << "residual act " << a << " same " << same << " at " << i << " got " << y[i] << " want " << want[i];
        }
      }
      TF_CHECK(bad == 0) << bad << " residual outputs differ";
    }
  }
}

}  // namespace

TF_TEST(conv_sources_run_matches_materialised_input) {
  tf_test::Rng rng(23);
  const std::vector<ConvCase> cases = {
      {1, 1, 0, 0, 13, 5, 7, "1x1 in place"}, {3, 1, 1, 0, 5, 6, 9, "3x3 padded GEMM"},
      {3, 1, 1, 0, 12, 9, 10, "3x3 Winograd"}, {3, 2, 1, 0, 7, 9, 8, "3x3 stride 2"},
      {3, 1, 1, 1, 0, 6, 7, "3x3 depthwise"},
  };
  for (const ConvCase& cc : cases) {
    for (const auto& chans : std::vector<std::vector<int64_t>>{{9}, {1, 8}, {7, 9}, {8, 1, 16, 2}}) {
      run_case(cc, tf::ConvSources::Kind::kConcat, chans, rng);
    }
    for (size_t k = 1; k <= 3; ++k) run_case(cc, tf::ConvSources::Kind::kSum, std::vector<int64_t>(k, 9), rng);
  }
  // The output-channel-lane paths, whose tiles are stored transposed (4 x 4 blocks, then the
  // rest) or reordered from the blocked layout: the gathering GEMM (32+ input channels,
  // k x k), the blocked kernel (the same, column stride 2) and the channel lanes; 45 output
  // channels and odd pixel counts leave remainders both ways.
  const std::vector<ConvCase> lane_cases = {
      {3, 2, 1, 0, 45, 9, 11, "3x3 stride 2 gathering", false, "gemm-gather", true},
      {3, 2, 1, 0, 45, 9, 11, "3x3 stride 2 blocked", false, "blocked-direct"},
      {1, 1, 0, 0, 45, 7, 7, "1x1 channel lanes", true, "gemm-channel-lanes"},
      {3, 2, 1, 0, 45, 13, 13, "3x3 stride 2 channel lanes", true, "gemm-channel-lanes"}};
  for (const ConvCase& cc : lane_cases) {
    run_case(cc, tf::ConvSources::Kind::kConcat, {40}, rng);
    run_case(cc, tf::ConvSources::Kind::kConcat, {9, 31}, rng);
  }
  // A reduction of 700 (two K blocks of 350): a source straddles the block edge.
  run_case({1, 1, 0, 0, 9, 4, 5, "1x1 in place, 2 K blocks"}, tf::ConvSources::Kind::kConcat, {300, 1, 399}, rng);
  run_case({1, 1, 0, 0, 9, 4, 5, "1x1 in place, 2 K blocks"}, tf::ConvSources::Kind::kConcat, {700}, rng);
}
