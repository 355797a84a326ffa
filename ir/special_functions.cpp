#include "ir/special_functions.h"

#include <cmath>
#include <iterator>
#include <limits>
#include <numbers>

namespace kiln::ir::special {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Giles' single-precision approximation; about 1e-7 relative error.
double erf_inv_estimate(double y) {
  double w = -std::log((1.0 - y) * (1.0 + y));
  double p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * y;
}

}  // namespace

double erf_inv(double y) {
  if (std::isnan(y) || std::fabs(y) > 1.0) return kNaN;
  if (std::fabs(y) == 1.0) return std::copysign(kInf, y);
  if (y == 0.0) return y;  // keeps the sign of zero
  const double a = std::fabs(y);
  double x = erf_inv_estimate(a);
  const double slope = 2.0 / std::sqrt(std::numbers::pi);  // erf'(x) = slope * exp(-x^2)
  for (int step = 0; step < 4; ++step) {
    // erf(x) - a, or for a > 1/2 the same as (1 - a) - erfc(x), where 1 - a is exact.
    const double residual = a <= 0.5 ? std::erf(x) - a : (1.0 - a) - std::erfc(x);
    x -= residual / (slope * std::exp(-x * x));
  }
  return std::copysign(x, y);
}

namespace {

// Near its positive root x0 the recurrence would cancel to a small result: there digamma is
// its Taylor series at x0 (coefficients psi^(k)(x0) / k!, from mpmath), in h = x - x0 with x0
// split in two doubles so h is exact to the last bit.
constexpr double kRootHigh = 1.4616321449683622, kRootLow = 9.549995429965697e-17;
constexpr double kRootSeries[] = {
    0.9676722454476212,     -0.4427631689835921,     0.258499760955651,     -0.16394270544240652,
    0.10782405069126237,    -0.07219956125645471,    0.04880428816414311,   -0.03316112647484736,
    0.022597648232218104,   -0.01542476590494896,    0.010538791616612175,  -0.007204534386356869,
    0.004926781395729853,   -0.003369801655439328,   0.002305126326734928,  -0.0015769367714301972,
    0.0010788252019162967,  -0.0007380709389960052,  0.000504953265834602,  -0.0003454680251063077,
    0.00023635601564027053, -0.00016170622091974803, 0.0001106337276874741, -7.569179582195066e-05,
    5.178575795222081e-05,  -3.5430070947659604e-05};

double digamma_near_root(double x) {
  const double h = (x - kRootHigh) - kRootLow;
  double sum = 0.0;
  for (int k = static_cast<int>(std::size(kRootSeries)) - 1; k >= 0; --k)
    sum = (sum + kRootSeries[k]) * h;
  return sum;
}

}  // namespace

double digamma(double x) {
  if (std::isnan(x) || x == -kInf) return kNaN;
  if (x == kInf) return kInf;
  if (x <= 0.0 && x == std::floor(x)) return kNaN;  // a pole
  double result = 0.0;
  if (x < 0.5) {
    // tan(pi x) = tan(pi r) with r = x - round(x), exact, so the reduction loses nothing;
    // at r = +-1/2 the term is exactly 0 (pi r in double is not quite pi/2).
    const double r = x - std::round(x);
    if (std::fabs(r) != 0.5) result = -std::numbers::pi / std::tan(std::numbers::pi * r);
    x = 1.0 - x;
  }
  if (std::fabs(x - kRootHigh) <= 0.3) return result + digamma_near_root(x);
  while (x < 10.0) {
    result -= 1.0 / x;
    x += 1.0;
  }
  // log x - 1/(2x) - sum over k of B_2k / (2k x^2k), to k = 7.
  const double z = 1.0 / (x * x);
  const double series =
      z * (1.0 / 12 -
           z * (1.0 / 120 -
                z * (1.0 / 252 -
                     z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760 - z * (1.0 / 12)))))));
  return result + std::log(x) - 0.5 / x - series;
}

}  // namespace kiln::ir::special
