// matmul with numpy semantics: 1-D promotion, batches, broadcast batch dims, one dot_general.

#include <gtest/gtest.h>

#include <numeric>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::count_op;
using test::expect_values;
using test::ty;

Tensor counting(const Shape& shape, float offset = 0) {
  std::vector<float> v(static_cast<size_t>(ir::TensorType{DType::F32, shape}.num_elements()));
  std::iota(v.begin(), v.end(), offset);
  return Tensor(v, shape);
}

// Plain triple loop over row-major matrices, the reference.
std::vector<double> reference(const std::vector<double>& a, const std::vector<double>& b, int64_t n,
                              int64_t k, int64_t m) {
  std::vector<double> out(static_cast<size_t>(n * m), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t p = 0; p < k; ++p)
        out[i * m + j] += a[i * k + p] * b[p * m + j];
  return out;
}

TEST(Matmul, TwoByTwo) {
  Tensor a = counting({2, 3}), b = counting({3, 4}, 1);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 4}));
  expect_values(c, reference(test::values(a), test::values(b), 2, 3, 4));
}

TEST(Matmul, VectorCases) {
  Tensor v = {1.0f, 2.0f, 3.0f};
  Tensor m = counting({3, 2});  // [[0,1],[2,3],[4,5]]
  EXPECT_EQ(matmul(v, v).shape(), (Shape{}));
  EXPECT_FLOAT_EQ(matmul(v, v).item<float>(), 14);
  expect_values(matmul(v, m), {16, 22});
  Tensor mt = counting({2, 3});
  expect_values(matmul(mt, v), {8, 26});
  Tensor batch = counting({2, 3, 2});
  Tensor vb = matmul(v, batch);
  EXPECT_EQ(vb.shape(), (Shape{2, 2}));
  expect_values(vb, {16, 22, 52, 58});
  EXPECT_EQ(matmul(counting({4, 2, 3}), v).shape(), (Shape{4, 2}));
}

TEST(Matmul, BatchedBroadcasting) {
  Tensor a = counting({2, 1, 2, 3});
  Tensor b = counting({3, 3, 4}, 1);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 3, 2, 4}));
  std::vector<double> av = test::values(a), bv = test::values(b), cv = test::values(c);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      std::vector<double> am(av.begin() + i * 6, av.begin() + i * 6 + 6);
      std::vector<double> bm(bv.begin() + j * 12, bv.begin() + j * 12 + 12);
      std::vector<double> want = reference(am, bm, 2, 3, 4);
      std::vector<double> got(cv.begin() + (i * 3 + j) * 8, cv.begin() + (i * 3 + j) * 8 + 8);
      test::expect_near(got, want);
    }
}

TEST(Matmul, StackTimesMatrixNeedsNoBroadcast) {
  ir::Function f = kiln::trace([](Tensor x, Tensor w) { return matmul(x, w); },
                               {ty(DType::F32, {5, 7, 3}), ty(DType::F32, {3, 4})});
  EXPECT_EQ(test::ops_of(f), (std::vector<OpKind>{OpKind::DotGeneral}));
  EXPECT_EQ(f.result_types()[0], ty(DType::F32, {5, 7, 4}));
}

TEST(Matmul, BatchedIsOneDotGeneralWithBatchDims) {
  ir::Function f = kiln::trace([](Tensor x, Tensor y) { return matmul(x, y); },
                               {ty(DType::F32, {2, 1, 4, 3}), ty(DType::F32, {5, 3, 6})});
  EXPECT_EQ(count_op(f, OpKind::DotGeneral), 1);
  EXPECT_EQ(count_op(f, OpKind::Broadcast), 2);
  EXPECT_EQ(f.result_types()[0], ty(DType::F32, {2, 5, 4, 6}));
  for (const ir::Node& n : f.nodes())
    if (n.op == OpKind::DotGeneral) {
      EXPECT_EQ(n.attrs.get_ints("lhs_batch"), (std::vector<int64_t>{0, 1}));
      EXPECT_EQ(n.attrs.get_ints("lhs_contract"), (std::vector<int64_t>{3}));
      EXPECT_EQ(n.attrs.get_ints("rhs_contract"), (std::vector<int64_t>{2}));
    }
}

TEST(Matmul, PromotesOperands) {
  Tensor a(std::vector<int>{1, 2}, {1, 2});
  Tensor b(std::vector<float>{3, 4}, {2, 1});
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.dtype(), DType::F32);
  EXPECT_FLOAT_EQ(c.item<float>(), 11);
}

TEST(Matmul, Errors) {
  EXPECT_ERROR(matmul(zeros({2, 3}), zeros({4, 5})),
               "[frontend] matmul: contraction dims differ: f32[2,3] and f32[4,5]");
  EXPECT_ERROR(matmul(zeros({2, 2, 3}), zeros({3, 3, 1})),
               "[frontend] matmul: batch dims do not broadcast: f32[2,2,3] and f32[3,3,1]");
  EXPECT_ERROR(matmul(Tensor(1.0), zeros({3})), "[frontend] matmul: operands must have rank >= 1");
}

TEST(Matmul, Outer) {
  expect_values(outer(Tensor({1, 2}), Tensor({3, 4, 5})), {3, 4, 5, 6, 8, 10});
}

}  // namespace
}  // namespace kiln
