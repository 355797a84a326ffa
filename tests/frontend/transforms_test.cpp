// The frontend transforms (grad, value_and_grad, jvp, vjp, vmap, stop_gradient, custom_vjp,
// checkpoint): values against closed forms and finite differences, compositions to second
// order, closures over tracers, compile of a transform, an MLP that trains, and the errors.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "frontend/kiln.h"
#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::error_of;
using test::expect_near;
using test::expect_values;
using test::values;

Tensor random_tensor(Shape shape, uint64_t seed, DType dtype = DType::F64) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<double> data(static_cast<size_t>(n));
  for (double& v : data)
    v = dist(rng);
  return Tensor(data, std::move(shape), dtype);
}

// Central differences of a scalar function of one tensor, in f64.
std::vector<double> numeric_grad(const std::function<Tensor(Tensor)>& f, const Tensor& x) {
  std::vector<double> base = values(x), out;
  const double h = 1e-6;
  for (size_t i = 0; i < base.size(); ++i) {
    std::vector<double> plus = base, minus = base;
    plus[i] += h;
    minus[i] -= h;
    const double fp = f(Tensor(plus, x.shape(), x.dtype())).item<double>();
    const double fm = f(Tensor(minus, x.shape(), x.dtype())).item<double>();
    out.push_back((fp - fm) / (2 * h));
  }
  return out;
}

Tensor loss_of(Tensor w, Tensor x) {
  return sum(tanh(matmul(x, w)) * tanh(matmul(x, w)));
}

TEST(Grad, SumOfSquaresIsTwiceX) {
  Tensor x = Tensor({1.0, -2.0, 3.5}, DType::F64);
  auto g = grad([](Tensor v) { return sum(v * v); })(x);
  ASSERT_EQ(g.size(), 1u);
  expect_near(values(g[0]), {2.0, -4.0, 7.0});
}

TEST(Grad, MatchesFiniteDifferencesForEachArgnum) {
  Tensor w = random_tensor({4, 3}, 1), x = random_tensor({5, 4}, 2);
  auto g = grad(loss_of, {0, 1})(w, x);
  ASSERT_EQ(g.size(), 2u);
  expect_near(values(g[0]), numeric_grad([&](Tensor v) { return loss_of(v, x); }, w), 1e-6);
  expect_near(values(g[1]), numeric_grad([&](Tensor v) { return loss_of(w, v); }, x), 1e-6);
  // Negative argnums count from the end.
  expect_near(values(grad(loss_of, {-1})(w, x)[0]), values(g[1]), 1e-12);
}

TEST(Grad, ValueAndGradGivesTheValueFirst) {
  Tensor x = Tensor({0.5, 1.5}, DType::F64);
  auto out = value_and_grad([](Tensor v) { return sum(exp(v)); })(x);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NEAR(out[0].item<double>(), std::exp(0.5f) + std::exp(1.5f), 1e-5);
  expect_near(values(out[1]), {std::exp(0.5), std::exp(1.5)}, 1e-5);
}

TEST(Grad, StopGradientBlocksTheDerivative) {
  Tensor x = Tensor({2.0, 3.0}, DType::F64);
  auto g = grad([](Tensor v) { return sum(v * stop_gradient(v)); })(x);
  expect_near(values(g[0]), {2.0, 3.0});
  expect_values(stop_gradient(x), {2.0, 3.0});
}

TEST(Jvp, MatchesFiniteDifferencesAndLeavesIntegersAlone) {
  Tensor w = random_tensor({4, 3}, 3), x = random_tensor({5, 4}, 4);
  Tensor tw = random_tensor({4, 3}, 5), tx = random_tensor({5, 4}, 6);
  auto [outs, tangents] = jvp(loss_of, {w, x}, {tw, tx});
  const double h = 1e-6;
  const double fd = (loss_of(w + tw * h, x + tx * h).item<double>() -
                     loss_of(w - tw * h, x - tx * h).item<double>()) /
                    (2 * h);
  EXPECT_NEAR(tangents[0].item<double>(), fd, 1e-6);
  EXPECT_NEAR(outs[0].item<double>(), loss_of(w, x).item<double>(), 1e-12);
  // An integer output gets a zero tangent of its own type.
  auto [o2, t2] = jvp(
      [](Tensor v) {
        return std::vector<Tensor>{v * 2.0, argmax(v)};
      },
      {Tensor({1.0, 3.0}, DType::F64)}, {Tensor({1.0, 1.0}, DType::F64)});
  expect_values(t2[0], {2.0, 2.0});
  EXPECT_EQ(t2[1].dtype(), o2[1].dtype());
  EXPECT_EQ(t2[1].item<int64_t>(), 0);
}

TEST(Vjp, PullbackIsTheTransposeOfJvp) {
  Tensor w = random_tensor({3, 3}, 7), x = random_tensor({2, 3}, 8);
  auto f = [](Tensor a, Tensor b) { return tanh(matmul(b, a)); };
  VjpResult r = vjp(f, {w, x});
  Tensor c = random_tensor({2, 3}, 9), tw = random_tensor({3, 3}, 10),
         tx = random_tensor({2, 3}, 11);
  std::vector<Tensor> cotangents = r.pullback(c);
  auto [outs, tangents] = jvp(f, {w, x}, {tw, tx});
  const double lhs = sum(c * tangents[0]).item<double>();
  const double rhs = (sum(cotangents[0] * tw) + sum(cotangents[1] * tx)).item<double>();
  EXPECT_NEAR(lhs, rhs, 1e-10);
  expect_near(values(r.outputs[0]), values(outs[0]), 1e-12);
}

TEST(Vmap, MatchesALoopOverTheBatch) {
  Tensor w = random_tensor({4, 3}, 12), xs = random_tensor({6, 4}, 13);
  auto per_row = [](Tensor a, Tensor x) { return tanh(matmul(x.reshape({1, 4}), a)); };
  std::vector<Tensor> batched = vmap(per_row, {std::nullopt, 0})(w, xs);
  ASSERT_EQ(batched[0].shape(), (Shape{6, 1, 3}));
  for (int64_t b = 0; b < 6; ++b)
    expect_near(values(batched[0][b]), values(per_row(w, xs[b])), 1e-12);
  // Batch axis 1 in, axis 1 out.
  std::vector<Tensor> moved = vmap([](Tensor x) { return exp(x) * 2.0; }, {1}, {1})(xs);
  expect_near(values(moved[0]), values(exp(xs) * 2.0), 1e-12);
}

TEST(Compose, GradOfGradIsTheSecondDerivative) {
  Tensor x = Tensor({0.3, -1.2}, DType::F64);
  auto f = [](Tensor v) { return sum(v * v * v + sin(v)); };
  auto df = [f](Tensor v) { return sum(grad(f)(v)[0]); };
  auto d2 = grad(df)(x);
  expect_near(values(d2[0]), {6 * 0.3 - std::sin(0.3), 6 * -1.2 - std::sin(-1.2)}, 1e-9);
}

TEST(Compose, JvpOfGradIsAHessianVectorProduct) {
  Tensor w = random_tensor({4, 3}, 14), x = random_tensor({5, 4}, 15);
  Tensor v = random_tensor({4, 3}, 16);
  auto g = [x](Tensor a) { return grad(loss_of)(a, x)[0]; };
  auto [gw, hv] = jvp(g, {w}, {v});
  const double h = 1e-6;
  std::vector<double> plus = values(g(w + v * h)), minus = values(g(w - v * h));
  std::vector<double> fd;
  for (size_t i = 0; i < plus.size(); ++i)
    fd.push_back((plus[i] - minus[i]) / (2 * h));
  expect_near(values(hv[0]), fd, 1e-6);
}

TEST(Compose, VmapOfGradGivesPerExampleGradients) {
  Tensor w = random_tensor({4, 3}, 17), xs = random_tensor({5, 1, 4}, 18);
  auto per_example =
      vmap([](Tensor a, Tensor x) { return grad(loss_of)(a, x)[0]; }, {std::nullopt, 0})(w, xs);
  ASSERT_EQ(per_example[0].shape(), (Shape{5, 4, 3}));
  for (int64_t b = 0; b < 5; ++b)
    expect_near(values(per_example[0][b]), values(grad(loss_of)(w, xs[b])[0]), 1e-12);
}

TEST(Compose, GradOfVmapDifferentiatesTheBatchedFunction) {
  Tensor w = random_tensor({4, 3}, 19), xs = random_tensor({5, 1, 4}, 20);
  auto total = [](Tensor a, Tensor x) { return sum(vmap(loss_of, {std::nullopt, 0})(a, x)[0]); };
  auto g = grad(total)(w, xs);
  expect_near(values(g[0]), numeric_grad([&](Tensor a) { return total(a, xs); }, w), 1e-6);
}

TEST(Compose, ClosuresOverTracersAreInputsNotConstants) {
  // The inner grad closes over the outer function's input x; differentiating through it
  // must see x vary: d/dx sum(d/dw (w*x)^2) = d/dx (2 w x^2) = 4 w x.
  Tensor w = Tensor({1.5}, DType::F64), x = Tensor({2.0}, DType::F64);
  auto outer = [w](Tensor xv) {
    return sum(grad([xv](Tensor wv) { return sum(wv * xv * wv * xv); })(w)[0]);
  };
  expect_near(values(grad(outer)(x)[0]), {4 * 1.5 * 2.0}, 1e-12);
}

TEST(Compose, CompileOfGradMatchesEager) {
  Tensor w = random_tensor({4, 3}, 21, DType::F32), x = random_tensor({5, 4}, 22, DType::F32);
  auto compiled = compile(grad(loss_of, {0, 1}));
  auto once = compiled(w, x), eager = grad(loss_of, {0, 1})(w, x);
  expect_near(values(once[0]), values(eager[0]), 1e-5);
  expect_near(values(once[1]), values(eager[1]), 1e-5);
  compiled(w, x);
  EXPECT_EQ(compiled.num_compilations(), 1u);
}

TEST(CustomVjp, ReverseModeUsesTheGivenBackward) {
  // A backward that clips the incoming cotangent to [-1, 1]: not the true derivative.
  auto clipped_square = custom_vjp([](Tensor v) { return v * v; },
                                   [](Tensor v, Tensor c) { return clip(c, -1.0, 1.0) * v * 2.0; });
  Tensor x = Tensor({1.0, 2.0}, DType::F64);
  auto loss = [&](Tensor v) { return sum(clipped_square(v * 3.0)[0]); };
  expect_values(loss(x), {9.0 + 36.0});
  // d/dx sum(y) with y = (3x)^2: the cotangent of y is 1, clip(1) = 1, so 2 * 3x * 3.
  expect_near(values(grad(loss)(x)[0]), {18.0, 36.0});
  auto scaled = [&](Tensor v) { return sum(clipped_square(v)[0] * 5.0); };
  // The cotangent 5 is clipped to 1: the gradient is 2x, not 10x.
  expect_near(values(grad(scaled)(x)[0]), {2.0, 4.0});
  EXPECT_NE(error_of([&] { jvp(loss, {x}, {x}); }), "");
}

TEST(Checkpoint, GivesTheSameGradientsAsThePlainFunction) {
  Tensor w = random_tensor({4, 4}, 23), x = random_tensor({3, 4}, 24);
  auto block = [](Tensor h, Tensor a) { return tanh(matmul(h, a)); };
  auto plain = [&](Tensor a) { return sum(block(block(x, a), a)); };
  auto remat = [&](Tensor a) {
    auto cb = checkpoint(block);
    return sum(cb(cb(x, a)[0], a)[0]);
  };
  expect_near(values(remat(w)), values(plain(w)), 1e-12);
  expect_near(values(grad(remat)(w)[0]), values(grad(plain)(w)[0]), 1e-12);
  // The traced gradient keeps the recompute as a checkpointed call.
  ir::Module m =
      trace_module([&](const std::vector<Tensor>& a) { return grad(remat)(a); }, {w.type()});
  bool has_checkpoint_call = false;
  for (const ir::Node& n : m.functions[0].nodes())
    if (n.op == ir::OpKind::Call && n.attrs.has("checkpoint")) has_checkpoint_call = true;
  EXPECT_TRUE(has_checkpoint_call);
}

TEST(Training, AnMlpStepLowersTheLoss) {
  // y = sin(x0) + x1 / 2 learned by a 2-16-1 tanh MLP with plain SGD.
  const int64_t n = 64;
  Tensor x = random_tensor({n, 2}, 25, DType::F32);
  std::vector<double> xv = values(x), yv;
  for (int64_t i = 0; i < n; ++i)
    yv.push_back(std::sin(xv[2 * i]) + xv[2 * i + 1] / 2);
  Tensor y = Tensor(yv, {n, 1}, DType::F32);
  std::vector<Tensor> params = {random_tensor({2, 16}, 26, DType::F32) * 0.5, zeros({16}),
                                random_tensor({16, 1}, 27, DType::F32) * 0.5, zeros({1})};
  auto loss = [x, y](const std::vector<Tensor>& p) {
    Tensor h = tanh(matmul(x, p[0]) + p[1]);
    Tensor err = matmul(h, p[2]) + p[3] - y;
    return mean(err * err);
  };
  auto step = compile([loss](const std::vector<Tensor>& p) {
    std::vector<Tensor> g = grad(loss, {0, 1, 2, 3})(p);
    std::vector<Tensor> next;
    for (size_t i = 0; i < p.size(); ++i)
      next.push_back(p[i] - g[i] * 0.2);
    next.push_back(loss(p));
    return next;
  });
  const double first = loss(params).item<double>();
  double last = first;
  for (int i = 0; i < 200; ++i) {
    std::vector<Tensor> out = step(params);
    last = out.back().item<double>();
    params.assign(out.begin(), out.end() - 1);
  }
  EXPECT_LT(last, first * 0.2) << "loss " << first << " -> " << last;
  EXPECT_EQ(step.num_compilations(), 1u);
}

TEST(TransformErrors, SayWhatIsWrong) {
  Tensor x = Tensor({1.0, 2.0}, DType::F64);
  EXPECT_EQ(error_of([&] { grad([](Tensor v) { return v * 2.0; })(x); }),
            "[grad] @f: grad needs a scalar result, got f64[2]");
  EXPECT_EQ(error_of([&] { grad([](Tensor v) { return argmax(v); })(x); }),
            "[grad] @f: grad needs a float result, got i32[]");
  EXPECT_EQ(error_of([&] { grad([](Tensor v) { return sum(v); }, {1})(x); }),
            "[frontend] grad: argnum 1 is out of range for 1 input");
  Tensor i = Tensor({1, 2});
  EXPECT_EQ(error_of([&] { grad([](Tensor v) { return sum(v); })(i); }),
            "[frontend] grad: input 0 is i32[2]; only float inputs have gradients");
  EXPECT_NE(error_of([&] { vmap([](Tensor v) { return v; }, {1})(x); }).find("[vmap]"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] {
        vmap([](Tensor a, Tensor b) { return a + b; })(x, Tensor({1.0, 2.0, 3.0}, DType::F64));
      }).find("[vmap]"),
      std::string::npos);
  EXPECT_EQ(error_of([&] { jvp([](Tensor v) { return v; }, {x}, {Tensor({1.0}, DType::F64)}); }),
            "[frontend] jvp: tangents 0 is f64[1] but its value is f64[2]");
}

}  // namespace
}  // namespace kiln
