// Tensor trees (frontend/tree.h): maps as results, and functions taking maps, tuples, pairs,
// arrays and vectors of tensors through compile and the transforms, compared with the same
// function called directly.

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;
using test::ty;
using test::values;
using Params = std::map<std::string, Tensor>;

// What the traits decide, at compile time.
auto map_loss = [](const Params& p, Tensor x) { return sum(matmul(x, p.at("w")) + p.at("b")); };
static_assert(detail::is_tensor_tree<std::map<std::string, Tensor>>);
static_assert(
    detail::is_tensor_tree<std::tuple<Tensor, std::map<std::string, std::vector<Tensor>>>>);
static_assert(!detail::is_tensor_tree<std::map<std::string, float>>);
static_assert(!detail::is_tensor_tree<std::map<int, Tensor>>);
static_assert(detail::TakesTrees<decltype(map_loss)>);
static_assert(detail::TakesTrees<void (*)(std::pair<Tensor, std::array<Tensor, 2>>)>);
static_assert(detail::TakesTrees<void (*)(const std::vector<Tensor>&, Tensor)>);
// One Tensor per input, and the lone vector, keep their flat meaning.
static_assert(!detail::TakesTrees<void (*)(Tensor, const Tensor&)>);
static_assert(!detail::TakesTrees<void (*)(const std::vector<Tensor>&)>);
// Leaves are Tensors: a number parameter is no input.
static_assert(!detail::TakesTrees<void (*)(const Params&, float)>);

Params some_params() {
  return {{"w", Tensor({{1.0, -2.0}, {0.5, 3.0}}, DType::F64)},
          {"b", Tensor({0.25, -1.0}, DType::F64)}};
}
Tensor some_input() {
  return Tensor({{2.0, 1.0}, {-1.0, 4.0}, {0.5, 0.5}}, DType::F64);
}

TEST(Tree, FlattensInKeyOrderAndRebuilds) {
  const Params p = some_params();
  std::vector<Tensor> leaves;
  const TreeDef def = flatten_tree(std::tuple(p, std::vector<Tensor>{p.at("b")}), leaves);
  ASSERT_EQ(leaves.size(), 3u);
  expect_values(leaves[0], values(p.at("b")));  // "b" sorts before "w"
  expect_values(leaves[1], values(p.at("w")));
  EXPECT_EQ(def.str(), "({'b': *, 'w': *}, [*])");
  EXPECT_EQ(def.num_leaves(), 3u);

  std::vector<Tensor> other;
  EXPECT_NE(flatten_tree(Params{{"a", p.at("b")}, {"w", p.at("w")}}, other),
            flatten_tree(p, other));
  EXPECT_EQ(flatten_tree(std::array<Tensor, 1>{p.at("b")}, other).str(), "[*]");
  EXPECT_EQ(flatten_tree(std::pair(p.at("b"), p.at("w")), other).str(), "(*, *)");

  const Params rebuilt = unflatten_like(p, std::vector<Tensor>{leaves[1], leaves[0]});
  expect_values(rebuilt.at("b"), values(p.at("w")));
  expect_values(rebuilt.at("w"), values(p.at("b")));
  EXPECT_ERROR(unflatten_like(p, std::vector<Tensor>{leaves[0]}),
               "[frontend] unflatten_like: got 1 tensors for a tree of 2: {'b': *, 'w': *}");
}

TEST(Tree, MapResultsFlattenInKeyOrder) {
  auto f = [](Tensor x) {
    return std::map<std::string, Tensor>{{"twice", x * 2}, {"exp", exp(x)}, {"neg", -x}};
  };
  ir::Function traced = trace(f, {ty(DType::F32, {2})});
  ASSERT_EQ(traced.results().size(), 3u);
  EXPECT_EQ(traced.node(traced.results()[0]).op, ir::OpKind::Exp);  // exp < neg < twice
  EXPECT_EQ(traced.node(traced.results()[2]).op, ir::OpKind::Mul);
  Tensor x = Tensor({1.0, 2.0}, DType::F64);
  std::vector<Tensor> out = compile(f)(x);
  ASSERT_EQ(out.size(), 3u);
  expect_values(out[0], values(exp(x)));
  expect_values(out[1], {-1.0, -2.0});
  expect_values(out[2], {2.0, 4.0});
  // A map as has_aux's aux.
  auto [grads, aux] = grad(
      [](Tensor v) {
        return std::pair(sum(v * v), std::map<std::string, Tensor>{{"v", v}});
      },
      has_aux)(x);
  expect_values(grads[0], {2.0, 4.0});
  expect_values(aux[0], {1.0, 2.0});
}

TEST(Tree, CompileTakesAMapAndATensor) {
  const Params p = some_params();
  const Tensor x = some_input();
  auto step = compile(map_loss);
  expect_values(step(p, x)[0], values(map_loss(p, x)));
  EXPECT_EQ(step.num_compilations(), 1u);
  expect_values(step(p, x * 2.0)[0], values(map_loss(p, x * 2.0)));
  EXPECT_EQ(step.num_compilations(), 1u);  // same structure and types: the same executable
}

// The structure is part of the cache key: other keys with leaves of the same types compile
// again, and each runs its own code.
TEST(Tree, DifferentMapKeysCompileSeparately) {
  auto first_minus_second = [](const Params& p) {
    return p.begin()->second - std::next(p.begin())->second;
  };
  auto f = compile(first_minus_second);
  const Tensor a = Tensor({1.0f, 2.0f}), b = Tensor({10.0f, 20.0f});
  const Params ab = {{"a", a}, {"b", b}}, ba = {{"a", b}, {"b", a}}, xy = {{"x", a}, {"y", b}};
  expect_values(f(ab)[0], {-9, -18});
  expect_values(f(xy)[0], {-9, -18});
  EXPECT_EQ(f.num_compilations(), 2u);
  expect_values(f(ba)[0], {9, 18});
  EXPECT_EQ(f.num_compilations(), 2u);
  // A key that picks another entry: the compiled code must not be the one for {a, b}.
  auto by_name = compile([](const Params& p) { return p.count("a") ? p.at("a") : -p.at("z"); });
  expect_values(by_name(Params{{"a", a}})[0], {1, 2});
  expect_values(by_name(Params{{"z", a}})[0], {-1, -2});
  EXPECT_EQ(by_name.num_compilations(), 2u);
}

TEST(Tree, CompileTakesTuplesArraysPairsAndVectors) {
  auto f = [](const std::tuple<Tensor, std::array<Tensor, 2>>& t,
              const std::pair<std::vector<Tensor>, Tensor>& p) {
    Tensor total = std::get<0>(t) * std::get<1>(t)[0] - std::get<1>(t)[1];
    for (const Tensor& v : p.first)
      total = total + v;
    return std::tuple(total, p.second * 2.0f);
  };
  const Tensor a = Tensor({1.0f, 2.0f}), b = Tensor({3.0f, 4.0f}), c = Tensor({0.5f, 0.25f});
  const auto t = std::tuple(a, std::array<Tensor, 2>{b, c});
  auto compiled = compile(f);
  for (const std::vector<Tensor>& vs : {std::vector<Tensor>{a}, std::vector<Tensor>{a, b, c}}) {
    const auto p = std::pair(vs, c);
    std::vector<Tensor> got = compiled(t, p);
    auto [want_total, want_twice] = f(t, p);
    expect_values(got[0], values(want_total));
    expect_values(got[1], values(want_twice));
  }
  EXPECT_EQ(compiled.num_compilations(), 2u);  // one per vector length
}

TEST(Tree, GradWithRespectToAMap) {
  const Params p = some_params();
  const Tensor x = some_input();
  std::vector<Tensor> g = grad(map_loss)(p, x);
  ASSERT_EQ(g.size(), 2u);
  // The same gradients as the function of flat tensors, in key order (b, w).
  std::vector<Tensor> flat = grad(
      [&](Tensor b, Tensor w) {
        return map_loss({{"b", b}, {"w", w}}, x);
      },
      {0, 1})(p.at("b"), p.at("w"));
  expect_values(g[0], values(flat[0]));
  expect_values(g[1], values(flat[1]));
  // unflatten_like gives them the parameters' structure, as JAX does.
  const Params dp = unflatten_like(p, g);
  expect_values(dp.at("w"), values(flat[1]));

  std::vector<Tensor> both = value_and_grad(map_loss, {0, 1})(p, x);
  ASSERT_EQ(both.size(), 4u);  // value, d/db, d/dw, d/dx
  expect_values(both[0], values(map_loss(p, x)));
  expect_values(both[3], values(grad(map_loss, {1})(p, x)[0]));
  const auto [dparams, dx] =
      unflatten_like(std::tuple(p, x), std::vector<Tensor>(both.begin() + 1, both.end()));
  expect_values(dparams.at("b"), values(flat[0]));
  expect_values(dx, values(both[3]));

  auto loss_aux = [](const Params& q, Tensor y) {
    Tensor z = matmul(y, q.at("w"));
    return std::pair(sum(z * z), std::map<std::string, Tensor>{{"z", z}});
  };
  auto [grads, aux] = grad(loss_aux, has_aux)(p, x);
  ASSERT_EQ(grads.size(), 2u);
  expect_values(grads[0], {0.0, 0.0});  // b is unused
  expect_values(aux[0], values(matmul(x, p.at("w"))));
  EXPECT_ERROR(grad(map_loss, {2})(p, x),
               "[frontend] grad: argnum 2 is out of range for 2 arguments");
}

TEST(Tree, CompiledGradAndGradOfCompiled) {
  const Params p = some_params();
  const Tensor x = some_input();
  const std::vector<Tensor> want = grad(map_loss)(p, x);
  auto step = compile(grad(map_loss));
  std::vector<Tensor> got = step(p, x);
  ASSERT_EQ(got.size(), 2u);
  expect_values(got[0], values(want[0]));
  expect_values(got[1], values(want[1]));
  std::vector<Tensor> through = grad(compile(map_loss))(p, x);
  expect_values(through[1], values(want[1]));
  std::vector<Tensor> remat = grad(checkpoint(map_loss))(p, x);
  expect_values(remat[1], values(want[1]));
}

TEST(Tree, VmapOverAMapArgument) {
  const Params p = some_params();
  const Tensor xs = Tensor({1.0, 2.0, 3.0, -1.0}, DType::F64).reshape({2, 1, 2});  // two 1x2 inputs
  std::vector<Tensor> per_example = vmap(map_loss, {std::nullopt, 0})(p, xs);
  ASSERT_EQ(per_example.size(), 1u);
  expect_values(per_example[0], {values(map_loss(p, xs[0]))[0], values(map_loss(p, xs[1]))[0]});
  // A batched map: every leaf on axis 0.
  auto scale = [](const Params& q) { return q.at("w") * q.at("b"); };
  const Params batched = {{"w", Tensor({{1.0, 2.0}, {3.0, 4.0}}, DType::F64)},
                          {"b", Tensor({10.0, -1.0}, DType::F64)}};
  expect_values(vmap(scale)(batched)[0], {10.0, 20.0, -3.0, -4.0});
  EXPECT_ERROR(vmap(map_loss, {0})(p, xs),
               "[frontend] vmap: in_axes has 1 entries for 2 arguments");
}

TEST(Tree, JvpAndVjpTakeTrees) {
  const Params p = some_params();
  const Tensor x = some_input();
  const Params tangent = {{"b", Tensor({1.0, 0.0}, DType::F64)},
                          {"w", Tensor({{0.0, 1.0}, {0.0, 0.0}}, DType::F64)}};
  const Tensor dx = zeros_like(x);
  auto [outs, tangents] = jvp(map_loss, {p, x}, {tangent, dx});
  auto [flat_outs, flat_tangents] = jvp(
      [&](Tensor b, Tensor w, Tensor y) {
        return map_loss({{"b", b}, {"w", w}}, y);
      },
      {p.at("b"), p.at("w"), x}, {tangent.at("b"), tangent.at("w"), dx});
  expect_values(outs[0], values(flat_outs[0]));
  expect_values(tangents[0], values(flat_tangents[0]));
  // The tangents must have the primals' structure.
  const Params wrong_keys = {{"b", tangent.at("b")}, {"v", tangent.at("w")}};
  const std::string message = test::error_of([&] { jvp(map_loss, {p, x}, {wrong_keys, dx}); });
  EXPECT_EQ(message.rfind("[frontend] jvp: ", 0), 0u) << message;
  EXPECT_NE(message.find("the tangents are ({'b': *, 'v': *}, *) but the primals are "
                         "({'b': *, 'w': *}, *)"),
            std::string::npos)
      << message;

  VjpResult r = vjp(map_loss, {p, x});
  std::vector<Tensor> cotangents = r.pullback(Tensor::scalar(1.0, DType::F64));
  ASSERT_EQ(cotangents.size(), 3u);  // b, w, x
  const std::vector<Tensor> want = grad(map_loss, {0, 1})(p, x);
  for (size_t i = 0; i < 3; ++i)
    expect_values(cotangents[i], values(want[i]));
}

// A map of parameters through compile, grad, unflatten_like and jvp, with values checked (the
// README's own snippet is compiled and run by tests/readme).
TEST(Tree, MapOfParametersEndToEnd) {
  const Tensor w = Tensor({{1.0f}, {2.0f}}), b = Tensor({0.5f}), x = Tensor({{3.0f, 4.0f}});
  const std::map<std::string, Tensor> params_tangent = {{"b", Tensor({1.0f})},
                                                        {"w", Tensor({{0.0f}, {0.0f}})}};
  const Tensor x_tangent = zeros_like(x);
  std::map<std::string, kiln::Tensor> params = {{"w", w}, {"b", b}};
  auto loss = [](const std::map<std::string, kiln::Tensor>& p, kiln::Tensor x) {
    return kiln::sum(kiln::matmul(x, p.at("w")) + p.at("b"));
  };
  auto step = kiln::compile(loss);
  std::vector<kiln::Tensor> y = step(params, x);
  std::vector<kiln::Tensor> flat = kiln::grad(loss)(params, x);  // {d/db, d/dw}: key order
  auto grads = kiln::unflatten_like(params, flat);               // a map: grads.at("w")
  auto [ys, tangents] = kiln::jvp(loss, {params, x}, {params_tangent, x_tangent});
  expect_values(y[0], {11.5});
  expect_values(flat[0], {1});
  expect_values(grads.at("w"), {3, 4});
  expect_values(ys[0], {11.5});
  expect_values(tangents[0], {1});
}

}  // namespace
}  // namespace kiln
