// The frontend's names for the math ops lowering writes out: values at points numpy and
// mpmath give (within what compiled f32 math allows), their integer inputs computing in f32,
// and their gradients through grad.

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

TEST(MathFunctions, ValuesMatchNumpyAndMpmath) {
  const Tensor x({0.5f, -0.25f});
  expect_values(tan(x), {0.5463024898437905, -0.25534192122103627}, 1e-6);
  expect_values(arcsin(x), {0.5235987755982989, -0.25268025514207865}, 1e-6);
  expect_values(arccos(x), {1.0471975511965979, 1.8234765819369754}, 1e-6);
  expect_values(arctan(x), {0.4636476090008061, -0.24497866312686414}, 1e-6);
  expect_values(sinh(x), {0.5210953054937474, -0.2526123168081683}, 1e-6);
  expect_values(cosh(x), {1.1276259652063807, 1.0314130998795732}, 1e-6);
  expect_values(arcsinh(x), {0.48121182505960347, -0.24746646154726346}, 1e-6);
  expect_values(arctanh(x), {0.5493061443340549, -0.25541281188299536}, 1e-6);
  expect_values(erfinv(x), {0.4769362762044699, -0.2253120550121781}, 1e-6);
  expect_values(arccosh(Tensor({2.0f})), {1.3169578969248166}, 1e-6);
  expect_values(lgamma(Tensor({0.5f, 5.0f, -1.5f})),
                {0.5723649429247001, 3.1780538303479458, 0.8600470153764810}, 4e-6);
  expect_values(digamma(Tensor({0.5f, 5.0f, -1.5f})),
                {-1.9635100260214235, 1.5061176684318003, 0.7031566406452432}, 4e-6);
  expect_values(arctan2(Tensor({1.0f, -1.0f}), Tensor({-1.0f, -1.0f})),
                {0.75 * std::numbers::pi, -0.75 * std::numbers::pi}, 1e-6);
  // Integers compute in the default float type.
  EXPECT_EQ(arctan2(Tensor({1}), Tensor({1})).dtype(), DType::F32);
  EXPECT_EQ(lgamma(Tensor({3})).dtype(), DType::F32);
}

TEST(MathFunctions, GradientsAreTheKnownDerivatives) {
  const Tensor x = Tensor({0.3, 0.7}, DType::F64);
  auto grad_of = [&](Tensor (*fn)(const Tensor&)) {
    return grad([fn](const Tensor& v) { return sum(fn(v)); })(x)[0];
  };
  expect_values(grad_of(arcsin), {1 / std::sqrt(1 - 0.09), 1 / std::sqrt(1 - 0.49)}, 1e-12);
  expect_values(
      grad_of(erfinv),
      {std::sqrt(std::numbers::pi) / 2 * std::exp(0.2724627147267544 * 0.2724627147267544),
       std::sqrt(std::numbers::pi) / 2 * std::exp(0.7328690779592167 * 0.7328690779592167)},
      1e-10);
  // lgamma' is digamma, digamma' is trigamma (mpmath: psi(1, 0.3), psi(1, 0.7)).
  expect_values(grad_of(lgamma), {-3.502524222200133, -1.2200235536979349}, 1e-10);
  expect_values(grad_of(digamma), {12.2453645461077, 2.83404915669461}, 1e-8);
}

}  // namespace
}  // namespace kiln
