#pragma once
// Comparing a compiled result with the interpreter's element by element: integers exactly,
// floats within a number of ulps of the dtype (NaN matching NaN, signed zeros told apart).
// Shared by the LLVM backend's tests and the Vulkan backend's.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "ir/array.h"

namespace kiln::codegen::testing {

// The spacing of `dtype`'s values around `v`.
inline double ulp_of(ir::DType dtype, double v) {
  int mantissa = 23, min_exp = -126;
  if (dtype == ir::DType::F64) mantissa = 52, min_exp = -1022;
  if (dtype == ir::DType::F16) mantissa = 10, min_exp = -14;
  if (dtype == ir::DType::BF16) mantissa = 7, min_exp = -126;
  int e = 0;
  std::frexp(v, &e);
  return std::ldexp(1.0, std::max(e - 1, min_exp) - mantissa);
}

// Element i of `got` equals `want` (NaN matching NaN), or for floats lies within `ulps`.
inline ::testing::AssertionResult close(const ir::HostArray& got, const ir::HostArray& want,
                                        double ulps, int64_t i) {
  if (!ir::is_float(want.dtype())) {
    if (got.get_i64(i) == want.get_i64(i)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "element " << i << ": got " << got.get_i64(i) << ", want " << want.get_i64(i);
  }
  const double g = got.get_f64(i), w = want.get_f64(i);
  if (std::isnan(w) || std::isnan(g)) {
    if (std::isnan(w) && std::isnan(g)) return ::testing::AssertionSuccess();
  } else if (g == w && std::signbit(g) == std::signbit(w)) {
    return ::testing::AssertionSuccess();
  } else if (!std::isinf(w) && !std::isinf(g) &&
             std::fabs(g - w) <= ulps * ulp_of(want.dtype(), w)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "element " << i << ": got " << g << ", want " << w << " (tolerance " << ulps << " ulp)";
}

inline void expect_close(const ir::HostArray& got, const ir::HostArray& want, double ulps,
                         const std::string& what) {
  ASSERT_EQ(got.type(), want.type()) << what;
  int failures = 0;
  for (int64_t i = 0; i < want.num_elements() && failures < 5; ++i) {
    auto r = close(got, want, ulps, i);
    if (!r) {
      ADD_FAILURE() << what << ": " << r.message();
      ++failures;
    }
  }
}

}  // namespace kiln::codegen::testing
