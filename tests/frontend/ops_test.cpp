// Elementwise functions and operators against hand-computed values.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

const std::vector<double> kIn = {-1.5, -0.5, 0.25, 2.0};

Tensor input() {
  return Tensor(kIn);
}

std::vector<double> map(double (*f)(double)) {
  std::vector<double> out;
  for (double v : kIn)
    out.push_back(f(v));
  return out;
}

TEST(Ops, UnaryMath) {
  Tensor x = input();
  expect_values(exp(x), map([](double v) { return std::exp(v); }), 1e-12);
  expect_values(sin(x), map([](double v) { return std::sin(v); }), 1e-12);
  expect_values(cos(x), map([](double v) { return std::cos(v); }), 1e-12);
  expect_values(tanh(x), map([](double v) { return std::tanh(v); }), 1e-12);
  expect_values(erf(x), map([](double v) { return std::erf(v); }), 1e-12);
  expect_values(expm1(x), map([](double v) { return std::expm1(v); }), 1e-12);
  expect_values(sigmoid(x), map([](double v) { return 1 / (1 + std::exp(-v)); }), 1e-12);
  expect_values(abs(x), {1.5, 0.5, 0.25, 2.0});
  expect_values(sign(x), {-1, -1, 1, 1});
  expect_values(-x, {1.5, 0.5, -0.25, -2.0});
  expect_values(floor(x), {-2, -1, 0, 2});
  expect_values(ceil(x), {-1, -0.0, 1, 2});
  expect_values(square(x), {2.25, 0.25, 0.0625, 4});
  Tensor p = Tensor({0.25, 1.0, 4.0}, DType::F64);
  expect_values(sqrt(p), {0.5, 1, 2});
  expect_values(rsqrt(p), {2, 1, 0.5});
  expect_values(log(p), {std::log(0.25), 0, std::log(4.0)}, 1e-12);
  expect_values(log1p(p), {std::log1p(0.25), std::log1p(1.0), std::log1p(4.0)}, 1e-12);
  expect_values(reciprocal(p), {4, 1, 0.25});
}

TEST(Ops, RoundHalfToEven) {
  Tensor x = {0.5, 1.5, 2.5, -0.5, -1.5, 2.4};
  expect_values(round(x), {0, 2, 2, 0, -2, 2});
}

TEST(Ops, Arithmetic) {
  Tensor a = {7.0f, -7.0f, 2.0f};
  Tensor b = {2.0f, 2.0f, 8.0f};
  expect_values(a + b, {9, -5, 10});
  expect_values(a - b, {5, -9, -6});
  expect_values(a * b, {14, -14, 16});
  expect_values(a / b, {3.5, -3.5, 0.25});
  expect_values(power(b, 3.0), {8, 8, 512}, 1e-4);
  expect_values(maximum(a, b), {7, 2, 8});
  expect_values(minimum(a, b), {2, -7, 2});
  expect_values(clip(a, -1, 3), {3, -1, 2});
}

TEST(Ops, RemainderFollowsPython) {
  Tensor a = {7, -7, 7, -7};
  Tensor b = {3, 3, -3, -3};
  expect_values(a % b, {1, 2, -2, -1});
  expect_values(fmod(a, b), {1, -1, 1, -1});
  expect_values(floor_divide(a, b), {2, -3, -3, 2});
  Tensor fa = {7.5f, -7.5f};
  expect_values(fa % 2.0, {1.5, 0.5});
  expect_values(floor_divide(fa, 2.0), {3, -4});
  Tensor u(std::vector<uint8_t>{7, 200});
  expect_values(u % 3, {1, 2});
}

TEST(Ops, IntegerArithmeticStaysInteger) {
  Tensor a = {5, -3};
  Tensor s = a * 2 + 1;
  EXPECT_EQ(s.dtype(), DType::I32);
  EXPECT_EQ(s.to_vector<int>(), (std::vector<int>{11, -5}));
}

TEST(Ops, Comparisons) {
  Tensor a = {1, 2, 3};
  Tensor b = {3, 2, 1};
  Tensor eq = a == b;
  EXPECT_EQ(eq.dtype(), DType::Bool);
  EXPECT_EQ(eq.to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ((a != b).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ((a < b).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ((a <= b).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ((a > b).to_vector<bool>(), (std::vector<bool>{false, false, true}));
  EXPECT_EQ((a >= b).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  EXPECT_EQ((a > 1.5).to_vector<bool>(), (std::vector<bool>{false, true, true}));
}

TEST(Ops, LogicalAndBitwise) {
  Tensor p = {true, true, false, false};
  Tensor q = {true, false, true, false};
  EXPECT_EQ((p & q).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ((p | q).to_vector<bool>(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ((p ^ q).to_vector<bool>(), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ((~p).to_vector<bool>(), (std::vector<bool>{false, false, true, true}));
  Tensor i = {12, 10};
  Tensor j = {10, 6};
  EXPECT_EQ((i & j).to_vector<int>(), (std::vector<int>{8, 2}));
  EXPECT_EQ((i | j).to_vector<int>(), (std::vector<int>{14, 14}));
  EXPECT_EQ((i ^ j).to_vector<int>(), (std::vector<int>{6, 12}));
  EXPECT_EQ((~i).to_vector<int>(), (std::vector<int>{-13, -11}));
  Tensor f = {0.0, 2.0, 0.0};  // float literal lists are f32
  Tensor g = {1.0, 3.0, 0.0};
  EXPECT_EQ(logical_and(f, g).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(logical_or(f, g).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(logical_xor(f, g).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(logical_not(f).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_ERROR(f & g, "[frontend] bitwise_and: expects bool or integer operands, got f32[3]");
  EXPECT_ERROR(~f, "[frontend] bitwise_not: expects a bool or integer operand, got f32[3]");
}

TEST(Ops, BoolArithmeticIsLogical) {
  Tensor p = {true, false};
  Tensor q = {true, true};
  EXPECT_EQ((p + q).dtype(), DType::Bool);
  EXPECT_EQ((p * q).to_vector<bool>(), (std::vector<bool>{true, false}));
}

TEST(Ops, NanAndInfPredicates) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = {1.0, std::nan(""), inf, -inf};
  EXPECT_EQ(isnan(x).to_vector<bool>(), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(isinf(x).to_vector<bool>(), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(isfinite(x).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
}

TEST(Ops, WhereSelects) {
  Tensor x = {-1.0f, 2.0f, -3.0f};
  expect_values(where(x > 0, x, 0.0), {0, 2, 0});
  expect_values(where(Tensor({1, 0, 2}), 1, -1), {1, -1, 1});
}

TEST(Ops, Astype) {
  Tensor x = {1.7f, -1.7f, 0.0f};
  Tensor i = astype(x, DType::I32);
  EXPECT_EQ(i.dtype(), DType::I32);
  EXPECT_EQ(i.to_vector<int>(), (std::vector<int>{1, -1, 0}));
  EXPECT_EQ(x.astype(DType::Bool).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_TRUE(astype(x, DType::F32).same_node(x));
  Tensor literal = astype(Tensor(2.7), DType::I32);
  EXPECT_EQ(literal.item<int>(), 2);
  EXPECT_FALSE(literal.is_weak());
  // The converted literal keeps its converted value when it is promoted again.
  EXPECT_DOUBLE_EQ((literal + Tensor(std::vector<double>{0.5})).item<double>(), 2.5);
}

TEST(Ops, CompoundAssignment) {
  Tensor x = {1.0f, 2.0f};
  Tensor before = x;
  x += 1.0;
  x *= Tensor({2.0f, 3.0f});
  x -= 1.0;
  x /= 2.0;
  expect_values(x, {1.5, 4});
  expect_values(before, {1, 2});
}

}  // namespace
}  // namespace kiln
