// Composites: softmax, log_softmax, logsumexp, gelu, silu, relu, layer_norm, rms_norm.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "examples/models.h"
#include "ir/printer.h"
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

// Errors name the composite the user called and its argument, never an op inside it.
TEST(Composite, ErrorsNameTheCompositeAndItsArgument) {
  Tensor a = zeros({2, 3});
  EXPECT_ERROR(softmax(a, 2), "[frontend] softmax: axis 2 is out of range for f32[2,3]");
  EXPECT_ERROR(log_softmax(a, -3), "[frontend] log_softmax: axis -3 is out of range for f32[2,3]");
  EXPECT_ERROR(logsumexp(a, {0, 0}), "[frontend] logsumexp: axis 0 is named twice");
  EXPECT_ERROR(softmax(zeros({2, 0})), "[frontend] softmax: axis 1 of f32[2,0] is empty");
  EXPECT_ERROR(softmax(Tensor()), "[frontend] softmax: x is an empty (default-constructed)");
  EXPECT_ERROR(layer_norm(zeros({2, 4}), 1e-5, zeros({5})),
               "[frontend] layer_norm: weight f32[5] does not match x f32[2,4] (it must "
               "broadcast to x's shape, e.g. [4])");
  EXPECT_ERROR(layer_norm(zeros({2, 4}), 1e-5, zeros({4}), zeros({3, 4})),
               "[frontend] layer_norm: bias f32[3,4] does not match x f32[2,4]");
  EXPECT_ERROR(layer_norm(zeros({2, 4}), 1e-5, Tensor()),
               "[frontend] layer_norm: weight is an empty");
  EXPECT_ERROR(layer_norm(Tensor(1.0f)), "[frontend] layer_norm: x must have at least one axis");
  EXPECT_ERROR(rms_norm(zeros({2, 4}), 1e-6, zeros({2})),
               "[frontend] rms_norm: weight f32[2] does not match x f32[2,4]");
  EXPECT_ERROR(relu(Tensor()), "[frontend] relu: x is an empty");
  EXPECT_ERROR(gelu(Tensor()), "[frontend] gelu: x is an empty");
  EXPECT_ERROR(mean(a, 2), "[frontend] mean: axis 2 is out of range for f32[2,3]");
  EXPECT_ERROR(var(a, 5), "[frontend] var: axis 5 is out of range for f32[2,3]");
  EXPECT_ERROR(kiln::std(a, -4), "[frontend] std: axis -4 is out of range for f32[2,3]");
  EXPECT_ERROR(any(a, 2), "[frontend] any: axis 2");
  EXPECT_ERROR(all(a, 2), "[frontend] all: axis 2");
  EXPECT_ERROR(clip(a, zeros({4}), 1), "[frontend] clip: shapes [2,3] and [4] do not broadcast");
  EXPECT_ERROR(outer(Tensor(), a), "[frontend] outer: an operand is an empty");
  // Well-formed weights still broadcast: a scalar, the last axis, a full shape.
  EXPECT_EQ(layer_norm(a, 1e-5, Tensor(2.0f), zeros({2, 3})).shape(), (Shape{2, 3}));
}

// The max shift of softmax, log_softmax and logsumexp only keeps exp in range: as in JAX no
// gradient flows through it, so the backward pass has no tie-counting of the max (an `eq`
// mask and a count), and the derivatives are unchanged.
TEST(Composite, MaxShiftCarriesNoGradient) {
  const std::vector<std::function<Tensor(Tensor)>> fns = {
      [](Tensor v) { return sum(softmax(v) * arange(3.0)); },
      [](Tensor v) { return sum(log_softmax(v) * arange(3.0)); },
      [](Tensor v) { return sum(logsumexp(v, -1) * arange(2.0)); },
  };
  // One row with a tie at the max, one without.
  Tensor x(std::vector<double>{0.5, 2.0, 2.0, -1.0, 0.25, 3.0}, {2, 3});
  for (const auto& f : fns) {
    ir::Function backward =
        trace([&](Tensor v) { return grad(f)(v)[0]; }, {test::ty(DType::F32, {2, 3})});
    EXPECT_EQ(test::count_op(backward, ir::OpKind::Eq), 0) << ir::print(backward);
    EXPECT_EQ(test::count_op(backward, ir::OpKind::ReduceMax), 1) << ir::print(backward);
    std::vector<double> numeric, base = test::values(x);
    for (size_t i = 0; i < base.size(); ++i) {
      std::vector<double> plus = base, minus = base;
      plus[i] += 1e-6;
      minus[i] -= 1e-6;
      numeric.push_back(
          (f(Tensor(plus, {2, 3})).item<double>() - f(Tensor(minus, {2, 3})).item<double>()) /
          2e-6);
    }
    test::expect_near(test::values(grad(f)(x)[0]), numeric, 1e-6);
  }
}

// relu'(0) = 0, as in JAX and PyTorch, in both modes; relu still propagates NaN.
TEST(Composite, ReluHasZeroDerivativeAtZero) {
  Tensor x = {-1.0f, 0.0f, -0.0f, 2.0f};
  expect_values(grad([](Tensor v) { return sum(relu(v)); })(x)[0], {0, 0, 0, 1});
  auto [out, tangent] = jvp([](Tensor v) { return relu(v); }, {x}, {ones({4})});
  expect_values(tangent[0], {0, 0, 0, 1});
  expect_values(out[0], {0, 0, 0, 2});
  EXPECT_TRUE(std::isnan(relu(Tensor(std::nanf(""))).item<float>()));
}

}  // namespace
}  // namespace kiln
