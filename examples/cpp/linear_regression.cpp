// Fits y = w x + b to noisy points on a line with dlcore's C++ API alone:
// tensors, autograd and plain gradient descent. Prints the fitted w and b and
// exits non-zero if they are not close to the true 2.5 and -1.
#include <dlcore/dlcore.h>

#include <cmath>
#include <cstdio>

using namespace dlcore;

int main() {
  manual_seed(0);
  const int64_t n = 200;
  Tensor x = linspace(-1.0, 1.0, n).reshape({n, 1});
  Tensor noise = mul(randn({n, 1}), Scalar(0.05));
  Tensor y = add(add(mul(x, Scalar(2.5)), Scalar(-1.0)), noise);

  Tensor w = zeros({1, 1});
  w.requires_grad_();
  Tensor b = zeros({1});
  b.requires_grad_();
  const double lr = 0.5;
  for (int step = 0; step < 200; ++step) {
    Tensor pred = add(matmul(x, w), b);
    Tensor loss = mean(square(sub(pred, y)));
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    loss.backward();
    {
      NoGradGuard no_grad;
      sub_(w, w.grad(), Scalar(lr));
      sub_(b, b.grad(), Scalar(lr));
    }
    if (step % 50 == 0) std::printf("step %3d  loss %.6f\n", step, loss.item());
  }
  double wf = w.item(), bf = b.item();
  std::printf("fitted w = %.4f, b = %.4f (true 2.5, -1.0)\n", wf, bf);
  return (std::fabs(wf - 2.5) < 0.05 && std::fabs(bf + 1.0) < 0.05) ? 0 : 1;
}
