#include "test_util.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

namespace tf_test {

namespace {
size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}
}  // namespace

GuardedBuffer::GuardedBuffer(size_t n, Placement where) : n_(n) {
  const size_t page = page_size();
  const size_t data_bytes = (n * sizeof(float) + page - 1) / page * page;
  map_bytes_ = data_bytes + page;
  map_ = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) {
    std::perror("mmap");
    std::abort();
  }
  char* base = static_cast<char*>(map_);
  if (where == Placement::kTail) {
    char* guard = base + data_bytes;
    if (mprotect(guard, page, PROT_NONE) != 0) {
      std::perror("mprotect");
      std::abort();
    }
    data_ = reinterpret_cast<float*>(guard - n * sizeof(float));
  } else {
    if (mprotect(base, page, PROT_NONE) != 0) {
      std::perror("mprotect");
      std::abort();
    }
    data_ = reinterpret_cast<float*>(base + page);
  }
}

GuardedBuffer::~GuardedBuffer() { release(); }

GuardedBuffer::GuardedBuffer(GuardedBuffer&& o) noexcept { *this = std::move(o); }

GuardedBuffer& GuardedBuffer::operator=(GuardedBuffer&& o) noexcept {
  if (this != &o) {
    release();
    std::swap(map_, o.map_);
    std::swap(map_bytes_, o.map_bytes_);
    std::swap(data_, o.data_);
    std::swap(n_, o.n_);
  }
  return *this;
}

void GuardedBuffer::release() {
  if (map_ != nullptr) munmap(map_, map_bytes_);
  map_ = nullptr;
  data_ = nullptr;
  n_ = 0;
}

std::vector<tf::Isa> supported_isas() {
  switch (tf::detect_best_isa()) {
    case tf::Isa::kAvx512: return {tf::Isa::kScalar, tf::Isa::kAvx2, tf::Isa::kAvx512};
    case tf::Isa::kAvx2: return {tf::Isa::kScalar, tf::Isa::kAvx2};
    case tf::Isa::kNeon: return {tf::Isa::kScalar, tf::Isa::kNeon};
    default: return {tf::Isa::kScalar};
  }
}

float Rng::value() {
  const uint64_t r = next() % 64;
  switch (r) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return std::numeric_limits<float>::infinity();
    case 3: return -std::numeric_limits<float>::infinity();
    case 4: return std::numeric_limits<float>::quiet_NaN();
    case 5: return std::numeric_limits<float>::denorm_min() * static_cast<float>(range(1, 1000));
    case 6: return std::numeric_limits<float>::max() * uniform(-1.0f, 1.0f);
    default: return uniform(-100.0f, 100.0f);
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace tf_test
