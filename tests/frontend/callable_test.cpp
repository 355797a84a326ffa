// The functions trace, compile and the transforms accept: generic lambdas, results in tuples,
// pairs, arrays and vectors (flattened in order), and has_aux for grad and value_and_grad.

#include <gtest/gtest.h>

#include <array>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;
using test::ty;

// What the traits decide, at compile time (what they refuse stops at a static_assert).
auto generic_pair = [](auto x, auto y) { return x * y; };
auto generic_any = [](auto... xs) { return (xs + ... + Tensor(0)); };
static_assert(detail::fixed_arity<decltype(generic_pair)>() == 2);
static_assert(!detail::fixed_arity<decltype(generic_any)>().has_value());
static_assert(!detail::takes_vector<decltype(generic_pair)>());
static_assert(detail::is_tensor_tree<std::tuple<Tensor, std::array<Tensor, 2>>>);
static_assert(detail::is_tensor_tree<std::pair<Tensor, std::vector<std::vector<Tensor>>>>);
static_assert(!detail::is_tensor_tree<std::vector<float>>);
static_assert(!detail::is_tensor_tree<std::string>);

TEST(Callable, TraceTakesGenericLambdas) {
  ir::Function f = trace(generic_pair, {ty(DType::F32, {3}), ty(DType::F32, {3})});
  EXPECT_EQ(f.params().size(), 2u);
  EXPECT_EQ(test::ops_of(f), (std::vector<ir::OpKind>{ir::OpKind::Mul}));
  ir::Function one = trace([](const auto& x) { return exp(x); }, {ty(DType::F32, {2})});
  EXPECT_EQ(test::ops_of(one), (std::vector<ir::OpKind>{ir::OpKind::Exp}));
  ir::Function three = trace(generic_any, std::vector<ir::TensorType>(3, ty(DType::I32, {})));
  EXPECT_EQ(three.params().size(), 3u);
  EXPECT_ERROR(trace(generic_pair, {ty(DType::F32, {3})}),
               "[frontend] trace: the function takes 2 tensors but 1 input types were given");
  EXPECT_ERROR(trace([](auto x) { return x; }, {}),
               "[frontend] trace: the function takes 1 tensors but 0 input types were given");
}

TEST(Callable, TraceFlattensTuplesPairsArraysAndVectors) {
  ir::Function f = trace(
      [](Tensor x) {
        return std::tuple(x + 1, std::pair(x * 2, std::array<Tensor, 2>{exp(x), log(x)}),
                          std::vector<Tensor>{tanh(x)});
      },
      {ty(DType::F32, {2})});
  ASSERT_EQ(f.results().size(), 5u);
  const std::vector<ir::OpKind> want = {ir::OpKind::Add, ir::OpKind::Mul, ir::OpKind::Exp,
                                        ir::OpKind::Log, ir::OpKind::Tanh};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(f.node(f.results()[i]).op, want[i]) << "result " << i;
}

TEST(Callable, CompileTakesGenericLambdasAndTupleResults) {
  auto f = compile([](auto x, auto y) { return std::pair(x + y, x * y); });
  std::vector<Tensor> out = f(Tensor({1.0f, 2.0f}), Tensor({3.0f, 4.0f}));
  ASSERT_EQ(out.size(), 2u);
  expect_values(out[0], {4, 6});
  expect_values(out[1], {3, 8});
  EXPECT_ERROR(f(Tensor({1.0f})),
               "[frontend] compile: the function takes 2 tensors but was called with 1");
  auto total = compile(generic_any);
  expect_values(total(Tensor({1, 2}), Tensor({3, 4}))[0], {4, 6});
  expect_values(total(Tensor({1}), Tensor({2}), Tensor({3}))[0], {6});
  auto rows = compile([](Tensor x) { return std::array<Tensor, 2>{x[0], x[1]}; });
  expect_values(rows(Tensor({{1, 2}, {3, 4}}))[1], {3, 4});
}

TEST(Callable, TransformsTakeGenericLambdasAndTupleResults) {
  Tensor x = Tensor({1.0, -2.0}, DType::F64);
  expect_values(grad([](auto v) { return sum(v * v); })(x)[0], {2.0, -4.0});
  auto [outs, tangents] = jvp([](auto v) { return std::pair(v * 3.0, sum(v)); }, {x}, {x});
  ASSERT_EQ(tangents.size(), 2u);
  expect_values(tangents[0], {3.0, -6.0});
  expect_values(tangents[1], {-1.0});
  VjpResult r = vjp([](auto v) { return std::tuple(v * 2.0, v * v); }, {x});
  ASSERT_EQ(r.outputs.size(), 2u);
  expect_values(r.pullback(Tensor({1.0, 1.0}, DType::F64), Tensor({1.0, 0.0}, DType::F64))[0],
                {4.0, 2.0});
  Tensor xs = Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
  std::vector<Tensor> mapped = vmap([](auto row) { return std::pair(sum(row), row * 2); })(xs);
  expect_values(mapped[0], {3, 7});
  expect_values(mapped[1], {2, 4, 6, 8});
  // Without has_aux a pair is two results, which grad refuses by name.
  EXPECT_ERROR(grad([](auto v) { return std::pair(sum(v), v); })(x),
               "[grad] @f: grad needs a function with one result, got 2");
}

// has_aux as in JAX: f returns (loss, aux); only the loss is differentiated.
TEST(Callable, GradWithAux) {
  Tensor w = Tensor({0.5, -1.5}, DType::F64), x = Tensor({2.0, 3.0}, DType::F64);
  auto loss = [](Tensor a, Tensor b) {
    Tensor y = a * b;
    return std::pair(sum(y * y), std::tuple(y, sum(a)));
  };
  auto [grads, aux] = grad(loss, has_aux)(w, x);
  ASSERT_EQ(grads.size(), 1u);
  expect_values(grads[0], {2 * 0.5 * 4, 2 * -1.5 * 9});  // d/da sum((ab)^2) = 2ab^2
  ASSERT_EQ(aux.size(), 2u);
  expect_values(aux[0], {1.0, -4.5});
  expect_values(aux[1], {-1.0});
  // The gradients are those of the loss alone.
  expect_values(
      grads[0],
      test::values(grad([&](Tensor a, Tensor b) { return std::get<0>(loss(a, b)); })(w, x)[0]));

  auto [both, aux2] = value_and_grad(loss, {0, 1}, has_aux)(w, x);
  ASSERT_EQ(both.size(), 3u);
  expect_values(both[0], {0.25 * 4 + 2.25 * 9});
  expect_values(both[2], {2 * 0.25 * 2, 2 * 2.25 * 3});  // d/db = 2a^2 b
  expect_values(aux2[0], {1.0, -4.5});
  // A generic loss with one aux tensor, inside compile.
  auto step = compile([&](Tensor a) {
    auto [g, extra] = grad([](auto v) { return std::pair(sum(v * v), v + 1.0); }, has_aux)(a);
    return std::pair(g[0], extra[0]);
  });
  std::vector<Tensor> out = step(w);
  expect_values(out[0], {1.0, -3.0});
  expect_values(out[1], {1.5, -0.5});
  EXPECT_ERROR(grad([](Tensor v) { return std::pair(v, v); }, has_aux)(x),
               "[grad] @f: grad needs a scalar result, got f64[2]");
}

// The loss of the README's has_aux example (which Readme.Transforms1 runs as written), here
// with its values checked.
TEST(Callable, HasAuxMatmulLoss) {
  Tensor w = Tensor({{1.0f}, {2.0f}}), x = Tensor({{3.0f, 4.0f}});
  auto loss_aux = [](Tensor w, Tensor x) {
    Tensor logits = kiln::matmul(x, w);
    return std::pair(kiln::sum(logits * logits), logits);  // (loss, aux)
  };
  auto [grads, aux] = kiln::grad(loss_aux, kiln::has_aux)(w, x);  // aux: {logits}
  auto [value_grads, aux2] = kiln::value_and_grad(loss_aux, {0, 1}, kiln::has_aux)(w, x);
  expect_values(aux[0], {11});
  expect_values(grads[0], {2 * 11 * 3, 2 * 11 * 4});
  expect_values(value_grads[0], {121});
  expect_values(value_grads[2], {2 * 11 * 1, 2 * 11 * 2});
  EXPECT_EQ(aux2.size(), 1u);
}

}  // namespace
}  // namespace kiln
