// GEMM throughput of dlcore against the machine's own FMA peak.
//
// The peak is measured in the same binary by a kernel that only issues
// independent fused multiply-adds on the widest vectors the active ISA has
// (12 accumulator chains, enough to cover the FMA latency on two ports).
// Each case runs `--runs` rounds; a round times the peak kernel (about 10 ms)
// and then the GEMM (repeated to last about 20 ms), so both see the same
// machine. The table prints the medians, and the median over rounds of the
// GEMM's share of the peak. GFLOP/s counts 2 M N K.
//
//   bench_gemm [--threads 1,2] [--runs 7] [--quick] [--json FILE]
//
// Shapes: square 32..2048 in float32, square 256..2048 in float64, and the
// training shapes of a dense network with the two products of backward:
//   forward  C[M,N]  = A[M,K] B[K,N]        (NN)
//   dA[M,K]          = dC[M,N] B^T         (NT)
//   dB[K,N]          = A^T dC[M,N]         (TN)
#include <dlcore/dlcore.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

using namespace dlcore;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---- FMA peak ----------------------------------------------------------------

constexpr int kChains = 12;
constexpr int64_t kPeakIters = 2'000'000;  // about 10 ms

// The sum of every lane of the accumulators (so the loop is not optimised away).
template <class V>
double sum_lanes(const V (&acc)[kChains]) {
  float t[sizeof(acc) / sizeof(float)];
  std::memcpy(t, acc, sizeof(acc));
  double s = 0;
  for (float v : t) s += v;
  return s;
}

__attribute__((target("avx512f"))) double peak_avx512(int64_t iters) {
  __m512 acc[kChains], x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
  return sum_lanes(acc);
}

__attribute__((target("avx2,fma"))) double peak_avx2(int64_t iters) {
  __m256 acc[kChains], x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(float(c));
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], x, y);
  return sum_lanes(acc);
}

double peak_generic(int64_t iters) {  // SSE2: mul + add, two flops per lane
  __m128 acc[kChains], x = _mm_set1_ps(1.0000001f), y = _mm_set1_ps(0.9999999f);
  for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(float(c));
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], x), y);
  return sum_lanes(acc);
}

// float32 GFLOP/s of one core times `threads` cores running the peak kernel.
double fma_peak_gflops(const std::string& isa, int threads) {
  const int lanes = isa == "avx512" ? 16 : isa == "avx2" ? 8 : 4;
  volatile double sink = 0;
  auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
  {
    double s = isa == "avx512" ? peak_avx512(kPeakIters)
               : isa == "avx2" ? peak_avx2(kPeakIters)
                               : peak_generic(kPeakIters);
#pragma omp atomic
    sink = sink + s;
  }
  const double t = seconds_since(t0);
  return 2.0 * lanes * kChains * kPeakIters * threads / t / 1e9;
}

// ---- GEMM cases ----------------------------------------------------------------

struct Case {
  std::string name, dtype, op;
  int64_t M, N, K;
};

struct Result {
  double seconds, gflops, peak, share;  // medians over the rounds
};

// Operands start on 64-byte boundaries, as dlcore's tensors do (a std::vector of a few MiB
// starts 16 bytes past one, and every vector of C then spans two cache lines: 1024^3 ran
// 91-96 GFLOP/s so against 97 aligned).
template <class T>
struct Aligned {
  std::unique_ptr<T, void (*)(void*)> p;
  explicit Aligned(int64_t n)
      : p(static_cast<T*>(std::aligned_alloc(64, (sizeof(T) * n + 63) / 64 * 64)), std::free) {
    if (!p) throw std::bad_alloc();
  }
  T* data() const { return p.get(); }
};

template <class T>
Result time_case(const Case& c, const std::string& isa, int threads, int runs) {
  const bool at = c.op[0] == 'T', bt = c.op[1] == 'T';
  // Stored shapes: A is M x K (or K x M), B is K x N (or N x K).
  const int64_t lda = at ? c.M : c.K, ldb = bt ? c.K : c.N;
  Aligned<T> a(c.M * c.K), b(c.K * c.N), out(c.M * c.N);
  std::mt19937 rng(0);
  std::uniform_real_distribution<T> u(-1, 1);
  for (int64_t i = 0; i < c.M * c.K; ++i) a.data()[i] = u(rng);
  for (int64_t i = 0; i < c.K * c.N; ++i) b.data()[i] = u(rng);
  auto f = [&] {
    gemm(at ? Transpose::Yes : Transpose::No, bt ? Transpose::Yes : Transpose::No, c.M, c.N, c.K,
         T(1), a.data(), lda, b.data(), ldb, T(0), out.data(), c.N);
  };
  f();  // warm up: pages mapped, packing buffers grown
  auto t0 = Clock::now();
  f();
  const int reps = std::max(1, static_cast<int>(0.02 / std::max(seconds_since(t0), 1e-7)));
  std::vector<double> secs, gflops, peaks, shares;
  for (int r = 0; r < runs; ++r) {
    // float64 peaks at half the float32 rate: same instructions, half the lanes.
    const double peak = fma_peak_gflops(isa, threads) / (sizeof(T) == 8 ? 2 : 1);
    t0 = Clock::now();
    for (int i = 0; i < reps; ++i) f();
    const double s = seconds_since(t0) / reps, gf = 2.0 * c.M * c.N * c.K / s / 1e9;
    secs.push_back(s), gflops.push_back(gf), peaks.push_back(peak), shares.push_back(gf / peak);
  }
  return {median(secs), median(gflops), median(peaks), median(shares)};
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> v;
  for (const char* p = s; *p;) {
    v.push_back(std::atoi(p));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, omp_get_max_threads()};
  int runs = 7;
  bool quick = false;
  const char* json_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = parse_list(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--quick") quick = true;
    else if (a == "--json" && i + 1 < argc) json_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_gemm [--threads 1,2] [--runs 7] [--quick] [--json FILE]\n");
      return 2;
    }
  }
  threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
  const std::string isa = active_isa();
  std::vector<Case> cases;
  const int64_t max_sq = quick ? 512 : 2048;
  for (int64_t n = 32; n <= max_sq; n *= 2) cases.push_back({"square", "f32", "NN", n, n, n});
  for (int64_t n = 256; n <= max_sq; n *= 2) cases.push_back({"square", "f64", "NN", n, n, n});
  const int64_t train[][3] = {{64, 256, 784}, {64, 10, 256}, {256, 1024, 4096}};
  for (auto& s : train) {
    const int64_t M = s[0], N = s[1], K = s[2];
    if (quick && K > 1024) continue;
    cases.push_back({"train fwd", "f32", "NN", M, N, K});
    cases.push_back({"train dA", "f32", "NT", M, K, N});
    cases.push_back({"train dB", "f32", "TN", K, N, M});
  }
  const GemmBlocking bf = gemm_blocking(false), bd = gemm_blocking(true);
  std::printf("dlcore %s, ISA %s; tile f32 %lldx%lld kc %lld nc %lld, f64 %lldx%lld kc %lld nc %lld;"
              " L1 %lld KiB, L2 %lld KiB; median of %d runs\n",
              version().c_str(), isa.c_str(), (long long)bf.mr, (long long)bf.nr, (long long)bf.kc,
              (long long)bf.nc, (long long)bd.mr, (long long)bd.nr, (long long)bd.kc,
              (long long)bd.nc, (long long)(bf.l1_bytes >> 10), (long long)(bf.l2_bytes >> 10), runs);
  std::string json = "{\"isa\": \"" + isa + "\", \"results\": [";
  bool first_row = true;
  for (int t : threads) {
    set_num_threads(t);
    std::printf("\nthreads %d (peak: the FMA kernel's GFLOP/s in the same rounds)", t);
    if (t > 1)
      std::printf("; packed products split from %lld multiply-adds",
                  (long long)gemm_threads_from());
    std::printf("\n");
    std::printf("%-10s %-4s %-3s %6s %6s %6s %10s %8s %8s\n", "case", "type", "op", "M", "N", "K",
                "GFLOP/s", "peak", "of peak");
    for (const Case& c : cases) {
      const Result res = c.dtype == "f32" ? time_case<float>(c, isa, t, runs)
                                          : time_case<double>(c, isa, t, runs);
      std::printf("%-10s %-4s %-3s %6lld %6lld %6lld %10.1f %8.1f %7.0f%%\n", c.name.c_str(),
                  c.dtype.c_str(), c.op.c_str(), (long long)c.M, (long long)c.N, (long long)c.K,
                  res.gflops, res.peak, 100 * res.share);
      char row[320];
      std::snprintf(row, sizeof row,
                    "%s\n  {\"threads\": %d, \"case\": \"%s\", \"dtype\": \"%s\", \"op\": \"%s\", "
                    "\"M\": %lld, \"N\": %lld, \"K\": %lld, \"seconds\": %.9g, \"gflops\": %.4g, "
                    "\"peak_gflops\": %.4g, \"share_of_peak\": %.4f}",
                    first_row ? "" : ",", t, c.name.c_str(), c.dtype.c_str(), c.op.c_str(),
                    (long long)c.M, (long long)c.N, (long long)c.K, res.seconds, res.gflops,
                    res.peak, res.share);
      json += row;
      first_row = false;
    }
  }
  json += "\n]}\n";
  if (json_path) {
    FILE* f = std::strcmp(json_path, "-") == 0 ? stdout : std::fopen(json_path, "w");
    if (!f) {
      std::perror(json_path);
      return 1;
    }
    std::fputs(json.c_str(), f);
    if (f != stdout) std::fclose(f);
  }
  return 0;
}
