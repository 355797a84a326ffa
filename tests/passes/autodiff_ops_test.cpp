// Every differentiable op through jvp and vjp, first and second order, against finite
// differences on the interpreter (see autodiff_test_util.h). Each function is small and the
// random points keep away from kinks, zeros and poles.

#include <string>

#include "tests/passes/autodiff_test_util.h"

namespace kiln::passes {
namespace {

using testing::check_derivatives;
using testing::Domain;
using testing::parse_function;

constexpr Domain kPositive{.lo = 0.5, .hi = 1.5, .positive = true};

// func @NAME(%x: f64[3]) -> f64[3] { %0 = OP %x; %1 = mul %0, %x; return %0, %1 }: the op alone
// and under a product, so that second derivatives are not all zero.
std::string unary(std::string_view op) {
  return "func @" + std::string(op) +
         "(%x: f64[3]) -> (f64[3], f64[3]) {\n  %0 = " + std::string(op) +
         " %x : f64[3]\n  %1 = mul %0, %x : f64[3]\n  return %0, %1\n}\n";
}

std::string binary(std::string_view op) {
  return "func @" + std::string(op) +
         "(%a: f64[4], %b: f64[4]) -> f64[4] {\n  %0 = " + std::string(op) +
         " %a, %b : f64[4]\n  %1 = mul %0, %a : f64[4]\n  return %1\n}\n";
}

TEST(AutodiffOps, UnaryEverywhere) {
  for (const char* op : {"neg", "abs", "exp", "expm1", "sin", "cos", "tanh", "logistic", "erf"})
    check_derivatives(parse_function(unary(op)));
}

TEST(AutodiffOps, UnaryOnPositives) {
  for (const char* op : {"log", "log1p", "sqrt", "rsqrt"})
    check_derivatives(parse_function(unary(op)), kPositive);
}

// The math ops lowering writes out: on the interpreter their derivatives are JAX's rules
// (digamma's is trigamma, itself a graph whose derivative the second order checks).
TEST(AutodiffOps, InverseTrigonometricAndHyperbolic) {
  for (const char* op : {"tan", "atan", "sinh", "cosh", "asinh"})
    check_derivatives(parse_function(unary(op)));
  for (const char* op : {"asin", "acos", "atanh", "erf_inv"})
    check_derivatives(parse_function(unary(op)), {.lo = -0.8, .hi = 0.8});
  check_derivatives(parse_function(unary("acosh")), {.lo = 1.2, .hi = 3.0, .positive = true});
}

TEST(AutodiffOps, GammaFunctions) {
  // Positive arguments, small and past the recurrence's reach, and negative ones between
  // poles (the reflection).
  for (const char* op : {"lgamma", "digamma"}) {
    check_derivatives(parse_function(unary(op)), kPositive);
    check_derivatives(parse_function(unary(op)), {.lo = 9.5, .hi = 12.0, .positive = true});
    check_derivatives(parse_function(unary(op)), {.lo = -2.8, .hi = -2.2, .positive = true});
  }
}

// Indices in [0, 3) along an axis of 4 (the test points' integers), five per row so that
// some repeat: sums, products, the winner of set, and max/min without ties (random reals).
TEST(AutodiffOps, AlongAxis) {
  check_derivatives(parse_function(R"(func @take(%x: f64[3,4], %i: i32[3,5]) -> f64[3,5] {
  %0 = take_along_axis %x, %i {axis=1} : f64[3,5]
  %1 = mul %0, %0 : f64[3,5]
  return %1
})"));
  for (const char* mode : {"add", "set", "mul", "max", "min"}) {
    SCOPED_TRACE(mode);
    check_derivatives(parse_function(
        std::string(R"(func @scatter(%x: f64[3,4], %i: i32[3,5], %u: f64[3,5]) -> f64[3,4] {
  %0 = scatter_along_axis %x, %i, %u {axis=1, mode=")") +
        mode + R"("} : f64[3,4]
  %1 = mul %0, %x : f64[3,4]
  return %1
})"));
  }
}

TEST(AutodiffOps, Scans) {
  for (const char* op : {"cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"})
    for (const char* reverse : {"false", "true"}) {
      SCOPED_TRACE(std::string(op) + " reverse=" + reverse);
      const std::string name(op);
      check_derivatives(
          parse_function("func @f(%x: f64[3,4]) -> f64[3,4] {\n  %0 = " + name +
                         " %x {axis=1, reverse=" + reverse +
                         "} : f64[3,4]\n  %1 = mul %0, %x : f64[3,4]\n  return %1\n}\n"),
          kPositive);
    }
}

TEST(AutodiffOps, Atan2) {
  check_derivatives(parse_function(binary("atan2")), kPositive);
}

TEST(AutodiffOps, PiecewiseConstantOpsHaveZeroDerivative) {
  // floor, ceil, round and sign are locally constant: x * op(x) has derivative op(x).
  for (const char* op : {"floor", "ceil", "round", "sign"})
    check_derivatives(parse_function(unary(op)), {.lo = 0.6, .hi = 1.4});
}

TEST(AutodiffOps, Binary) {
  for (const char* op : {"add", "sub", "mul", "div", "max", "min"})
    check_derivatives(parse_function(binary(op)));
}

TEST(AutodiffOps, Rem) {
  // Kinks of rem sit where a / b is an integer: a' = 0.6 a + 1.9 in [2.2, 2.8] over
  // b' = 0.05 b + 0.975 in [1, 1.05] keeps the quotient within (2, 3); -a' checks the
  // dividend's sign.
  check_derivatives(parse_function(R"(func @rem(%a: f64[4], %b: f64[4]) -> (f64[4], f64[4]) {
  %0 = constant {value=0.6} : f64[]
  %1 = broadcast %0 {shape=[4], dims=[]} : f64[4]
  %2 = constant {value=1.9} : f64[]
  %3 = broadcast %2 {shape=[4], dims=[]} : f64[4]
  %4 = mul %a, %1 : f64[4]
  %5 = add %4, %3 : f64[4]
  %6 = constant {value=0.05} : f64[]
  %7 = broadcast %6 {shape=[4], dims=[]} : f64[4]
  %8 = constant {value=0.975} : f64[]
  %9 = broadcast %8 {shape=[4], dims=[]} : f64[4]
  %10 = mul %b, %7 : f64[4]
  %11 = add %10, %9 : f64[4]
  %12 = rem %5, %11 : f64[4]
  %13 = mul %12, %5 : f64[4]
  %14 = neg %5 : f64[4]
  %15 = rem %14, %11 : f64[4]
  %16 = mul %15, %11 : f64[4]
  return %13, %16
})"),
                    kPositive);
}

TEST(AutodiffOps, Pow) {
  check_derivatives(parse_function(binary("pow")), kPositive);
}

TEST(AutodiffOps, PowAtZero) {
  // As JAX: d/dx x^2 and d/dx x^0 are 0 at x = 0 (not NaN), and d/dy 0^y is 0.
  ir::Function f = parse_function(R"(func @p(%x: f64[2], %y: f64[2]) -> f64[2] {
  %0 = pow %x, %y : f64[2]
  return %0
})");
  ir::Function g = jvp(f);
  ir::HostArray x({ir::DType::F64, {2}}), y = x, tx = x, ty = x;
  y.set_f64(0, 2.0);  // y = [2, 0]
  tx.set_f64(0, 1.0);
  tx.set_f64(1, 1.0);
  ty.set_f64(0, 1.0);
  ty.set_f64(1, 1.0);
  std::vector<ir::HostArray> args{x, y, tx, ty};
  auto out = ir::interpret(g, args);
  EXPECT_EQ(out[1].get_f64(0), 0.0);
  EXPECT_EQ(out[1].get_f64(1), 0.0);
  ir::Function h = grad(parse_function(R"(func @p(%x: f64[]) -> f64[] {
  %0 = constant {value=2.0} : f64[]
  %1 = pow %x, %0 : f64[]
  return %1
})"));
  ir::HostArray zero({ir::DType::F64, {}});
  std::vector<ir::HostArray> hargs{zero};
  EXPECT_EQ(ir::interpret(h, hargs)[0].get_f64(0), 0.0);
}

TEST(AutodiffOps, SelectAndCompare) {
  // The predicate has no derivative; either branch may carry a tangent or not.
  check_derivatives(parse_function(R"(func @sel(%a: f64[5], %b: f64[5]) -> (f64[5], f64[5]) {
  %0 = gt %a, %b : bool[5]
  %1 = mul %a, %b : f64[5]
  %2 = select %0, %1, %a : f64[5]
  %3 = constant {value=1.5} : f64[]
  %4 = broadcast %3 {shape=[5], dims=[]} : f64[5]
  %5 = select %0, %4, %b : f64[5]
  %6 = mul %5, %a : f64[5]
  return %2, %6
})"));
}

TEST(AutodiffOps, Convert) {
  // int -> float and float -> int carry no tangent; an integer parameter is never picked.
  check_derivatives(parse_function(R"(func @cvt(%x: f64[4], %i: i32[4]) -> (f64[4], i32[4]) {
  %0 = convert %i : f64[4]
  %1 = mul %x, %0 : f64[4]
  %2 = convert %x : i32[4]
  %3 = convert %2 : f64[4]
  %4 = add %1, %3 : f64[4]
  %5 = mul %4, %x : f64[4]
  return %5, %2
})"),
                    {.lo = 1.2, .hi = 1.8});
}

TEST(AutodiffOps, ConvertBetweenFloats) {
  // f64 -> f32 -> f64 rounds, so finite differences are too coarse: compare with 2 x t.
  ir::Function f = parse_function(R"(func @cvt(%x: f64[3]) -> f64[3] {
  %0 = mul %x, %x : f64[3]
  %1 = convert %0 : f32[3]
  %2 = convert %1 : f64[3]
  return %2
})");
  ir::Function g = jvp(f);
  std::mt19937_64 rng(3);
  auto args = testing::random_point(f, rng);
  ir::HostArray t = testing::random_like(f.param_types()[0], rng);
  args.push_back(t);
  auto out = ir::interpret(g, args);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(testing::close(out[1].get_f64(i), 2 * args[0].get_f64(i) * t.get_f64(i), 1e-6));
  ir::Function v = vjp(f);
  args.back() = t;  // as the cotangent
  out = ir::interpret(v, args);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(testing::close(out[1].get_f64(i), 2 * args[0].get_f64(i) * t.get_f64(i), 1e-6));
}

TEST(AutodiffOps, StopGradient) {
  // d/dx [x * stop_gradient(x)] = stop_gradient(x): the value x, not 2x.
  ir::Function f = parse_function(R"(func @sg(%x: f64[3]) -> f64[3] {
  %0 = stop_gradient %x : f64[3]
  %1 = mul %x, %0 : f64[3]
  return %1
})");
  std::mt19937_64 rng(4);
  auto args = testing::random_point(f, rng);
  ir::HostArray t = testing::random_like(f.param_types()[0], rng);
  args.push_back(t);
  auto j = ir::interpret(jvp(f), args);
  auto v = ir::interpret(vjp(f), args);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(j[1].get_f64(i), args[0].get_f64(i) * t.get_f64(i));
    EXPECT_DOUBLE_EQ(v[1].get_f64(i), args[0].get_f64(i) * t.get_f64(i));
  }
}

TEST(AutodiffOps, IndexMovement) {
  check_derivatives(
      parse_function(R"(func @move(%x: f64[2,3], %s: f64[1,3]) -> (f64[3,2], f64[6], f64[2,4,3]) {
  %0 = transpose %x {perm=[1,0]} : f64[3,2]
  %1 = mul %0, %0 : f64[3,2]
  %2 = reshape %x {shape=[6]} : f64[6]
  %3 = exp %2 : f64[6]
  %4 = broadcast %s {shape=[2,4,3], dims=[0,2]} : f64[2,4,3]
  %5 = broadcast %x {shape=[2,4,3], dims=[0,2]} : f64[2,4,3]
  %6 = mul %4, %5 : f64[2,4,3]
  return %1, %3, %6
})"));
}

TEST(AutodiffOps, SliceAndPad) {
  check_derivatives(
      parse_function(R"(func @sp(%x: f64[5,4], %v: f64[]) -> (f64[2,2], f64[7,9], f64[0,4]) {
  %0 = slice %x {start=[1,0], limit=[5,3], stride=[2,2]} : f64[2,2]
  %1 = mul %0, %0 : f64[2,2]
  %2 = slice %x {start=[0,1], limit=[3,4]} : f64[3,3]
  %3 = pad %2, %v {low=[1,0], high=[2,1], interior=[1,2]} : f64[8,8]
  %4 = pad %x, %v {low=[1,2], high=[1,3], interior=[0,0]} : f64[7,9]
  %5 = mul %4, %4 : f64[7,9]
  %6 = slice %3 {start=[0,0], limit=[7,8]} : f64[7,8]
  %7 = reduce_sum %6 {axes=[1]} : f64[7]
  %8 = broadcast %7 {shape=[7,9], dims=[0]} : f64[7,9]
  %9 = mul %5, %8 : f64[7,9]
  %10 = slice %x {start=[2,0], limit=[2,4]} : f64[0,4]
  return %1, %9, %10
})"));
  // A pad whose value is a constant and whose operand carries the tangent, and the other way.
  check_derivatives(parse_function(R"(func @pv(%x: f64[3], %v: f64[]) -> (f64[5], f64[6]) {
  %0 = constant {value=0.5} : f64[]
  %1 = pad %x, %0 {low=[1], high=[1], interior=[0]} : f64[5]
  %2 = mul %1, %1 : f64[5]
  %3 = constant {value=[1.0, 2.0]} : f64[2]
  %4 = pad %3, %v {low=[1], high=[2], interior=[1]} : f64[6]
  %5 = mul %4, %4 : f64[6]
  return %2, %5
})"));
}

TEST(AutodiffOps, Concatenate) {
  check_derivatives(parse_function(R"(func @cat(%a: f64[2,2], %b: f64[2,3]) -> f64[2,7] {
  %0 = constant {value=1.0} : f64[]
  %1 = broadcast %0 {shape=[2,2], dims=[]} : f64[2,2]
  %2 = concatenate %a, %1, %b {axis=1} : f64[2,7]
  %3 = mul %2, %2 : f64[2,7]
  return %3
})"));
}

TEST(AutodiffOps, Reductions) {
  check_derivatives(
      parse_function(R"(func @red(%x: f64[3,4]) -> (f64[3], f64[4], f64[], f64[4], f64[3]) {
  %0 = reduce_sum %x {axes=[1]} : f64[3]
  %1 = mul %0, %0 : f64[3]
  %2 = reduce_max %x {axes=[0]} : f64[4]
  %3 = mul %2, %2 : f64[4]
  %4 = reduce_min %x {axes=[0,1]} : f64[]
  %5 = mul %4, %4 : f64[]
  %6 = reduce_prod %x {axes=[0]} : f64[4]
  %7 = reduce_prod %x {axes=[1]} : f64[3]
  %8 = mul %7, %0 : f64[3]
  return %1, %3, %5, %6, %8
})"));
}

TEST(AutodiffOps, ReduceMaxTiesShareTheTangent) {
  // As JAX: the tangents at the tied maxima are averaged.
  ir::Function f = parse_function(R"(func @m(%x: f64[3]) -> f64[] {
  %0 = reduce_max %x {axes=[0]} : f64[]
  return %0
})");
  ir::HostArray x({ir::DType::F64, {3}}), t = x;
  x.set_f64(0, 2.0);
  x.set_f64(1, 1.0);
  x.set_f64(2, 2.0);
  t.set_f64(0, 1.0);
  t.set_f64(2, 3.0);
  std::vector<ir::HostArray> args{x, t};
  EXPECT_EQ(ir::interpret(jvp(f), args)[1].get_f64(0), 2.0);
  std::vector<ir::HostArray> gargs{x};
  ir::HostArray g = ir::interpret(grad(f), gargs)[0];
  EXPECT_EQ(g.get_f64(0), 0.5);
  EXPECT_EQ(g.get_f64(1), 0.0);
  EXPECT_EQ(g.get_f64(2), 0.5);
}

TEST(AutodiffOps, DotGeneral) {
  // A matmul, a batched product contracting two dims in swapped order, and a vector dot.
  check_derivatives(parse_function(
      R"(func @dot(%a: f64[2,3], %b: f64[3,4], %p: f64[2,3,2,4], %q: f64[4,3,2,5]) -> (f64[2,4], f64[2,3,5], f64[]) {
  %0 = dot_general %a, %b {lhs_contract=[1], rhs_contract=[0]} : f64[2,4]
  %1 = mul %0, %0 : f64[2,4]
  %2 = dot_general %p, %q {lhs_batch=[2], rhs_batch=[2], lhs_contract=[3,1], rhs_contract=[0,1]} : f64[2,2,5]
  %3 = slice %2 {start=[0,0,0], limit=[2,2,5]} : f64[2,2,5]
  %4 = dot_general %q, %p {lhs_batch=[2,0], rhs_batch=[0,3], lhs_contract=[1], rhs_contract=[1]} : f64[2,4,5,2]
  %5 = reduce_sum %4 {axes=[1,3]} : f64[2,5]
  %6 = broadcast %5 {shape=[2,3,5], dims=[0,2]} : f64[2,3,5]
  %7 = reshape %a {shape=[6]} : f64[6]
  %8 = dot_general %7, %7 {lhs_contract=[0], rhs_contract=[0]} : f64[]
  %9 = reduce_sum %3 {axes=[0]} : f64[2,5]
  %10 = broadcast %9 {shape=[2,3,5], dims=[0,2]} : f64[2,3,5]
  %11 = mul %6, %10 : f64[2,3,5]
  return %1, %11, %8
})"));
}

TEST(AutodiffOps, TakeAndScatterAddWithIntegerIndices) {
  // Indices in [0, 3) with repeats; the integer parameter is never differentiated.
  check_derivatives(parse_function(
      R"(func @gather(%x: f64[3,4], %i: i32[5], %u: f64[3,5]) -> (f64[5,4], f64[3,4]) {
  %0 = take %x, %i {axis=0} : f64[5,4]
  %1 = mul %0, %0 : f64[5,4]
  %2 = scatter_add %x, %i, %u {axis=1} : f64[3,4]
  %3 = mul %2, %x : f64[3,4]
  return %1, %3
})"));
  // scatter_add with only the updates or only the operand differentiated.
  check_derivatives(
      parse_function(
          R"(func @scatter(%u: f64[2,3], %i: i32[2,3], %x: f64[4]) -> (f64[4], f64[2,4]) {
  %0 = constant {value=1.0} : f64[]
  %1 = broadcast %0 {shape=[4], dims=[]} : f64[4]
  %2 = reshape %u {shape=[6]} : f64[6]
  %3 = reshape %i {shape=[6]} : i32[6]
  %4 = scatter_add %1, %3, %2 {axis=0} : f64[4]
  %5 = mul %4, %4 : f64[4]
  %6 = constant {value=[2.0, 3.0, 4.0]} : f64[3]
  %7 = broadcast %6 {shape=[2,3], dims=[1]} : f64[2,3]
  %8 = take %x, %i {axis=0} : f64[2,3]
  %9 = broadcast %x {shape=[2,4], dims=[1]} : f64[2,4]
  %10 = slice %3 {start=[0], limit=[3]} : i32[3]
  %11 = scatter_add %9, %10, %7 {axis=1} : f64[2,4]
  %12 = mul %11, %11 : f64[2,4]
  return %5, %12
})"),
      {.int_hi = 4});
}

TEST(AutodiffOps, IntegerValuesCarryNoTangent) {
  // argmax, iota and integer arithmetic feed a gather: only x's own path is differentiated.
  check_derivatives(parse_function(R"(func @ints(%x: f64[3,4], %k: i32[]) -> (f64[3], i32[3]) {
  %0 = argmax %x {axis=1} : i32[3]
  %1 = iota {axis=0} : i32[3]
  %2 = broadcast %k {shape=[3], dims=[]} : i32[3]
  %3 = add %1, %2 : i32[3]
  %4 = argmin %x {axis=1} : i32[3]
  %5 = add %0, %4 : i32[3]
  %6 = take %x, %0 {axis=1} : f64[3,3]
  %7 = reduce_sum %6 {axes=[1]} : f64[3]
  %8 = convert %3 : f64[3]
  %9 = mul %7, %8 : f64[3]
  return %9, %5
})"));
}

TEST(AutodiffOps, BoolOpsAndComparesCarryNoTangent) {
  check_derivatives(parse_function(R"(func @masks(%a: f64[4], %b: f64[4]) -> (f64[4], bool[4]) {
  %0 = lt %a, %b : bool[4]
  %1 = le %b, %a : bool[4]
  %2 = eq %a, %b : bool[4]
  %3 = ne %a, %b : bool[4]
  %4 = not %0 : bool[4]
  %5 = and %4, %3 : bool[4]
  %6 = or %5, %2 : bool[4]
  %7 = xor %6, %1 : bool[4]
  %8 = mul %a, %b : f64[4]
  %9 = select %7, %8, %b : f64[4]
  %10 = ge %a, %b : bool[4]
  %11 = select %6, %9, %a : f64[4]
  %12 = max %0, %10 : bool[4]
  return %11, %12
})"));
}

TEST(AutodiffOps, MultipleResultsAndUnusedParameters) {
  check_derivatives(parse_function(
      R"(func @multi(%x: f64[3], %unused: f64[2], %y: f64[]) -> (f64[3], f64[], f64[3], f64[]) {
  %0 = broadcast %y {shape=[3], dims=[]} : f64[3]
  %1 = mul %x, %0 : f64[3]
  %2 = reduce_sum %1 {axes=[0]} : f64[]
  %3 = constant {value=2.0} : f64[]
  return %1, %2, %x, %3
})"));
  // One value returned twice: its cotangents add up.
  check_derivatives(parse_function(R"(func @twice(%x: f64[2]) -> (f64[2], f64[2], f64[2]) {
  %0 = sin %x : f64[2]
  return %0, %x, %0
})"));
}

TEST(AutodiffOps, Softmax) {
  check_derivatives(parse_function(R"(func @softmax(%x: f64[2,3]) -> f64[2,3] {
  %0 = reduce_max %x {axes=[1]} : f64[2]
  %1 = broadcast %0 {shape=[2,3], dims=[0]} : f64[2,3]
  %2 = sub %x, %1 : f64[2,3]
  %3 = exp %2 : f64[2,3]
  %4 = reduce_sum %3 {axes=[1]} : f64[2]
  %5 = broadcast %4 {shape=[2,3], dims=[0]} : f64[2,3]
  %6 = div %3, %5 : f64[2,3]
  return %6
})"));
}

TEST(AutodiffOps, LayerNorm) {
  // Reductions broadcast back over the rows they came from, and a broadcast parameter.
  check_derivatives(parse_function(R"(func @ln(%x: f64[2,4], %g: f64[4]) -> f64[2,4] {
  %0 = reduce_sum %x {axes=[1]} : f64[2]
  %1 = constant {value=0.25} : f64[]
  %2 = broadcast %1 {shape=[2], dims=[]} : f64[2]
  %3 = mul %0, %2 : f64[2]
  %4 = broadcast %3 {shape=[2,4], dims=[0]} : f64[2,4]
  %5 = sub %x, %4 : f64[2,4]
  %6 = mul %5, %5 : f64[2,4]
  %7 = reduce_sum %6 {axes=[1]} : f64[2]
  %8 = mul %7, %2 : f64[2]
  %9 = rsqrt %8 : f64[2]
  %10 = broadcast %9 {shape=[2,4], dims=[0]} : f64[2,4]
  %11 = mul %5, %10 : f64[2,4]
  %12 = broadcast %g {shape=[2,4], dims=[1]} : f64[2,4]
  %13 = mul %11, %12 : f64[2,4]
  return %13
})"));
}

}  // namespace
}  // namespace kiln::passes
