// Helpers shared by the op families (internal).
#pragma once
#include <array>
#include <vector>

#include "dlcore/autograd.h"
#include "dlcore/ops.h"
#include "dlcore/runtime.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/strided_loops.h"

namespace dlcore {

// Byte strides of t broadcast to `shape` (0 where t is broadcast).
std::vector<int64_t> broadcast_byte_strides(const Tensor& t, const Shape& shape);
// Byte strides of t itself.
std::vector<int64_t> byte_strides(const Tensor& t);

// A view of t with the given layout, sharing storage (no autograd).
Tensor make_alias(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);

// Gradient g (of a broadcast result) summed back to input's shape and dtype.
Tensor grad_for(const Tensor& g, const Tensor& input);

// Rejects an in-place write that autograd cannot follow.
void check_inplace(const Tensor& t, const char* op);
// After computing `result` out of place for an in-place op on t: writes
// result into t and, if result has history, makes it t's history.
Tensor& commit_inplace(Tensor& t, const Tensor& result);

// For a backward computed by kernels rather than by differentiable ops: raises
// RuntimeError ("<op>: the gradient of its backward is not implemented") when a graph
// of the gradient is being built (create_graph=True) through any of `tensors`, or at all
// where `through_input` (the backward depends on an input that requires grad through
// values it no longer keeps).
void check_first_order(const char* op, std::initializer_list<const Tensor*> tensors,
                       bool through_input = false);

// Writes src (broadcast to dst's shape, any dtype) into dst, no autograd.
void copy_kernel(const Tensor& dst, const Tensor& src);
// Fills t with value, no autograd.
void fill_kernel(const Tensor& t, Scalar value);

// Normalised, sorted, unique dims (all dims when dims is empty).
std::vector<int64_t> reduce_dims(const Dims& dims, int64_t ndim, const char* op);
// g of a reduction result, broadcast back to the input shape.
Tensor expand_reduced(const Tensor& g, const Shape& in_shape, const std::vector<int64_t>& dims,
                      bool keepdim);

// dx = g * f'(saved) in one fused kernel pass (ops/activation.cpp); saved is the
// input, or the output for ActOp::ReluOutput, SigmoidOutput and TanhOutput. Not
// differentiable: callers use it when no graph is being built (grad mode off).
Tensor activation_backward(kernels::ActOp op, double a, double b, const Tensor& saved,
                           const Tensor& g);

// t's data, or null for an undefined (optional) tensor.
template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Typed access to a 0-d or one-element tensor converted to T.
template <class T> T scalar_as(Scalar s) {
  if constexpr (std::is_same_v<T, bool>) return s.kind == Scalar::Float ? s.f != 0.0 : s.i != 0;
  else if constexpr (std::is_floating_point_v<T>) return static_cast<T>(s.to_double());
  else return s.kind == Scalar::Float ? static_cast<T>(s.f) : static_cast<T>(s.i);
}

}  // namespace dlcore
