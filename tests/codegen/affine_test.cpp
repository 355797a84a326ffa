// The affine index analysis the backends read access patterns with.

#include <gtest/gtest.h>

#include <limits>

#include "codegen/affine.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;

struct Pool {
  Kernel kernel;
  ExprBuilder b{kernel.exprs};
  ExprId op(OpKind op, ExprId x, ExprId y) { return b.op(op, DType::I64, {x, y}); }
};

TEST(Affine, RowMajorOffsetsHaveTheirStrides) {
  Pool p;
  const ExprId row = p.b.index(LoopLevel::Outer, 0), col = p.b.index(LoopLevel::Inner, 0);
  const ExprId k = p.b.index(LoopLevel::Contraction, 0);
  const ExprId at =
      p.op(OpKind::Add, p.op(OpKind::Mul, p.op(OpKind::Add, row, k), p.b.constant_int(8)),
           p.op(OpKind::Sub, col, p.b.constant_int(3)));
  const auto form = affine_index(p.kernel, at);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->constant, -3);
  EXPECT_EQ(form->coefficient(LoopLevel::Outer, 0), 8);
  EXPECT_EQ(form->coefficient(LoopLevel::Contraction, 0), 8);
  EXPECT_EQ(form->coefficient(LoopLevel::Inner, 0), 1);
  EXPECT_EQ(form->coefficient(LoopLevel::Inner, 1), 0);
  EXPECT_EQ(form->terms.size(), 3u);
}

TEST(Affine, TermsThatCancelDisappear) {
  Pool p;
  const ExprId row = p.b.index(LoopLevel::Outer, 0);
  const ExprId twice = p.op(OpKind::Mul, p.b.constant_int(2), row);
  const auto form = affine_index(p.kernel, p.op(OpKind::Sub, twice, p.op(OpKind::Add, row, row)));
  ASSERT_TRUE(form);
  EXPECT_TRUE(form->terms.empty());
  EXPECT_EQ(form->constant, 0);
  const auto negated = affine_index(p.kernel, p.b.op(OpKind::Neg, DType::I64, {twice}));
  ASSERT_TRUE(negated);
  EXPECT_EQ(negated->coefficient(LoopLevel::Outer, 0), -2);
}

TEST(Affine, DelinearizingProductsLoadsAndOverflowAreNotAffine) {
  Pool p;
  const ExprId row = p.b.index(LoopLevel::Outer, 0), col = p.b.index(LoopLevel::Inner, 0);
  EXPECT_FALSE(affine_index(p.kernel, p.op(OpKind::Div, row, p.b.constant_int(4))));
  EXPECT_FALSE(affine_index(p.kernel, p.op(OpKind::Rem, row, p.b.constant_int(4))));
  EXPECT_FALSE(affine_index(p.kernel, p.op(OpKind::Mul, row, col)));
  EXPECT_FALSE(affine_index(p.kernel, p.op(OpKind::Max, row, p.b.constant_int(0))));
  EXPECT_FALSE(affine_index(p.kernel, p.b.load(0, DType::I64, row)));
  const ExprId huge = p.b.constant_int(std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(affine_index(p.kernel, p.op(OpKind::Mul, p.op(OpKind::Mul, row, huge), huge)));
  EXPECT_FALSE(affine_index(p.kernel, p.op(OpKind::Add, huge, huge)));
}

}  // namespace
}  // namespace kiln::codegen
