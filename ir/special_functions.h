#pragma once
// The special functions the C++ library lacks, in double, as the reference interpreter's
// definitions of erf_inv and digamma. Plain and accurate rather than fast: compiled code uses
// its own expansions (codegen/math_expand.h), tested against these.

namespace kiln::ir::special {

// The inverse of erf on [-1, 1]: +-inf at +-1, NaN outside. A single-precision estimate
// (Giles, "Approximating the erfinv function", 2010) refined by Newton steps on erf, or on
// erfc for |y| > 1/2 so that the tails keep their relative precision.
double erf_inv(double y);

// The logarithmic derivative of Gamma. NaN at the poles (0 and the negative integers) and at
// -inf; the reflection psi(x) = psi(1 - x) - pi / tan(pi x) below 1/2; the recurrence
// psi(x) = psi(x + 1) - 1 / x up to 10; the asymptotic series from there; within 0.3 of the
// positive root, the Taylor series at the root (the recurrence would cancel there).
double digamma(double x);

}  // namespace kiln::ir::special
