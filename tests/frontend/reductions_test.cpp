// Reductions: axes (negative, lists, all), keepdims, dtypes, argmax/argmin, var/std.

#include <gtest/gtest.h>

#include <cmath>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

Tensor grid() {
  return Tensor({{1.0f, 5.0f, 3.0f}, {4.0f, 2.0f, 6.0f}});
}

TEST(Reductions, SumOverAxes) {
  Tensor x = grid();
  EXPECT_FLOAT_EQ(sum(x).item<float>(), 21);
  expect_values(sum(x, 0), {5, 7, 9});
  expect_values(sum(x, -1), {9, 12});
  expect_values(sum(x, {0, 1}), {21});
  EXPECT_EQ(sum(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(sum(x, {}, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(sum(x).shape(), (Shape{}));
  EXPECT_TRUE(sum(x, std::vector<int>{}).same_node(x));
  EXPECT_ERROR(sum(x, 2), "[frontend] sum: axis 2 is out of range for f32[2,3]");
  EXPECT_ERROR(sum(x, {1, -1}), "[frontend] sum: axis 1 is named twice");
}

TEST(Reductions, OtherReductions) {
  Tensor x = grid();
  expect_values(max(x, 1), {5, 6});
  expect_values(min(x, 0), {1, 2, 3});
  expect_values(prod(x, -1), {15, 48});
  expect_values(mean(x, 0), {2.5, 3.5, 4.5});
  EXPECT_FLOAT_EQ(mean(x).item<float>(), 3.5f);
  EXPECT_EQ(max(x, {}, true).shape(), (Shape{1, 1}));
  Tensor empty = zeros({0, 3});
  EXPECT_ERROR(max(empty, 0), "[frontend] max: cannot reduce empty axis 0 of f32[0,3]");
  expect_values(sum(empty, 0), {0, 0, 0});
}

TEST(Reductions, DTypes) {
  Tensor bools = {true, true, false};
  EXPECT_EQ(sum(bools).dtype(), DType::I32);
  EXPECT_EQ(sum(bools).item<int>(), 2);
  Tensor bytes(std::vector<uint8_t>{200, 100});
  EXPECT_EQ(sum(bytes).dtype(), DType::U32);
  EXPECT_EQ(sum(bytes).item<int>(), 300);
  Tensor ints = {1, 2};
  EXPECT_EQ(mean(ints).dtype(), DType::F32);
  EXPECT_FLOAT_EQ(mean(ints).item<float>(), 1.5f);
  Tensor half(std::vector<float>{1, 2, 3, 4}, {4}, DType::F16);
  EXPECT_EQ(mean(half).dtype(), DType::F16);
  EXPECT_FLOAT_EQ(mean(half).item<float>(), 2.5f);
  EXPECT_EQ(max(bools).dtype(), DType::Bool);
}

TEST(Reductions, ArgmaxArgmin) {
  Tensor x = grid();
  EXPECT_EQ(argmax(x).dtype(), DType::I32);
  EXPECT_EQ(argmax(x).item<int>(), 5);
  EXPECT_EQ(argmin(x).item<int>(), 0);
  EXPECT_EQ(argmax(x, 1).to_vector<int>(), (std::vector<int>{1, 2}));
  EXPECT_EQ(argmin(x, -2).to_vector<int>(), (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(argmax(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(argmax(x, std::nullopt, true).shape(), (Shape{1, 1}));
  // Ties go to the first.
  EXPECT_EQ(argmax(Tensor({1, 3, 3})).item<int>(), 1);
}

TEST(Reductions, VarAndStd) {
  Tensor x = {1.0f, 2.0f, 3.0f, 4.0f};
  EXPECT_FLOAT_EQ(var(x).item<float>(), 1.25f);
  EXPECT_FLOAT_EQ(var(x, {}, {.ddof = 1}).item<float>(), 5.0f / 3.0f);
  EXPECT_NEAR(kiln::std(x).item<float>(), std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(kiln::std(x, {}, {.ddof = 1}).item<float>(), std::sqrt(5.0 / 3.0), 1e-6);
  Tensor g = grid();
  expect_values(var(g, 1), {8.0 / 3.0, 8.0 / 3.0}, 1e-6);
  EXPECT_EQ(var(g, 0, {.keepdims = true}).shape(), (Shape{1, 3}));
}

// The third argument of var and std is keepdims, as for sum and mean; ddof is named.
TEST(Reductions, VarAndStdThirdArgumentIsKeepdims) {
  Tensor g = grid();
  EXPECT_EQ(var(g, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(kiln::std(g, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(sum(g, 1, true).shape(), var(g, 1, true).shape());
  expect_values(var(g, 1, true), {8.0 / 3.0, 8.0 / 3.0}, 1e-6);  // ddof stays 0
  Tensor both = var(g, 1, {.ddof = 1, .keepdims = true});
  EXPECT_EQ(both.shape(), (Shape{2, 1}));
  expect_values(both, {4.0, 4.0}, 1e-6);
  // var(g, 1, 1), an integer third argument (the old ddof), stops at a static_assert.
  EXPECT_ERROR(var(g, 1, {.ddof = -1}), "[frontend] var: ddof -1 is negative");
  // numpy's max(N - ddof, 0): a variance of one element with ddof 1 is nan (0 / 0).
  EXPECT_TRUE(std::isnan(var(Tensor({1.0f}), {}, {.ddof = 1}).item<float>()));
}

TEST(Reductions, AnyAll) {
  Tensor x = {{0, 1}, {0, 0}};
  EXPECT_TRUE(any(x).item<bool>());
  EXPECT_FALSE(all(x).item<bool>());
  EXPECT_EQ(any(x, 1).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(all(Tensor({1, 2}) > 0).item<bool>(), true);
}

}  // namespace
}  // namespace kiln
