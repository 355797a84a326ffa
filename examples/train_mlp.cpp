// Trains a small MLP on a synthetic regression (y = sin(3 x0) * x1) with plain SGD: the loss,
// its gradient (kiln::grad) and the update are one compiled step, traced and compiled once.
// Prints the loss every 100 steps; with an argument, writes the step's .kir there.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "frontend/kiln.h"
#include "ir/printer.h"

using kiln::Tensor;

namespace {

Tensor uniform(kiln::Shape shape, double scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<float> data(static_cast<size_t>(n));
  for (float& v : data)
    v = dist(rng) * static_cast<float>(scale);
  return Tensor(data, std::move(shape));
}

}  // namespace

int main(int argc, char** argv) {
  std::mt19937 rng(0);
  const int64_t n = 256, hidden = 32;
  Tensor x = uniform({n, 2}, 1.0, rng);
  std::vector<float> xs = x.to_vector<float>(), ys;
  for (int64_t i = 0; i < n; ++i)
    ys.push_back(std::sin(3 * xs[2 * i]) * xs[2 * i + 1]);
  Tensor y = Tensor(ys, {n, 1});

  auto loss = [x, y](const std::vector<Tensor>& p) {
    Tensor h = kiln::tanh(kiln::matmul(x, p[0]) + p[1]);
    Tensor err = kiln::matmul(h, p[2]) + p[3] - y;
    return kiln::mean(err * err);
  };
  auto step = [loss](const std::vector<Tensor>& p) {
    std::vector<Tensor> out = kiln::value_and_grad(loss, {0, 1, 2, 3})(p);
    std::vector<Tensor> next;
    for (size_t i = 0; i < p.size(); ++i)
      next.push_back(p[i] - out[i + 1] * 0.1);
    next.push_back(out[0]);
    return next;
  };
  std::vector<Tensor> params = {uniform({2, hidden}, 1.0, rng), kiln::zeros({hidden}),
                                uniform({hidden, 1}, 0.3, rng), kiln::zeros({1})};
  if (argc > 1) {
    std::vector<kiln::ir::TensorType> types;
    for (const Tensor& p : params)
      types.push_back(p.type());
    std::ofstream(argv[1]) << kiln::ir::print(kiln::trace(step, types, {}, "sgd_step"));
  }
  auto compiled = kiln::compile(step);
  for (int i = 0; i <= 1000; ++i) {
    std::vector<Tensor> out = compiled(params);
    if (i % 100 == 0) std::printf("step %4d  loss %.5f\n", i, out.back().item<float>());
    params.assign(out.begin(), out.end() - 1);
  }
  return 0;
}
