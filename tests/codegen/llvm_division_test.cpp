// The CPU emitter's two rewrites of float division, which trade bit-exactness for speed within
// stated bounds (see KernelEmitter in codegen/cpu/kernel_emitter.h):
//  - a divisor fixed for the outer index becomes one reciprocal per row and a multiply per
//    element, kept normal by a power-of-two scale: within 1.5 ulp of the exact quotient, and
//    every special value as the division gives it;
//  - products of logistics divide once: z * logistic(a) * logistic(b) within the logistic's
//    own bound per factor.

#include <cmath>
#include <limits>
#include <random>

#include "tests/codegen/llvm_test_util.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Units of f32 spacing at ref (subnormal spacing below 2^-126); a reference that rounds to inf
// or NaN, or is exactly zero, must be matched exactly (zero's sign included).
double ulp_error(float got, double ref) {
  const float rounded = static_cast<float>(ref);
  if (std::isnan(rounded)) return std::isnan(got) ? 0 : 1e9;
  if (std::isinf(rounded) || ref == 0)
    return got == rounded && std::signbit(got) == std::signbit(rounded) ? 0 : 1e9;
  if (std::isnan(got) || std::isinf(got)) return 1e9;
  int e = 0;
  std::frexp(ref, &e);
  return std::fabs(static_cast<double>(got) - ref) / std::ldexp(1.0, std::max(e - 24, -149));
}

std::vector<float> run(const Kernel& k, std::vector<std::vector<float>> inputs, int64_t outputs) {
  std::vector<ir::HostArray> buffers;
  for (const auto& in : inputs) {
    buffers.emplace_back(ir::TensorType{DType::F32, {static_cast<int64_t>(in.size())}});
    std::memcpy(buffers.back().data(), in.data(), in.size() * sizeof(float));
  }
  buffers.emplace_back(ir::TensorType{DType::F32, {outputs}});
  testing::run_range(testing::compile_kernel(k), buffers, 0, k.outer_count());
  std::vector<float> y(outputs);
  std::memcpy(y.data(), buffers.back().data(), y.size() * sizeof(float));
  return y;
}

// out[r, i] = x[r, i] / d[r]: the divisor is loaded once per outer index r.
TEST(LlvmDivision, RowInvariantDivisorMatchesTheQuotient) {
  const float divisors[] = {1.0f,  3.0f,     -7.5f,   0.0f,     -0.0f,   kInf,      -kInf,
                            NAN,   1e-40f,   -1e-45f, 1e-30f,   5e-20f,  3e38f,     -2e25f,
                            1e20f, 0x1p-64f, 0x1p64f, 0x1p-63f, 0x1p65f, 1.17e-38f, 6e-39f};
  const int64_t rows = std::size(divisors), n = 64;
  std::vector<float> x(rows * n), d(divisors, divisors + rows);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> mantissa(1, 2);
  std::uniform_int_distribution<int> exponent(-150, 127);
  const float specials[] = {0.0f, -0.0f, kInf, -kInf, NAN, 3.4e38f, 1e-45f, -1.5e-39f};
  for (int64_t i = 0; i < rows * n; ++i) {
    const int64_t j = i % n;
    x[i] = j < static_cast<int64_t>(std::size(specials))
               ? specials[j]
               : std::ldexp(mantissa(rng), exponent(rng)) * (j % 2 ? -1.0f : 1.0f);
  }
  Kernel k;
  k.name = "divide_rows";
  k.buffers = {{ir::TensorType{DType::F32, {rows * n}}, false},
               {ir::TensorType{DType::F32, {rows}}, false},
               {ir::TensorType{DType::F32, {rows * n}}, true}};
  k.outer = {rows};
  ExprBuilder eb(k.exprs);
  ExprId row = eb.index(LoopLevel::Outer, 0);
  ExprId offset = eb.op(
      OpKind::Add, DType::I64,
      {eb.op(OpKind::Mul, DType::I64, {row, eb.constant_int(n)}), eb.index(LoopLevel::Inner, 0)});
  Phase p;
  p.extents = {n};
  p.stores.push_back({2, offset,
                      eb.op(OpKind::Div, DType::F32,
                            {eb.load(0, DType::F32, offset), eb.load(1, DType::F32, row)})});
  k.phases = {p};
  const std::vector<float> y = run(k, {x, d}, rows * n);
  for (int64_t i = 0; i < rows * n; ++i) {
    const double want = static_cast<double>(x[i]) / static_cast<double>(d[i / n]);
    EXPECT_LE(ulp_error(y[i], want), 1.5) << x[i] << " / " << d[i / n] << " gave " << y[i];
  }
}

double logistic(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// out = z * logistic(a) * logistic(b), as W1 computes gelu(z) * logistic(x).
TEST(LlvmDivision, ProductsOfLogisticsDivideOnce) {
  std::vector<float> z, a, b;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> wide(-120, 120);
  const float specials[] = {0.0f,   -0.0f, kInf,   -kInf,   NAN,     3.4e38f, -3.4e38f,
                            1e-45f, 88.7f, -88.7f, -104.0f, -110.0f, 20.0f,   -20.0f};
  for (float s : specials)
    for (float t : specials)
      for (float u : {1.0f, -2.5f, kInf, 1e-30f, NAN})
        z.push_back(u), a.push_back(s), b.push_back(t);
  for (int i = 0; i < 100000; ++i) {
    z.push_back(wide(rng) * 1e3f);
    a.push_back(wide(rng));
    b.push_back(wide(rng) / 4);
  }
  const int64_t n = static_cast<int64_t>(z.size());
  Kernel k;
  k.name = "logistic_product";
  for (int i = 0; i < 3; ++i)
    k.buffers.push_back({ir::TensorType{DType::F32, {n}}, false});
  k.buffers.push_back({ir::TensorType{DType::F32, {n}}, true});
  k.outer = {n};
  ExprBuilder eb(k.exprs);
  ExprId i = eb.index(LoopLevel::Outer, 0);
  ExprId la = eb.op(OpKind::Logistic, DType::F32, {eb.load(1, DType::F32, i)});
  ExprId lb = eb.op(OpKind::Logistic, DType::F32, {eb.load(2, DType::F32, i)});
  ExprId product = eb.op(OpKind::Mul, DType::F32,
                         {eb.op(OpKind::Mul, DType::F32, {eb.load(0, DType::F32, i), la}), lb});
  Phase p;
  p.stores.push_back({3, i, product});
  k.phases = {p};
  const std::vector<float> y = run(k, {z, a, b}, n);
  double worst = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double la = logistic(a[j]), lb = logistic(b[j]);
    // In f32 a logistic below about 1e-45 is 0, so inf times it is NaN, not inf.
    const double rounded = z[j] * static_cast<double>(static_cast<float>(la)) *
                           static_cast<double>(static_cast<float>(lb));
    if (std::isnan(rounded) || std::isinf(static_cast<float>(rounded))) {
      EXPECT_TRUE(std::isnan(rounded) ? std::isnan(y[j]) : y[j] == static_cast<float>(rounded))
          << z[j] << " * logistic(" << a[j] << ") * logistic(" << b[j] << ") gave " << y[j];
      continue;
    }
    const double want = z[j] * la * lb;
    const double e = ulp_error(y[j], want);
    if (la >= 0x1p-126 && lb >= 0x1p-126) worst = std::max(worst, e);
    // Two logistics at their 4-ulp bound each and the products' roundings; a logistic in f32's
    // subnormal range is off by up to one subnormal spacing (2^-149) in either form, which z
    // scales.
    const double ulp = std::ldexp(1.0, want == 0 ? -149 : std::max(std::ilogb(want) - 23, -149));
    EXPECT_LE(std::fabs(y[j] - want), 9 * ulp + 2 * std::fabs(z[j]) * 0x1p-149)
        << z[j] << " * logistic(" << a[j] << ") * logistic(" << b[j] << ") gave " << y[j]
        << ", want " << want;
  }
  std::cout << "worst " << worst << " ulp over " << n << " products with normal factors\n";
}

}  // namespace
}  // namespace kiln::codegen
