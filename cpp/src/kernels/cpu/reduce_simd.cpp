// Contiguous reduction kernels, compiled once per instruction set.
//   sum:    s = sum_{i<n} x[i]   with four vector accumulators, combined in a
//           fixed order, so the result depends only on x and n.
//   extreme: the largest or smallest x[i], NaN if any is (four vector running extremes).
//   colsum: out[j] = sum_{r<rows} x[r*ld + j]   (rows in order).
#include <cstdint>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

template <class T> double sum_contig(const T* x, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::size;
  V acc0 = V::zero(), acc1 = V::zero(), acc2 = V::zero(), acc3 = V::zero();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    acc0 = vadd(acc0, V::load(x + i));
    acc1 = vadd(acc1, V::load(x + i + W));
    acc2 = vadd(acc2, V::load(x + i + 2 * W));
    acc3 = vadd(acc3, V::load(x + i + 3 * W));
  }
  double s = static_cast<double>(vreduce_add(vadd(vadd(acc0, acc1), vadd(acc2, acc3))));
  T tail = T(0);
  for (; i < n; ++i) tail += x[i];
  return s + static_cast<double>(tail);
}

// vmax / vmin keep a NaN of either operand, so a NaN anywhere reaches the result; four
// running extremes, as one chain of them would bound the loop; the last, partial step
// reloads the last W values (taking a value twice changes nothing). The lanes of the last
// vector meet in a shuffle tree, or where one is NaN, one by one so as to return that NaN.
// Also the row maximum of fused attention's online softmax.
template <class T, bool kMax>
T extreme_contig(const T* x, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::size;
  auto pick = [](T a, T b) { return a != a || (kMax ? a > b : a < b) ? a : b; };
  auto vpick = [](V a, V b) { return kMax ? vmax(a, b) : vmin(a, b); };
  T r = x[0];
  if (n < W) {
    for (int64_t i = 1; i < n; ++i) r = pick(x[i], r);
    return r;
  }
  V m0 = V::load(x), m1 = m0, m2 = m0, m3 = m0;
  int64_t i = W;
  if (n >= 4 * W) m1 = V::load(x + W), m2 = V::load(x + 2 * W), m3 = V::load(x + 3 * W), i = 4 * W;
  for (; i + 4 * W <= n; i += 4 * W) {
    m0 = vpick(V::load(x + i), m0);
    m1 = vpick(V::load(x + i + W), m1);
    m2 = vpick(V::load(x + i + 2 * W), m2);
    m3 = vpick(V::load(x + i + 3 * W), m3);
  }
  for (; i + W <= n; i += W) m0 = vpick(V::load(x + i), m0);
  if (i < n) m1 = vpick(V::load(x + n - W), m1);
  const V m = vpick(vpick(m0, m1), vpick(m2, m3));
  if (!vany_nan(m)) return kMax ? vreduce_max(m) : vreduce_min(m);
  alignas(64) T lanes[W];  // the NaN itself, payload and all
  m.store(lanes);
  r = lanes[0];
  for (int k = 1; k < W; ++k) r = pick(lanes[k], r);
  return r;
}

template <class T> void colsum(const T* x, int64_t rows, int64_t ld, int64_t m, T* out) {
  // One row per pass: each row is one sequential read, added to out (m small, in L1) in
  // row order.
  using V = Vec<T>;
  constexpr int W = V::size;
  for (int64_t j = 0; j < m; ++j) out[j] = x[j];
  for (int64_t r = 1; r < rows; ++r) {
    const T* row = x + r * ld;
    int64_t j = 0;
    for (; j + W <= m; j += W) vadd(V::load(out + j), V::load(row + j)).store(out + j);
    for (; j < m; ++j) out[j] += row[j];
  }
}

}  // namespace

double sum_f32(const float* x, int64_t n) { return sum_contig<float>(x, n); }
double sum_f64(const double* x, int64_t n) { return sum_contig<double>(x, n); }
float extreme_f32(const float* x, int64_t n, bool is_max) {
  return is_max ? extreme_contig<float, true>(x, n) : extreme_contig<float, false>(x, n);
}
double extreme_f64(const double* x, int64_t n, bool is_max) {
  return is_max ? extreme_contig<double, true>(x, n) : extreme_contig<double, false>(x, n);
}
void colsum_f32(const float* x, int64_t rows, int64_t ld, int64_t m, float* out) {
  colsum<float>(x, rows, ld, m, out);
}
void colsum_f64(const double* x, int64_t rows, int64_t ld, int64_t m, double* out) {
  colsum<double>(x, rows, ld, m, out);
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
