// Checks dlcore's C++ GEMM API against a plain triple loop in long double.
// Built and run by tests/test_gemm.py. Covers every instruction set the CPU
// has, float and double, all four transpose combinations, general strides,
// alpha and beta (beta = 0 must ignore NaNs in C), the bias and ReLU epilogue,
// strided batches, edge sizes around the register tile and the cache blocks,
// 1 and 2 threads (which must give the same bits), B as an image's patches, and
// argument errors.
// Prints one line per failure and a summary; exits 1 on any failure.
#include <dlcore/dlcore.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

using namespace dlcore;

static int failures = 0, checks = 0;

static void fail(const std::string& what) {
  ++failures;
  if (failures <= 20) std::printf("FAIL %s\n", what.c_str());
}

template <class T>
struct Case {
  int64_t M, N, K;
  bool ta, tb;       // A stored K x M, B stored N x K
  int64_t pad;       // extra elements per stored row (lda, ldb, ldc beyond the minimum)
  int64_t col_step;  // 1, or 2 for operands whose columns are every other element
  T alpha, beta;
  int bias;          // 0 none, 1 per column, 2 per row
  bool relu;
  int64_t batch;
};

template <class T>
std::string describe(const Case<T>& c, const std::string& isa, int threads) {
  char s[256];
  std::snprintf(s, sizeof s,
                "%s %s threads=%d M=%lld N=%lld K=%lld %c%c pad=%lld step=%lld alpha=%g beta=%g "
                "bias=%d relu=%d batch=%lld",
                sizeof(T) == 4 ? "f32" : "f64", isa.c_str(), threads, (long long)c.M,
                (long long)c.N, (long long)c.K, c.ta ? 'T' : 'N', c.tb ? 'T' : 'N',
                (long long)c.pad, (long long)c.col_step, double(c.alpha), double(c.beta), c.bias,
                int(c.relu), (long long)c.batch);
  return s;
}

// Runs one case; with `check`, compares it with the loop (in double for
// float, long double for double).
template <class T>
std::vector<T> run_case(const Case<T>& c, const std::string& isa, int threads, uint32_t seed,
                        bool check) {
  using R = std::conditional_t<sizeof(T) == 4, double, long double>;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  // Stored shapes (rows x cols) before the column step and padding.
  const int64_t ar = c.ta ? c.K : c.M, ac = c.ta ? c.M : c.K;
  const int64_t br = c.tb ? c.N : c.K, bc = c.tb ? c.K : c.N;
  const int64_t lda = ac * c.col_step + c.pad, ldb = bc * c.col_step + c.pad, ldc = c.N + c.pad;
  const int64_t sa = ar * lda + 3, sb = br * ldb + 5, sc = c.M * ldc + 1;  // batch strides
  std::vector<T> A(sa * c.batch + 1), B(sb * c.batch + 1), C(sc * c.batch + 1), C0;
  for (auto& x : A) x = T(u(rng));
  for (auto& x : B) x = T(u(rng));
  for (auto& x : C) x = c.beta == T(0) ? std::numeric_limits<T>::quiet_NaN() : T(u(rng));
  C0 = C;
  std::vector<T> bias(std::max(c.M, c.N));
  for (auto& x : bias) x = T(u(rng));

  GemmProblem<T> p;
  p.M = c.M, p.N = c.N, p.K = c.K, p.alpha = c.alpha, p.beta = c.beta;
  p.a = A.data(), p.a_rs = c.ta ? c.col_step : lda, p.a_cs = c.ta ? lda : c.col_step;
  p.b = B.data(), p.b_rs = c.tb ? c.col_step : ldb, p.b_cs = c.tb ? ldb : c.col_step;
  p.c = C.data(), p.ldc = ldc;
  p.batch = c.batch, p.a_bs = sa, p.b_bs = sb, p.c_bs = sc;
  if (c.bias) p.epilogue.bias = bias.data(), p.epilogue.bias_per_row = c.bias == 2;
  if (c.relu) p.epilogue.activation = GemmActivation::Relu;
  gemm(p);

  const R tol = sizeof(T) == 4 ? R(1e-6) * (c.K + 4) : R(1e-14) * (c.K + 4);
  if (!check) return C;
  ++checks;
  for (int64_t t = 0; t < c.batch; ++t) {
    const T* a = A.data() + t * sa;
    const T* b = B.data() + t * sb;
    const T* c0 = C0.data() + t * sc;
    const T* got = C.data() + t * sc;
    for (int64_t i = 0; i < c.M; ++i) {
      for (int64_t j = 0; j < c.N; ++j) {
        R s = 0;
        for (int64_t k = 0; k < c.K; ++k)
          s += R(a[i * p.a_rs + k * p.a_cs]) * R(b[k * p.b_rs + j * p.b_cs]);
        R ref = R(c.alpha) * s;
        if (c.beta != T(0)) ref += R(c.beta) * c0[i * ldc + j];
        if (c.bias == 1) ref += bias[j];
        if (c.bias == 2) ref += bias[i];
        if (c.relu && ref < 0) ref = 0;
        const T g = got[i * ldc + j];
        if (!(std::fabs(R(g) - ref) <= tol)) {
          char m[160];
          std::snprintf(m, sizeof m, " at batch %lld (%lld, %lld): got %.9g want %.9Lg",
                        (long long)t, (long long)i, (long long)j, double(g), (long double)ref);
          fail(describe(c, isa, threads) + m);
          return C;
        }
      }
      // The padding of each row of C is left alone.
      for (int64_t j = c.N; j < ldc; ++j)
        if (std::memcmp(&got[i * ldc + j], &c0[i * ldc + j], sizeof(T)) != 0) {
          fail(describe(c, isa, threads) + " wrote into C's row padding");
          return C;
        }
    }
  }
  return C;
}

template <class T>
void check_both_thread_counts(const Case<T>& c, const std::string& isa, uint32_t seed) {
  set_num_threads(1);
  std::vector<T> one = run_case(c, isa, 1, seed, true);
  set_num_threads(2);
  std::vector<T> two = run_case(c, isa, 2, seed, false);
  ++checks;
  if (one.size() != two.size() || std::memcmp(one.data(), two.data(), one.size() * sizeof(T)) != 0)
    fail(describe(c, isa, 2) + ": 1 and 2 threads differ in their bits");
}

template <class T>
void grid(const std::string& isa, uint32_t& seed) {
  const int64_t sizes[] = {1, 2, 7, 13, 17, 33, 64};
  // Every transpose pair over a grid of small edge sizes (tiles are at most 14 x 32).
  for (int64_t M : sizes)
    for (int64_t N : sizes)
      for (int t = 0; t < 4; ++t) {
        const int64_t K = sizes[(M + 2 * N + t) % 7];
        check_both_thread_counts<T>({M, N, K, bool(t & 1), bool(t & 2), 0, 1, T(1), T(0), 0, false, 1},
                                    isa, ++seed);
      }
  // Options, on shapes that cross the k block and the register tile (the smallest the
  // packing driver splits over threads, with and without the search for the split; one
  // it runs on one thread), on small ones that skip the blocking (a row-major B read in
  // place), split by rows or by columns over two threads, on a matrix times a vector
  // (dot products over rows) and on a row vector times a matrix; two option sets per
  // shape and transpose pair.
  const int64_t shapes[][3] = {{45, 70, 300}, {130, 97, 333}, {300, 260, 200},
                               {64, 64, 64},  {9, 40, 500},   {4, 200, 300},
                               {301, 1, 700}, {1, 700, 301},  {100, 97, 333}};
  for (int si = 0; si < 9; ++si)
    for (int t = 0; t < 4; ++t)
      for (int opt : {0, (si * 4 + t) % 5 + 1}) {
        Case<T> c{shapes[si][0], shapes[si][1], shapes[si][2], bool(t & 1), bool(t & 2), 0, 1,
                  T(1), T(0), 0, false, 1};
        if (opt == 1) c.alpha = T(-0.5), c.beta = T(2);
        if (opt == 2) c.beta = T(1), c.bias = 1, c.relu = true;
        if (opt == 3) c.pad = 5, c.col_step = 2, c.bias = 2;
        if (opt == 4) c.batch = 3, c.pad = 1, c.alpha = T(1.5);
        if (opt == 5) c.relu = true, c.beta = T(-1);
        check_both_thread_counts<T>(c, isa, ++seed);
      }
  // Fewer columns than a vector holds with A transposed (computed as C^T, written
  // transposed), under each write-back option.
  check_both_thread_counts<T>({200, 10, 60, true, false, 0, 1, T(-0.5), T(2), 0, false, 1}, isa,
                              ++seed);
  check_both_thread_counts<T>({200, 10, 60, true, false, 0, 1, T(1), T(1), 1, true, 1}, isa,
                              ++seed);
  check_both_thread_counts<T>({150, 5, 90, true, false, 3, 1, T(1.5), T(0), 2, false, 3}, isa,
                              ++seed);
  check_both_thread_counts<T>({150, 5, 90, true, false, 0, 1, T(1), T(-1), 0, true, 1}, isa,
                              ++seed);
  // Small, B read in place: a bias per row, and a batch split between the threads.
  check_both_thread_counts<T>({20, 45, 30, false, false, 2, 1, T(1), T(0), 2, true, 1}, isa, ++seed);
  check_both_thread_counts<T>({30, 33, 40, true, false, 0, 1, T(1), T(0.5), 1, false, 4}, isa, ++seed);
  // A matrix times a vector: a bias per row, a strided b, a batch; a row vector times a
  // matrix: a bias per column, beta, a transposed A (its values lda apart), a batch.
  check_both_thread_counts<T>({37, 1, 45, false, false, 3, 1, T(2), T(0), 2, true, 3}, isa, ++seed);
  check_both_thread_counts<T>({1, 150, 45, true, false, 2, 1, T(1), T(-1), 1, true, 2}, isa,
                              ++seed);
  // Large enough to pack A: row-major, transposed and strided A (and, under
  // DLCORE_GEMM_PANEL_KIB=64, several panels of A and B).
  check_both_thread_counts<T>({600, 600, 100, false, false, 0, 1, T(1), T(0), 1, false, 1}, isa, ++seed);
  check_both_thread_counts<T>({600, 600, 100, true, false, 0, 1, T(1), T(0), 0, false, 1}, isa, ++seed);
  check_both_thread_counts<T>({600, 600, 100, false, true, 3, 2, T(1), T(0), 0, false, 1}, isa, ++seed);
  // K = 0 and alpha = 0: C = beta C (+ epilogue) without reading A or B.
  check_both_thread_counts<T>({5, 6, 0, false, false, 0, 1, T(1), T(0.5), 1, true, 2}, isa, ++seed);
  check_both_thread_counts<T>({5, 6, 4, false, false, 0, 1, T(0), T(2), 2, false, 1}, isa, ++seed);
}

// A B packed once (GemmPackedB) gives the same bits as B packed by each call; one
// packed under another instruction set, or too large for one panel (under
// DLCORE_GEMM_PANEL_KIB=64), is not used: B is packed again from b.
template <class T>
void check_packed_b(const std::string& isa, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (auto [M, N, K] :
       {std::array<int64_t, 3>{32, 1024, 256}, {7, 37, 700}, {1, 5, 3}, {50, 300, 1025}}) {
    for (bool tb : {false, true}) {
      std::vector<T> A(M * K), B(K * N), c1(M * N), c2(M * N);
      for (auto& x : A) x = T(u(rng));
      for (auto& x : B) x = T(u(rng));
      const int64_t rs = tb ? 1 : N, cs = tb ? K : 1;  // B stored K x N, or N x K read transposed
      GemmProblem<T> p;
      p.M = M, p.N = N, p.K = K, p.a = A.data(), p.a_rs = K, p.a_cs = 1;
      p.b = B.data(), p.b_rs = rs, p.b_cs = cs, p.c = c1.data(), p.ldc = N;
      gemm(p);
      GemmPackedB<T> packed(K, N, B.data(), rs, cs);
      auto q = p;
      q.b_packed = &packed, q.c = c2.data();
      gemm(q);
      ++checks;
      if (c1 != c2)
        fail(isa + " packed B differs from B packed per call, M=" + std::to_string(M) +
             " N=" + std::to_string(N) + " K=" + std::to_string(K));
      // Its first n columns serve a product over those (from the packed copy where K fits
      // one k block, else packed again), with the bits of the full product's columns.
      for (int64_t n : {int64_t(1), N / 2 + 3, N - 1}) {
        if (n < 1 || n >= N) continue;
        std::vector<T> c3(M * n, T(7));
        auto r = q;
        r.N = n, r.c = c3.data(), r.ldc = n;
        gemm(r);
        ++checks;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < n; ++j)
            if (c3[i * n + j] != c1[i * N + j])
              fail(isa + " the first " + std::to_string(n) + " columns of a packed B, M=" +
                   std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
      }
      for (const std::string& other : available_isas()) {
        if (other == isa) continue;
        set_isa(other);
        auto r = p;
        r.b_packed = &packed, r.c = c2.data();
        std::fill(c2.begin(), c2.end(), T(0));
        gemm(r);
        std::vector<T> ref(M * N);
        p.c = ref.data();
        gemm(p);
        p.c = c1.data();
        ++checks;
        if (ref != c2) fail(isa + " packed B used under " + other);
        set_isa(isa);
      }
    }
  }
}

// B given as the patch matrix of an image (GemmPatches) gives the same bits as that
// matrix written out by a loop: padding (none, some, beyond the kernel, negative),
// strides, dilation, output rows shorter and longer than a sliver, one column, an
// output larger than the image, and images read in place (no padding, output rows of
// whole vectors).
template <class T>
void check_patches(const std::string& isa, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  const std::vector<GemmPatches> geos = {
      // C, H, W, kh, kw, sh, sw, ph, pw, dh, dw (Ho, Wo follow)
      {3, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},   {2, 6, 40, 3, 2, 1, 1, 0, 0, 1, 1, 0, 0},
      {2, 5, 4, 3, 3, 1, 1, 3, 2, 1, 1, 0, 0},    {2, 9, 10, 3, 3, 2, 1, 1, 1, 1, 1, 0, 0},
      {2, 9, 10, 3, 3, 1, 2, 1, 1, 1, 1, 0, 0},   {3, 8, 9, 3, 2, 1, 1, 2, 1, 2, 3, 0, 0},
      {4, 6, 3, 2, 3, 1, 1, 0, 0, 1, 1, 0, 0},    {2, 7, 7, 3, 3, 1, 1, -1, -1, 1, 1, 0, 0},
      {1, 3, 70, 1, 5, 1, 3, 0, 4, 1, 2, 0, 0},
      {2, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1, 5, 6},  // an output past the image: zeros there
      // No padding and output rows of whole vectors: B is read in place from the image.
      {3, 7, 18, 3, 3, 1, 1, 0, 0, 1, 1, 0, 0},   {2, 6, 35, 2, 4, 2, 1, 0, 0, 1, 1, 0, 0},
      {2, 9, 17, 3, 2, 1, 1, -1, 0, 2, 1, 0, 0},  {50, 4, 34, 3, 3, 1, 1, 0, 0, 1, 1, 0, 0},
      // Flat rows (stride 1, no padding, Wo = W): each row of B one run of the image,
      // read in place (19 rows of C) or packed (100), the last runs into the slack.
      {6, 14, 14, 5, 5, 1, 1, 0, 0, 1, 1, 0, 0, true},
      {3, 7, 9, 3, 2, 1, 1, 0, 0, 2, 3, 0, 0, true},
      {2, 4, 40, 2, 3, 1, 1, 0, 0, 1, 1, 0, 0, true}};
  for (GemmPatches g : geos) {
    if (g.Ho == 0) g.Ho = (g.H + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
    if (g.Wo == 0) g.Wo = g.flat ? g.W : (g.W + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
    const std::vector<int64_t> row_counts =
        g.flat ? std::vector<int64_t>{19, 100} : std::vector<int64_t>{19};
    for (const int64_t M : row_counts) {
      const int64_t K = g.rows(), N = g.cols(), slack = g.flat ? g.flat_slack() : 0;
      std::vector<T> x(g.C * g.H * g.W + slack), A(M * K), B(K * N), c1(M * N), c2(M * N);
      for (int64_t t = 0; t < g.C * g.H * g.W; ++t) x[t] = T(u(rng));
      for (auto& v : A) v = T(u(rng));
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            for (int64_t oh = 0; oh < g.Ho; ++oh)
              for (int64_t ow = 0; ow < g.Wo; ++ow) {
                const int64_t ih = oh * g.sh - g.ph + i * g.dh, iw = ow * g.sw - g.pw + j * g.dw;
                const bool in = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
                T& b = B[((c * g.kh + i) * g.kw + j) * N + oh * g.Wo + ow];
                if (g.flat)  // the slack past the image is zero
                  b = x[(c * g.H + i * g.dh) * g.W + j * g.dw + oh * g.Wo + ow];
                else
                  b = in ? x[(c * g.H + ih) * g.W + iw] : T(0);
              }
      // The written-out matrix packed ahead, so that both products run the packing
      // driver's k blocks (a small one with a plain B would read it in place, in one).
      const GemmPackedB<T> packed(K, N, B.data(), N, 1);
      GemmProblem<T> p;
      p.M = M, p.N = N, p.K = K, p.a = A.data(), p.a_rs = K, p.a_cs = 1;
      p.b = B.data(), p.b_rs = N, p.b_cs = 1, p.c = c1.data(), p.ldc = N, p.b_packed = &packed;
      gemm(p);
      auto q = p;
      q.b = x.data(), q.b_patches = &g, q.b_packed = nullptr, q.c = c2.data();
      gemm(q);
      ++checks;
      if (c1 != c2)
        fail(isa + (sizeof(T) == 4 ? " f32" : " f64") +
             " patches differ from the written-out matrix, C=" + std::to_string(g.C) +
             " H=" + std::to_string(g.H) + " W=" + std::to_string(g.W) +
             " ph=" + std::to_string(g.ph) + " sw=" + std::to_string(g.sw) +
             " flat=" + std::to_string(g.flat) + " M=" + std::to_string(M));
    }
  }
}

template <class T>
void expect_value_error(const char* what, const GemmProblem<T>& p) {
  ++checks;
  try {
    gemm(p);
    fail(std::string("no error for ") + what);
  } catch (const ValueError& e) {
    if (std::strncmp(e.what(), "gemm:", 5) != 0) fail(std::string("message for ") + what + ": " + e.what());
  }
}

int main(int argc, char** argv) {
  // --one-isa: only the best instruction set (a second run under other
  // blocking settings, e.g. DLCORE_GEMM_PANEL_KIB=64 to cross many panels).
  const bool one_isa = argc > 1 && std::strcmp(argv[1], "--one-isa") == 0;
  uint32_t seed = 0;
  for (const std::string& isa : available_isas()) {
    if (one_isa && isa != available_isas().back()) continue;
    set_isa(isa);
    grid<float>(isa, seed);
    grid<double>(isa, seed);
    check_packed_b<float>(isa, ++seed);
    check_packed_b<double>(isa, ++seed);
    check_patches<float>(isa, ++seed);
    check_patches<double>(isa, ++seed);
  }
  set_isa(available_isas().back());
  // Packs A; under DLCORE_GEMM_PANEL_KIB=64, across many panels of A and B.
  check_both_thread_counts<float>({220, 500, 5000, false, false, 0, 1, 1.f, 0.f, 1, false, 1},
                                  available_isas().back(), ++seed);
  check_both_thread_counts<double>({110, 500, 5000, true, true, 3, 1, 1.0, 0.5, 0, true, 1},
                                   available_isas().back(), ++seed);
  // The BLAS-style entry points against the general form.
  {
    std::vector<float> a(6 * 4), b(4 * 5), c1(6 * 5), c2(6 * 5, 0.f);
    for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) - 3;
    for (size_t i = 0; i < b.size(); ++i) b[i] = float(i % 5) - 2;
    gemm(Transpose::Yes, Transpose::No, 6, 5, 4, 1.f, a.data(), 6, b.data(), 5, 0.f, c1.data(), 5);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 5; ++j)
        for (int k = 0; k < 4; ++k) c2[i * 5 + j] += a[k * 6 + i] * b[k * 5 + j];
    ++checks;
    if (c1 != c2) fail("gemm(Transpose::Yes, Transpose::No, ...) differs from the loop");
    std::vector<float> cb(2 * 6 * 5);
    gemm_strided_batched(Transpose::Yes, Transpose::No, 6, 5, 4, 1.f, a.data(), 6, 0, b.data(), 5, 0,
                         0.f, cb.data(), 5, 30, 2);
    ++checks;
    if (!std::equal(c2.begin(), c2.end(), cb.begin()) || !std::equal(c2.begin(), c2.end(), cb.begin() + 30))
      fail("gemm_strided_batched with batch stride 0 for A and B differs from the loop");
  }
  // gemm_reads_in_place: a small product with a row-major B, and one whose B fits half of
  // L2, read it in place; a deep one, one with B transposed, and one given B packed do not.
  {
    GemmProblem<float> p;
    p.M = 64, p.N = 64, p.K = 64, p.b_rs = 64, p.b_cs = 1;
    const bool small = gemm_reads_in_place(p);
    p.M = 1024;  // 4 Mi multiply-adds, B 16 KiB
    const bool fits_l2 = gemm_reads_in_place(p);
    p.K = 1024, p.b_rs = 64;
    const bool deep = gemm_reads_in_place(p);
    p.K = 64, p.b_rs = 1, p.b_cs = 64;
    const bool transposed = gemm_reads_in_place(p);
    std::vector<float> b(64 * 64, 1.f);
    const GemmPackedB<float> packed(64, 64, b.data(), 64, 1);
    p.b_rs = 64, p.b_cs = 1, p.b_packed = &packed;
    const bool given_packed = gemm_reads_in_place(p);
    checks += 5;
    if (!small || !fits_l2 || deep || transposed || given_packed)
      fail("gemm_reads_in_place: " + std::to_string(small) + std::to_string(fits_l2) +
           std::to_string(deep) + std::to_string(transposed) + std::to_string(given_packed) +
           ", expected 11000");
  }
  // Bad arguments.
  {
    float x[4] = {};
    GemmProblem<float> p;
    p.M = 2, p.N = 2, p.K = 2, p.a = x, p.a_rs = 2, p.b = x, p.b_rs = 2, p.c = x, p.ldc = 2;
    auto q = p;
    q.M = -1;
    expect_value_error("a negative M", q);
    q = p, q.ldc = 1;
    expect_value_error("ldc below N", q);
    q = p, q.a = nullptr;
    expect_value_error("a null A", q);
    q = p, q.c = nullptr;
    expect_value_error("a null C", q);
    GemmPackedB<float> packed(3, 2, x, 2, 1);
    q = p, q.b_packed = &packed;
    expect_value_error("a packed B of another K", q);
    GemmPackedB<float> thin(2, 1, x, 1, 1);
    q = p, q.b_packed = &thin;
    expect_value_error("a packed B of fewer columns", q);
    const GemmPatches patches{1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 2, 2};  // 4 x 4, not 2 x 2
    q = p, q.b_patches = &patches;
    expect_value_error("patches of another shape", q);
    const GemmPatches fits{2, 1, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2};  // 2 x 2
    q = p, q.b_patches = &fits, q.b_packed = &packed;
    expect_value_error("patches and a packed B at once", q);
    const GemmPatches padded_flat{2, 1, 2, 1, 1, 1, 1, 0, 1, 1, 1, 1, 2, true};  // 2 x 2
    q = p, q.b_patches = &padded_flat;
    expect_value_error("flat patches with padding", q);
    const GemmPatches narrow_flat{1, 1, 3, 1, 2, 1, 1, 0, 0, 1, 1, 1, 2, true};  // 2 x 2, Wo < W
    q = p, q.b_patches = &narrow_flat;
    expect_value_error("flat patches with Wo below W", q);
    ++checks;
    try {
      gemm(Transpose::No, Transpose::No, 2, 2, 3, 1.f, x, 2, x, 2, 0.f, x, 2);
      fail("no error for lda below K");
    } catch (const ValueError&) {
    }
  }
  // The size from which packed products take threads: measured (within the range the
  // driver measures) or as DLCORE_GEMM_THREADS_FROM says.
  {
    set_num_threads(2);
    const long long from = gemm_threads_from();
    const char* env = std::getenv("DLCORE_GEMM_THREADS_FROM");
    ++checks;
    if (env ? from != std::atoll(env) : from < (1 << 17) || from > (3 << 20))
      fail("gemm_threads_from() gave " + std::to_string(from));
    std::printf("packed products split from %lld multiply-adds\n", from);
  }
  std::printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
