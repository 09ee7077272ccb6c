// The one way dlcore goes parallel. parallel_for splits [begin, end) into one
// contiguous range per thread; work below `grain` runs on the calling thread.
// Exceptions thrown inside are caught per thread and rethrown after the region.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <utility>

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

// A team of threads for a sequence of dependent phases in one region: a recurrent layer's
// time steps, each a product and then a gate pass over its result, where a region per
// phase would cost a fork and a join each time. parallel_team(n, f) calls f(team) on n
// threads (n <= 1, or inside a region: on the calling thread alone, team.size() 1, and
// parallel_for inside f may then use threads; in a team of more it runs serially).
// Every thread must call team.sync() the same number of times. team.run(g) calls g and
// catches what it throws: after a failure the team's later run() calls do nothing, the
// threads still meet at every sync, and parallel_team rethrows the first exception.
class Team {
 public:
  int rank() const { return rank_; }
  int size() const { return size_; }
  // [begin, end) split in size() contiguous parts, of multiples of `align` but the last:
  // this thread's part.
  std::pair<int64_t, int64_t> part(int64_t begin, int64_t end, int64_t align = 1) const {
    const int64_t n = end - begin, chunk = ((n + size_ - 1) / size_ + align - 1) / align * align;
    const int64_t lo = std::min(end, begin + rank_ * chunk);
    return {lo, std::min(end, lo + chunk)};
  }
  void sync() const {
    if (size_ > 1) {
#pragma omp barrier
    }
  }
  template <class G>
  void run(const G& g) {
    bool failed;
#pragma omp atomic read
    failed = *failed_;
    if (failed) return;
    try {
      g();
    } catch (...) {
#pragma omp critical(dlcore_parallel_error)
      if (!*error_) *error_ = std::current_exception();
#pragma omp atomic write
      *failed_ = true;
    }
  }

 private:
  template <class F>
  friend void parallel_team(int, const F&);
  Team(int rank, int size, std::exception_ptr* error, bool* failed)
      : rank_(rank), size_(size), error_(error), failed_(failed) {}
  int rank_, size_;
  std::exception_ptr* error_;
  bool* failed_;
};

template <class F>
void parallel_team(int threads, const F& f) {
  std::exception_ptr error;
  bool failed = false;
  if (threads <= 1 || omp_in_parallel()) {
    Team team(0, 1, &error, &failed);
    f(team);
  } else {
#pragma omp parallel num_threads(threads)
    {
      Team team(omp_get_thread_num(), omp_get_num_threads(), &error, &failed);
      f(team);
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace dlcore
