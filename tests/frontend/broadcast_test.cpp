// numpy broadcasting and the broadcast nodes it leaves in traced graphs.

#include <gtest/gtest.h>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::count_op;
using test::expect_values;
using test::ty;

TEST(Broadcast, Shapes) {
  EXPECT_EQ(broadcast_shapes({2, 3}, {3}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({4, 1, 5}, {3, 1}), (Shape{4, 3, 5}));
  EXPECT_EQ(broadcast_shapes({}, {2, 2}), (Shape{2, 2}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 7}), (Shape{0, 7}));
  EXPECT_ERROR(broadcast_shapes({2, 3}, {4}), "shapes [2,3] and [4] do not broadcast");
}

TEST(Broadcast, ElementwiseResultShapesAndValues) {
  Tensor col(std::vector<float>{1, 2}, {2, 1});
  Tensor row = {10.0f, 20.0f, 30.0f};
  Tensor s = col + row;
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  expect_values(s, {11, 21, 31, 12, 22, 32});
  EXPECT_ERROR(Tensor({1, 2}) + Tensor({1, 2, 3}),
               "[frontend] add: shapes [2] and [3] do not broadcast");
}

TEST(Broadcast, GraphHasBroadcastNodesWithDims) {
  ir::Function f = trace([](Tensor a, Tensor b) { return a * b; },
                         {ty(DType::F32, {4, 1, 5}), ty(DType::F32, {3, 1})});
  EXPECT_EQ(f.result_types()[0], ty(DType::F32, {4, 3, 5}));
  ASSERT_EQ(count_op(f, OpKind::Broadcast), 2);
  std::vector<std::vector<int64_t>> dims;
  for (const ir::Node& n : f.nodes()) {
    if (n.op != OpKind::Broadcast) continue;
    EXPECT_EQ(n.attrs.get_ints("shape"), (std::vector<int64_t>{4, 3, 5}));
    dims.push_back(n.attrs.get_ints("dims"));
  }
  EXPECT_EQ(dims[0], (std::vector<int64_t>{0, 1, 2}));  // same rank: stretches size-1 axes
  EXPECT_EQ(dims[1], (std::vector<int64_t>{1, 2}));     // lower rank: aligned to the right
}

TEST(Broadcast, SameShapeNeedsNoNode) {
  ir::Function f = trace([](Tensor a, Tensor b) { return a - b; },
                         {ty(DType::F32, {2, 2}), ty(DType::F32, {2, 2})});
  EXPECT_EQ(test::ops_of(f), (std::vector<OpKind>{OpKind::Sub}));
}

TEST(Broadcast, ScalarBecomesConstantThenBroadcast) {
  ir::Function f = trace([](Tensor x) { return x + 1.0; }, {ty(DType::F32, {2, 3})});
  EXPECT_EQ(test::ops_of(f),
            (std::vector<OpKind>{OpKind::Constant, OpKind::Broadcast, OpKind::Add}));
  const ir::Node& bc = f.nodes()[2];
  EXPECT_EQ(bc.attrs.get_ints("dims"), std::vector<int64_t>{});
}

TEST(Broadcast, ConvertComesBeforeBroadcast) {
  // The convert works on the small operand; the broadcast then makes the big one.
  ir::Function f = trace([](Tensor a, Tensor b) { return a + b; },
                         {ty(DType::F32, {8, 8}), ty(DType::F16, {8})});
  EXPECT_EQ(test::ops_of(f),
            (std::vector<OpKind>{OpKind::Convert, OpKind::Broadcast, OpKind::Add}));
  EXPECT_EQ(f.nodes()[2].type, ty(DType::F32, {8}));
}

TEST(Broadcast, BroadcastTo) {
  Tensor x = {1, 2, 3};
  Tensor b = broadcast_to(x, {2, 3});
  EXPECT_EQ(b.shape(), (Shape{2, 3}));
  expect_values(b, {1, 2, 3, 1, 2, 3});
  EXPECT_TRUE(broadcast_to(x, {3}).same_node(x));
  EXPECT_ERROR(broadcast_to(x, {3, 2}),
               "[frontend] broadcast_to: cannot broadcast i32[3] to [3,2]");
}

TEST(Broadcast, WhereBroadcastsAllThree) {
  Tensor cond = Tensor({true, false, true});
  Tensor a(std::vector<float>{1, 2}, {2, 1});
  Tensor w = where(cond, a, 0.0);
  EXPECT_EQ(w.shape(), (Shape{2, 3}));
  expect_values(w, {1, 0, 1, 2, 0, 2});
}

}  // namespace
}  // namespace kiln
