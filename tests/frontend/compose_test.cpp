// kiln::compile composed with the transforms and with itself, both ways round, each checked
// against the same composition without compile.

#include <gtest/gtest.h>

#include "frontend/kiln.h"
#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::values;

Tensor layer(Tensor w, Tensor x) {
  return sum(tanh(matmul(x, w)) * 0.5 + exp(sum(x, 1, true) * 0.1));
}

Tensor weights() {
  return Tensor({{0.1f, -0.4f}, {0.3f, 0.2f}, {-0.5f, 0.6f}});  // 3x2
}

Tensor inputs() {
  return Tensor({{1.0f, 2.0f, -1.0f}, {0.5f, -0.25f, 3.0f}});  // 2x3
}

void expect_same(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type(), want[i].type()) << "result " << i;
    test::expect_near(values(got[i]), values(want[i]), 1e-5);
  }
}

TEST(CompileComposition, GradOfCompiled) {
  auto compiled = compile(layer);
  expect_same(grad(compiled, {0, 1})(weights(), inputs()),
              grad(layer, {0, 1})(weights(), inputs()));
  // Traced through, not compiled: the compiled function never ran on tracers.
  EXPECT_EQ(compiled.num_compilations(), 0u);
}

TEST(CompileComposition, CompiledGradAndCompiledGradOfCompiled) {
  auto plain = grad(layer);
  auto outer = compile(grad(layer));
  auto both = compile(grad(compile(layer)));
  expect_same(outer(weights(), inputs()), plain(weights(), inputs()));
  expect_same(both(weights(), inputs()), plain(weights(), inputs()));
  EXPECT_EQ(both.num_compilations(), 1u);
}

TEST(CompileComposition, VmapOfCompiledAndCompiledVmap) {
  auto per_row = [](Tensor w, Tensor x) { return sum(tanh(matmul(x.reshape({1, 3}), w))); };
  auto plain = vmap(per_row, {std::nullopt, 0});
  expect_same(vmap(compile(per_row), {std::nullopt, 0})(weights(), inputs()),
              plain(weights(), inputs()));
  expect_same(compile(vmap(per_row, {std::nullopt, 0}))(weights(), inputs()),
              plain(weights(), inputs()));
}

TEST(CompileComposition, JvpVjpAndCheckpointOfCompiled) {
  auto compiled = compile(layer);
  const Tensor dw = full({3, 2}, 0.5f), dx = zeros({2, 3});
  auto [y, dy] = jvp(compiled, {weights(), inputs()}, {dw, dx});
  auto [y_want, dy_want] = jvp(layer, {weights(), inputs()}, {dw, dx});
  expect_same(y, y_want);
  expect_same(dy, dy_want);
  VjpResult got = vjp(compiled, {weights(), inputs()});
  VjpResult want = vjp(layer, {weights(), inputs()});
  expect_same(got.outputs, want.outputs);
  expect_same(got.pullback(Tensor(1.0f)), want.pullback(Tensor(1.0f)));
  expect_same(grad(checkpoint(compiled))(weights(), inputs()), grad(layer)(weights(), inputs()));
}

TEST(CompileComposition, CompiledInsideCompiled) {
  auto inner = compile([](Tensor x) { return exp(x) * 2.0; });
  auto outer = compile([&](Tensor x) { return inner(x + 1.0)[0] - 1.0; });
  expect_same(outer(inputs()), {exp(inputs() + 1.0) * 2.0 - 1.0});
  EXPECT_EQ(inner.num_compilations(), 0u);
  // Called on data, the inner function still runs its own compiled code.
  expect_same(inner(inputs()), {exp(inputs()) * 2.0});
  EXPECT_EQ(inner.num_compilations(), 1u);
}

// A compiled function that closes over a tracer of the enclosing transform: its inputs are
// data, but what it closes over is not, so it is traced through as well.
TEST(CompileComposition, CompiledClosingOverATracer) {
  auto outer = [](Tensor w, Tensor x) {
    auto uses_w = compile([&](Tensor xs) { return layer(w, xs); });
    return uses_w(x)[0];
  };
  expect_same(grad(outer)(weights(), inputs()), grad(layer)(weights(), inputs()));
}

}  // namespace
}  // namespace kiln
