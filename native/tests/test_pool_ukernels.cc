// The pooling micro-kernels of every ISA this CPU supports (pool_ukernels.h through each
// PointwiseTable): max_rows / max_rows_ignore_nan / sum_rows / sum_acc bit-exact against
// plain scalar loops in the same order, max3x3_s2_row against its nine taps one by one,
// reduce_sum and lrn_rows within float rounding of a
// double computation, for every n in 0..70 and a few larger sizes, with every input and
// output flush against a guard page (after the end, then before the start) so a kernel that
// touches one float too many faults.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/pointwise_table.h"
#include "test_util.h"
#include "tf_test.h"

using tf_test::GuardedBuffer;

namespace {

const tf::PointwiseTable& table_for(tf::Isa isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case tf::Isa::kAvx512: return tf::pointwise_avx512();
    case tf::Isa::kAvx2: return tf::pointwise_avx2();
#endif
#if defined(__aarch64__)
    case tf::Isa::kNeon: return tf::pointwise_neon();
#endif
    default: return tf::pointwise_scalar();
  }
}

std::vector<size_t> sizes() {
  std::vector<size_t> s;
  for (size_t n = 0; n <= 70; ++n) s.push_back(n);
  for (size_t n : {127, 128, 129, 1025}) s.push_back(n);
  return s;
}

const GuardedBuffer::Placement kPlaces[] = {GuardedBuffer::Placement::kTail, GuardedBuffer::Placement::kHead};

// `count` guarded rows of n floats from gen().
template <class Gen>
std::vector<GuardedBuffer> rows_of(size_t count, size_t n, GuardedBuffer::Placement where, Gen gen) {
  std::vector<GuardedBuffer> rows;
  for (size_t k = 0; k < count; ++k) {
    rows.emplace_back(n, where);
    for (size_t i = 0; i < n; ++i) rows.back()[i] = gen();
  }
  return rows;
}

std::vector<const float*> pointers(const std::vector<GuardedBuffer>& rows) {
  std::vector<const float*> p;
  for (const GuardedBuffer& r : rows) p.push_back(r.data());
  return p;
}

float add_f(float a, float b) {
  volatile float x = a, y = b;  // a plain scalar add, never contracted
  return x + y;
}

float mul_f(float a, float b) {
  volatile float x = a, y = b;
  return x * y;
}

void for_each_case(const char* label, void (*check)(const tf::PointwiseTable&, size_t, size_t, GuardedBuffer::Placement,
                                                     tf_test::Rng&)) {
  tf_test::Rng rng(97);
  for (tf::Isa isa : tf_test::supported_isas()) {
    const tf::PointwiseTable& t = table_for(isa);
    TF_REQUIRE(t.isa == isa);
    for (size_t n : sizes()) {
      for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{9}}) {
        for (auto where : kPlaces) {
          tf_test::set_context(std::string(label) + " isa=" + tf::isa_name(isa) + " n=" + std::to_string(n) +
                               " count=" + std::to_string(count) + " " + tf_test::placement_name(where));
          check(t, n, count, where, rng);
        }
      }
    }
  }
}

void check_max_rows(const tf::PointwiseTable& t, size_t n, size_t count, GuardedBuffer::Placement where,
                    tf_test::Rng& rng) {
  const auto rows = rows_of(count, n, where, [&] { return rng.value(); });  // NaN, inf, -0 mixed in
  const auto p = pointers(rows);
  GuardedBuffer y(n, where), yi(n, where);
  t.max_rows(p.data(), count, y.data(), n, 1, 0);
  t.max_rows_ignore_nan(p.data(), count, yi.data(), n, 1, 0);
  for (size_t i = 0; i < n; ++i) {
    float m = -std::numeric_limits<float>::infinity(), mi = m;
    bool nan = false;
    for (size_t k = 0; k < count; ++k) {
      const float v = rows[k][i];
      if (v != v) nan = true;
      else if (v > m) m = v;
      if (v > mi) mi = v;
    }
    const bool ok = nan ? std::isnan(y[i]) : y[i] == m;  // max(-0, +0) may be either zero
    if (!ok || !(yi[i] == mi)) {
      TF_CHECK(false) << "i=" << i << " max " << y[i] << " want " << (nan ? NAN : m) << ", ignoring NaN " << yi[i]
                      << " want " << mi;
      break;
    }
  }
}

void check_sum_rows(const tf::PointwiseTable& t, size_t n, size_t count, GuardedBuffer::Placement where,
                    tf_test::Rng& rng) {
  const auto rows = rows_of(count, n, where, [&] { return rng.uniform(-8, 8); });
  const auto p = pointers(rows);
  const float scale = 1.0f / static_cast<float>(count == 0 ? 1 : count);
  GuardedBuffer y(n, where);
  t.sum_rows(p.data(), count, scale, y.data(), n, 1, 0);
  for (size_t i = 0; i < n; ++i) {
    float s = 0.0f;
    for (size_t k = 0; k < count; ++k) s = add_f(s, rows[k][i]);
    if (!tf_test::same_float(y[i], mul_f(s, scale))) {
      TF_CHECK(false) << "i=" << i << " got " << y[i] << " want " << mul_f(s, scale);
      break;
    }
  }
}

void check_lrn_rows(const tf::PointwiseTable& t, size_t n, size_t count, GuardedBuffer::Placement where,
                    tf_test::Rng& rng) {
  if (count == 0) return;  // a window always holds the row itself
  const auto rows = rows_of(count, n, where, [&] { return rng.uniform(-4, 4); });
  const auto p = pointers(rows);
  for (float beta : {0.75f, 0.5f, 1.0f, 0.6f}) {
    const float a = 0.3f, bias = 1.5f;
    GuardedBuffer y(n, where);
    t.lrn_rows(p.data(), count, rows[0].data(), a, bias, beta, y.data(), n);
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t k = 0; k < count; ++k) s += static_cast<double>(rows[k][i]) * rows[k][i];
      const double want = rows[0][i] / std::pow(bias + static_cast<double>(a) * s, static_cast<double>(beta));
      if (!(std::fabs(y[i] - want) <= 1e-6 + 2e-6 * std::fabs(want))) {
        TF_CHECK(false) << "beta=" << beta << " i=" << i << " got " << y[i] << " want " << want;
        break;
      }
    }
  }
}

}  // namespace

// One 3x3 stride-2 output row: three rows of exactly 2n + 1 floats (the guard page right
// after or before them), NaN, infinities and -0 mixed in, against the nine taps one by one.
void check_max3x3_s2_row(const tf::PointwiseTable& t, size_t n, size_t count, GuardedBuffer::Placement where,
                         tf_test::Rng& rng) {
  if (count != 3) return;  // the kernel takes three rows; for_each_case's sizes are its n
  const auto rows = rows_of(3, 2 * n + 1, where, [&] { return rng.value(); });
  const auto p = pointers(rows);
  GuardedBuffer y(n, where);
  t.max3x3_s2_row(p.data(), n, y.data());
  for (size_t i = 0; i < n; ++i) {
    float m = -std::numeric_limits<float>::infinity();
    bool nan = false;
    for (size_t r = 0; r < 3; ++r) {
      for (size_t c = 0; c < 3; ++c) {
        const float v = rows[r][2 * i + c];
        if (v != v) nan = true;
        else if (v > m) m = v;
      }
    }
    if (!(nan ? std::isnan(y[i]) : y[i] == m)) {  // max(-0, +0) may be either zero
      TF_CHECK(false) << "i=" << i << " got " << y[i] << " want " << (nan ? NAN : m);
      break;
    }
  }
}

TF_TEST(pool_ukernels_max_rows) { for_each_case("max_rows", check_max_rows); }

// A run of 3 output pixels (rows of each window 3 x stride + n floats, output p from row
// offset p * xstride, output p at y + p * n) is bit-exact the 3 single-pixel calls.
void check_row_runs(const tf::PointwiseTable& t, size_t n, size_t count, GuardedBuffer::Placement where,
                    tf_test::Rng& rng) {
  constexpr size_t kPixels = 3;
  const size_t xstride = n + 5, len = (kPixels - 1) * xstride + n;
  const auto rows = rows_of(count, len, where, [&] { return rng.value(); });
  const auto p = pointers(rows);
  for (int kind = 0; kind < 3; ++kind) {
    GuardedBuffer run(kPixels * n, where), one(kPixels * n, where);
    auto call = [&](const float* const* x, float* y, size_t pixels) {
      if (kind == 0) t.max_rows(x, count, y, n, pixels, xstride);
      if (kind == 1) t.max_rows_ignore_nan(x, count, y, n, pixels, xstride);
      if (kind == 2) t.sum_rows(x, count, 0.25f, y, n, pixels, xstride);
    };
    call(p.data(), run.data(), kPixels);
    for (size_t px = 0; px < kPixels; ++px) {
      std::vector<const float*> shifted(p);
      for (const float*& r : shifted) r += px * xstride;
      call(shifted.data(), one.data() + px * n, 1);
    }
    for (size_t i = 0; i < kPixels * n; ++i) {
      if (!tf_test::same_float(run[i], one[i])) {
        TF_CHECK(false) << "kind " << kind << " element " << i << ": run " << run[i] << ", single " << one[i];
        return;
      }
    }
  }
}

TF_TEST(pool_ukernels_row_runs) { for_each_case("row runs", check_row_runs); }

TF_TEST(pool_ukernels_max3x3_s2_row) { for_each_case("max3x3_s2_row", check_max3x3_s2_row); }

TF_TEST(pool_ukernels_sum_rows) { for_each_case("sum_rows", check_sum_rows); }

TF_TEST(pool_ukernels_lrn_rows) { for_each_case("lrn_rows", check_lrn_rows); }

TF_TEST(pool_ukernels_sum_acc_and_reduce_sum) {
  tf_test::Rng rng(5);
  for (tf::Isa isa : tf_test::supported_isas()) {
    const tf::PointwiseTable& t = table_for(isa);
    for (size_t n : sizes()) {
      for (auto where : kPlaces) {
        for (size_t stride : {size_t{1}, size_t{2}, size_t{3}}) {
          tf_test::set_context(std::string("sum_acc isa=") + tf::isa_name(isa) + " n=" + std::to_string(n) +
                               " stride=" + std::to_string(stride) + " " + tf_test::placement_name(where));
          // x holds exactly the (n - 1) * stride + 1 floats the kernel may read.
          GuardedBuffer x(n == 0 ? 0 : (n - 1) * stride + 1, where), s(n, where);
          for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(-8, 8);
          std::vector<float> s0(n);
          for (size_t i = 0; i < n; ++i) s[i] = s0[i] = rng.uniform(-8, 8);
          t.sum_acc(s.data(), x.data(), stride, n);
          for (size_t i = 0; i < n; ++i) {
            if (!tf_test::same_float(s[i], add_f(s0[i], x[i * stride]))) {
              TF_CHECK(false) << "i=" << i << " got " << s[i] << " want " << add_f(s0[i], x[i * stride]);
              break;
            }
          }
        }
        tf_test::set_context(std::string("reduce_sum isa=") + tf::isa_name(isa) + " n=" + std::to_string(n) + " " +
                             tf_test::placement_name(where));
        GuardedBuffer x(n, where);
        double want = 0, magnitude = 0;
        for (size_t i = 0; i < n; ++i) {
          x[i] = rng.uniform(-8, 8);
          want += x[i];
          magnitude += std::fabs(x[i]);
        }
        const float got = t.reduce_sum(x.data(), n);
        TF_CHECK(std::fabs(got - want) <= 1e-6 * (magnitude + 1)) << "got " << got << " want " << want;
      }
    }
  }
}
