// The f32 transcendental approximations, swept over their ranges through the JIT and compared
// with double-precision libm rounded to f32. Worst errors measured on this machine (x86-64,
// AVX-512, FMA):
//
//   function  range                      worst error
//   exp       [-104, 89]                 1.0 ulp
//   log       (0, 3.4e38], subnormals    0.8 ulp
//   log1p     [-0.9999, 1e30]            2.4 ulp
//   expm1     [-20, 88.7]                2.4 ulp
//   tanh      [-10, 10]                  1.4 ulp
//   logistic  [-105, 105]                2.3 ulp
//   erf       [-5, 5]                    1.0 ulp
//   sin, cos  [-1e4, 1e4]                1.6 ulp
//   sin, cos  every finite f32           1.6 ulp
//
// The tests assert 4 ulp for each (the bound for f32). sin and cos reduce exactly
// (Payne-Hanek) above 8192, so they are swept over the whole f32 range too, and checked at
// large arguments whose reduction the former four-piece pi/2 got wrong. Special values are
// exact.

#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>

#include "codegen/cpu/cpu_compiler.h"
#include "tests/codegen/llvm_test_util.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;
using runtime::KernelEntry;

KernelEntry compile_unary(OpKind op, int64_t n) {
  Kernel k;
  k.name = "math";
  k.buffers = {{ir::TensorType{DType::F32, {n}}, false}, {ir::TensorType{DType::F32, {n}}, true}};
  k.outer = {n};
  ExprBuilder eb(k.exprs);
  ExprId i = eb.index(LoopLevel::Outer, 0);
  Phase p;
  p.stores.push_back({1, i, eb.op(op, DType::F32, {eb.load(0, DType::F32, i)})});
  k.phases = {p};
  return testing::compile_kernel(k);
}

std::vector<float> run(OpKind op, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<ir::HostArray> buffers = {ir::HostArray(ir::TensorType{DType::F32, {n}}),
                                        ir::HostArray(ir::TensorType{DType::F32, {n}})};
  std::memcpy(buffers[0].data(), x.data(), x.size() * sizeof(float));
  testing::run_range(compile_unary(op, n), buffers, 0, n);
  std::vector<float> y(x.size());
  std::memcpy(y.data(), buffers[1].data(), y.size() * sizeof(float));
  return y;
}

// |got - ref| in units of f32's spacing at ref (subnormal spacing below 2^-126); a reference
// that rounds to inf or NaN must be matched exactly.
double ulp_error(float got, double ref) {
  const float rounded = static_cast<float>(ref);
  if (std::isnan(rounded)) return std::isnan(got) ? 0 : 1e9;
  if (std::isinf(rounded)) return got == rounded ? 0 : 1e9;
  if (std::isnan(got) || std::isinf(got)) return 1e9;
  int e = 0;
  std::frexp(ref, &e);
  const double ulp = std::ldexp(1.0, std::max(e - 24, -149));
  return std::fabs(static_cast<double>(got) - ref) / ulp;
}

// Uniform points over [lo, hi] and logarithmically spaced magnitudes (both signs) inside it.
std::vector<float> grid(double lo, double hi, double smallest) {
  std::vector<float> x;
  const int n = 1 << 20;
  for (int i = 0; i <= n; ++i)
    x.push_back(static_cast<float>(lo + (hi - lo) * i / n));
  const double top = std::max(std::fabs(lo), std::fabs(hi));
  for (int i = 0; i <= n / 2; ++i) {
    const float m = static_cast<float>(
        std::exp(std::log(smallest) + (std::log(top) - std::log(smallest)) * i / (n / 2)));
    for (float v : {m, -m})
      if (v >= lo && v <= hi) x.push_back(v);
  }
  return x;
}

struct Sweep {
  const char* name;
  OpKind op;
  double (*reference)(double);
  double lo, hi, smallest;
};

double logistic_ref(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

TEST(LlvmMath, WorstUlpErrorOverEachRange) {
  const Sweep sweeps[] = {
      {"exp", OpKind::Exp, [](double x) { return std::exp(x); }, -104, 89, 1e-30},
      {"log", OpKind::Log, [](double x) { return std::log(x); }, 0, 3.4e38, 1e-45},
      {"log1p", OpKind::Log1p, [](double x) { return std::log1p(x); }, -0.9999, 1e30, 1e-30},
      {"expm1", OpKind::Expm1, [](double x) { return std::expm1(x); }, -20, 88.7, 1e-30},
      {"tanh", OpKind::Tanh, [](double x) { return std::tanh(x); }, -10, 10, 1e-30},
      {"logistic", OpKind::Logistic, logistic_ref, -105, 105, 1e-30},
      {"erf", OpKind::Erf, [](double x) { return std::erf(x); }, -5, 5, 1e-30},
      {"sin", OpKind::Sin, [](double x) { return std::sin(x); }, -1e4, 1e4, 1e-30},
      {"cos", OpKind::Cos, [](double x) { return std::cos(x); }, -1e4, 1e4, 1e-30},
      {"sin", OpKind::Sin, [](double x) { return std::sin(x); }, -3.4e38, 3.4e38, 1e-30},
      {"cos", OpKind::Cos, [](double x) { return std::cos(x); }, -3.4e38, 3.4e38, 1e-30},
  };
  for (const Sweep& s : sweeps) {
    const std::vector<float> x = grid(s.lo, s.hi, s.smallest);
    const std::vector<float> y = run(s.op, x);
    double worst = 0;
    float where = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double e = ulp_error(y[i], s.reference(x[i]));
      if (e > worst) worst = e, where = x[i];
    }
    std::cout << std::left << std::setw(9) << s.name << " [" << s.lo << ", " << s.hi << "]: worst "
              << std::setprecision(3) << worst << " ulp at x = " << std::setprecision(9) << where
              << " (" << x.size() << " points)\n";
    EXPECT_LE(worst, 4.0) << s.name << " at x = " << where;
  }
}

TEST(LlvmMath, SinAndCosOfLargeArgumentsReduceExactly) {
  const std::vector<float> x = {6e7f,    -6e7f,       1e9f,         1e30f,   -1e30f,  3.4e38f,
                                8192.5f, 16777215.0f, 105414350.0f, 2.14e9f, 1.7e38f, -3.3e38f};
  const std::vector<float> sin = run(OpKind::Sin, x), cos = run(OpKind::Cos, x);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(ulp_error(sin[i], std::sin(static_cast<double>(x[i]))), 4.0) << "sin " << x[i];
    EXPECT_LE(ulp_error(cos[i], std::cos(static_cast<double>(x[i]))), 4.0) << "cos " << x[i];
  }
}

TEST(LlvmMath, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  struct Case {
    OpKind op;
    float x, want;
  };
  const Case cases[] = {
      {OpKind::Exp, inf, inf},       {OpKind::Exp, -inf, 0},      {OpKind::Exp, 0, 1},
      {OpKind::Exp, -0.0f, 1},       {OpKind::Exp, 89, inf},      {OpKind::Exp, -104, 0},
      {OpKind::Log, 0, -inf},        {OpKind::Log, -0.0f, -inf},  {OpKind::Log, inf, inf},
      {OpKind::Log, 1, 0},           {OpKind::Log, -1, nan},      {OpKind::Log1p, -1, -inf},
      {OpKind::Log1p, -0.0f, -0.0f}, {OpKind::Log1p, inf, inf},   {OpKind::Log1p, -2, nan},
      {OpKind::Expm1, -0.0f, -0.0f}, {OpKind::Expm1, -inf, -1},   {OpKind::Expm1, inf, inf},
      {OpKind::Tanh, inf, 1},        {OpKind::Tanh, -inf, -1},    {OpKind::Tanh, -0.0f, -0.0f},
      {OpKind::Logistic, inf, 1},    {OpKind::Logistic, -inf, 0}, {OpKind::Logistic, 0, 0.5f},
      {OpKind::Erf, inf, 1},         {OpKind::Erf, -inf, -1},     {OpKind::Erf, -0.0f, -0.0f},
      {OpKind::Sin, -0.0f, -0.0f},   {OpKind::Sin, inf, nan},     {OpKind::Cos, inf, nan},
      {OpKind::Cos, 0, 1},
  };
  for (const Case& c : cases) {
    const float got = run(c.op, {c.x})[0];
    if (std::isnan(c.want))
      EXPECT_TRUE(std::isnan(got)) << ir::op_name(c.op) << "(" << c.x << ") = " << got;
    else
      EXPECT_TRUE(got == c.want && std::signbit(got) == std::signbit(c.want))
          << ir::op_name(c.op) << "(" << c.x << ") = " << got << ", want " << c.want;
  }
  for (OpKind op : {OpKind::Exp, OpKind::Log, OpKind::Log1p, OpKind::Expm1, OpKind::Tanh,
                    OpKind::Logistic, OpKind::Erf, OpKind::Sin, OpKind::Cos})
    EXPECT_TRUE(std::isnan(run(op, {nan})[0])) << ir::op_name(op) << "(NaN)";
}

}  // namespace
}  // namespace kiln::codegen
