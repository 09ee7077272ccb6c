// Fused attention speed of dlcore's C++ API for the shapes of the attention issue:
// scaled_dot_product_attention at batch 8, heads 8, head dim 64, T = 128, 512 and 2048,
// causal and not, forward and forward+backward, at 1 thread and at all: milliseconds and
// GFLOP/s. Flops count the two products of the forward (Q K^T and P V, 2 flops per
// multiply-add, halved when causal) and five for the backward (the scores recomputed,
// dV, dP, dQ, dK), so forward+backward counts 3.5 times the forward.
// Each figure is the median of `--runs` runs; `--json FILE` also writes the rows.
// Build with -DDLCORE_BUILD_BENCHMARKS=ON.
#include <dlcore/dlcore.h>
#include <omp.h>

#include <string>

#include "bench_util.h"

using namespace dlcore;
using bench::median_seconds;

namespace {
constexpr int64_t kB = 8, kH = 8, kD = 64;
}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv, "bench_attention");
  std::printf("dlcore %s, ISA %s, float32, B=%lld H=%lld D=%lld, median of %d runs\n",
              version().c_str(), active_isa().c_str(), (long long)kB, (long long)kH, (long long)kD,
              args.runs);
  bench::Report rep;
  rep.header();
  for (int threads : {1, omp_get_max_threads()}) {
    set_num_threads(threads);
    for (int64_t T : {128, 512, 2048})
      for (bool causal : {false, true}) {
        Tensor q = randn({kB, kH, T, kD}).requires_grad_();
        Tensor k = randn({kB, kH, T, kD}).requires_grad_();
        Tensor v = randn({kB, kH, T, kD}).requires_grad_();
        const double flops = 4.0 * kB * kH * T * T * kD * (causal ? 0.5 : 1.0);
        const std::string name = "T=" + std::to_string(T) + (causal ? " causal" : "");
        const int runs = T >= 2048 ? std::max(1, args.runs / 2) : args.runs;
        rep.add(threads, name + " fwd",
                median_seconds(
                    [&] {
                      NoGradGuard g;
                      scaled_dot_product_attention(q, k, v, Tensor(), 0.0, causal);
                    },
                    runs),
                flops);
        rep.add(threads, name + " fwd+bwd",
                median_seconds(
                    [&] {
                      sum(scaled_dot_product_attention(q, k, v, Tensor(), 0.0, causal)).backward();
                    },
                    runs),
                3.5 * flops);
      }
  }
  return rep.write_json(args.json) ? 0 : 1;
}
