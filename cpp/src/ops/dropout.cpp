// dropout: y = x * keep / (1 - p) with keep drawn per element from (seed, index), on
// threads over chunks of elements. The backward is the same op on the gradient with
// the same seed (so it is differentiable again); no mask is stored.
#include "ops/common.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

constexpr const char* kName = "dropout";

void check_p(double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw ValueError(str_cat(kName, ": probability has to be between 0 and 1, got ", p));
}

}  // namespace

Tensor dropout_seeded(const Tensor& input, double p, uint64_t seed) {
  check_p(p);
  if (!is_floating(input.dtype()))
    throw TypeError(str_cat(kName, ": expected a float tensor, got ", dtype_name(input.dtype())));
  Tensor x = contiguous(detach(input));
  Tensor y = empty(x.shape(), x.dtype());
  const uint32_t threshold = dropout_threshold(p);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
      const T* px = x.data<T>();
      T* py = y.data<T>();
      parallel_for(0, x.numel(), kMinElementsPerThread, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          py[i] = dropout_keeps(seed, static_cast<uint64_t>(i), threshold) ? px[i] * scale : T(0);
      });
    }
  });
  if (auto node = make_node(kName, {input})) {
    node->backward = [p, seed](FunctionNode&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{dropout_seeded(g[0], p, seed)};
    };
    set_history(y, node);
  }
  return y;
}

Tensor dropout(const Tensor& x, double p, Generator* gen) {
  check_p(p);
  Generator& g = gen ? *gen : default_generator();
  uint64_t seed;
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    seed = g.next_u64();
  }
  return dropout_seeded(x, p, seed);
}

}  // namespace dlcore
