// The one way dlcore goes parallel. parallel_for splits [begin, end) into one
// contiguous range per thread; work below `grain` runs on the calling thread.
// Exceptions thrown inside are caught per thread and rethrown after the region.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>

#include "dlcore/runtime.h"

namespace dlcore {

// parallel_for's grain for items of `per_item` elements each, so that a thread gets at
// least kMinElementsPerThread elements. Below that a second thread costs more than it
// saves: the region (about a microsecond), and the share of the data it must fetch from
// the other core's cache when the previous op ran on one thread or split the data
// otherwise (on a 2-core machine, 256 KiB written by one core took 15 us to read on the
// other, 5 us on its own; a GELU of 32768 floats between two single-threaded
// multiplications ran 37 us on 2 threads, 32 us on 1).
constexpr int64_t kMinElementsPerThread = 32768;
inline int64_t grain_for(int64_t per_item) {
  return std::max<int64_t>(1, kMinElementsPerThread / std::max<int64_t>(per_item, 1));
}

template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f, int64_t align = 1) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  int nt = get_num_threads();
  if (nt <= 1 || n <= grain || omp_in_parallel()) {
    f(begin, end);
    return;
  }
  int64_t max_chunks = (n + grain - 1) / std::max<int64_t>(grain, 1);
  int nthreads = static_cast<int>(std::min<int64_t>(nt, max_chunks));
  int64_t chunk = (n + nthreads - 1) / nthreads;
  chunk = (chunk + align - 1) / align * align;
  std::exception_ptr error;
#pragma omp parallel num_threads(nthreads)
  {
    // The runtime may grant fewer threads than asked: every chunk is still run.
    for (int c = omp_get_thread_num(); c < nthreads; c += omp_get_num_threads()) {
      int64_t b = begin + c * chunk;
      int64_t e = std::min(end, b + chunk);
      if (b >= e) continue;
      try {
        f(b, e);
      } catch (...) {
#pragma omp critical(dlcore_parallel_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace dlcore
