// Pooling over the last two dims of (N, C, H, W): max (with the arg-max indices),
// average, and their adaptive forms. Planes run on threads; each plane's output
// and gradient depend only on that plane, so results do not depend on the thread
// count. Max backward routes each gradient to its arg-max only; average backward
// spreads it evenly over the window (kernels/cpu/pool.h).
#include "kernels/cpu/pool.h"

#include <vector>

#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

using kernels::AxisWindows;
using kernels::PoolAxis;
constexpr int64_t kPlaneWork = 16384;

struct Pool {
  int64_t planes = 0;
  PoolAxis h{}, w{};
  Shape in_shape, out_shape;
};

void check_input(const Tensor& x, const char* op) {
  if (x.dim() != 4)
    throw ValueError(
        str_cat(op, ": expected input of shape (N, C, H, W), got ", shape_str(x.shape())));
  if (!is_floating(x.dtype()))
    throw TypeError(
        str_cat(op, ": expected a float32 or float64 tensor, got ", dtype_name(x.dtype())));
}

Pool regular_pool(const Tensor& x, std::array<int64_t, 2> k, std::array<int64_t, 2> s,
                  std::array<int64_t, 2> p, std::array<int64_t, 2> d, bool ceil_mode,
                  const char* op) {
  check_input(x, op);
  Pool pool;
  pool.in_shape = x.shape();
  pool.planes = x.shape()[0] * x.shape()[1];
  int64_t out[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t in = x.shape()[2 + i];
    if (k[i] < 1 || s[i] < 1 || d[i] < 1 || p[i] < 0)
      throw ValueError(str_cat(
          op,
          ": kernel_size, stride and dilation must be positive and padding non-negative, got "
          "kernel_size (",
          k[0], ", ", k[1], "), stride (", s[0], ", ", s[1], "), padding (", p[0], ", ", p[1],
          "), dilation (", d[0], ", ", d[1], ")"));
    if (2 * p[i] > d[i] * (k[i] - 1) + 1)
      throw ValueError(str_cat(op, ": padding (", p[0], ", ", p[1],
                               ") must be at most half of the (dilated) kernel size (", k[0], ", ",
                               k[1], ")"));
    const int64_t span = in + 2 * p[i] - d[i] * (k[i] - 1) - 1;
    int64_t o = span < 0 ? 0 : (span + (ceil_mode ? s[i] - 1 : 0)) / s[i] + 1;
    if (ceil_mode && o > 0 && (o - 1) * s[i] >= in + p[i]) --o;
    if (o <= 0)
      throw ValueError(str_cat(op, ": the output of an input of shape ", shape_str(x.shape()),
                               " would be empty (kernel (", k[0], ", ", k[1], "), stride (", s[0],
                               ", ", s[1], "), padding (", p[0], ", ", p[1], "), dilation (", d[0],
                               ", ", d[1], "))"));
    out[i] = o;
  }
  pool.h = PoolAxis{x.shape()[2], out[0], k[0], s[0], p[0], d[0], false};
  pool.w = PoolAxis{x.shape()[3], out[1], k[1], s[1], p[1], d[1], false};
  pool.out_shape = {x.shape()[0], x.shape()[1], out[0], out[1]};
  return pool;
}

Pool adaptive_pool(const Tensor& x, std::array<int64_t, 2> size, const char* op) {
  check_input(x, op);
  for (int i = 0; i < 2; ++i)
    if (size[i] < 1 || (x.shape()[2 + i] == 0))
      throw ValueError(str_cat(op, ": output_size (", size[0], ", ", size[1],
                               ") must be positive and the input of shape ", shape_str(x.shape()),
                               " non-empty in H and W"));
  Pool pool;
  pool.in_shape = x.shape();
  pool.planes = x.shape()[0] * x.shape()[1];
  pool.h = PoolAxis{x.shape()[2], size[0], 0, 1, 0, 1, true};
  pool.w = PoolAxis{x.shape()[3], size[1], 0, 1, 0, 1, true};
  pool.out_shape = {x.shape()[0], x.shape()[1], size[0], size[1]};
  return pool;
}

template <class F>
void over_planes(const Pool& pool, F f) {
  const int64_t per_plane = std::max<int64_t>(1, pool.h.in * pool.w.in);
  parallel_for(0, pool.planes, std::max<int64_t>(1, kPlaneWork / per_plane),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t pl = lo; pl < hi; ++pl) f(pl);
               });
}

// Whether every window is a full 2x2 block at stride 2 from the top left corner (no
// padding, no clipping): the pools the per-ISA 2x2 kernels run.
bool windows_2x2(const Pool& pool, const AxisWindows& wh, const AxisWindows& ww) {
  return !pool.h.adaptive && kernels::windows_full(wh, 2) && kernels::windows_full(ww, 2) &&
         pool.h.s == 2 && pool.w.s == 2 && pool.h.p == 0 && pool.w.p == 0;
}

std::pair<Tensor, Tensor> max_pool(const Pool& pool, const Tensor& input, const char* op) {
  Tensor x = contiguous(input);
  Tensor y = empty(pool.out_shape, x.dtype()), idx = empty(pool.out_shape, DType::Int64);
  const int64_t in_plane = pool.h.in * pool.w.in, out_plane = pool.h.out * pool.w.out;
  const AxisWindows wh(pool.h, false), ww(pool.w, false);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      // 2x2 and 3x3 windows without clipping (the common pools) take an unrolled kernel.
      auto plane = kernels::max_pool_plane<T>;
      const bool full2 = kernels::windows_full(wh, 2) && kernels::windows_full(ww, 2);
      const bool full3 = kernels::windows_full(wh, 3) && kernels::windows_full(ww, 3);
      if (!pool.h.adaptive && full2) plane = kernels::max_pool_plane_full<T, 2, 2>;
      if (!pool.h.adaptive && full3) plane = kernels::max_pool_plane_full<T, 3, 3>;
      // 2x2 windows at stride 2 from the top left corner: the per-ISA kernel.
      const auto pool2 = kernels::for_dtype<T>(kernels::active().max_pool_2x2_f32,
                                               kernels::active().max_pool_2x2_f64);
      const bool stride2 = windows_2x2(pool, wh, ww);
      over_planes(pool, [&](int64_t pl) {
        const T* xp = x.data<T>() + pl * in_plane;
        T* yp = y.data<T>() + pl * out_plane;
        int64_t* ip = idx.data<int64_t>() + pl * out_plane;
        if (stride2)
          pool2(xp, pool.w.in, pool.h.out, pool.w.out, yp, ip);
        else
          plane(wh, ww, pool.w.in, xp, yp, ip);
      });
    }
  });
  if (auto node = make_node(op, {input})) {
    node->save(idx);
    node->backward = [pool, op](FunctionNode& n, const std::vector<Tensor>& g) {
      Tensor idx = n.saved(0);
      check_first_order(op, {&g[0]});
      Tensor dy = contiguous(g[0]);
      Tensor dx = zeros(pool.in_shape, dy.dtype());
      const int64_t in_plane = pool.h.in * pool.w.in, out_plane = pool.h.out * pool.w.out;
      visit_dtype(dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T>) {
          over_planes(pool, [&](int64_t pl) {
            const T* gy = dy.data<T>() + pl * out_plane;
            const int64_t* ix = idx.data<int64_t>() + pl * out_plane;
            T* gx = dx.data<T>() + pl * in_plane;
            for (int64_t o = 0; o < out_plane; ++o)
              if (ix[o] >= 0) gx[ix[o]] += gy[o];
          });
        }
      });
      return std::vector<Tensor>{dx};
    };
    set_history(y, node);
  }
  return {y, idx};
}

Tensor avg_pool(const Pool& pool, const Tensor& input, bool count_include_pad,
                int64_t divisor_override, const char* op) {
  Tensor x = contiguous(input);
  Tensor y = empty(pool.out_shape, x.dtype());
  const int64_t in_plane = pool.h.in * pool.w.in, out_plane = pool.h.out * pool.w.out;
  const AxisWindows wh(pool.h, count_include_pad), ww(pool.w, count_include_pad);
  // 2x2 windows at stride 2 (all of them full, so one divisor): the per-ISA kernels.
  const bool stride2 = windows_2x2(pool, wh, ww);
  const int64_t div2 = divisor_override > 0 ? divisor_override : 4;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const auto pool2 = kernels::for_dtype<T>(kernels::active().avg_pool_2x2_f32,
                                               kernels::active().avg_pool_2x2_f64);
      over_planes(pool, [&](int64_t pl) {
        const T* xp = x.data<T>() + pl * in_plane;
        T* yp = y.data<T>() + pl * out_plane;
        if (stride2)
          pool2(xp, pool.w.in, pool.h.out, pool.w.out, static_cast<T>(div2), yp);
        else
          kernels::avg_pool_plane<T>(wh, ww, pool.w.in, divisor_override, xp, yp);
      });
    }
  });
  if (auto node = make_node(op, {input})) {
    node->backward = [pool, wh, ww, divisor_override, op, stride2, div2](
                         FunctionNode&, const std::vector<Tensor>& g) {
      check_first_order(op, {&g[0]});
      Tensor dy = contiguous(g[0]);
      Tensor dx = zeros(pool.in_shape, dy.dtype());
      const int64_t in_plane = pool.h.in * pool.w.in, out_plane = pool.h.out * pool.w.out;
      visit_dtype(dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_floating_point_v<T>) {
          const auto back2 = kernels::for_dtype<T>(kernels::active().avg_pool_2x2_backward_f32,
                                                   kernels::active().avg_pool_2x2_backward_f64);
          over_planes(pool, [&](int64_t pl) {
            const T* gp = dy.data<T>() + pl * out_plane;
            T* dp = dx.data<T>() + pl * in_plane;
            if (stride2)
              back2(gp, pool.w.in, pool.h.out, pool.w.out, static_cast<T>(div2), dp);
            else
              kernels::avg_pool_plane_backward<T>(wh, ww, pool.w.in, divisor_override, gp, dp);
          });
        }
      });
      return std::vector<Tensor>{dx};
    };
    set_history(y, node);
  }
  return y;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel,
                                     std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                                     std::array<int64_t, 2> dilation, bool ceil_mode) {
  return max_pool(regular_pool(x, kernel, stride, padding, dilation, ceil_mode, "max_pool2d"), x,
                  "max_pool2d");
}

Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding, bool ceil_mode, bool count_include_pad,
                  int64_t divisor_override) {
  if (divisor_override < 0)
    throw ValueError(
        str_cat("avg_pool2d: divisor_override must be positive, got ", divisor_override));
  return avg_pool(regular_pool(x, kernel, stride, padding, {1, 1}, ceil_mode, "avg_pool2d"), x,
                  count_include_pad, divisor_override, "avg_pool2d");
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  return avg_pool(adaptive_pool(x, output_size, "adaptive_avg_pool2d"), x, false, 0,
                  "adaptive_avg_pool2d");
}

std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  return max_pool(adaptive_pool(x, output_size, "adaptive_max_pool2d"), x, "adaptive_max_pool2d");
}

}  // namespace dlcore
