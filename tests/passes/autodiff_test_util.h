#pragma once
// Checks for the autodiff passes, with the reference interpreter as the oracle: jvp against
// central finite differences, vjp against jvp through <c, J t> = <J^T c, t> and against finite
// differences of <c, f>, all in f64 at seeded random points the caller keeps away from kinks.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "tests/passes/pass_test_util.h"

namespace kiln::passes::testing {

// Where random arguments come from: floats have magnitude in [lo, hi] (negative too unless
// `positive`), integers lie in [0, int_hi).
struct Domain {
  double lo = 0.5, hi = 1.5;
  bool positive = false;
  int64_t int_hi = 3;
};

inline std::vector<ir::HostArray> random_point(const ir::Function& f, std::mt19937_64& rng,
                                               Domain d = {}) {
  std::uniform_real_distribution<double> mag(d.lo, d.hi);
  std::vector<ir::HostArray> args;
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray a(t);
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      if (ir::is_float(t.dtype)) {
        const double m = mag(rng);
        a.set_f64(i, d.positive || rng() % 2 ? m : -m);
      } else {
        a.set_i64(i, static_cast<int64_t>(rng() % static_cast<uint64_t>(d.int_hi)));
      }
    }
    args.push_back(std::move(a));
  }
  return args;
}

inline ir::HostArray random_like(const ir::TensorType& t, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  ir::HostArray a(t);
  for (int64_t i = 0; i < a.num_elements(); ++i)
    a.set_f64(i, u(rng));
  return a;
}

inline double dot(const ir::HostArray& a, const ir::HostArray& b) {
  EXPECT_EQ(a.type(), b.type());
  double s = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i)
    s += a.get_f64(i) * b.get_f64(i);
  return s;
}

inline bool close(double got, double want, double rtol = 1e-6) {
  return std::abs(got - want) <= rtol * (1.0 + std::abs(want));
}

inline std::vector<int> picked_params(const ir::Function& f, std::vector<int> wrt) {
  if (!wrt.empty()) return wrt;
  for (size_t i = 0; i < f.params().size(); ++i)
    if (ir::is_float(f.type(f.params()[i]).dtype)) wrt.push_back(static_cast<int>(i));
  return wrt;
}

inline std::vector<int> float_results(const ir::Function& f) {
  std::vector<int> out;
  for (size_t i = 0; i < f.results().size(); ++i)
    if (ir::is_float(f.type(f.results()[i]).dtype)) out.push_back(static_cast<int>(i));
  return out;
}

// args with x[wrt[k]] += s * t[k].
inline std::vector<ir::HostArray> moved(std::vector<ir::HostArray> args,
                                        const std::vector<int>& wrt,
                                        const std::vector<ir::HostArray>& t, double s) {
  for (size_t k = 0; k < wrt.size(); ++k) {
    ir::HostArray& a = args[wrt[k]];
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, a.get_f64(i) + s * t[k].get_f64(i));
  }
  return args;
}

// (f(x + h t) - f(x - h t)) / 2h for each float result.
inline std::vector<ir::HostArray> fd_jvp(const ir::Function& f,
                                         const std::vector<ir::HostArray>& args,
                                         const std::vector<int>& wrt,
                                         const std::vector<ir::HostArray>& t, double h = 1e-6) {
  auto plus = ir::interpret(f, moved(args, wrt, t, h));
  auto minus = ir::interpret(f, moved(args, wrt, t, -h));
  std::vector<ir::HostArray> out;
  for (int r : float_results(f)) {
    ir::HostArray d(plus[r].type());
    for (int64_t i = 0; i < d.num_elements(); ++i)
      d.set_f64(i, (plus[r].get_f64(i) - minus[r].get_f64(i)) / (2 * h));
    out.push_back(std::move(d));
  }
  return out;
}

inline void expect_close(const ir::HostArray& got, const ir::HostArray& want,
                         const std::string& what, double rtol = 1e-6) {
  ASSERT_EQ(got.type(), want.type()) << what;
  for (int64_t i = 0; i < got.num_elements(); ++i)
    EXPECT_TRUE(close(got.get_f64(i), want.get_f64(i), rtol))
        << what << " element " << i << ": got " << got.get_f64(i) << ", want " << want.get_f64(i);
}

// jvp(f) against finite differences at `args`, and its primal results against f's.
inline void check_jvp(const ir::Function& f, const std::vector<ir::HostArray>& args,
                      std::mt19937_64& rng, std::vector<int> wrt_in = {}) {
  const std::vector<int> wrt = picked_params(f, wrt_in);
  ir::Function g = jvp(f, wrt_in);
  ir::verify(g);
  std::vector<ir::HostArray> t;
  for (int i : wrt)
    t.push_back(random_like(f.type(f.params()[i]), rng));
  std::vector<ir::HostArray> jargs = args;
  jargs.insert(jargs.end(), t.begin(), t.end());
  auto got = ir::interpret(g, jargs);
  auto want_primal = ir::interpret(f, args);
  ASSERT_EQ(got.size(), want_primal.size() + float_results(f).size());
  for (size_t r = 0; r < want_primal.size(); ++r)
    EXPECT_EQ(got[r], want_primal[r]) << "@" << f.name() << " primal result " << r;
  auto want = fd_jvp(f, args, wrt, t);
  for (size_t k = 0; k < want.size(); ++k)
    expect_close(got[want_primal.size() + k], want[k],
                 "@" + f.name() + " jvp tangent result " + std::to_string(k));
}

// vjp(f): primal results equal f's, <c, J t> (from jvp) equals <J^T c, t>, and each cotangent
// element equals the finite difference of <c, f> along that element (for small parameters).
inline void check_vjp(const ir::Function& f, const std::vector<ir::HostArray>& args,
                      std::mt19937_64& rng, std::vector<int> wrt_in = {}) {
  const std::vector<int> wrt = picked_params(f, wrt_in);
  const std::vector<int> outs = float_results(f);
  ir::Function g = vjp(f, wrt_in);
  ir::verify(g);
  std::vector<ir::HostArray> c;
  for (int r : outs)
    c.push_back(random_like(f.type(f.results()[r]), rng));
  std::vector<ir::HostArray> vargs = args;
  vargs.insert(vargs.end(), c.begin(), c.end());
  auto got = ir::interpret(g, vargs);
  auto primal = ir::interpret(f, args);
  ASSERT_EQ(got.size(), primal.size() + wrt.size());
  for (size_t r = 0; r < primal.size(); ++r)
    EXPECT_EQ(got[r], primal[r]) << "@" << f.name() << " primal result " << r;
  // Dot-product identity with the jvp.
  std::vector<ir::HostArray> t;
  for (int i : wrt)
    t.push_back(random_like(f.type(f.params()[i]), rng));
  std::vector<ir::HostArray> jargs = args;
  jargs.insert(jargs.end(), t.begin(), t.end());
  auto jt = ir::interpret(jvp(f, wrt_in), jargs);
  double lhs = 0, rhs = 0;
  for (size_t k = 0; k < outs.size(); ++k)
    lhs += dot(c[k], jt[primal.size() + k]);
  for (size_t k = 0; k < wrt.size(); ++k)
    rhs += dot(got[primal.size() + k], t[k]);
  EXPECT_TRUE(close(rhs, lhs)) << "@" << f.name() << ": <J^T c, t> = " << rhs
                               << " but <c, J t> = " << lhs;
  // Element by element against finite differences of <c, f>.
  for (size_t k = 0; k < wrt.size(); ++k) {
    const ir::TensorType& pt = f.type(f.params()[wrt[k]]);
    if (pt.num_elements() > 64) continue;
    for (int64_t i = 0; i < pt.num_elements(); ++i) {
      std::vector<ir::HostArray> e;
      for (size_t j = 0; j < wrt.size(); ++j)
        e.push_back(ir::HostArray(f.type(f.params()[wrt[j]])));
      e[k].set_f64(i, 1.0);
      auto d = fd_jvp(f, args, wrt, e);
      double want = 0;
      for (size_t r = 0; r < outs.size(); ++r)
        want += dot(c[r], d[r]);
      EXPECT_TRUE(close(got[primal.size() + k].get_f64(i), want))
          << "@" << f.name() << " cotangent of parameter " << wrt[k] << " element " << i << ": got "
          << got[primal.size() + k].get_f64(i) << ", finite differences " << want;
    }
  }
}

// First order both ways, then second order: jvp and vjp of jvp(f) (forward-over-forward,
// reverse-over-forward) and jvp of vjp(f) (forward-over-reverse), all against finite
// differences of the first-order functions, and vjp of vjp(f) (reverse-over-reverse).
inline void check_derivatives(const ir::Function& f, Domain d = {}, uint64_t seed = 1) {
  SCOPED_TRACE("@" + f.name() + "\n" + ir::print(f));
  std::mt19937_64 rng(seed);
  const std::vector<ir::HostArray> args = random_point(f, rng, d);
  check_jvp(f, args, rng);
  check_vjp(f, args, rng);
  if (::testing::Test::HasFailure()) return;
  const std::vector<int> wrt = picked_params(f, {});
  {
    ir::Function g = jvp(f);
    std::vector<ir::HostArray> gargs = args;
    for (int i : wrt)
      gargs.push_back(random_like(f.type(f.params()[i]), rng));
    check_jvp(g, gargs, rng);
    check_vjp(g, gargs, rng);
  }
  {
    ir::Function g = vjp(f);
    std::vector<ir::HostArray> gargs = args;
    for (int r : float_results(f))
      gargs.push_back(random_like(f.type(f.results()[r]), rng));
    check_jvp(g, gargs, rng);
    check_vjp(g, gargs, rng);
  }
}

}  // namespace kiln::passes::testing
