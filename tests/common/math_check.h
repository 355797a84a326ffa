#pragma once
// The ops lowering writes out (codegen/math_expand.h), compiled by a backend and compared
// with the interpreter over sweeps of their domains and their special values. Shared by the
// CPU's test (tests/runtime/math_expand_test.cpp) and Vulkan's (tests/vulkan/).
//
// The bound per element is ulps * ulp(want) + absolute: an error relative to the result
// wherever the function is well conditioned, and an absolute one where a formula subtracts
// two values near each other to reach a small result (lgamma near its zeros at 1 and 2,
// digamma near its root at 1.46, erf_inv's f64 Newton step near +-1, where erf is flat).

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "ir/function.h"
#include "ir/interpreter.h"
#include "ir/ops.h"
#include "tests/codegen/ulp_compare.h"

namespace kiln::testing::math {

using RunFn = std::function<std::vector<ir::HostArray>(const ir::Function&,
                                                       const std::vector<ir::HostArray>&, bool)>;

struct Bound {
  double ulps;
  double absolute;
};

inline std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i)
    v.push_back(lo + (hi - lo) * i / (n - 1));
  return v;
}

// +-10^e for e in [lo, hi], `per_decade` values per decade.
inline std::vector<double> logspace(double lo, double hi, int per_decade) {
  std::vector<double> v;
  for (double e = lo; e <= hi; e += 1.0 / per_decade) {
    v.push_back(std::pow(10.0, e));
    v.push_back(-std::pow(10.0, e));
  }
  return v;
}

inline std::vector<double> specials() {
  const double inf = std::numeric_limits<double>::infinity();
  return {0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -0.5, inf, -inf, std::nan("")};
}

// The inputs each op is checked on: its domain swept, plus the special values.
inline std::vector<double> inputs_for(ir::OpKind op) {
  using K = ir::OpKind;
  std::vector<double> v = specials();
  auto append = [&](const std::vector<double>& more) {
    v.insert(v.end(), more.begin(), more.end());
  };
  switch (op) {
    case K::Tan:
      append(linspace(-20, 20, 801));
      append(logspace(-30, 3, 4));
      break;
    case K::Asin:
    case K::Acos:
    case K::Atanh:
    case K::ErfInv:
      append(linspace(-1, 1, 801));
      append({0.999, -0.9999, 0.99999, 1 - 1e-6, 1.01, -1.5, 1e-30, -1e-20});
      break;
    case K::Atan:
    case K::Asinh:
      append(logspace(-30, 30, 8));
      append(linspace(-5, 5, 201));
      break;
    case K::Acosh:
      append(logspace(0, 30, 10));
      append(linspace(1, 5, 201));
      append({0.5, -3.0});
      break;
    case K::Sinh:
    case K::Cosh:
      append(linspace(-100, 100, 801));
      append(logspace(-30, 2, 4));
      break;
    case K::Lgamma:
    case K::Digamma:
      append(linspace(-20.05, 40.05, 1203));
      append(logspace(-10, 30, 4));
      break;
    default:
      break;
  }
  return v;
}

// Checks `op` on `dtype` through `run` (fused and unfused) against the interpreter; fails
// the test at the first few elements past the bound. Unary ops and atan2 (on every pair of a
// smaller list).
inline void check_expanded_op(ir::OpKind op, ir::DType dtype, Bound bound, const RunFn& run) {
  const bool binary = ir::op_info(op).min_operands == 2;
  std::vector<double> a = inputs_for(op), b;
  if (binary) {
    std::vector<double> base = specials();
    for (double x : {3.0, -3.0, 1e-3, -2e4, 0.75, 1e30})
      base.push_back(x);
    a.clear();
    for (double x : base)
      for (double y : base) {
        a.push_back(x);
        b.push_back(y);
      }
    for (double t : linspace(-3.2, 3.2, 321)) {  // around the circle
      a.push_back(std::sin(t) * 2.5);
      b.push_back(std::cos(t) * 2.5);
    }
  }
  const int64_t n = static_cast<int64_t>(a.size());
  ir::Function f(std::string(ir::op_name(op)));
  std::vector<ir::HostArray> args;
  std::vector<ir::Value> params;
  for (const std::vector<double>* values : {&a, &b}) {
    if (values->empty()) continue;
    ir::HostArray x(ir::TensorType{dtype, {n}});
    for (int64_t i = 0; i < n; ++i)
      x.set_f64(i, (*values)[static_cast<size_t>(i)]);
    args.push_back(x);
    params.push_back(f.add_param(args.size() == 1 ? "a" : "b", x.type()));
  }
  f.set_results({f.add(op, params)});
  const ir::HostArray want = ir::interpret(f, args)[0];
  for (bool fuse : {true, false}) {
    const ir::HostArray got = run(f, args, fuse)[0];
    int failures = 0;
    for (int64_t i = 0; i < n && failures < 5; ++i) {
      const double g = got.get_f64(i), w = want.get_f64(i);
      if (std::isnan(g) && std::isnan(w)) continue;
      if (g == w && std::signbit(g) == std::signbit(w)) continue;
      const bool finite = std::isfinite(g) && std::isfinite(w);
      const double ulp = codegen::testing::ulp_of(dtype, w);
      if (finite && std::fabs(g - w) <= bound.ulps * ulp + bound.absolute) continue;
      ++failures;
      ADD_FAILURE() << ir::op_name(op) << " " << ir::dtype_name(dtype)
                    << (fuse ? " fused" : " unfused") << " of " << args[0].get_f64(i)
                    << (binary ? ", " + std::to_string(args[1].get_f64(i)) : "") << ": got " << g
                    << ", want " << w << " (" << (finite ? std::fabs(g - w) / ulp : INFINITY)
                    << " ulp; bound " << bound.ulps << " ulp + " << bound.absolute << ")";
    }
  }
}

}  // namespace kiln::testing::math
