// Composites: softmax, log_softmax, logsumexp, gelu, silu, relu, layer_norm, rms_norm.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "examples/models.h"
#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

TEST(Composite, SoftmaxRowsSumToOne) {
  Tensor x = examples::random_tensor({5, 7}, 42, 4.0f);
  Tensor s = softmax(x);
  EXPECT_EQ(s.shape(), (Shape{5, 7}));
  expect_values(sum(s, -1), {1, 1, 1, 1, 1}, 1e-6);
  for (double v : test::values(s))
    EXPECT_GT(v, 0);
  Tensor columns = softmax(x, 0);
  expect_values(sum(columns, 0), std::vector<double>(7, 1.0), 1e-6);
}

TEST(Composite, SoftmaxValues) {
  Tensor x = {1.0f, 2.0f, 3.0f};
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  expect_values(softmax(x), {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z}, 1e-6);
  expect_values(log_softmax(x), {1 - std::log(z), 2 - std::log(z), 3 - std::log(z)}, 1e-6);
}

TEST(Composite, StableAtLargeInputs) {
  Tensor big = {1000.0f, 1001.0f, 1002.0f};
  EXPECT_NEAR(logsumexp(big).item<float>(), 1002 + (2.40760596444438 - 2), 1e-3);
  for (double v : test::values(softmax(big)))
    EXPECT_TRUE(std::isfinite(v));
  Tensor tiny = {-1000.0f, -1001.0f};
  EXPECT_NEAR(logsumexp(tiny).item<float>(), -1000 + std::log1p(std::exp(-1.0)), 1e-3);
  const float inf = std::numeric_limits<float>::infinity();
  Tensor masked = {-inf, -inf};
  EXPECT_EQ(logsumexp(masked).item<float>(), -inf);
  expect_values(softmax(Tensor({0.0f, -inf})), {1, 0});
}

TEST(Composite, LogsumexpAxes) {
  Tensor x = {{0.0f, 1.0f, 2.0f}, {1.0f, 1.0f, 1.0f}};
  Tensor r = logsumexp(x, 1);
  EXPECT_EQ(r.shape(), (Shape{2}));
  expect_values(r, {2.40760596444438, 1 + std::log(3.0)}, 1e-5);
  EXPECT_EQ(logsumexp(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(logsumexp(x).shape(), (Shape{}));
}

TEST(Composite, GeluKnownValues) {
  Tensor x = {-1.0f, 0.0f, 1.0f, 2.0f};
  expect_values(gelu(x), {-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416}, 1e-6);
  expect_values(gelu(x, true), {-0.15880800939172324, 0, 0.8411919906082768, 1.954597694087775},
                1e-6);
  EXPECT_EQ(gelu(Tensor({1, 2})).dtype(), DType::F32);
}

// The tanh form rounds to exactly 0 for large negative inputs; the logistic form must not
// leave subnormals there instead (they would slow down every later op that reads them).
TEST(Composite, GeluTanhNeverProducesSubnormals) {
  std::vector<float> xs;
  for (float v = -40.0f; v <= 0.0f; v += 0.0625f)
    xs.push_back(v);
  for (float y : gelu(Tensor(xs), true).to_vector<float>())
    EXPECT_TRUE(y == 0.0f || std::fpclassify(y) == FP_NORMAL) << y;
}

TEST(Composite, ReluSilu) {
  Tensor x = {-2.0f, 0.0f, 3.0f};
  expect_values(relu(x), {0, 0, 3});
  expect_values(silu(x), {-2 / (1 + std::exp(2.0)), 0, 3 / (1 + std::exp(-3.0))}, 1e-6);
  EXPECT_EQ(relu(Tensor({-1, 4})).to_vector<int>(), (std::vector<int>{0, 4}));
}

TEST(Composite, LayerNormHasMeanZeroVarianceOne) {
  Tensor x = examples::random_tensor({4, 16}, 7, 3.0f) + 5.0;
  Tensor y = layer_norm(x);
  expect_values(mean(y, -1), {0, 0, 0, 0}, 1e-5);
  expect_values(var(y, -1), {1, 1, 1, 1}, 1e-3);
}

TEST(Composite, LayerNormWeightAndBias) {
  Tensor x = {{1.0f, 3.0f}};
  Tensor w = {2.0f, 3.0f};
  Tensor b = {0.5f, -0.5f};
  // Normalized row: [-1, 1] (eps 0 keeps it exact).
  expect_values(layer_norm(x, 0.0, w, b), {-1.5, 2.5}, 1e-6);
  expect_values(layer_norm(x, 0.0, w), {-2, 3}, 1e-6);
}

TEST(Composite, RmsNorm) {
  Tensor x = {{3.0f, 4.0f}};
  double rms = std::sqrt(12.5);
  expect_values(rms_norm(x, 0.0), {3 / rms, 4 / rms}, 1e-6);
  expect_values(rms_norm(x, 0.0, Tensor({2.0f, 1.0f})), {6 / rms, 4 / rms}, 1e-6);
}

TEST(Composite, KeepsHalfPrecision) {
  Tensor x(std::vector<float>{1, 2, 3}, {3}, DType::F16);
  EXPECT_EQ(softmax(x).dtype(), DType::F16);
  EXPECT_EQ(gelu(x).dtype(), DType::F16);
  EXPECT_EQ(layer_norm(x).dtype(), DType::F16);
}

}  // namespace
}  // namespace kiln
