// zeros/ones/full/arange/eye: values, dtypes, and that they stay small in the graph.

#include <gtest/gtest.h>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::expect_values;

TEST(Creation, FullZerosOnes) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.type(), test::ty(DType::F32, {2, 3}));
  expect_values(z, std::vector<double>(6, 0.0));
  EXPECT_EQ(ones({2}, DType::I8).to_vector<int>(), (std::vector<int>{1, 1}));
  Tensor f = full({2}, 7);
  EXPECT_EQ(f.dtype(), DType::I32);
  EXPECT_FALSE(f.is_weak());
  expect_values(full({3}, 2.5, DType::F16), {2.5, 2.5, 2.5});
  Tensor x(std::vector<double>{1, 2}, {2});
  EXPECT_EQ(zeros_like(x).type(), x.type());
  EXPECT_EQ(ones_like(x).to_vector<double>(), (std::vector<double>{1, 1}));
  expect_values(full_like(x, 3), {3, 3});
  EXPECT_ERROR(zeros({2, -1}), "[frontend] full: shape [2,-1] has a negative dimension");
}

TEST(Creation, FullIsAConstantAndABroadcast) {
  ir::Function f = kiln::trace(
      [](Tensor x) {
        return x + ones({4, 4});
      },
      {test::ty(DType::F32, {4, 4})});
  EXPECT_EQ(test::ops_of(f),
            (std::vector<OpKind>{OpKind::Constant, OpKind::Broadcast, OpKind::Add}));
}

TEST(Creation, Arange) {
  Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), DType::I32);
  EXPECT_EQ(a.to_vector<int>(), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(2, 11, 3).to_vector<int>(), (std::vector<int>{2, 5, 8}));
  EXPECT_EQ(arange(5, 0, -2).to_vector<int>(), (std::vector<int>{5, 3, 1}));
  Tensor f = arange(0.0, 1.0, 0.25);
  EXPECT_EQ(f.dtype(), DType::F32);
  expect_values(f, {0, 0.25, 0.5, 0.75});
  EXPECT_EQ(arange(3, DType::F64).dtype(), DType::F64);
  EXPECT_EQ(arange(3, 1).shape(), (Shape{0}));
  EXPECT_ERROR(arange(0, 3, 0), "[frontend] arange: step cannot be zero");
}

TEST(Creation, Eye) {
  expect_values(eye(3), {1, 0, 0, 0, 1, 0, 0, 0, 1});
  Tensor e = eye(2, 3, 1, DType::I32);
  EXPECT_EQ(e.type(), test::ty(DType::I32, {2, 3}));
  EXPECT_EQ(e.to_vector<int>(), (std::vector<int>{0, 1, 0, 0, 0, 1}));
}

}  // namespace
}  // namespace kiln
