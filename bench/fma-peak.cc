// FMA peak of this machine: independent chains of vector FMAs, calibrated to run about
// `seconds` per trial, best of `trials`, on `threads` threads (one chain set per thread).
// Built on the fly by bench/conv.ts:  g++ -O2 -mavx512f -mfma (or -mavx2 -mfma) -pthread
// Prints one JSON line: {"isa":..., "threads":..., "gflops":..., "seconds":...}.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
typedef __m512 vec;
static const char* kIsa = "avx512";
static const int kLanes = 16;
static inline vec splat(float x) { return _mm512_set1_ps(x); }
static inline vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline float first(vec v) { return _mm512_cvtss_f32(v); }
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
static const char* kIsa = "avx2";
static const int kLanes = 8;
static inline vec splat(float x) { return _mm256_set1_ps(x); }
static inline vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline float first(vec v) { return _mm256_cvtss_f32(v); }
#else
#error "needs AVX-512F or AVX2+FMA"
#endif

// Independent accumulators: FMA latency (4-5 cycles) x 2 pipes needs >= 10 in flight.
// AVX-512 has 32 vector registers (16 chains); AVX2 has 16 (12 chains, no spills).
#if defined(__AVX512F__)
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
static const int kChains = 16;
#else
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static const int kChains = 12;
#endif
#define DECLARE(i) vec c##i = splat(seed + i);
#define STEP(i) c##i = fma(c##i, m, a); __asm__ volatile("" : "+x"(c##i));
#define SUM(i) s = s + c##i;

static float chains(long iters, float seed) {
  const vec m = splat(0.999999f), a = splat(1e-7f);
  CHAINS(DECLARE)
  for (long i = 0; i < iters; i++) {
    CHAINS(STEP)
  }
  vec s = splat(0);
  CHAINS(SUM)
  return first(s);
}

static const double kFlopsPerIter = 2.0 * kChains * kLanes;

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Wall time of `threads` threads each running `iters` iterations.
static double trial(long iters, int threads, volatile float* sink) {
  std::vector<std::thread> pool;
  std::vector<float> out(threads);
  double t0 = now();
  for (int t = 0; t < threads; t++) pool.emplace_back([&, t] { out[t] = chains(iters, 1.0f + t); });
  for (auto& th : pool) th.join();
  double dt = now() - t0;
  for (float v : out) *sink += v;
  return dt;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  double target = argc > 2 ? std::atof(argv[2]) : 0.2;
  int trials = argc > 3 ? std::atoi(argv[3]) : 3;
  if (threads < 1) threads = 1;
  volatile float sink = 0;
  // Calibrate: grow the iteration count until one trial takes a tenth of the target.
  long iters = 1 << 16;
  while (trial(iters, threads, &sink) < target / 10) iters *= 2;
  double per = trial(iters, threads, &sink) / iters;
  iters = static_cast<long>(target / per) + 1;
  double best = 1e30;
  for (int i = 0; i < trials; i++) {
    double dt = trial(iters, threads, &sink);
    if (dt < best) best = dt;
  }
  double gflops = kFlopsPerIter * iters * threads / best / 1e9;
  std::printf("{\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.2f,\"seconds\":%.4f,\"iters\":%ld,\"sink\":%g}\n",
              kIsa, threads, gflops, best, iters, static_cast<double>(sink));
  return 0;
}
