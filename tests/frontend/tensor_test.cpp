// Tensor construction, accessors, evaluation and graph freeing.

#include <gtest/gtest.h>

#include <cmath>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

TEST(Tensor, ScalarsFromCppNumbers) {
  Tensor d = 2.5, i = 7, b = true;
  EXPECT_EQ(d.dtype(), DType::F32);
  EXPECT_EQ(i.dtype(), DType::I32);
  EXPECT_EQ(b.dtype(), DType::Bool);
  EXPECT_TRUE(d.is_weak());
  EXPECT_TRUE(i.is_weak());
  EXPECT_FALSE(b.is_weak());
  EXPECT_EQ(d.ndim(), 0);
  EXPECT_EQ(d.size(), 1);
  EXPECT_FLOAT_EQ(d.item<float>(), 2.5f);
  EXPECT_EQ(i.item<int>(), 7);
  EXPECT_TRUE(b.item<bool>());
  EXPECT_EQ(Tensor(int64_t{1} << 40).dtype(), DType::I64);
}

TEST(Tensor, FromVectorsAndInitializerLists) {
  Tensor v(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  EXPECT_EQ(v.shape(-1), 3);
  EXPECT_EQ(v.dtype(), DType::F32);
  EXPECT_FALSE(v.is_weak());
  EXPECT_EQ(v.to_vector<int>(), (std::vector<int>{1, 2, 3, 4, 5, 6}));

  Tensor flat = {1, 2, 3};
  EXPECT_EQ(flat.shape(), (Shape{3}));
  EXPECT_EQ(flat.dtype(), DType::I32);

  Tensor rows = {{1.0, 2.0}, {3.0, 4.0}};
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(rows.dtype(), DType::F32);
  expect_values(rows, {1, 2, 3, 4});

  Tensor bools(std::vector<bool>{true, false});
  EXPECT_EQ(bools.dtype(), DType::Bool);
  EXPECT_EQ(bools.to_vector<bool>(), (std::vector<bool>{true, false}));

  Tensor half(std::vector<float>{0.1f, 1.5f}, {2}, DType::F16);
  EXPECT_EQ(half.dtype(), DType::F16);
  EXPECT_NEAR(half.to_vector<float>()[0], 0.1f, 1e-4);
}

// Float literal lists are f32, as scalars, zeros and arange are (MLX's rule): mixing one into
// an f32 model keeps it f32. f64 is asked for by name; a std::vector<double> stays f64.
TEST(Tensor, FloatLiteralListsAreF32) {
  EXPECT_EQ(Tensor({1.0, 2.0}).dtype(), DType::F32);
  EXPECT_EQ(Tensor({{1.0, 2.0}, {3.0, 4.0}}).dtype(), DType::F32);
  EXPECT_EQ(Tensor({1.0, 2.0}).dtype(), Tensor(1.0).dtype());
  EXPECT_EQ(Tensor({1.0, 2.0}).dtype(), zeros({2}).dtype());
  EXPECT_EQ(Tensor({1.0, 2.0}).dtype(), arange(2.0).dtype());
  EXPECT_EQ((zeros({2}) + Tensor({1.0, 2.0})).dtype(), DType::F32);
  EXPECT_FLOAT_EQ(Tensor({0.1}).item<float>(), 0.1f);  // rounded once, to nearest

  Tensor wide = Tensor({0.1, 2.0}, DType::F64);
  EXPECT_EQ(wide.dtype(), DType::F64);
  EXPECT_EQ(wide.to_vector<double>()[0], 0.1);  // no trip through f32
  EXPECT_EQ(Tensor({{0.1}, {2.0}}, DType::F64).to_vector<double>()[0], 0.1);
  EXPECT_EQ(Tensor(std::vector<double>{0.1, 2.0}).dtype(), DType::F64);
  EXPECT_EQ(Tensor({1, 2}, DType::F64).dtype(), DType::F64);
  EXPECT_EQ(Tensor({1, 2}).dtype(), DType::I32);
  EXPECT_EQ(Tensor({1.0f, 2.0f}).dtype(), DType::F32);
}

TEST(Tensor, FromHostArray) {
  ir::HostArray a(ir::TensorType{DType::I16, {2}});
  a.set_i64(0, -3);
  a.set_i64(1, 9);
  Tensor t(a);
  EXPECT_EQ(t.dtype(), DType::I16);
  EXPECT_TRUE(t.has_data());
  EXPECT_FALSE(t.op().has_value());
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{-3, 9}));
}

TEST(Tensor, OpsAreLazyUntilEvaluated) {
  Tensor x = {1.0f, 2.0f, 3.0f};
  Tensor y = exp(x) + 1.0;
  EXPECT_FALSE(y.has_data());
  EXPECT_EQ(y.op(), ir::OpKind::Add);
  EXPECT_EQ(y.inputs().size(), 2u);
  y.eval();
  EXPECT_TRUE(y.has_data());
  expect_values(y, {std::exp(1.0) + 1, std::exp(2.0) + 1, std::exp(3.0) + 1}, 1e-5);
}

TEST(Tensor, EvalFreesTheGraph) {
  Tensor x = {1.0f, 2.0f};
  Tensor h = x * 2.0;
  std::weak_ptr<detail::Node> inner = h.node();
  Tensor y = h + 1.0;
  h = Tensor();  // only y keeps the intermediate alive now
  EXPECT_FALSE(inner.expired());
  y.eval();
  EXPECT_TRUE(y.inputs().empty());
  EXPECT_FALSE(y.op().has_value());
  EXPECT_TRUE(inner.expired()) << "eval should drop the inputs of evaluated nodes";
  expect_values(y, {3, 5});
}

TEST(Tensor, EvalSeveralAtOnceSharesWork) {
  Tensor x = {1.0f, 4.0f, 9.0f};
  Tensor r = sqrt(x);
  Tensor a = r + 1.0, b = r * 2.0;
  eval({a, b, a});
  EXPECT_TRUE(a.has_data());
  EXPECT_TRUE(b.has_data());
  expect_values(a, {2, 3, 4});
  expect_values(b, {2, 4, 6});
  // r was an intermediate, not a requested tensor: it stays lazy.
  EXPECT_FALSE(r.has_data());
}

TEST(Tensor, ReusesEvaluatedNodesAsInputs) {
  Tensor x = {1.0f, 2.0f};
  Tensor y = x * 3.0;
  y.eval();
  Tensor z = y + y;
  expect_values(z, {6, 12});
}

TEST(Tensor, LongChainsDoNotOverflowTheStack) {
  Tensor x = 0.0;
  Tensor acc = x;
  for (int i = 0; i < 200000; ++i)
    acc = acc + 1.0;
  acc = Tensor();  // destroying a 200k-deep graph must be iterative
  Tensor y = x;
  for (int i = 0; i < 20000; ++i)
    y = y + 1.0;
  EXPECT_FLOAT_EQ(y.item<float>(), 20000.0f);
}

TEST(Tensor, ItemNeedsOneElement) {
  Tensor x = {1, 2};
  EXPECT_ERROR(x.item<int>(), "[frontend] item: needs a tensor of one element, got i32[2]");
}

TEST(Tensor, EmptyHandleErrors) {
  Tensor empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_ERROR(empty.shape(), "[frontend] Tensor: the tensor is empty");
  EXPECT_ERROR(empty + 1, "[frontend] add:");
}

TEST(Tensor, ShapeMismatchInConstructor) {
  EXPECT_ERROR(Tensor(std::vector<float>{1, 2, 3}, {2, 2}),
               "[frontend] Tensor: 3 values do not fill shape [2,2]");
}

TEST(Tensor, ToStringLooksLikeNumpy) {
  EXPECT_EQ(to_string(Tensor({{1, 2}, {3, 40}})), "[[ 1,  2],\n [ 3, 40]]");
  EXPECT_EQ(to_string(Tensor({0.5f, 1.0f})), "[0.5, 1.0]");
  EXPECT_EQ(to_string(Tensor(true)), "true");
  Tensor cube(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  EXPECT_EQ(to_string(cube), "[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]");
}

}  // namespace
}  // namespace kiln
