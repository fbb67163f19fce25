// A tiny header-only test harness for the C++ kernel tests (no framework dependency).
//
//   #include "tf_test.h"
//   TF_TEST(conv2d_1x1_matches_reference) {
//     TF_CHECK(x == y) << "at i=" << i;      // records a failure, the test carries on
//     TF_CHECK_EQ(a, b);                      // prints both values on failure
//     TF_REQUIRE(p != nullptr);               // records a failure and leaves the test
//     if (!ok) { TF_CHECK(ok) << "i=" << i; break; }   // stop a loop at its first mismatch
//   }
//
// Each TF_TEST registers itself at static-init time; main.cc runs them all (or those whose
// name contains one of the command-line filters) and exits non-zero on any failure. Add a
// new file under native/tests/ and CMake picks it up (the sources are globbed).
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace tf_test {

struct TestCase {
  const char* name;
  void (*fn)();
  const char* file;
  int line;
};

inline std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

struct Registrar {
  Registrar(const char* name, void (*fn)(), const char* file, int line) {
    registry().push_back({name, fn, file, line});
  }
};

// Per-test state, reset by the runner.
struct State {
  const char* current = "";
  long failures = 0;      // failed checks in the current test
  long checks = 0;        // checks evaluated in the current test
  long printed = 0;       // failure messages printed in the current test (capped)
};
inline State& state() {
  static State s;
  return s;
}

// Context printed with a failure and by the crash handler (e.g. "isa=avx2 n=17").
inline char* context_buffer() {
  static char buf[512] = {0};
  return buf;
}
inline void set_context(const std::string& s) {
  std::strncpy(context_buffer(), s.c_str(), 511);
  context_buffer()[511] = '\0';
}

// Collects the streamed message; reports on destruction if the check failed.
class Failure {
 public:
  Failure(bool ok, const char* expr, const char* file, int line) : ok_(ok), expr_(expr), file_(file), line_(line) {
    ++state().checks;
  }
  ~Failure() {
    if (ok_) return;
    State& s = state();
    ++s.failures;
    if (++s.printed <= 20) {
      const std::string msg = msg_ ? msg_->str() : std::string();
      std::fprintf(stderr, "  FAIL %s:%d: %s%s%s [%s]\n", file_, line_, expr_, msg.empty() ? "" : " -- ", msg.c_str(),
                   context_buffer());
    } else if (s.printed == 21) {
      std::fprintf(stderr, "  ... further failures in this test not printed\n");
    }
  }
  template <class T>
  Failure& operator<<(const T& v) {
    if (!ok_) {
      if (!msg_) msg_.reset(new std::ostringstream);
      *msg_ << v;
    }
    return *this;
  }
  bool ok() const { return ok_; }

 private:
  bool ok_;
  const char* expr_;
  const char* file_;
  int line_;
  std::unique_ptr<std::ostringstream> msg_;  // only built when the check fails
};

struct AbortTest {};  // thrown by TF_REQUIRE

}  // namespace tf_test

#define TF_TEST_CONCAT2(a, b) a##b
#define TF_TEST_CONCAT(a, b) TF_TEST_CONCAT2(a, b)

#define TF_TEST(name)                                                                               \
  static void tf_test_fn_##name();                                                                  \
  static ::tf_test::Registrar TF_TEST_CONCAT(tf_test_reg_, name)(#name, &tf_test_fn_##name, __FILE__, \
                                                                  __LINE__);                        \
  static void tf_test_fn_##name()

#define TF_CHECK(cond) ::tf_test::Failure(static_cast<bool>(cond), #cond, __FILE__, __LINE__)

#define TF_CHECK_EQ(a, b)                                                                        \
  ::tf_test::Failure((a) == (b), #a " == " #b, __FILE__, __LINE__) << "got " << (a) << " vs " << (b) \
                                                                    << " "

#define TF_REQUIRE(cond)                                                           \
  do {                                                                             \
    if (!::tf_test::Failure(static_cast<bool>(cond), #cond, __FILE__, __LINE__).ok()) \
      throw ::tf_test::AbortTest{};                                                \
  } while (0)
