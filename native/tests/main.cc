// Runs every TF_TEST (or those whose name contains one of the arguments), prints a
// summary and exits non-zero on any failure. A fault (a guard page hit, say) prints the
// test and context that were running before the process dies.
//
//   tensorfuse_native_tests                 # everything
//   tensorfuse_native_tests binary concat   # tests whose names contain "binary" or "concat"
//   tensorfuse_native_tests --list
//   tensorfuse_native_tests --isas          # the ISA levels this CPU supports, one a line
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/ukernels.h"
#include "runtime/isa.h"
#include "runtime/thread_pool.h"
#include "test_util.h"
#include "tf_test.h"

namespace {

void write_str(const char* s) {
  ssize_t r = write(2, s, std::strlen(s));
  (void)r;
}

void on_fault(int sig) {
  write_str("\nFATAL: ");
  write_str(sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE" : "signal");
  write_str(" in test ");
  write_str(tf_test::state().current);
  write_str(" [");
  write_str(tf_test::context_buffer());
  write_str("] (an out-of-bounds access hits a guard page)\n");
  signal(sig, SIG_DFL);
  raise(sig);
}

bool selected(const char* name, const std::vector<std::string>& filters) {
  if (filters.empty()) return true;
  for (const std::string& f : filters) {
    if (std::strstr(name, f.c_str()) != nullptr) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> filters;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--list") == 0) {
      list = true;
    } else if (std::strcmp(argv[i], "--isas") == 0) {
      for (tf::Isa isa : tf_test::supported_isas()) std::printf("%s\n", tf::isa_name(isa));
      return 0;
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: %s [--list | --isas] [name-substring ...]\n", argv[0]);
      return 0;
    } else {
      filters.emplace_back(argv[i]);
    }
  }
  auto& tests = tf_test::registry();
  if (list) {
    for (const auto& t : tests) std::printf("%s\n", t.name);
    return 0;
  }

  struct sigaction sa {};
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);

  const char* cap = std::getenv("TENSORFUSE_ISA");
  std::printf("tensorfuse native tests: best isa %s, dispatch isa %s (TENSORFUSE_ISA=%s), pool threads %d\n",
              tf::isa_name(tf::detect_best_isa()), tf::isa_name(tf::ukernels().isa), cap ? cap : "",
              tf::ThreadPool::instance().threads());
  std::fflush(stdout);

  int run = 0, failed = 0;
  long checks = 0;
  std::vector<const char*> failed_names;
  const auto t_all = std::chrono::steady_clock::now();
  for (const auto& t : tests) {
    if (!selected(t.name, filters)) continue;
    tf_test::State& s = tf_test::state();
    s = tf_test::State{};
    s.current = t.name;
    tf_test::set_context("");
    const auto t0 = std::chrono::steady_clock::now();
    bool aborted = false;
    try {
      t.fn();
    } catch (const tf_test::AbortTest&) {
      aborted = true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "  FAIL uncaught exception: %s [%s]\n", e.what(), tf_test::context_buffer());
      ++s.failures;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ++run;
    checks += s.checks;
    if (s.failures > 0) {
      ++failed;
      failed_names.push_back(t.name);
      std::printf("[FAIL] %-44s %8.1f ms  (%ld of %ld checks failed%s)\n", t.name, ms, s.failures, s.checks,
                  aborted ? ", aborted" : "");
    } else {
      std::printf("[ ok ] %-44s %8.1f ms  (%ld checks)\n", t.name, ms, s.checks);
    }
    std::fflush(stdout);
  }
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_all).count();
  std::printf("\n%d tests, %ld checks, %d failed, %.0f ms (dispatch isa %s)\n", run, checks, failed, total_ms,
              tf::isa_name(tf::ukernels().isa));
  for (const char* n : failed_names) std::printf("  failed: %s\n", n);
  if (run == 0) {
    std::printf("no test matched the filters\n");
    return 2;
  }
  return failed == 0 ? 0 : 1;
}
