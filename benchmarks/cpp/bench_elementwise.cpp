// Elementwise bandwidth of dlcore against memcpy on the same machine.
//
// Bytes moved count each element read and written once: memcpy 2 x 4 B per
// float, binary ops 3 x 4 B, unary ops 2 x 4 B. Each figure is the median of
// `reps` runs; the table prints GB/s and the ratio to memcpy, for 1 thread and
// for all threads. Build with -DDLCORE_BUILD_BENCHMARKS=ON.
#include <dlcore/dlcore.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

using namespace dlcore;
using Clock = std::chrono::steady_clock;

static double median_seconds(const std::function<void()>& f, int reps) {
  f();  // warm up: pages mapped, caches of the allocator filled
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : (int64_t(1) << 24);
  const int reps = argc > 2 ? std::atoi(argv[2]) : 21;
  const int max_threads = omp_get_max_threads();
  std::printf("dlcore %s, ISA %s, %lld float32 elements (%.0f MB per array), median of %d runs\n",
              version().c_str(), active_isa().c_str(), (long long)n, n * 4 / 1e6, reps);
  std::printf("%-8s %8s %10s %10s\n", "threads", "op", "GB/s", "vs memcpy");
  Tensor a = rand({n}), b = rand({n});
  std::vector<float> src(n, 1.0f), dst(n, 0.0f);
  for (int threads : {1, max_threads}) {
    set_num_threads(threads);
    double t_copy = median_seconds([&] {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int c = 0; c < threads; ++c) {
        int64_t lo = n * c / threads, hi = n * (c + 1) / threads;
        std::memcpy(dst.data() + lo, src.data() + lo, (hi - lo) * sizeof(float));
      }
    }, reps);
    double bw_copy = 2.0 * 4 * n / t_copy / 1e9;
    std::printf("%-8d %8s %10.2f %10s\n", threads, "memcpy", bw_copy, "1.00");
    struct Case {
      const char* name;
      int arrays;
      std::function<Tensor()> f;
    };
    std::vector<Case> cases = {{"add", 3, [&] { return add(a, b); }},
                               {"mul", 3, [&] { return mul(a, b); }},
                               {"relu", 2, [&] { return relu(a); }},
                               {"exp", 2, [&] { return exp(a); }}};
    for (auto& c : cases) {
      double t = median_seconds([&] { Tensor r = c.f(); }, reps);
      double bw = c.arrays * 4.0 * n / t / 1e9;
      std::printf("%-8d %8s %10.2f %10.2f\n", threads, c.name, bw, bw / bw_copy);
    }
    if (threads == max_threads) break;
  }
  return 0;
}
