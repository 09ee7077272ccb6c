// Recurrent layer speed of dlcore's C++ API for the shapes of the RNN issue: LSTM and
// GRU, seq 64, batch 32, input 128, hidden 256, 1 and 2 layers, one and both directions,
// forward and forward+backward, at 1 thread and at all: milliseconds and GFLOP/s
// (2 flops per multiply-add of the input and hidden projections; backward counted as
// twice the forward). Layers are stacked as nn.LSTM / nn.GRU stack them.
// Each figure is the median of `--runs` runs; `--json FILE` also writes the rows.
// Build with -DDLCORE_BUILD_BENCHMARKS=ON.
#include <dlcore/dlcore.h>
#include <omp.h>

#include <string>
#include <vector>

#include "bench_util.h"

using namespace dlcore;
using bench::median_seconds;

namespace {

constexpr int64_t kT = 64, kB = 32, kI = 128, kH = 256;

struct Weights {
  Tensor w_ih, w_hh, b_ih, b_hh;
};

// The output of `layers` layers of `dirs` directions over x (T, B, I).
Tensor run_stack(RnnCell cell, const Tensor& x0, const std::vector<Weights>& w, int layers,
                 int dirs) {
  Tensor x = x0;
  for (int l = 0; l < layers; ++l) {
    std::vector<Tensor> outs;
    for (int d = 0; d < dirs; ++d) {
      const Weights& p = w[l * dirs + d];
      outs.push_back(rnn_layer(cell, x, Tensor(), Tensor(), p.w_ih, p.w_hh, p.b_ih, p.b_hh,
                               Tensor(), Tensor(), d == 1)[0]);
    }
    x = dirs == 1 ? outs[0] : cat(outs, 2);
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv, "bench_rnn");
  std::printf("dlcore %s, ISA %s, float32, T=%lld B=%lld I=%lld H=%lld, median of %d runs\n",
              version().c_str(), active_isa().c_str(), (long long)kT, (long long)kB, (long long)kI,
              (long long)kH, args.runs);
  bench::Report rep;
  rep.header();
  for (int threads : {1, omp_get_max_threads()}) {
    set_num_threads(threads);
    for (RnnCell cell : {RnnCell::Lstm, RnnCell::Gru}) {
      const int64_t G = cell == RnnCell::Lstm ? 4 : 3;
      for (int layers : {1, 2})
        for (int dirs : {1, 2}) {
          std::vector<Weights> w;
          double flops = 0;
          for (int l = 0; l < layers; ++l)
            for (int d = 0; d < dirs; ++d) {
              const int64_t in = l == 0 ? kI : dirs * kH;
              w.push_back({(rand({G * kH, in}) - 0.5).requires_grad_(),
                           (rand({G * kH, kH}) - 0.5).requires_grad_(),
                           rand({G * kH}).requires_grad_(), rand({G * kH}).requires_grad_()});
              flops += 2.0 * kT * kB * G * kH * (in + kH);
            }
          Tensor x = (rand({kT, kB, kI}) - 0.5).requires_grad_();
          const std::string name = std::string(cell == RnnCell::Lstm ? "LSTM " : "GRU ") +
                                   std::to_string(layers) + (layers > 1 ? " layers" : " layer") +
                                   (dirs == 2 ? " bidir" : "");
          rep.add(threads, name + " fwd",
                  median_seconds(
                      [&] {
                        NoGradGuard g;
                        run_stack(cell, x, w, layers, dirs);
                      },
                      args.runs),
                  flops);
          rep.add(threads, name + " fwd+bwd",
                  median_seconds([&] { sum(run_stack(cell, x, w, layers, dirs)).backward(); },
                                 args.runs),
                  3 * flops);
        }
    }
  }
  return rep.write_json(args.json) ? 0 : 1;
}
