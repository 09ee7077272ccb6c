// Tensor creation: filled, ranged and random tensors.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/common.h"

namespace dlcore {
namespace {

// Rejects negative sizes and shapes whose element count or byte size overflows.
void check_shape(const Shape& shape, const char* op, DType dtype) {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t s : shape) {
    if (s < 0) throw ValueError(str_cat(op, ": negative dimension in shape ", shape_str(shape)));
    overflow = overflow || __builtin_mul_overflow(n, s, &n);
  }
  int64_t bytes = 0;
  if (overflow || __builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(dtype)), &bytes))
    throw ValueError(str_cat(op, ": shape ", shape_str(shape), " has more elements than memory can hold"));
}

DType scalar_default_dtype(Scalar v) {
  return v.kind == Scalar::Float ? default_dtype()
                                 : (v.kind == Scalar::Int ? DType::Int64 : DType::Bool);
}

Generator& gen_or_default(Generator* g) { return g ? *g : default_generator(); }

}  // namespace

Tensor empty(const Shape& shape, DType dtype) {
  check_shape(shape, "empty", dtype);
  auto impl = std::make_shared<TensorImpl>();
  int64_t n = shape_numel(shape);
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(n) * dtype_size(dtype), Device{});
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.data_ptr(), 0, t.numel() * t.itemsize());
  return t;
}

Tensor ones(const Shape& shape, DType dtype) { return full(shape, Scalar(int64_t(1)), dtype); }

Tensor full(const Shape& shape, Scalar value, std::optional<DType> dtype) {
  Tensor t = empty(shape, dtype.value_or(scalar_default_dtype(value)));
  fill_kernel(t, value);
  return t;
}

Tensor empty_like(const Tensor& t, std::optional<DType> d) { return empty(t.shape(), d.value_or(t.dtype())); }
Tensor zeros_like(const Tensor& t, std::optional<DType> d) { return zeros(t.shape(), d.value_or(t.dtype())); }
Tensor ones_like(const Tensor& t, std::optional<DType> d) { return ones(t.shape(), d.value_or(t.dtype())); }
Tensor full_like(const Tensor& t, Scalar v, std::optional<DType> d) {
  return full(t.shape(), v, d.value_or(t.dtype()));
}

Tensor scalar_tensor(Scalar value, std::optional<DType> dtype) {
  Tensor t = empty({}, dtype.value_or(value.kind == Scalar::Float
                                          ? DType::Float64
                                          : (value.kind == Scalar::Int ? DType::Int64 : DType::Bool)));
  fill_kernel(t, value);
  if (!dtype) t.impl()->wrapped_number = true;
  return t;
}

Tensor from_blob_copy(const void* data, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  if (t.numel()) std::memcpy(t.data_ptr(), data, t.numel() * t.itemsize());
  return t;
}

Tensor arange(Scalar start, Scalar end, Scalar step, std::optional<DType> dtype) {
  bool all_int = start.kind != Scalar::Float && end.kind != Scalar::Float && step.kind != Scalar::Float;
  DType dt = dtype.value_or(all_int ? DType::Int64 : default_dtype());
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  if (st == 0) throw ValueError("arange: step must be nonzero");
  if (!std::isfinite(s) || !std::isfinite(e) || !std::isfinite(st))
    throw ValueError("arange: start, end and step must be finite");
  if ((e - s) / st < 0)
    throw ValueError(str_cat("arange: upper bound and larger bound inconsistent with step sign "
                             "(start=", s, ", end=", e, ", step=", st, ")"));
  int64_t n = static_cast<int64_t>(std::ceil((e - s) / st));
  Tensor t = empty({n}, dt);
  visit_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    if (all_int) {
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start.i + i * step.i);
    } else {
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(s + static_cast<double>(i) * st);
    }
  });
  return t;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  if (steps < 0) throw ValueError(str_cat("linspace: number of steps must be non-negative, got ", steps));
  Tensor t = empty({steps}, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // Symmetric evaluation from both ends keeps the last value exactly `end`.
    for (int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<T>(i < steps / 2 ? start + step * static_cast<double>(i)
                                          : end - step * static_cast<double>(steps - 1 - i));
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  if (m < 0) m = n;
  if (n < 0) throw ValueError(str_cat("eye: n must be non-negative, got ", n));
  Tensor t = zeros({n, m}, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = T(1);
  });
  return t;
}

Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
  if (!is_floating(dtype)) throw TypeError(str_cat("rand: expected a floating dtype, got ", dtype_name(dtype)));
  Tensor t = empty(shape, dtype);
  Generator& g = gen_or_default(gen);
  std::lock_guard<std::mutex> lock(g.mutex);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, float>)
        p[i] = static_cast<float>(g.next_u64() >> 40) * 0x1.0p-24f;
      else
        p[i] = static_cast<T>(g.uniform());
    }
  });
  return t;
}

Tensor normal(double mean, double stdev, const Shape& shape, DType dtype, Generator* gen) {
  if (!is_floating(dtype)) throw TypeError(str_cat("normal: expected a floating dtype, got ", dtype_name(dtype)));
  if (!(stdev >= 0)) throw ValueError(str_cat("normal: std must be >= 0, got ", stdev));
  Tensor t = empty(shape, dtype);
  Generator& g = gen_or_default(gen);
  std::lock_guard<std::mutex> lock(g.mutex);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(mean + stdev * g.normal());
  });
  return t;
}

Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
  if (!is_floating(dtype)) throw TypeError(str_cat("randn: expected a floating dtype, got ", dtype_name(dtype)));
  return normal(0.0, 1.0, shape, dtype, gen);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  if (high <= low)
    throw ValueError(str_cat("randint: expected low < high, got low=", low, ", high=", high));
  Tensor t = empty(shape, dtype);
  Generator& g = gen_or_default(gen);
  std::lock_guard<std::mutex> lock(g.mutex);
  uint64_t range = static_cast<uint64_t>(high - low);
  // Rejection sampling: no modulo bias.
  uint64_t limit = UINT64_MAX - (UINT64_MAX % range);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      uint64_t u;
      do {
        u = g.next_u64();
      } while (u >= limit);
      p[i] = static_cast<T>(low + static_cast<int64_t>(u % range));
    }
  });
  return t;
}

// Each row is checked (finite, non-negative weights with a positive sum, enough non-zero
// categories without replacement) before any draw. With replacement, a draw is the first
// category whose running sum (in double) exceeds a uniform number times the row's sum.
// Without replacement, category i gets the key E_i / w_i with E_i exponential (minus the
// log of a uniform number in (0, 1]); the num_samples smallest keys, in increasing order,
// are distributed as successive draws each taken from the categories left
// (Efraimidis and Spirakis' weighted sampling). Zero weights are never drawn.
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* gen) {
  if (probs.dim() != 1 && probs.dim() != 2)
    throw ValueError(
        str_cat("multinomial: probs must be 1-D or 2-D, got shape ", shape_str(probs.shape())));
  if (!is_floating(probs.dtype()))
    throw TypeError(
        str_cat("multinomial: probs must be a floating tensor, got ", dtype_name(probs.dtype())));
  if (num_samples <= 0)
    throw ValueError(str_cat("multinomial: num_samples must be positive, got ", num_samples));
  const int64_t rows = probs.dim() == 2 ? probs.shape()[0] : 1, n = probs.shape().back();
  Tensor w = contiguous(detach(probs)).to(DType::Float64);
  const double* pw = w.data<double>();
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0;
    int64_t nonzero = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double v = pw[r * n + j];
      if (!(v >= 0) || std::isinf(v))
        throw ValueError(str_cat("multinomial: probabilities must be finite and non-negative; row ",
                                 r, " has ", v, " at index ", j));
      total += v;
      nonzero += v > 0;
    }
    if (!(total > 0) || std::isinf(total))
      throw ValueError(str_cat("multinomial: the probabilities of row ", r, " sum to ", total,
                               "; a row needs a finite, positive sum"));
    if (!replacement && num_samples > nonzero)
      throw ValueError(str_cat("multinomial: cannot draw ", num_samples,
                               " samples without replacement from row ", r, ", which has ", nonzero,
                               " categories of non-zero probability"));
  }
  Shape shape = probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  Tensor out = empty(shape, DType::Int64);
  int64_t* po = out.data<int64_t>();
  Generator& g = gen_or_default(gen);
  std::lock_guard<std::mutex> lock(g.mutex);
  std::vector<double> run(static_cast<size_t>(n));
  std::vector<std::pair<double, int64_t>> keys;
  for (int64_t r = 0; r < rows; ++r) {
    const double* p = pw + r * n;
    int64_t* o = po + r * num_samples;
    if (replacement) {
      double sum = 0;
      int64_t last = 0;  // the last category of non-zero weight
      for (int64_t j = 0; j < n; ++j) {
        sum += p[j];
        run[j] = sum;
        if (p[j] > 0) last = j;
      }
      for (int64_t s = 0; s < num_samples; ++s) {
        const double u = g.uniform() * sum;
        const int64_t j = std::upper_bound(run.begin(), run.end(), u) - run.begin();
        o[s] = std::min(j, last);  // u rounded up to the sum itself falls on the last category
      }
    } else {
      keys.clear();
      for (int64_t j = 0; j < n; ++j) {
        const double e = -std::log1p(-g.uniform());  // 1 - uniform is in (0, 1]
        if (p[j] > 0) keys.push_back({e / p[j], j});
      }
      std::partial_sort(keys.begin(), keys.begin() + num_samples, keys.end());
      for (int64_t s = 0; s < num_samples; ++s) o[s] = keys[s].second;
    }
  }
  return out;
}

}  // namespace dlcore
