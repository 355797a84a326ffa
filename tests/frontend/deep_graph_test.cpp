// Lazy graphs as deep as they are long: eval, compile, grad and freeing of long chains must not
// recurse once per node (which overflowed the stack) and must take time linear in the length.

#include <gtest/gtest.h>

#include <vector>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

constexpr int kOps = 50000;
constexpr double kOmega = 0.5671432904097838;  // the fixed point of x = exp(-x)

// x <- exp(-x), kOps ops in all. The chain stays finite and every element tends to kOmega.
Tensor omega_chain(Tensor x) {
  for (int i = 0; i < kOps / 2; ++i)
    x = exp(-x);
  return x;
}

Tensor row() {
  return Tensor(std::vector<float>{-1, -0.5f, 0, 0.25f, 0.5f, 1, 2, 3});
}

TEST(DeepGraphs, LongChainEvaluates) {
  // The data leaf is a parameter of the evaluated function, so nothing folds away.
  expect_values(omega_chain(row()), std::vector<double>(8, kOmega), 1e-5);
}

TEST(DeepGraphs, LongChainCompiles) {
  auto f = compile([](Tensor x) { return omega_chain(x); });
  expect_values(f(row())[0], std::vector<double>(8, kOmega), 1e-5);
  EXPECT_EQ(f.num_compilations(), 1u);
}

TEST(DeepGraphs, GradOfALongChain) {
  // y = x + x + ... + x (n + 1 terms): dy/dx = n + 1 in every element, exactly.
  constexpr int n = kOps / 2;
  auto loss = [](Tensor x) {
    Tensor y = x;
    for (int i = 0; i < n; ++i)
      y = y + x;
    return sum(y);
  };
  expect_values(grad(loss)(row())[0], std::vector<double>(8, n + 1));
}

TEST(DeepGraphs, LongLazyGraphsAreFreedIteratively) {
  // 100,000 steps, each node read twice, so the teardown meets shared nodes all the way down.
  Tensor x = row();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i)
    y = exp(y) * y;
  EXPECT_EQ(y.shape(), (Shape{8}));
  y = Tensor();
  EXPECT_EQ(x.shape(), (Shape{8}));  // x stays intact
}

}  // namespace
}  // namespace kiln
