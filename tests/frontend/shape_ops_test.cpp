// Reshapes, transposes, slicing (negative indices and steps), joining and gathering.

#include <gtest/gtest.h>

#include <numeric>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::expect_values;

// 0, 1, 2, ... in the given shape, as f32 data.
Tensor counting(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(ir::TensorType{DType::F32, shape}.num_elements()));
  std::iota(v.begin(), v.end(), 0.0f);
  return Tensor(v, shape);
}

TEST(ShapeOps, ReshapeWithMinusOne) {
  Tensor x = counting({2, 3, 4});
  EXPECT_EQ(reshape(x, {-1, 4}).shape(), (Shape{6, 4}));
  EXPECT_EQ(reshape(x, {3, -1}).shape(), (Shape{3, 8}));
  EXPECT_EQ(x.reshape({-1}).shape(), (Shape{24}));
  EXPECT_EQ(flatten(Tensor(1.0)).shape(), (Shape{1}));
  expect_values(reshape(x, {4, -1}).reshape({-1}), test::values(x));
  EXPECT_TRUE(reshape(x, {2, -1, 4}).same_node(x));
  EXPECT_ERROR(reshape(x, {-1, -1}),
               "[frontend] reshape: only one dimension can be -1, got [-1,-1]");
  EXPECT_ERROR(reshape(x, {5, -1}), "[frontend] reshape: cannot reshape f32[2,3,4] into [5,-1]");
  EXPECT_ERROR(
      reshape(x, {5, 5}),
      "[frontend] reshape: cannot reshape f32[2,3,4] (24 elements) into [5,5] (25 elements)");
}

TEST(ShapeOps, Transpose) {
  Tensor x = counting({2, 3});
  Tensor t = transpose(x);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  expect_values(t, {0, 3, 1, 4, 2, 5});
  Tensor y = counting({2, 3, 4});
  EXPECT_EQ(transpose(y, {-1, 0, 1}).shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(swapaxes(y, 0, -1).shape(), (Shape{4, 3, 2}));
  EXPECT_TRUE(transpose(y, {0, 1, 2}).same_node(y));
  EXPECT_ERROR(transpose(y, {0, 1}),
               "[frontend] transpose: axes [0,1] must name each of the 3 axes");
  EXPECT_ERROR(transpose(y, {0, 1, -3}), "[frontend] transpose: axes [0,1,-3] name axis 0 twice");
  EXPECT_ERROR(transpose(y, {0, 1, 3}), "[frontend] transpose: axis 3 is out of range for rank 3");
}

TEST(ShapeOps, ExpandDimsAndSqueeze) {
  Tensor x = counting({2, 3});
  EXPECT_EQ(expand_dims(x, 0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(expand_dims(x, -1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(expand_dims(x, {0, 2}).shape(), (Shape{1, 2, 1, 3}));
  Tensor y = counting({1, 3, 1});
  EXPECT_EQ(squeeze(y).shape(), (Shape{3}));
  EXPECT_EQ(squeeze(y, {-1}).shape(), (Shape{1, 3}));
  EXPECT_ERROR(squeeze(y, {1}), "[frontend] squeeze: axis 1 of f32[1,3,1] has size 3, not 1");
}

TEST(ShapeOps, SlicePositiveSteps) {
  Tensor x = counting({10});
  expect_values(slice(x, {{2, 5}}), {2, 3, 4});
  expect_values(slice(x, {{1, std::nullopt, 3}}), {1, 4, 7});
  expect_values(slice(x, {{-3, std::nullopt}}), {7, 8, 9});
  expect_values(slice(x, {{std::nullopt, -7}}), {0, 1, 2});
  expect_values(slice(x, {{-100, 2}}), {0, 1});  // clamps like Python
  expect_values(slice(x, {{8, 100}}), {8, 9});
  EXPECT_EQ(slice(x, {{5, 2}}).shape(), (Shape{0}));
  EXPECT_TRUE(slice(x, {{std::nullopt, std::nullopt}}).same_node(x));
}

TEST(ShapeOps, SliceNegativeSteps) {
  Tensor x = counting({6});
  expect_values(slice(x, {{std::nullopt, std::nullopt, -1}}), {5, 4, 3, 2, 1, 0});
  expect_values(slice(x, {{4, 1, -1}}), {4, 3, 2});
  expect_values(slice(x, {{-1, std::nullopt, -2}}), {5, 3, 1});
  expect_values(slice(x, {{-2, -5, -1}}), {4, 3, 2});
  expect_values(slice(x, {{100, std::nullopt, -3}}), {5, 2});
  EXPECT_EQ(slice(x, {{1, 4, -1}}).shape(), (Shape{0}));
  EXPECT_ERROR(slice(x, {{0, 4, 0}}), "[frontend] slice: step cannot be zero");
}

TEST(ShapeOps, SliceSeveralAxes) {
  Tensor x = counting({3, 4});
  // x[1:, ::-2]
  Tensor s = slice(x, {{1, std::nullopt}, {std::nullopt, std::nullopt, -2}});
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  expect_values(s, {7, 5, 11, 9});
  // start/stop/step vectors, numpy-style
  expect_values(slice(x, {0, 1}, {2, -1}, {1, 2}), {1, 5});
  expect_values(x.slice(-1, -2, std::nullopt), {2, 3, 6, 7, 10, 11});
  EXPECT_ERROR(slice(x, {{0, 1}, {0, 1}, {0, 1}}), "[frontend] slice: 3 slices for f32[3,4]");
}

TEST(ShapeOps, SliceGraph) {
  ir::Function f = kiln::trace(
      [](Tensor x) {
        return slice(x, {{1, std::nullopt}, {std::nullopt, std::nullopt, -1}});
      },
      {test::ty(DType::F32, {3, 4})});
  EXPECT_EQ(test::ops_of(f), (std::vector<OpKind>{OpKind::Slice, OpKind::Constant, OpKind::Take}));
}

TEST(ShapeOps, Index) {
  Tensor x = counting({3, 4});
  expect_values(x[1], {4, 5, 6, 7});
  expect_values(x[-1], {8, 9, 10, 11});
  expect_values(index(x, -1, 1), {3, 7, 11});
  EXPECT_EQ(x[0][2].item<float>(), 2.0f);
  EXPECT_ERROR(x[3], "[frontend] index: index 3 is out of range for axis 0 of f32[3,4]");
}

TEST(ShapeOps, ConcatenateAndStack) {
  Tensor a = counting({2, 2});
  Tensor b = counting({2, 1}) + 10.0;
  Tensor c = concatenate({a, b}, -1);
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  expect_values(c, {0, 1, 10, 2, 3, 11});
  EXPECT_ERROR(concatenate({a, b}, 0),
               "[frontend] concatenate: shapes must agree off axis 0, got f32[2,2] and f32[2,1]");
  Tensor s = stack({Tensor({1, 2}), Tensor({3, 4})}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  expect_values(s, {1, 3, 2, 4});
  EXPECT_EQ(stack({a, a, a}, -1).shape(), (Shape{2, 2, 3}));
  EXPECT_ERROR(stack({a, b}), "[frontend] stack: tensors must have one shape");
}

TEST(ShapeOps, Take) {
  Tensor x = counting({3, 4});
  expect_values(take(x, Tensor({2, 0}), 0), {8, 9, 10, 11, 0, 1, 2, 3});
  expect_values(take(x, Tensor({-1, 1}), 1), {3, 1, 7, 5, 11, 9});
  expect_values(take(x, Tensor({5, -1})), {5, 11});  // flattened
  Tensor idx(std::vector<int>{0, 1, 1, 0}, {2, 2});
  EXPECT_EQ(take(x, idx, 0).shape(), (Shape{2, 2, 4}));
  EXPECT_ERROR(take(x, Tensor({0.5}), 0), "[frontend] take: indices must be integers, got f32[1]");
}

}  // namespace
}  // namespace kiln
