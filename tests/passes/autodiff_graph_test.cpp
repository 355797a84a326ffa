// The shape of what autodiff builds: signatures and names, errors for bad requests, grad and
// value_and_grad, higher order, and graphs that simplify stays small on.

#include "passes/simplify.h"
#include "tests/passes/autodiff_test_util.h"

namespace kiln::passes {
namespace {

using testing::check_derivatives;
using testing::parse_function;

const char* kSquareSum = R"(func @sq(%x: f64[8]) -> f64[] {
  %0 = mul %x, %x : f64[8]
  %1 = reduce_sum %0 {axes=[0]} : f64[]
  return %1
})";

const char* kMlp =
    R"(func @mlp(%x: f64[4,3], %w1: f64[3,5], %b1: f64[5], %w2: f64[5,2], %y: f64[4,2]) -> f64[] {
  %0 = dot_general %x, %w1 {lhs_contract=[1], rhs_contract=[0]} : f64[4,5]
  %1 = broadcast %b1 {shape=[4,5], dims=[1]} : f64[4,5]
  %2 = add %0, %1 : f64[4,5]
  %3 = constant {value=0.0} : f64[]
  %4 = broadcast %3 {shape=[4,5], dims=[]} : f64[4,5]
  %5 = max %2, %4 : f64[4,5]
  %6 = dot_general %5, %w2 {lhs_contract=[1], rhs_contract=[0]} : f64[4,2]
  %7 = sub %6, %y : f64[4,2]
  %8 = mul %7, %7 : f64[4,2]
  %9 = reduce_sum %8 {axes=[0,1]} : f64[]
  %10 = constant {value=0.125} : f64[]
  %11 = mul %9, %10 : f64[]
  return %11
})";

std::string param_names(const ir::Function& f) {
  std::string s;
  for (ir::Value p : f.params())
    s += f.node(p).param_name + " ";
  return s;
}

TEST(AutodiffGraph, Signatures) {
  ir::Function f =
      parse_function(R"(func @f(%x: f32[3], %n: i32[], %t_x: f32[2]) -> (f32[3], i32[], f32[]) {
  %0 = reduce_sum %t_x {axes=[0]} : f32[]
  return %x, %n, %0
})");
  ir::Function j = jvp(f);
  EXPECT_EQ(j.name(), "f_jvp");
  EXPECT_EQ(param_names(j), "x n t_x t_x_ t_t_x ");
  EXPECT_EQ(j.result_types().size(), 5u);  // y..., then tangents of the two float results
  ir::Function v = vjp(f);
  EXPECT_EQ(v.name(), "f_vjp");
  EXPECT_EQ(param_names(v), "x n t_x c0 c2 ");
  EXPECT_EQ(v.result_types().size(), 5u);  // y..., then cotangents of x and t_x
  std::vector<int> only_x{0};
  EXPECT_EQ(param_names(jvp(f, only_x)), "x n t_x t_x_ ");
  EXPECT_EQ(vjp(f, only_x).result_types().size(), 4u);
  ir::Function g = parse_function(kSquareSum);
  EXPECT_EQ(grad(g).name(), "sq_grad");
  EXPECT_EQ(value_and_grad(g).name(), "sq_value_and_grad");
  EXPECT_EQ(grad(g).result_types().size(), 1u);
  EXPECT_EQ(value_and_grad(g).result_types().size(), 2u);
}

TEST(AutodiffGraph, ZeroTangentsAndCotangents) {
  // A result that does not depend on the picked parameter gets a zero tangent; a picked
  // parameter that reaches no result gets a zero cotangent.
  ir::Function f = parse_function(R"(func @f(%x: f64[2], %u: f64[3]) -> (f64[2], f64[]) {
  %0 = constant {value=1.5} : f64[]
  return %x, %0
})");
  std::mt19937_64 rng(7);
  auto args = testing::random_point(f, rng);
  auto jargs = args;
  jargs.push_back(testing::random_like(f.param_types()[0], rng));
  jargs.push_back(testing::random_like(f.param_types()[1], rng));
  auto j = ir::interpret(jvp(f), jargs);
  EXPECT_EQ(j[2], jargs[2]);
  EXPECT_EQ(j[3].get_f64(0), 0.0);
  auto vargs = args;
  vargs.push_back(testing::random_like(f.result_types()[0], rng));
  vargs.push_back(testing::random_like(f.result_types()[1], rng));
  auto v = ir::interpret(vjp(f), vargs);
  EXPECT_EQ(v[2], vargs[2]);
  EXPECT_EQ(v[3], ir::HostArray(f.param_types()[1]));
}

void expect_error(const std::function<void()>& fn, const std::string& starts_with) {
  try {
    fn();
    ADD_FAILURE() << "expected an error starting with " << starts_with;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(starts_with, 0), 0u) << e.what();
  }
}

TEST(AutodiffGraph, BadWrt) {
  ir::Function f = parse_function(R"(func @f(%x: f64[2], %i: i32[2], %b: bool[]) -> f64[2] {
  return %x
})");
  std::vector<int> out_of_range{3}, negative{-1}, twice{0, 0}, integer{1}, boolean{2};
  expect_error([&] { jvp(f, out_of_range); }, "[jvp] @f: wrt index 3 is out of range");
  expect_error([&] { vjp(f, negative); }, "[vjp] @f: wrt index -1 is out of range");
  expect_error([&] { jvp(f, twice); }, "[jvp] @f: wrt lists parameter 0 twice");
  expect_error([&] { vjp(f, integer); }, "[vjp] @f: parameter 1 (%i: i32[2]) is not a float");
  expect_error([&] { jvp(f, boolean); }, "[jvp] @f: parameter 2 (%b: bool[]) is not a float");
  ir::Function g = parse_function(kSquareSum);
  std::vector<int> bad{1};
  expect_error([&] { grad(g, bad); }, "[grad] @sq: wrt index 1 is out of range");
}

TEST(AutodiffGraph, GradNeedsOneFloatScalar) {
  expect_error([] { grad(parse_function("func @f(%x: f64[2]) -> f64[2] {\n  return %x\n}")); },
               "[grad] @f: grad needs a scalar result, got f64[2]");
  expect_error(
      [] {
        value_and_grad(parse_function("func @f(%x: f64[], %i: i32[]) -> i32[] {\n  return %i\n}"));
      },
      "[grad] @f: grad needs a float result, got i32[]");
  expect_error(
      [] { grad(parse_function("func @f(%x: f64[]) -> (f64[], f64[]) {\n  return %x, %x\n}")); },
      "[grad] @f: grad needs a function with one result, got 2");
}

TEST(AutodiffGraph, CallsMustBeInlinedFirst) {
  ir::Module m = ir::parse_module(R"(func @sq(%x: f64[]) -> f64[] {
  %0 = mul %x, %x : f64[]
  return %0
}
func @f(%x: f64[]) -> f64[] {
  %0 = call @sq(%x) : f64[]
  return %0
})");
  expect_error([&] { jvp(m.functions[1]); }, "[jvp] call @sq: inline calls before differentiating");
  expect_error([&] { grad(m.functions[1]); },
               "[jvp] call @sq: inline calls before differentiating");
}

TEST(AutodiffGraph, GradAndValueAndGrad) {
  ir::Function f = parse_function(kMlp);
  std::mt19937_64 rng(11);
  auto args = testing::random_point(f, rng);
  auto g = ir::interpret(grad(f), args);
  auto vg = ir::interpret(value_and_grad(f), args);
  ASSERT_EQ(g.size(), 5u);
  ASSERT_EQ(vg.size(), 6u);
  EXPECT_EQ(vg[0], ir::interpret(f, args)[0]);
  // grad is vjp with a unit cotangent.
  auto vargs = args;
  ir::HostArray one({ir::DType::F64, {}});
  one.set_f64(0, 1.0);
  vargs.push_back(one);
  auto v = ir::interpret(vjp(f), vargs);
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_EQ(g[i], v[i + 1]);
    EXPECT_EQ(vg[i + 1], v[i + 1]);
  }
  std::vector<int> w{1, 3};
  auto gw = ir::interpret(grad(f, w), args);
  ASSERT_EQ(gw.size(), 2u);
  EXPECT_EQ(gw[0], g[1]);
  EXPECT_EQ(gw[1], g[3]);
  check_derivatives(f);
}

TEST(AutodiffGraph, GradOfGrad) {
  // Scalar functions of a scalar: grad(grad(f)) against a finite difference of grad(f).
  const char* functions[] = {R"(func @f(%x: f64[]) -> f64[] {
  %0 = sin %x : f64[]
  %1 = mul %0, %x : f64[]
  %2 = exp %1 : f64[]
  return %2
})",
                             R"(func @f(%x: f64[]) -> f64[] {
  %0 = tanh %x : f64[]
  %1 = logistic %x : f64[]
  %2 = div %0, %1 : f64[]
  %3 = mul %2, %2 : f64[]
  return %3
})",
                             R"(func @f(%x: f64[]) -> f64[] {
  %0 = broadcast %x {shape=[3], dims=[]} : f64[3]
  %1 = constant {value=[1.0, 2.0, 3.0]} : f64[3]
  %2 = mul %0, %1 : f64[3]
  %3 = sqrt %2 : f64[3]
  %4 = reduce_prod %3 {axes=[0]} : f64[]
  %5 = log %4 : f64[]
  return %5
})"};
  for (const char* text : functions) {
    ir::Function f = parse_function(text);
    ir::Function g = grad(f), gg = grad(g), ggg = grad(gg);
    for (double x : {0.7, 1.3}) {
      auto at = [&](const ir::Function& fn, double v) {
        ir::HostArray a({ir::DType::F64, {}});
        a.set_f64(0, v);
        std::vector<ir::HostArray> args{a};
        return ir::interpret(fn, args)[0].get_f64(0);
      };
      const double h = 1e-6;
      EXPECT_TRUE(testing::close(at(g, x), (at(f, x + h) - at(f, x - h)) / (2 * h)));
      EXPECT_TRUE(testing::close(at(gg, x), (at(g, x + h) - at(g, x - h)) / (2 * h)))
          << text << " at " << x << ": " << at(gg, x);
      EXPECT_TRUE(testing::close(at(ggg, x), (at(gg, x + h) - at(gg, x - h)) / (2 * h), 1e-5));
    }
  }
}

TEST(AutodiffGraph, SimplifiedGradOfSquareSumIsSmall) {
  ir::Function g = simplify(grad(parse_function(kSquareSum)));
  EXPECT_LE(g.num_nodes(), 6u) << ir::print(g);
  // x * 2, in some order.
  ir::Value r = g.results()[0];
  EXPECT_EQ(g.node(r).op, ir::OpKind::Mul) << ir::print(g);
}

TEST(AutodiffGraph, SimplifiedMlpGradStaysSmall) {
  ir::Function f = parse_function(kMlp);
  ir::Function g = simplify(grad(f));
  // 5 parameters, the forward pass up to the residual (9 nodes) and one op per backward step
  // (10): relu's mask is a select against the forward pass's own zero splat.
  EXPECT_LE(g.num_nodes(), 24u) << ir::print(g);
  std::mt19937_64 rng(5);
  auto args = testing::random_point(f, rng);
  auto want = ir::interpret(grad(f), args);
  auto got = ir::interpret(g, args);
  for (size_t i = 0; i < want.size(); ++i)
    testing::expect_close(got[i], want[i], "simplified gradient " + std::to_string(i));
}

}  // namespace
}  // namespace kiln::passes
