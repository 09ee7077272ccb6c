// Portable vector type: a small array the compiler may vectorise with the
// baseline instruction set. Used on CPUs without AVX2 and by DLCORE_ISA=generic.
#pragma once
#include <cmath>
#include <cstdint>

namespace dlcore::kernels::DLCORE_ISA_NS {

template <class T> struct Vec {
  static constexpr int size = 16 / sizeof(T);
  T v[size];
  static Vec load(const T* p) { Vec r; for (int i = 0; i < size; ++i) r.v[i] = p[i]; return r; }
  static Vec broadcast(T x) { Vec r; for (int i = 0; i < size; ++i) r.v[i] = x; return r; }
  static Vec zero() { return broadcast(T(0)); }
  // p[0..n) (n <= size), zero in the other lanes; memory past p + n is not touched.
  static Vec load_first(const T* p, int n) {
    Vec r = zero();
    for (int i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
  void store(T* p) const { for (int i = 0; i < size; ++i) p[i] = v[i]; }
  void stream(T* p) const { store(p); }
  // Stores lanes [0, n) (n <= size); memory past p + n is not touched.
  void store_first(T* p, int n) const { for (int i = 0; i < n; ++i) p[i] = v[i]; }
};

// dst[c * ldd + r] = rows[r][k + c] for r, c < kTransposeSize<T>, stores in
// order of c (the AVX builds do this in registers: transpose_avx2.h).
template <class T>
constexpr int kTransposeSize = 16 / sizeof(T);
template <class T>
inline void transpose_block(const T* const* rows, int64_t k, T* dst, int64_t ldd) {
  for (int c = 0; c < kTransposeSize<T>; ++c)
    for (int r = 0; r < kTransposeSize<T>; ++r) dst[c * ldd + r] = rows[r][k + c];
}

#define DLCORE_GENERIC_BINOP(NAME, EXPR)                              \
  template <class T> inline Vec<T> NAME(const Vec<T>& a, const Vec<T>& b) { \
    Vec<T> r;                                                         \
    for (int i = 0; i < Vec<T>::size; ++i) {                          \
      T x = a.v[i], y = b.v[i];                                       \
      r.v[i] = (EXPR);                                                \
    }                                                                 \
    return r;                                                         \
  }
DLCORE_GENERIC_BINOP(vadd, x + y)
DLCORE_GENERIC_BINOP(vsub, x - y)
DLCORE_GENERIC_BINOP(vmul, x * y)
DLCORE_GENERIC_BINOP(vdiv, x / y)
// NaN-propagating max/min, like the scalar rule the ops use.
DLCORE_GENERIC_BINOP(vmax, (x != x || x > y) ? x : y)
DLCORE_GENERIC_BINOP(vmin, (x != x || x < y) ? x : y)
#undef DLCORE_GENERIC_BINOP

template <class T> inline Vec<T> vfma(const Vec<T>& a, const Vec<T>& b, const Vec<T>& c) {
  Vec<T> r;
  for (int i = 0; i < Vec<T>::size; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
  return r;
}
template <class T> inline Vec<T> vsqrt(const Vec<T>& a) {
  Vec<T> r;
  for (int i = 0; i < Vec<T>::size; ++i) r.v[i] = std::sqrt(a.v[i]);
  return r;
}
template <class T> inline Vec<T> vabs(const Vec<T>& a) {
  Vec<T> r;
  for (int i = 0; i < Vec<T>::size; ++i) r.v[i] = std::fabs(a.v[i]);
  return r;
}
template <class T> inline Vec<T> vrelu(const Vec<T>& a) {
  Vec<T> r;
  for (int i = 0; i < Vec<T>::size; ++i) r.v[i] = (a.v[i] > T(0) || a.v[i] != a.v[i]) ? a.v[i] : T(0);
  return r;
}
// p[0 .. size) += the lanes of a, widened to double.
template <class T>
inline void vadd_into_double(double* p, const Vec<T>& a) {
  for (int i = 0; i < Vec<T>::size; ++i) p[i] += static_cast<double>(a.v[i]);
}
template <class T> inline T vreduce_add(const Vec<T>& a) {
  T s = a.v[0];
  for (int i = 1; i < Vec<T>::size; ++i) s += a.v[i];
  return s;
}
template <class T> inline T vreduce_max(const Vec<T>& a) {
  T m = a.v[0];
  for (int i = 1; i < Vec<T>::size; ++i) m = a.v[i] > m ? a.v[i] : m;
  return m;
}
template <class T> inline T vreduce_min(const Vec<T>& a) {
  T m = a.v[0];
  for (int i = 1; i < Vec<T>::size; ++i) m = a.v[i] < m ? a.v[i] : m;
  return m;
}
template <class T> inline bool vany_nan(const Vec<T>& a) {
  for (int i = 0; i < Vec<T>::size; ++i)
    if (a.v[i] != a.v[i]) return true;
  return false;
}
inline void stream_fence() {}

}  // namespace dlcore::kernels::DLCORE_ISA_NS
