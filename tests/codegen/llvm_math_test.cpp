// The f32 transcendental approximations through the JIT, against double-precision libm
// rounded to f32, over the whole f32 range: a dense grid over each central range (uniform, and
// log-spaced magnitudes), every binade of both signs by bit pattern (subnormals up to FLT_MAX,
// where results saturate, overflow or underflow; KILN_MATH_STRIDE=1 takes every bit pattern),
// and every f32 in windows around each threshold (overflow, subnormal results, rounding to
// +-1, a switch between two forms). Worst errors over all 2^32 inputs, measured on this
// machine (x86-64, AVX-512, FMA) with KILN_MATH_STRIDE=1, the same for both instances (the
// host's exp scaling by vscalefps, and WithoutAvx512's through the exponent field):
//
//   function  worst error  at x
//   exp       1.01 ulp     -5.87788439
//   log       0.83 ulp     1.41364205
//   log1p     2.47 ulp     0.0156249395
//   expm1     2.46 ulp     0.0153795844
//   tanh      1.33 ulp     0.628309548
//   logistic  2.40 ulp     -4.1572938
//   erf       1.03 ulp     0.951968968
//   sin       1.58 ulp     30425424
//   cos       1.58 ulp     1.94687923e+09
//
// The tests assert 4 ulp for each (the bound for f32); an infinite or NaN reference
// must be matched exactly. sin and cos reduce exactly (Payne-Hanek) above 8192 and are checked
// at large arguments whose reduction the former four-piece pi/2 got wrong. Special values
// (signed zeros, infinities, NaN, saturation) are exact; results at the overflow, underflow
// and rounding thresholds are held to the 4 ulp bound point by point.

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <limits>
#include <utility>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"
#include "tests/codegen/llvm_test_util.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;
using runtime::KernelEntry;

// The target the tests below compile for: the host, or (the `WithoutAvx512` instances) the
// host without AVX-512, whose exp scales through the exponent field instead of vscalefps.
std::string target_features;

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
  return testing::compile_kernel(k, target_features);
}

// Runs a kernel of compile_unary(op, n) for n >= x.size() on x, in buffers of n elements.
std::vector<float> run(KernelEntry entry, int64_t n, const std::vector<float>& x,
                       std::vector<ir::HostArray>& buffers) {
  const int64_t count = static_cast<int64_t>(x.size());
  if (buffers.empty())
    buffers = {ir::HostArray(ir::TensorType{DType::F32, {n}}),
               ir::HostArray(ir::TensorType{DType::F32, {n}})};
  std::memcpy(buffers[0].data(), x.data(), x.size() * sizeof(float));
  testing::run_range(entry, buffers, 0, count);
  std::vector<float> y(x.size());
  std::memcpy(y.data(), buffers[1].data(), y.size() * sizeof(float));
  return y;
}

std::vector<float> run(OpKind op, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<ir::HostArray> buffers;
  return run(compile_unary(op, n), n, x, buffers);
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

constexpr float kMax = std::numeric_limits<float>::max();

// Double-precision libm, which each f32 approximation is held to after rounding.
double reference(OpKind op, double x) {
  switch (op) {
    case OpKind::Exp:
      return std::exp(x);
    case OpKind::Log:
      return std::log(x);
    case OpKind::Log1p:
      return std::log1p(x);
    case OpKind::Expm1:
      return std::expm1(x);
    case OpKind::Tanh:
      return std::tanh(x);
    case OpKind::Logistic:
      return 1.0 / (1.0 + std::exp(-x));
    case OpKind::Erf:
      return std::erf(x);
    case OpKind::Sin:
      return std::sin(x);
    case OpKind::Cos:
      return std::cos(x);
    default:
      ADD_FAILURE() << "no reference for " << ir::op_name(op);
      return std::nan("");
  }
}

// The largest error of an op against its reference over points given one at a time, each
// counted in one of a few named parts of the sweep. The points go through one compiled kernel
// in chunks, as a sweep may be too large to hold (every f32 is 16 GiB of inputs).
class WorstError {
 public:
  struct Part {
    const char* name;
    double worst = 0;
    float where = 0;
    uint64_t points = 0;
  };

  WorstError(OpKind op, std::vector<const char*> parts)
      : op_(op), entry_(compile_unary(op, kChunk)) {
    for (const char* name : parts)
      parts_.push_back({name});
  }

  void add(float x, size_t part) {
    pending_.push_back(x);
    pending_part_.push_back(static_cast<uint8_t>(part));
    if (pending_.size() == static_cast<size_t>(kChunk)) flush();
  }

  const std::vector<Part>& parts() {
    flush();
    return parts_;
  }

 private:
  static constexpr int64_t kChunk = int64_t{1} << 22;

  void flush() {
    if (pending_.empty()) return;
    const std::vector<float> y = run(entry_, kChunk, pending_, buffers_);
    for (size_t i = 0; i < pending_.size(); ++i) {
      Part& part = parts_[pending_part_[i]];
      const double e = ulp_error(y[i], reference(op_, pending_[i]));
      ++part.points;
      if (e > part.worst) part.worst = e, part.where = pending_[i];
    }
    pending_.clear();
    pending_part_.clear();
  }

  OpKind op_;
  KernelEntry entry_;
  std::vector<Part> parts_;
  std::vector<float> pending_;
  std::vector<uint8_t> pending_part_;
  std::vector<ir::HostArray> buffers_;
};

// Uniform points over [lo, hi] and logarithmically spaced magnitudes (both signs) inside it:
// dense where the approximations switch between forms.
void add_grid(WorstError& sweep, size_t part, double lo, double hi, double smallest) {
  const int n = 1 << 20;
  for (int i = 0; i <= n; ++i)
    sweep.add(static_cast<float>(lo + (hi - lo) * i / n), part);
  const double top = std::max(std::fabs(lo), std::fabs(hi));
  for (int i = 0; i <= n / 2; ++i) {
    const float m = static_cast<float>(
        std::exp(std::log(smallest) + (std::log(top) - std::log(smallest)) * i / (n / 2)));
    for (float v : {m, -m})
      if (v >= lo && v <= hi) sweep.add(v, part);
  }
}

// Every finite f32 of either sign, subnormals included, by bit pattern with a stride: the
// same number of points in every binade (about 4,000 at the default stride), so the far ends
// of the range, where results saturate, over- or underflow, count as much as the middle. The
// default stride is odd, so the low mantissa bits take every value. KILN_MATH_STRIDE=1 makes
// the sweep exhaustive (2^32 points per function, about two minutes each).
void add_every_binade(WorstError& sweep, size_t part) {
  const char* env = std::getenv("KILN_MATH_STRIDE");
  const uint32_t stride = env ? std::max<uint32_t>(1, std::strtoul(env, nullptr, 10)) : 2039;
  constexpr uint32_t kInfinity = 0x7f800000;
  for (uint32_t sign : {0u, 0x80000000u})
    for (uint32_t bits = 0; bits < kInfinity; bits += std::min(stride, kInfinity - bits))
      sweep.add(std::bit_cast<float>(sign | bits), part);
}

// Every f32 in [lo, hi]: where a result crosses a threshold (overflow, the subnormal range,
// rounding to +-1) no point may be missed.
void add_every_float(WorstError& sweep, size_t part, float lo, float hi) {
  for (float v = lo; v <= hi; v = std::nextafter(v, INFINITY))
    sweep.add(v, part);
}

struct Window {
  float lo, hi;
};

struct Grid {
  double lo, hi, smallest;
};

struct Sweep {
  OpKind op;
  std::vector<Grid> grids;
  std::vector<Window> windows;
};

// Where each approximation saturates, over- or underflows or switches form, swept float by
// float (some 16 million points over all the functions).
const Sweep kSweeps[] = {
    // exp: overflow near 88.72284; subnormal results below -87.33655, 0 below -103.97208
    {OpKind::Exp, {{-104, 89, 1e-30}}, {{88.0f, 89.0f}, {-104.5f, -87.0f}}},
    // log: around 1, where the result cancels to 0; the smallest subnormals; up to FLT_MAX
    {OpKind::Log, {{0, 3.4e38, 1e-45}}, {{0.99f, 1.01f}, {0.0f, 1e-40f}, {3.3e38f, kMax}}},
    // log1p: just above -1; 1 + x around sqrt(1/2) and sqrt(2), where log's mantissa switches
    {OpKind::Log1p,
     {{-0.9999, 1e30, 1e-30}},
     {{-1.0f, -0.99f}, {-0.30f, -0.28f}, {0.40f, 0.43f}, {3.3e38f, kMax}}},
    // expm1: overflow; rounding to -1 near -17.33
    {OpKind::Expm1, {{-20, 88.7, 1e-30}}, {{88.0f, 89.0f}, {-17.6f, -16.5f}}},
    // tanh: rounding to +-1 near 9.01; the switch between forms at 0.625
    {OpKind::Tanh,
     {{-10, 10, 1e-30}},
     {{8.5f, 9.5f}, {-9.5f, -8.5f}, {0.6f, 0.65f}, {-0.65f, -0.6f}}},
    // logistic: rounding to 1 near 17.33; subnormal results from -87.34 and 0 below -103.97
    {OpKind::Logistic,
     {{-105, 105, 1e-30}},
     {{16.5f, 17.6f}, {-104.5f, -87.0f}, {87.5f, 89.0f}, {103.5f, 104.5f}}},
    // erf: rounding to +-1 near 3.92; the switch between forms at 0.9277
    {OpKind::Erf,
     {{-5, 5, 1e-30}},
     {{3.85f, 3.95f}, {-3.95f, -3.85f}, {0.90f, 0.95f}, {-0.95f, -0.90f}}},
    // sin and cos reduce exactly above 8192: dense there too, up to FLT_MAX
    {OpKind::Sin, {{-1e4, 1e4, 1e-30}, {-3.4e38, 3.4e38, 1e-30}}, {}},
    {OpKind::Cos, {{-1e4, 1e4, 1e-30}, {-3.4e38, 3.4e38, 1e-30}}, {}},
};

class LlvmMath : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    target_features = GetParam();
    if (!target_features.empty() &&
        CpuCompiler::instance().target_description().find("+avx512f") == std::string::npos)
      GTEST_SKIP() << "the host has no AVX-512: its own instance covers the other path";
  }
  void TearDown() override { target_features.clear(); }
};

// The WithoutAvx512 instances check other code, not the host's again.
TEST(LlvmMathTargets, WithoutAvx512IsOtherCode) {
  if (CpuCompiler::instance().target_description().find("+avx512f") == std::string::npos)
    GTEST_SKIP() << "the host has no AVX-512";
  Kernel k;
  k.name = "exp";
  k.buffers = {{ir::TensorType{DType::F32, {64}}, false}, {ir::TensorType{DType::F32, {64}}, true}};
  k.outer = {64};
  ExprBuilder eb(k.exprs);
  ExprId i = eb.index(LoopLevel::Outer, 0);
  Phase p;
  p.stores.push_back({1, i, eb.op(OpKind::Exp, DType::F32, {eb.load(0, DType::F32, i)})});
  k.phases = {p};
  CpuCompiler& cc = CpuCompiler::instance();
  EXPECT_NE(cc.compile_to_object_for_testing(k, "f", ""),
            cc.compile_to_object_for_testing(k, "f", "-avx512f"));
  EXPECT_EQ(cc.compile_to_object_for_testing(k, "f", ""), cc.compile_to_object(k, "f"));
}

INSTANTIATE_TEST_SUITE_P(Host, LlvmMath, ::testing::Values(""));
INSTANTIATE_TEST_SUITE_P(WithoutAvx512, LlvmMath, ::testing::Values("-avx512f"));

TEST_P(LlvmMath, WorstUlpErrorOverTheWholeRange) {
  for (const Sweep& s : kSweeps) {
    const std::string_view name = ir::op_name(s.op);
    WorstError sweep(s.op, {"grid", "every binade", "thresholds"});
    for (const Grid& g : s.grids)
      add_grid(sweep, 0, g.lo, g.hi, g.smallest);
    add_every_binade(sweep, 1);
    for (const Window& w : s.windows)
      add_every_float(sweep, 2, w.lo, w.hi);
    for (const WorstError::Part& part : sweep.parts()) {
      if (part.points == 0) continue;
      std::cout << std::left << std::setw(9) << name << std::setw(13) << part.name << ": worst "
                << std::setprecision(3) << part.worst << " ulp at x = " << std::setprecision(9)
                << part.where << " (" << part.points << " points)\n";
      EXPECT_LE(part.worst, 4.0) << name << " at x = " << std::setprecision(9) << part.where
                                 << ": got " << run(s.op, {part.where})[0] << ", want "
                                 << std::setprecision(17) << reference(s.op, part.where);
    }
  }
}

TEST_P(LlvmMath, SinAndCosOfLargeArgumentsReduceExactly) {
  const std::vector<float> x = {6e7f,    -6e7f,       1e9f,         1e30f,   -1e30f,  3.4e38f,
                                8192.5f, 16777215.0f, 105414350.0f, 2.14e9f, 1.7e38f, -3.3e38f};
  const std::vector<float> sin = run(OpKind::Sin, x), cos = run(OpKind::Cos, x);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(ulp_error(sin[i], reference(OpKind::Sin, x[i])), 4.0) << "sin " << x[i];
    EXPECT_LE(ulp_error(cos[i], reference(OpKind::Cos, x[i])), 4.0) << "cos " << x[i];
  }
}

TEST_P(LlvmMath, SpecialValuesAreExact) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  const float tiny = std::numeric_limits<float>::denorm_min();
  using enum OpKind;
  // One row per op: (x, the exact result) pairs; NaN is checked for every op below.
  // clang-format off
  const std::pair<OpKind, std::vector<std::pair<float, float>>> cases[] = {
      {Exp, {{inf, inf}, {-inf, 0}, {0, 1}, {-0.0f, 1}, {89, inf}, {-104, 0}, {88.72284f, inf},
             {kMax, inf}, {-kMax, 0}, {tiny, 1}, {-tiny, 1}}},
      {Log, {{0, -inf}, {-0.0f, -inf}, {inf, inf}, {1, 0}, {-1, nan}, {-inf, nan}, {-tiny, nan},
             {-kMax, nan}}},
      {Log1p, {{-1, -inf}, {0, 0}, {-0.0f, -0.0f}, {inf, inf}, {-2, nan}, {-inf, nan}, {-kMax, nan},
               {tiny, tiny}, {-tiny, -tiny}, {-1.0000001f, nan}}},
      {Expm1, {{0, 0}, {-0.0f, -0.0f}, {-inf, -1}, {inf, inf}, {88.72284f, inf}, {kMax, inf},
               {-kMax, -1}, {-104, -1}, {tiny, tiny}, {-tiny, -tiny}}},
      {Tanh, {{inf, 1}, {-inf, -1}, {0, 0}, {-0.0f, -0.0f}, {kMax, 1}, {-kMax, -1}, {10, 1},
              {-10, -1}, {tiny, tiny}, {-tiny, -tiny}}},
      {Logistic, {{inf, 1}, {-inf, 0}, {0, 0.5f}, {-0.0f, 0.5f}, {kMax, 1}, {-kMax, 0}, {104, 1},
                  {tiny, 0.5f}, {-tiny, 0.5f}}},
      {Erf, {{inf, 1}, {-inf, -1}, {0, 0}, {-0.0f, -0.0f}, {kMax, 1}, {-kMax, -1}, {5, 1}, {-5, -1}}},
      {Sin, {{0, 0}, {-0.0f, -0.0f}, {inf, nan}, {-inf, nan}, {tiny, tiny}, {-tiny, -tiny}}},
      {Cos, {{0, 1}, {-0.0f, 1}, {inf, nan}, {-inf, nan}}},
  };
  // clang-format on
  // One run per op, as a kernel compiles per run.
  for (const auto& [op, values] : cases) {
    std::vector<float> x = {nan}, want = {nan};
    for (const auto& [input, result] : values)
      x.push_back(input), want.push_back(result);
    const std::vector<float> got = run(op, x);
    for (size_t i = 0; i < x.size(); ++i) {
      if (std::isnan(want[i]))
        EXPECT_TRUE(std::isnan(got[i])) << ir::op_name(op) << "(" << x[i] << ") = " << got[i];
      else
        EXPECT_TRUE(got[i] == want[i] && std::signbit(got[i]) == std::signbit(want[i]))
            << ir::op_name(op) << "(" << std::setprecision(9) << x[i] << ") = " << got[i]
            << ", want " << want[i];
    }
  }
}

// Inputs at the thresholds, against the double reference within the sweeps' 4 ulp: an
// infinite or NaN reference must be matched exactly, and a zero result must have the
// reference's sign.
void expect_within_bound(OpKind op, const std::vector<float>& x) {
  const std::vector<float> y = run(op, x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = reference(op, x[i]);
    EXPECT_LE(ulp_error(y[i], want), 4.0)
        << ir::op_name(op) << "(" << std::setprecision(9) << x[i] << ") = " << y[i] << ", want "
        << std::setprecision(17) << want;
    if (y[i] == 0 && static_cast<float>(want) == 0) {
      EXPECT_EQ(std::signbit(y[i]), std::signbit(want))
          << ir::op_name(op) << "(" << std::setprecision(9) << x[i] << ") = " << y[i];
    }
  }
}

TEST_P(LlvmMath, ThresholdsAreWithinTheBound) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float min_normal = std::numeric_limits<float>::min();
  // exp: overflow at 88.72284; the smallest normal result at -87.33655; the smallest
  // subnormal, then 0, at -103.97208
  expect_within_bound(OpKind::Exp,
                      {88.72283f, 88.72284f, 88.7228394f, -87.33654f, -87.33655f, -87.33656f,
                       -103.27892f, -103.97207f, -103.97208f, -103.97209f, -0x1p-25f, 0x1p-25f});
  expect_within_bound(OpKind::Log,
                      {tiny, 2 * tiny, 3 * tiny, min_normal, std::nextafter(min_normal, 0.0f), kMax,
                       std::nextafter(1.0f, 0.0f), std::nextafter(1.0f, 2.0f), 0.70710677f,
                       0.70710683f, 1.4142135f, 1.4142137f});
  expect_within_bound(OpKind::Log1p,
                      {-0.99999994f, -0.9999999f, -0.999f, kMax, 1e30f, 3 * tiny, min_normal,
                       -min_normal, 0x1p-24f, -0x1p-24f, -0.29289323f, 0.41421357f});
  expect_within_bound(OpKind::Expm1, {88.72283f, 88.7228394f, -17.33f, -17.32868f, -16.635532f,
                                      -87.33655f, -103.97208f, 0x1p-25f, -0x1p-25f, 1e-8f, -1e-8f});
  // tanh: rounding to +-1 near 9.01; the switch between forms at 0.625
  expect_within_bound(OpKind::Tanh, {9.0f, 9.01f, 9.011f, -9.0f, -9.01f, -9.011f, 0.625f,
                                     std::nextafter(0.625f, 0.0f), -0.625f, 1e-20f, -1e-20f});
  expect_within_bound(OpKind::Logistic,
                      {88.7f, 88.72284f, -88.7f, -88.72284f, 104.0f, -103.97207f, -103.97208f,
                       -103.97209f, -104.0f, 17.32868f, 16.635532f, -87.33655f});
  // erf: rounding to +-1 near 3.92; the switch between forms at 0.9277
  expect_within_bound(
      OpKind::Erf, {3.92f, 3.9192059f, 3.9192061f, -3.92f, -3.9192059f, 0.927734375f, 0.92773431f,
                    -0.927734375f, tiny, 1e-20f, -1e-20f});
}

}  // namespace
}  // namespace kiln::codegen
