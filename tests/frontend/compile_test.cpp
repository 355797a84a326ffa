// kiln::compile and eval() on the CPU compiler, checked against the interpreter.

#include "frontend/compile.h"

#include <gtest/gtest.h>

#include "frontend/kiln.h"
#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

// Restores the eval device a test changes.
struct DeviceGuard {
  EvalDevice saved = eval_device();
  ~DeviceGuard() { set_eval_device(saved); }
};

std::vector<float> eval_on(EvalDevice device, const Tensor& t) {
  DeviceGuard guard;
  set_eval_device(device);
  return t.to_vector<float>();
}

TEST(Compile, TracesOncePerSignature) {
  auto f = compile([](Tensor x, Tensor y) { return softmax(x * y + 1.0); });
  Tensor a({1.0f, 2.0f, 3.0f});
  Tensor b({0.5f, -1.0f, 2.0f});
  std::vector<Tensor> r1 = f(a, b);
  std::vector<Tensor> r2 = f(b, a);
  EXPECT_EQ(f.num_compilations(), 1u);
  std::vector<float> want = eval_on(EvalDevice::Interp, softmax(a * b + 1.0));
  std::vector<float> got = r1[0].to_vector<float>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6);
  f(Tensor({1.0f, 2.0f}), Tensor({3.0f, 4.0f}));  // a new shape compiles again
  EXPECT_EQ(f.num_compilations(), 2u);
}

// A closed-over tensor (a weight) reaches the compiled code as an argument by reference:
// updating it in place changes the next result, with no new compilation.
TEST(Compile, ACapturedTensorUpdatedBetweenCallsNeedsNoRecompile) {
  Tensor w({1.0f, 2.0f, 3.0f});
  auto f = compile([&](Tensor x) { return x * w; });
  Tensor x({2.0f, 2.0f, 2.0f});
  EXPECT_EQ(f(x)[0].to_vector<float>(), (std::vector<float>{2, 4, 6}));
  w.assign(w * 10.0);
  EXPECT_EQ(f(x)[0].to_vector<float>(), (std::vector<float>{20, 40, 60}));
  w.assign(Tensor({-1.0f, 0.0f, 1.0f}));
  EXPECT_EQ(f(x)[0].to_vector<float>(), (std::vector<float>{-2, 0, 2}));
  EXPECT_EQ(f.num_compilations(), 1u);
}

TEST(Compile, AssignChecksItsArguments) {
  Tensor w({1.0f, 2.0f});
  EXPECT_THROW(w.assign(Tensor({1.0f, 2.0f, 3.0f})), Error);
  EXPECT_THROW(w.assign(Tensor({1.0, 2.0}, DType::F64)), Error);  // f64 into f32
  try {
    w.assign(Tensor({1, 2}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "[frontend] assign: the new value is i32[2] but the tensor is f32[2]");
  }
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{1, 2})) << "a refused assign changes nothing";
}

TEST(Compile, TakesAVectorAndEvaluatesLazyInputs) {
  auto f = compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0] + in[1], sum(in[0])};
  });
  Tensor lazy = Tensor({1.0f, 2.0f}) * 3.0;
  std::vector<Tensor> r = f(std::vector<Tensor>{lazy, Tensor({1.0f, 1.0f})});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].to_vector<float>(), (std::vector<float>{4.0f, 7.0f}));
  EXPECT_EQ(r[1].item<float>(), 9.0f);
}

TEST(Compile, WrongArityIsAnError) {
  auto f = compile([](Tensor x, Tensor y) { return x + y; });
  EXPECT_THROW(f(std::vector<Tensor>{Tensor(1.0f)}), Error);
}

TEST(Compile, EvalRunsCompiledAndInterpretedAlike) {
  Tensor x = Tensor({{1.0f, -2.0f, 3.0f}, {0.5f, 0.25f, -4.0f}});
  auto graph = [&] { return layer_norm(gelu(x), 1e-5); };
  std::vector<float> cpu = eval_on(EvalDevice::Cpu, graph());
  std::vector<float> interp = eval_on(EvalDevice::Interp, graph());
  ASSERT_EQ(cpu.size(), interp.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(cpu[i], interp[i], 1e-4 * (1 + std::abs(interp[i])));
}

// C++ numbers reach eval()'s compiled code as arguments: a loop over changing scalars compiles
// its graph once, and every value still gives its own result.
TEST(Compile, ChangingScalarsInALoopCompileOnce) {
  DeviceGuard guard;
  set_eval_device(EvalDevice::Cpu);
  Tensor x({1.0f, 2.0f, 3.0f, 4.0f});
  sum(x * 0.5f).item<float>();  // compiles the graph for any scale
  const size_t before = num_eval_compilations();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(sum(x * static_cast<float>(i)).item<float>(), 10.0f * static_cast<float>(i));
    EXPECT_EQ((x - i).to_vector<float>()[3], 4.0f - static_cast<float>(i));
  }
  // The subtraction is a second graph; the product reused the first.
  EXPECT_EQ(num_eval_compilations() - before, 1u);
  // A weak scalar still takes the tensor's dtype: an f16 tensor stays f16.
  Tensor h = Tensor({1.0f, 2.0f}).astype(DType::F16) * 3.0;
  EXPECT_EQ(h.dtype(), DType::F16);
  EXPECT_EQ(h.to_vector<float>(), (std::vector<float>{3.0f, 6.0f}));
}

// Weights that are still lazy when the function is first compiled (made by zeros, or computed
// from other tensors) are closed over like evaluated ones: captured by reference, so assign
// reaches later calls without compiling again.
TEST(Compile, ClosedOverLazyTensorsAreCapturedNotBakedIn) {
  using test::expect_values;
  Tensor w = zeros({3});
  Tensor scale = Tensor({1.0f, 2.0f, 3.0f}) * 2.0f;
  ASSERT_FALSE(w.has_data());
  auto f = compile([&](Tensor x) { return x * scale + w; });
  const Tensor x({1.0f, 1.0f, 1.0f});
  expect_values(f(x)[0], {2, 4, 6});
  w.assign(Tensor({10.0f, 20.0f, 30.0f}));
  scale.assign(Tensor({1.0f, 1.0f, 1.0f}));
  expect_values(f(x)[0], {11, 21, 31});
  EXPECT_EQ(f.num_compilations(), 1u);
  // A lazy tensor that depends on an enclosing trace's input is still traced through.
  auto g = grad([&](Tensor a) {
    Tensor shifted = a * 3.0f;
    auto inner = compile([&](Tensor x) { return sum(x * shifted); });
    return inner(a)[0];
  });
  expect_values(g(Tensor({1.0f, 2.0f}))[0], {6, 12});
}

TEST(Compile, ClearCachesMakesEvalCompileAgain) {
  DeviceGuard guard;
  set_eval_device(EvalDevice::Cpu);
  Tensor x({1.0f, 2.0f});
  EXPECT_EQ(exp(x * 0.0f).to_vector<float>(), (std::vector<float>{1.0f, 1.0f}));
  const size_t before = num_eval_compilations();
  EXPECT_EQ(exp(x * 0.0f).to_vector<float>(), (std::vector<float>{1.0f, 1.0f}));
  EXPECT_EQ(num_eval_compilations(), before);
  clear_caches();
  EXPECT_EQ(exp(x * 0.0f).to_vector<float>(), (std::vector<float>{1.0f, 1.0f}));
  EXPECT_EQ(num_eval_compilations(), before + 1);
}

TEST(Compile, SignaturesAreToldApartByEveryDtypeAndDimension) {
  auto f = compile([](Tensor a) { return a * 2; });
  const std::vector<Tensor> inputs = {Tensor({1.0f, 2.0f}), Tensor({{1.0f}, {2.0f}}),
                                      Tensor({{1.0f, 2.0f}}), Tensor({1, 2}), Tensor({1.0f})};
  for (int round = 0; round < 2; ++round)
    for (const Tensor& in : inputs) {
      Tensor out = f(in)[0];
      EXPECT_EQ(out.type(), in.type());
      EXPECT_EQ(out.to_vector<double>()[0], 2.0);
    }
  EXPECT_EQ(f.num_compilations(), inputs.size());
}

}  // namespace
}  // namespace kiln
