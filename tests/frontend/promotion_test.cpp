// Type promotion among strong types, weak C++ scalars, and the converts they leave in graphs.

#include <gtest/gtest.h>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::count_op;
using test::ty;

struct Case {
  DType a, b, want;
};

TEST(Promotion, StrongTable) {
  const Case cases[] = {
      {DType::Bool, DType::Bool, DType::Bool}, {DType::Bool, DType::U8, DType::U8},
      {DType::Bool, DType::F16, DType::F16},   {DType::U8, DType::I8, DType::I16},
      {DType::U8, DType::I16, DType::I16},     {DType::U8, DType::U32, DType::U32},
      {DType::I8, DType::I32, DType::I32},     {DType::I32, DType::U32, DType::I64},
      {DType::U32, DType::I8, DType::I64},     {DType::I64, DType::U32, DType::I64},
      {DType::I16, DType::I64, DType::I64},    {DType::F16, DType::F32, DType::F32},
      {DType::BF16, DType::F16, DType::F32},   {DType::BF16, DType::BF16, DType::BF16},
      {DType::F32, DType::F64, DType::F64},    {DType::BF16, DType::F64, DType::F64},
      {DType::I64, DType::F16, DType::F16},    {DType::I32, DType::BF16, DType::BF16},
      {DType::U8, DType::F32, DType::F32},     {DType::Bool, DType::F64, DType::F64},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(promote_types(c.a, c.b), c.want)
        << ir::dtype_name(c.a) << " + " << ir::dtype_name(c.b);
    EXPECT_EQ(promote_types(c.b, c.a), c.want) << "symmetry";
  }
}

TEST(Promotion, StrongIsAssociativeOverAllTypes) {
  for (DType a : ir::kAllDTypes)
    for (DType b : ir::kAllDTypes)
      for (DType c : ir::kAllDTypes)
        EXPECT_EQ(promote_types(promote_types(a, b), c), promote_types(a, promote_types(b, c)));
}

Tensor strong(DType d) {
  return zeros({3}, d);
}

TEST(Promotion, WeakScalarsDeferToTensors) {
  EXPECT_EQ((strong(DType::F16) * 2.0).dtype(), DType::F16);
  EXPECT_EQ((strong(DType::BF16) + 1).dtype(), DType::BF16);
  EXPECT_EQ((strong(DType::I32) * 2).dtype(), DType::I32);
  EXPECT_EQ((strong(DType::I32) * 2.5).dtype(), DType::F32);
  EXPECT_EQ((strong(DType::U8) + 1).dtype(), DType::U8);
  EXPECT_EQ((strong(DType::I8) - 3).dtype(), DType::I8);
  EXPECT_EQ((strong(DType::F64) * 0.1).dtype(), DType::F64);
  EXPECT_EQ((strong(DType::Bool) + 1).dtype(), DType::I32);
  EXPECT_EQ((strong(DType::Bool) * 1.5).dtype(), DType::F32);
  EXPECT_EQ((2.0 * strong(DType::F16)).dtype(), DType::F16);
}

TEST(Promotion, WeakMeetsWeak) {
  Tensor a = Tensor(2) + Tensor(3);
  EXPECT_EQ(a.dtype(), DType::I32);
  EXPECT_TRUE(a.is_weak());
  Tensor b = Tensor(2) * Tensor(0.5);
  EXPECT_EQ(b.dtype(), DType::F32);
  EXPECT_TRUE(b.is_weak());
  // Still weak: it takes the f16 of the tensor it meets next.
  EXPECT_EQ((strong(DType::F16) + b).dtype(), DType::F16);
  // x_i32 * 2.5 is weak f32 (as in JAX), so f16 wins afterwards.
  Tensor c = strong(DType::I32) * 2.5;
  EXPECT_TRUE(c.is_weak());
  EXPECT_EQ((c + strong(DType::F16)).dtype(), DType::F16);
  EXPECT_FALSE((strong(DType::F32) * 2.0).is_weak());
}

TEST(Promotion, WeakValuesKeepFullPrecision) {
  Tensor x(std::vector<double>{1.0}, {1});
  EXPECT_DOUBLE_EQ((x * 0.1).item<double>(), 0.1);
  Tensor big(std::vector<int64_t>{0}, {1});
  EXPECT_EQ((big + (int64_t{1} << 40)).item<int64_t>(), int64_t{1} << 40);
}

TEST(Promotion, WeakIntegerMustFit) {
  EXPECT_ERROR(strong(DType::U8) + 300, "[frontend] add: scalar 300 does not fit u8");
  EXPECT_ERROR(strong(DType::U8) + -1, "scalar -1 does not fit u8");
}

TEST(Promotion, MixedOperandsMeetInTheGraphAsConvert) {
  ir::Function f =
      trace([](Tensor a, Tensor b) { return a + b; }, {ty(DType::U8, {3}), ty(DType::I8, {3})});
  EXPECT_EQ(f.result_types()[0], ty(DType::I16, {3}));
  EXPECT_EQ(count_op(f, OpKind::Convert), 2);
  EXPECT_EQ(count_op(f, OpKind::Broadcast), 0);

  ir::Function g =
      trace([](Tensor a, Tensor b) { return a * b; }, {ty(DType::I32, {2}), ty(DType::F16, {2})});
  EXPECT_EQ(g.result_types()[0], ty(DType::F16, {2}));
  EXPECT_EQ(count_op(g, OpKind::Convert), 1);
}

TEST(Promotion, WeakScalarsBecomeConstantsOfTheTensorType) {
  ir::Function f = trace([](Tensor x) { return x * 2.0; }, {ty(DType::F16, {4})});
  EXPECT_EQ(count_op(f, OpKind::Convert), 0);
  ASSERT_EQ(count_op(f, OpKind::Constant), 1);
  for (const ir::Node& n : f.nodes()) {
    if (n.op == OpKind::Constant) {
      EXPECT_EQ(n.type, ty(DType::F16, {}));
    }
    if (n.op == OpKind::Broadcast) {
      EXPECT_EQ(n.type, ty(DType::F16, {4}));
    }
  }
  EXPECT_EQ(f.result_types()[0], ty(DType::F16, {4}));
}

TEST(Promotion, IntegerInputsToFloatFunctionsComputeInF32) {
  Tensor x = {1, 4, 9};
  Tensor r = sqrt(x);
  EXPECT_EQ(r.dtype(), DType::F32);
  test::expect_values(r, {1, 2, 3});
  EXPECT_EQ((x / 2).dtype(), DType::F32);
  test::expect_values(x / 2, {0.5, 2, 4.5});
  EXPECT_EQ(floor(x).dtype(), DType::I32);
  EXPECT_TRUE(floor(x).same_node(x));
}

TEST(Promotion, ResultTypeOfLists) {
  std::vector<Tensor> xs = {strong(DType::U8), strong(DType::I8), Tensor(1.5)};
  Promoted p = result_type(xs);
  EXPECT_EQ(p.dtype, DType::F32);
  EXPECT_TRUE(p.weak);  // the weak float outranks the strong integers
  EXPECT_EQ(concatenate({strong(DType::U8), strong(DType::I8)}).dtype(), DType::I16);
}

}  // namespace
}  // namespace kiln
