// The per-ISA micro-kernels (add_vv, add_vs, mul_vv, mul_vs) for every ISA this CPU
// supports: bit-exact against a plain scalar loop, for every n in 0..70 and a few larger
// sizes around the vector widths, with every buffer flush against a guard page (after the
// end, then before the start) so a kernel that touches one float too many faults.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/ukernels.h"
#include "test_util.h"
#include "tf_test.h"

using tf_test::GuardedBuffer;

namespace {

std::vector<size_t> test_sizes() {
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 70; ++n) sizes.push_back(n);
  for (size_t n : {95, 96, 97, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 4099, 65536 + 17}) sizes.push_back(n);
  return sizes;
}

enum class Op { kAdd, kMul };

float ref(Op op, float a, float b) {
  volatile float x = a, y = b;  // a plain scalar operation, never vectorised or contracted
  return op == Op::kAdd ? x + y : x * y;
}

void fill(GuardedBuffer& buf, tf_test::Rng& rng) {
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = rng.value();
}

// Runs one kernel with a, b, y each against a guard page and checks every output.
void check_kernel(const tf::UkernelTable& t, Op op, bool scalar_rhs, size_t n, GuardedBuffer::Placement where,
                  tf_test::Rng& rng) {
  GuardedBuffer a(n, where), b(n, where), y(n, where);
  fill(a, rng);
  fill(b, rng);
  for (size_t i = 0; i < n; ++i) y[i] = 12345.0f;
  const float s = rng.value();
  if (scalar_rhs) {
    (op == Op::kAdd ? t.add_vs : t.mul_vs)(a.data(), s, y.data(), n);
  } else {
    (op == Op::kAdd ? t.add_vv : t.mul_vv)(a.data(), b.data(), y.data(), n);
  }
  for (size_t i = 0; i < n; ++i) {
    const float want = ref(op, a[i], scalar_rhs ? s : b[i]);
    if (!(tf_test::same_float(y[i], want))) {
          TF_CHECK(false) << "i=" << i << " got " << y[i] << " want " << want << " (a="
                                                   << a[i] << " b=" << (scalar_rhs ? s : b[i]) << ")";
      break;
    }
  }
}

// y aliasing an input exactly (the `out` = input case from JS).
void check_in_place(const tf::UkernelTable& t, Op op, bool scalar_rhs, size_t n, tf_test::Rng& rng) {
  GuardedBuffer a(n, GuardedBuffer::Placement::kTail), b(n, GuardedBuffer::Placement::kTail);
  fill(a, rng);
  fill(b, rng);
  std::vector<float> a0(a.data(), a.data() + n), b0(b.data(), b.data() + n);
  const float s = rng.value();
  if (scalar_rhs) {
    (op == Op::kAdd ? t.add_vs : t.mul_vs)(a.data(), s, a.data(), n);
    for (size_t i = 0; i < n; ++i) {
      if (!(tf_test::same_float(a[i], ref(op, a0[i], s)))) {
        TF_CHECK(false) << "in-place vs, i=" << i;
        break;
      }
    }
  } else {
    // y == a, then y == b.
    (op == Op::kAdd ? t.add_vv : t.mul_vv)(a.data(), b.data(), a.data(), n);
    for (size_t i = 0; i < n; ++i) {
      if (!(tf_test::same_float(a[i], ref(op, a0[i], b0[i])))) {
        TF_CHECK(false) << "y==a, i=" << i;
        break;
      }
    }
    (op == Op::kAdd ? t.add_vv : t.mul_vv)(a0.data(), b.data(), b.data(), n);
    for (size_t i = 0; i < n; ++i) {
      if (!(tf_test::same_float(b[i], ref(op, a0[i], b0[i])))) {
        TF_CHECK(false) << "y==b, i=" << i;
        break;
      }
    }
  }
}

void run_all(Op op, bool scalar_rhs, const char* label) {
  tf_test::Rng rng(op == Op::kAdd ? 11 : 23);
  for (tf::Isa isa : tf_test::supported_isas()) {
    const tf::UkernelTable& t = tf::ukernels_for(isa);
    TF_CHECK(t.isa == isa) << "ukernels_for(" << tf::isa_name(isa) << ") returned " << tf::isa_name(t.isa);
    TF_REQUIRE(t.add_vv && t.add_vs && t.mul_vv && t.mul_vs);
    for (size_t n : test_sizes()) {
      for (auto where : {GuardedBuffer::Placement::kTail, GuardedBuffer::Placement::kHead}) {
        tf_test::set_context(std::string(label) + " isa=" + tf::isa_name(isa) + " n=" + std::to_string(n) + " " +
                             tf_test::placement_name(where));
        check_kernel(t, op, scalar_rhs, n, where, rng);
      }
      tf_test::set_context(std::string(label) + " in-place isa=" + tf::isa_name(isa) + " n=" + std::to_string(n));
      check_in_place(t, op, scalar_rhs, n, rng);
    }
  }
}

}  // namespace

TF_TEST(guard_page_faults_past_both_ends) {
  // The premise of the kernel tests: touching one float past the end (or before the start)
  // of a guarded buffer kills the process. Checked in a child process.
  for (auto where : {GuardedBuffer::Placement::kTail, GuardedBuffer::Placement::kHead}) {
    for (size_t n : {size_t{1}, size_t{7}, size_t{1024}}) {
      tf_test::set_context(std::string(tf_test::placement_name(where)) + " n=" + std::to_string(n));
      GuardedBuffer buf(n, where);
      buf[0] = 1.0f;
      buf[n - 1] = 2.0f;  // both ends are accessible
      const pid_t pid = fork();
      TF_REQUIRE(pid >= 0);
      if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        volatile float* p = buf.data();
        if (where == GuardedBuffer::Placement::kTail) p[n] = 3.0f; else p[-1] = 3.0f;
        _exit(0);  // not reached when the guard works
      }
      int status = 0;
      waitpid(pid, &status, 0);
      TF_CHECK(WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS))
          << "an access past the buffer did not fault (status " << status << ")";
    }
  }
}

TF_TEST(ukernels_supported_isas) {
  const auto isas = tf_test::supported_isas();
  std::string names;
  for (tf::Isa isa : isas) names += std::string(names.empty() ? "" : ",") + tf::isa_name(isa);
  std::printf("       testing ukernels for: %s\n", names.c_str());
  TF_CHECK(!isas.empty() && isas.front() == tf::Isa::kScalar);
  TF_CHECK(isas.back() == tf::detect_best_isa());
  // The dispatch table is one of them, capped by TENSORFUSE_ISA.
  bool found = false;
  for (tf::Isa isa : isas) found |= tf::ukernels().isa == isa;
  TF_CHECK(found) << "dispatch isa " << tf::isa_name(tf::ukernels().isa);
  TF_CHECK(tf::ukernels().isa == tf::select_isa(std::getenv("TENSORFUSE_ISA")));
}

TF_TEST(ukernels_select_isa_caps) {
  const tf::Isa best = tf::detect_best_isa();
  TF_CHECK(tf::select_isa(nullptr) == best);
  TF_CHECK(tf::select_isa("") == best);
  TF_CHECK(tf::select_isa("bogus") == best);
  TF_CHECK(tf::select_isa("scalar") == tf::Isa::kScalar);
  for (tf::Isa isa : tf_test::supported_isas()) TF_CHECK(tf::select_isa(tf::isa_name(isa)) == isa) << tf::isa_name(isa);
  if (best == tf::Isa::kAvx2) TF_CHECK(tf::select_isa("avx512") == tf::Isa::kAvx2);
  if (best != tf::Isa::kNeon) TF_CHECK(tf::select_isa("neon") == best);
  tf::Isa parsed;
  TF_CHECK(!tf::parse_isa("AVX2", &parsed));
  TF_CHECK(tf::parse_isa("avx512", &parsed) && parsed == tf::Isa::kAvx512);
}

TF_TEST(ukernels_add_vv) { run_all(Op::kAdd, false, "add_vv"); }
TF_TEST(ukernels_add_vs) { run_all(Op::kAdd, true, "add_vs"); }
TF_TEST(ukernels_mul_vv) { run_all(Op::kMul, false, "mul_vv"); }
TF_TEST(ukernels_mul_vs) { run_all(Op::kMul, true, "mul_vs"); }
