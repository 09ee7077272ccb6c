#include "runtime/allocator.h"

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "dlcore/error.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DLCORE_ASAN 1
#endif
#endif
#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && !defined(DLCORE_ASAN)
#include <sys/mman.h>
#define DLCORE_MAP_LARGE 1
#endif

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

// Blocks of at least one 2 MiB page are mapped on their own, 2 MiB-aligned, and their
// whole 2 MiB pages are offered to the kernel's transparent huge pages (MADV_HUGEPAGE;
// the tail past the last whole one keeps 4 KiB pages, so no block holds more memory than
// it asked for). Systems that back only advised memory with huge pages (THP "madvise",
// a common default) otherwise give tensors 4 KiB pages: a 4096 x 512 float32 activation
// spans 2,048 of them, and the products and passes that stream through such tensors
// miss the TLB. On a Zen 4 VM the tiny GPT's training step ran 1.5-3% faster, the forward
// and backward of an elementwise op on 8 MiB 4-14%. The first touch of a new block costs
// what the kernel spends finding free 2 MiB pages: with some at hand a fresh 64 MiB tensor
// was zeroed in 7-9 ms (33-35 with 4 KiB pages), while the kernel compacted memory 130-160
// ms; the cache of freed blocks means a training loop pays that in its first step only.
// DLCORE_HUGE_PAGES=0 keeps malloc's pages for every size. Not under AddressSanitizer,
// which checks only the memory malloc hands out.
#ifdef DLCORE_MAP_LARGE
constexpr size_t kHugePage = size_t(2) << 20;

bool map_large(size_t n) {
  static const bool on = [] {
    const char* s = std::getenv("DLCORE_HUGE_PAGES");
    return !(s && s[0] == '0' && s[1] == '\0');
  }();
  return on && n >= kHugePage;
}

size_t mapped_length(size_t n) {
  const size_t page = 4096;
  return (n + page - 1) / page * page;
}

void* map_block(size_t n) {
  if (n > SIZE_MAX - 2 * kHugePage) return nullptr;  // no such mapping can succeed
  const size_t len = mapped_length(n);
  // Map one huge page more than needed and unmap what lies outside the aligned block.
  void* raw =
      mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  const size_t tail = start + len + kHugePage - (aligned + len);
  if (tail) munmap(reinterpret_cast<void*>(aligned + len), tail);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, n / kHugePage * kHugePage, MADV_HUGEPAGE);  // a hint: failure changes nothing
  return p;
}
#endif

void* system_alloc(size_t n) {
#ifdef DLCORE_MAP_LARGE
  if (map_large(n)) return map_block(n);
#endif
  return std::aligned_alloc(kAlign, n);
}

void system_free(void* p, size_t n) {
#ifdef DLCORE_MAP_LARGE
  if (map_large(n)) {
    munmap(p, mapped_length(n));
    return;
  }
#endif
  std::free(p);
}

// Freed blocks kept for reuse, by exact size, within kMaxCachedBytes and
// kMaxBlocksPerSize. A block that would overflow the budget makes room by returning the
// blocks freed longest ago to the system: a run whose sizes change (batches of varying
// length) would otherwise fill the budget with sizes no later step asks for, and then
// fault in the pages of every new size on every step.
struct BlockCache {
  struct Block {
    size_t size;
    void* p;
  };
  std::mutex mutex;
  std::list<Block> by_age;  // oldest first
  // Per size, the blocks' places in by_age, oldest first (reuse takes the newest).
  std::unordered_map<size_t, std::vector<std::list<Block>::iterator>> free_blocks;
  size_t cached_bytes = 0;

  ~BlockCache() { release(); }

  void release() {
    std::list<Block> all;
    {
      std::lock_guard<std::mutex> lock(mutex);
      all.swap(by_age);
      free_blocks.clear();
      cached_bytes = 0;
    }
    for (const Block& b : all) system_free(b.p, b.size);
  }

  // The newest cached block of n bytes, or null.
  void* take(size_t n) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = free_blocks.find(n);
    if (it == free_blocks.end() || it->second.empty()) return nullptr;
    auto place = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) free_blocks.erase(it);  // no entry per size ever seen
    void* p = place->p;
    by_age.erase(place);
    cached_bytes -= n;
    return p;
  }

  // Keeps p (n bytes) for reuse, or returns it to the system; blocks evicted to make
  // room are freed after the lock is released.
  void give(void* p, size_t n) {
    std::vector<Block> evicted;
    bool kept = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto& same = free_blocks[n];
      if (n <= kMaxCachedBytes && same.size() < kMaxBlocksPerSize) {
        while (cached_bytes + n > kMaxCachedBytes) {
          const Block oldest = by_age.front();
          auto& list = free_blocks[oldest.size];
          list.erase(list.begin());  // by_age's front is its size's oldest
          if (list.empty() && oldest.size != n) free_blocks.erase(oldest.size);
          by_age.pop_front();
          cached_bytes -= oldest.size;
          evicted.push_back(oldest);
        }
        by_age.push_back({n, p});
        same.push_back(std::prev(by_age.end()));
        cached_bytes += n;
        kept = true;
      } else if (same.empty()) {
        free_blocks.erase(n);
      }
    }
    for (const Block& b : evicted) system_free(b.p, b.size);
    if (!kept) system_free(p, n);
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
  if (n)
    if (void* p = c.take(n)) return p;
  void* p = n ? system_alloc(n) : nullptr;
  if (!p && n) {  // the freed blocks kept for reuse may be what is missing
    c.release();
    p = system_alloc(n);
  }
  if (!p)
    throw MemoryError(str_cat("cannot allocate ", nbytes, " bytes (", nbytes >> 20,
                              " MiB) of memory for a tensor"));
  return p;
}

void cpu_free(void* p, size_t nbytes) {
  if (!p) return;
  cache().give(p, round_size(nbytes));
}

void cpu_empty_cache() { cache().release(); }

}  // namespace dlcore
