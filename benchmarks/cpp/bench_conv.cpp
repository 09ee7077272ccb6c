// Convolution, pooling and batch-norm speed of dlcore's C++ API, for the shapes of
// the CNN issue, forward and forward+backward, at 1 thread and at all: milliseconds,
// and for convolutions GFLOP/s (2 flops per output element and kernel tap, three
// such products forward+backward).
// Each figure is the median of `--runs` runs; `--json FILE` also writes the rows.
// Build with -DDLCORE_BUILD_BENCHMARKS=ON.
#include <dlcore/dlcore.h>
#include <omp.h>

#include <string>

#include "bench_util.h"

using namespace dlcore;
using bench::median_seconds;

struct ConvCase {
  const char* name;
  int64_t N, C, O, H, k, pad, groups;
};

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv, "bench_conv");
  const int reps = args.runs;
  const ConvCase convs[] = {{"conv 3->64 32x32 3x3", 32, 3, 64, 32, 3, 1, 1},
                            {"conv 64->64 16x16 3x3", 32, 64, 64, 16, 3, 1, 1},
                            {"conv 64->128 16x16 1x1", 32, 64, 128, 16, 1, 0, 1},
                            {"conv 1->6 28x28 5x5", 64, 1, 6, 28, 5, 0, 1},
                            {"conv 6->16 14x14 5x5", 64, 6, 16, 14, 5, 0, 1},
                            {"depthwise 64 32x32 3x3", 32, 64, 64, 32, 3, 1, 64}};
  std::printf("dlcore %s, ISA %s, float32, median of %d runs\n", version().c_str(),
              active_isa().c_str(), reps);
  bench::Report rep;
  rep.header();
  auto report = [&](int threads, const std::string& name, double seconds, double flops) {
    rep.add(threads, name, seconds, flops);
  };
  for (int threads : {1, omp_get_max_threads()}) {
    set_num_threads(threads);
    for (const ConvCase& c : convs) {
      Tensor x = rand({c.N, c.C, c.H, c.H}).requires_grad_();
      Tensor w = rand({c.O, c.C / c.groups, c.k, c.k}).requires_grad_();
      Tensor b = rand({c.O}).requires_grad_();
      const int64_t ho = c.H + 2 * c.pad - c.k + 1;
      const double flops = 2.0 * c.N * c.O * ho * ho * (c.C / c.groups) * c.k * c.k;
      double fwd = median_seconds(
          [&] {
            NoGradGuard g;
            conv2d(x, w, b, {1, 1}, {c.pad, c.pad}, {1, 1}, c.groups);
          },
          reps);
      report(threads, std::string(c.name) + " fwd", fwd, flops);
      double both = median_seconds(
          [&] { sum(conv2d(x, w, b, {1, 1}, {c.pad, c.pad}, {1, 1}, c.groups)).backward(); }, reps);
      report(threads, std::string(c.name) + " fwd+bwd", both, 3 * flops);
    }
    Tensor x = rand({32, 64, 32, 32}).requires_grad_();
    report(threads, "max_pool2d 2x2 fwd+bwd",
           median_seconds([&] { sum(max_pool2d(x, {2, 2}, {2, 2}).first).backward(); }, reps), 0);
    report(threads, "avg_pool2d 2x2 fwd+bwd",
           median_seconds([&] { sum(avg_pool2d(x, {2, 2}, {2, 2})).backward(); }, reps), 0);
    Tensor rm = zeros({64}), rv = ones({64}), gw = ones({64}).requires_grad_(),
           gb = zeros({64}).requires_grad_();
    report(threads, "batch_norm fwd+bwd",
           median_seconds([&] { sum(batch_norm(x, rm, rv, gw, gb, true)).backward(); }, reps), 0);
  }
  if (!rep.write_json(args.json)) return 1;
  return 0;
}
