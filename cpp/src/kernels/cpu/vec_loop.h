// Loops over n elements in whole vectors plus one masked tail, so a kernel body
// is written once for both (internal linkage, one copy per instruction set).
#pragma once
#include <cstdint>

#include "kernels/cpu/vec.h"

namespace dlcore::kernels::DLCORE_ISA_NS {
namespace {

// Calls f(i, c) for i = 0, W, 2W, ... with c = W lanes, and c < W for the tail.
template <class T, class F>
inline void vec_loop(int64_t n, F f) {
  constexpr int W = Vec<T>::size;
  int64_t i = 0;
  for (; i + W <= n; i += W) f(i, W);
  if (i < n) f(i, static_cast<int>(n - i));
}
// p[i..i+c) into the first c lanes (c <= W); nothing past p + i + c is read.
template <class T>
inline Vec<T> load_n(const T* p, int64_t i, int c) {
  return c == Vec<T>::size ? Vec<T>::load(p + i) : Vec<T>::load_first(p + i, c);
}
// The first c lanes of v into p[i..i+c); nothing past it is written.
template <class T>
inline void store_n(const Vec<T>& v, T* p, int64_t i, int c) {
  if (c == Vec<T>::size)
    v.store(p + i);
  else
    v.store_first(p + i, c);
}

}  // namespace
}  // namespace dlcore::kernels::DLCORE_ISA_NS
