#include "runtime/allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "dlcore/error.h"

namespace dlcore {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kMaxCachedBytes = size_t(1) << 30;  // keep at most 1 GiB of freed blocks
// A training step frees dozens of same-sized activations and gradients at once and asks
// for them again in the next step: with room for only 8 per size, a small Transformer's
// step went back to malloc for the rest and took 3,300 fresh page faults (12 ms of system
// time in a 250 ms step).
constexpr size_t kMaxBlocksPerSize = 256;

size_t round_size(size_t n) {
  if (n == 0) n = 1;
  return (n + kAlign - 1) / kAlign * kAlign;
}

struct BlockCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  size_t cached_bytes = 0;
  ~BlockCache() { release(); }
  void release() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& kv : free_blocks)
      for (void* p : kv.second) std::free(p);
    free_blocks.clear();
    cached_bytes = 0;
  }
};

BlockCache& cache() {
  static BlockCache* c = new BlockCache();  // never destroyed: tensors may outlive statics
  return *c;
}

}  // namespace

void* cpu_alloc(size_t nbytes) {
  size_t n = round_size(nbytes);
  if (n < nbytes) n = 0;  // the rounding wrapped: no such allocation can succeed
  BlockCache& c = cache();
  if (n) {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(n);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= n;
      return p;
    }
  }
  void* p = n ? std::aligned_alloc(kAlign, n) : nullptr;
  if (!p && n) {  // the freed blocks kept for reuse may be what is missing
    c.release();
    p = std::aligned_alloc(kAlign, n);
  }
  if (!p)
    throw MemoryError(str_cat("cannot allocate ", nbytes, " bytes (", nbytes >> 20,
                              " MiB) of memory for a tensor"));
  return p;
}

void cpu_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t n = round_size(nbytes);
  BlockCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto& list = c.free_blocks[n];
    if (c.cached_bytes + n <= kMaxCachedBytes && list.size() < kMaxBlocksPerSize) {
      list.push_back(p);
      c.cached_bytes += n;
      return;
    }
  }
  std::free(p);
}

void cpu_empty_cache() { cache().release(); }

}  // namespace dlcore
