// Differential tests of vmap, jvp and vjp on seeded random graphs (transform_random_graph_util.h)
// with the interpreter as the oracle: vmap against the loop over the batch, bit for bit; vjp
// against jvp through <c, J t> = <J^T c, t>; jvp against central finite differences on smooth
// graphs. A failure prints the graph as .kir with the seed, ready to paste into a test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "ir/interpreter.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "passes/vmap.h"
#include "tests/passes/autodiff_test_util.h"
#include "tests/passes/transform_random_graph_util.h"
#include "tests/passes/vmap_test_util.h"

namespace kiln::passes::testing {
namespace {

// Failures print their reproducer in full only this many times per test, so one bug that
// many seeds hit does not bury the report.
constexpr int kFullReports = 3;

// KILN_RANDOM_GRAPH_SCALE=N runs N times as many graphs (more seeds), for a soak run.
int scaled(int graphs) {
  const char* scale = std::getenv("KILN_RANDOM_GRAPH_SCALE");
  return graphs * (scale ? std::max(1, std::atoi(scale)) : 1);
}

std::string axes_str(const std::vector<std::optional<int>>& axes) {
  std::string s = "[";
  for (size_t i = 0; i < axes.size(); ++i)
    s += (i ? ", " : "") + (axes[i] ? std::to_string(*axes[i]) : std::string("none"));
  return s + "]";
}

std::string axes_str(const std::vector<int>& axes) {
  std::vector<std::optional<int>> o(axes.begin(), axes.end());
  return axes_str(o);
}

// ---------------------------------------------------------------------------------------------
// vmap

struct VmapCase {
  std::vector<std::optional<int>> in_axes;
  std::vector<int> out_axes;
  int64_t batch = 2;
};

// Each parameter batched at a random axis (negative ones too) or not, at least one batched;
// each result's batch axis random.
VmapCase random_vmap_case(const ir::Function& f, std::mt19937_64& rng) {
  VmapCase c;
  // Mostly 2 or 3; sometimes 1, where a batch axis looks like any other unit dimension.
  c.batch = rng() % 5 == 0 ? 1 : 2 + static_cast<int64_t>(rng() % 2);
  auto random_axis = [&](int rank) {
    const int n = rank + 1;  // where a new axis can go
    const int axis = static_cast<int>(rng() % static_cast<uint64_t>(n));
    return rng() % 3 == 0 ? axis - n : axis;
  };
  bool any_batched = false;
  for (ir::Value p : f.params()) {
    std::optional<int> axis;
    if (rng() % 3 != 0) axis = random_axis(f.type(p).rank());
    any_batched |= axis.has_value();
    c.in_axes.push_back(axis);
  }
  if (!any_batched) {
    const size_t i = rng() % f.params().size();
    c.in_axes[i] = random_axis(f.type(f.params()[i]).rank());
  }
  for (ir::Value r : f.results())
    c.out_axes.push_back(random_axis(f.type(r).rank()));
  return c;
}

// Runs vmap(f) on random batched arguments and the loop over the batch; returns what differs
// (empty when nothing does).
std::string vmap_mismatch(const ir::Function& f, const VmapCase& c, uint64_t seed) {
  ir::Function g;
  try {
    g = vmap(f, c.in_axes, c.out_axes, c.batch);
    ir::verify(g);
  } catch (const kiln::Error& e) {
    return std::string("vmap or verify threw: ") + e.what();
  }
  for (size_t j = 0; j < f.results().size(); ++j) {
    ir::TensorType want = f.type(f.results()[j]);
    want.shape.insert(want.shape.begin() + normalized(c.out_axes[j], want.rank() + 1), c.batch);
    if (g.type(g.results()[j]) != want)
      return "result " + std::to_string(j) + " has type " + g.type(g.results()[j]).str() +
             ", want " + want.str();
  }
  for (uint64_t trial = 0; trial < 2; ++trial) {
    std::mt19937_64 rng(seed * 1000 + trial);
    const std::vector<ir::HostArray> args = random_args(g, rng);
    const std::vector<ir::HostArray> got = ir::interpret(g, args);
    std::vector<std::vector<ir::HostArray>> per_result(f.results().size());
    for (int64_t b = 0; b < c.batch; ++b) {
      std::vector<ir::HostArray> element;
      for (size_t i = 0; i < args.size(); ++i)
        element.push_back(
            c.in_axes[i] ? slice_out(args[i], normalized(*c.in_axes[i], args[i].type().rank()), b)
                         : args[i]);
      std::vector<ir::HostArray> results = ir::interpret(f, element);
      for (size_t j = 0; j < results.size(); ++j)
        per_result[j].push_back(std::move(results[j]));
    }
    for (size_t j = 0; j < per_result.size(); ++j) {
      const ir::HostArray want =
          stack(per_result[j], normalized(c.out_axes[j], per_result[j][0].type().rank() + 1));
      if (!same_values(got[j], want))
        return "result " + std::to_string(j) + " differs from the loop on argument set " +
               std::to_string(trial) + " (data seed " + std::to_string(seed * 1000 + trial) + ")";
    }
  }
  return "";
}

// What a test transforms: the random graph itself, or its jvp or vjp.
enum class Base { Graph, Jvp, Vjp };

const char* base_name(Base base) {
  return base == Base::Graph ? "" : base == Base::Jvp ? "jvp of " : "vjp of ";
}

// The function a test transforms; nullopt with `why` set where building it throws.
std::optional<ir::Function> based(const ir::Function& graph, Base base, std::string& why) {
  try {
    return base == Base::Graph ? graph : base == Base::Jvp ? jvp(graph) : vjp(graph);
  } catch (const kiln::Error& e) {
    why = std::string(base_name(base)) + "the graph threw: " + e.what();
    return std::nullopt;
  }
}

// vmap of `graphs` random graphs (or of their jvp or vjp) against the loop; returns the number
// of failures and adds the ops it generated to `seen`.
int check_random_vmap(int graphs, uint64_t first_seed, Base base, std::set<ir::OpKind>& seen) {
  int failures = 0;
  for (uint64_t seed = first_seed; seed < first_seed + static_cast<uint64_t>(graphs); ++seed) {
    GraphOptions o;
    const ir::DType dtypes[] = {ir::DType::F32, ir::DType::F32, ir::DType::F64, ir::DType::F16};
    o.dtype = dtypes[seed % 4];
    o.integers = seed % 3 != 0;
    o.empty_slices = true;
    o.steps = 4 + static_cast<int>(seed % 21);
    const ir::Function graph = RandomGraph(seed, o).generate();
    ir::verify(graph);
    for (const ir::Node& n : graph.nodes())
      seen.insert(n.op);
    std::string why;
    const std::optional<ir::Function> f = based(graph, base, why);
    std::mt19937_64 rng(seed);
    const VmapCase c = f ? random_vmap_case(*f, rng) : VmapCase{};
    if (f) why = vmap_mismatch(*f, c, seed);
    if (why.empty()) continue;
    std::ostringstream report;
    report << "vmap of " << base_name(base) << "random graph seed " << seed << ": " << why
           << "\nin_axes " << axes_str(c.in_axes) << " out_axes " << axes_str(c.out_axes)
           << " batch " << c.batch;
    if (++failures <= kFullReports) report << "\n" << ir::print(graph);
    ADD_FAILURE() << report.str();
  }
  return failures;
}

const int kVmapGraphs = scaled(300);

TEST(RandomGraphVmap, MatchesLoopOverBatch) {
  std::set<ir::OpKind> seen;
  check_random_vmap(kVmapGraphs, 0, Base::Graph, seen);
  // The generator reaches every op but calls, so a new op shows up here as missing.
  for (ir::OpKind k : ir::all_ops()) {
    if (k == ir::OpKind::Call) continue;
    EXPECT_TRUE(seen.count(k)) << "no random graph has " << ir::op_name(k);
  }
}

// The transforms' own output, which holds the patterns their rules write (scatter_add and pad
// as transposes, zeros broadcast from scalars), batched in turn.
TEST(RandomGraphVmap, OfJvpAndVjpMatchesLoopOverBatch) {
  std::set<ir::OpKind> seen;
  check_random_vmap(kVmapGraphs / 4, 50000, Base::Jvp, seen);
  check_random_vmap(kVmapGraphs / 4, 60000, Base::Vjp, seen);
}

// ---------------------------------------------------------------------------------------------
// jvp and vjp

// Floats of magnitude in [0.5, 1.5] and either sign; indices in [-1, 5] (some clamped).
std::vector<ir::HostArray> point(const ir::Function& f, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> mag(0.5, 1.5);
  std::vector<ir::HostArray> args;
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray a(t);
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      if (ir::is_float(t.dtype))
        a.set_f64(i, rng() % 2 ? mag(rng) : -mag(rng));
      else
        a.set_i64(i, static_cast<int64_t>(rng() % 7) - 1);
    }
    args.push_back(std::move(a));
  }
  return args;
}

// Values past this are "huge": the identity's rounding error is no longer small against them.
constexpr double kHuge = 1e8;

bool tame(std::span<const ir::HostArray> arrays) {
  for (const ir::HostArray& a : arrays)
    if (ir::is_float(a.dtype()))
      for (int64_t i = 0; i < a.num_elements(); ++i)
        if (!(std::abs(a.get_f64(i)) <= kHuge)) return false;
  return true;
}

enum class Outcome { Checked, Skipped, Failed };

// The parameters jvp and vjp differentiate by: every float one (as `wrt` = {} picks them), or
// a random non-empty subset in random order.
std::vector<int> random_wrt(const ir::Function& f, std::mt19937_64& rng) {
  std::vector<int> all = picked_params(f, {});
  if (all.empty() || rng() % 2) return all;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(1 + rng() % all.size());
  return all;
}

struct AutodiffSample {
  std::vector<int> wrt;
  std::vector<ir::HostArray> args, tangents, cotangents;
};

AutodiffSample random_sample(const ir::Function& f, const std::vector<int>& wrt,
                             std::mt19937_64& rng) {
  AutodiffSample s;
  s.wrt = wrt;
  s.args = point(f, rng);
  for (int i : wrt)
    s.tangents.push_back(random_like(f.type(f.params()[i]), rng));
  for (int r : float_results(f))
    s.cotangents.push_back(random_like(f.type(f.results()[r]), rng));
  return s;
}

std::vector<ir::HostArray> concat(std::vector<ir::HostArray> a,
                                  const std::vector<ir::HostArray>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The jvp's tangents (one per float result) against central differences with step 1e-6. The
// tolerance allows for the truncation error (relative to the tangent) and for rounding (relative
// to the values differenced); where the differences with step 1e-5 disagree with those beyond
// it, the function is too curved here for the comparison to mean anything and the sample is
// skipped.
Outcome check_finite_differences(const ir::Function& f, const AutodiffSample& s,
                                 std::span<const ir::HostArray> primal,
                                 std::span<const ir::HostArray> tangents, std::string& why) {
  const std::vector<ir::HostArray> fine = fd_jvp(f, s.args, s.wrt, s.tangents, 1e-6);
  const std::vector<ir::HostArray> coarse = fd_jvp(f, s.args, s.wrt, s.tangents, 1e-5);
  if (!tame(fine) || !tame(coarse)) return Outcome::Skipped;
  const std::vector<int> outs = float_results(f);
  std::vector<double> tol(outs.size());
  for (size_t k = 0; k < outs.size(); ++k) {
    double tangent_size = 1, value_size = 1;
    for (int64_t i = 0; i < tangents[k].num_elements(); ++i) {
      tangent_size = std::max(tangent_size, std::abs(tangents[k].get_f64(i)));
      value_size = std::max(value_size, std::abs(primal[outs[k]].get_f64(i)));
    }
    tol[k] = 1e-5 * tangent_size + 1e-8 * value_size;
    for (int64_t i = 0; i < tangents[k].num_elements(); ++i)
      if (!(std::abs(fine[k].get_f64(i) - coarse[k].get_f64(i)) <= tol[k])) return Outcome::Skipped;
  }
  for (size_t k = 0; k < outs.size(); ++k)
    for (int64_t i = 0; i < tangents[k].num_elements(); ++i) {
      const double got = tangents[k].get_f64(i), want = fine[k].get_f64(i);
      if (std::abs(got - want) <= tol[k]) continue;
      std::ostringstream o;
      o.precision(17);
      o << "tangent of float result " << k << " element " << i << ": jvp " << got
        << ", finite differences " << want;
      why = o.str();
      return Outcome::Failed;
    }
  return Outcome::Checked;
}

// Checks one sample; `why` says what failed.
Outcome check_autodiff(const ir::Function& f, const ir::Function& fj, const ir::Function& fv,
                       const AutodiffSample& s, bool finite_diff, std::string& why) {
  const std::vector<ir::HostArray> primal = ir::interpret(f, s.args);
  const std::vector<ir::HostArray> j = ir::interpret(fj, concat(s.args, s.tangents));
  const std::vector<ir::HostArray> v = ir::interpret(fv, concat(s.args, s.cotangents));
  const size_t np = primal.size();
  for (size_t r = 0; r < np; ++r) {
    if (!same_values(j[r], primal[r])) why = "jvp primal result " + std::to_string(r) + " differs";
    if (!same_values(v[r], primal[r])) why = "vjp primal result " + std::to_string(r) + " differs";
  }
  if (!why.empty()) return Outcome::Failed;
  if (!tame(primal) || !tame(j) || !tame(v)) return Outcome::Skipped;
  // <c, J t> against <J^T c, t>, the tolerance scaled by the terms' magnitudes.
  double lhs = 0, rhs = 0, scale = 0;
  for (size_t k = 0; k < s.cotangents.size(); ++k)
    for (int64_t i = 0; i < s.cotangents[k].num_elements(); ++i) {
      const double term = s.cotangents[k].get_f64(i) * j[np + k].get_f64(i);
      lhs += term;
      scale += std::abs(term);
    }
  for (size_t k = 0; k < s.tangents.size(); ++k)
    for (int64_t i = 0; i < s.tangents[k].num_elements(); ++i) {
      const double term = v[np + k].get_f64(i) * s.tangents[k].get_f64(i);
      rhs += term;
      scale += std::abs(term);
    }
  if (!(std::abs(lhs - rhs) <= 1e-8 * scale + 1e-300)) {
    std::ostringstream o;
    o.precision(17);
    o << "<c, J t> = " << lhs << " but <J^T c, t> = " << rhs;
    why = o.str();
    return Outcome::Failed;
  }
  if (!finite_diff) return Outcome::Checked;
  return check_finite_differences(f, s, primal, std::span(j).subspan(np), why);
}

// The primal results of jvp(f) and vjp(f) against f's on arguments rich in special values
// (NaN, infinities, signed zeros), where no derivative is checked; returns what differs.
std::string primal_mismatch_on_specials(const ir::Function& f, const ir::Function& fj,
                                        const ir::Function& fv, std::mt19937_64& rng) {
  const std::vector<ir::HostArray> jargs = random_args(fj, rng), vargs = random_args(fv, rng);
  const std::vector<ir::HostArray> jprimal(jargs.begin(), jargs.begin() + f.params().size());
  const std::vector<ir::HostArray> vprimal(vargs.begin(), vargs.begin() + f.params().size());
  const std::vector<ir::HostArray> want_j = ir::interpret(f, jprimal),
                                   got_j = ir::interpret(fj, jargs);
  const std::vector<ir::HostArray> want_v = ir::interpret(f, vprimal),
                                   got_v = ir::interpret(fv, vargs);
  for (size_t r = 0; r < f.results().size(); ++r) {
    if (!same_values(got_j[r], want_j[r]))
      return "jvp primal result " + std::to_string(r) + " differs on special values";
    if (!same_values(got_v[r], want_v[r]))
      return "vjp primal result " + std::to_string(r) + " differs on special values";
  }
  return "";
}

struct Tally {
  int checked = 0, skipped = 0, failures = 0;
};

// jvp and vjp of `graphs` random f64 graphs (or of their own jvp or vjp), three samples each.
Tally check_random_autodiff(int graphs, uint64_t first_seed, bool smooth, Base base = Base::Graph) {
  Tally tally;
  for (uint64_t seed = first_seed; seed < first_seed + static_cast<uint64_t>(graphs); ++seed) {
    GraphOptions o;
    o.dtype = ir::DType::F64;
    o.guard_domains = true;
    o.narrowing_converts = false;
    o.smooth = smooth;
    o.steps = 4 + static_cast<int>(seed % 13);
    const ir::Function graph = RandomGraph(seed, o).generate();
    ir::verify(graph);
    if (float_results(graph).empty()) continue;
    std::string why;
    const std::optional<ir::Function> f = based(graph, base, why);
    if (f && float_results(*f).empty()) continue;
    std::mt19937_64 rng(seed);
    const std::vector<int> wrt = f ? random_wrt(*f, rng) : std::vector<int>{};
    // {} when every float parameter is picked, so the default path is the one tested there.
    const std::vector<int> wrt_arg = f && wrt == picked_params(*f, {}) ? std::vector<int>{} : wrt;
    std::optional<ir::Function> fj, fv;
    try {
      if (f) {
        fj = jvp(*f, wrt_arg);
        fv = vjp(*f, wrt_arg);
        ir::verify(*fj);
        ir::verify(*fv);
      }
    } catch (const kiln::Error& e) {
      why = std::string("jvp, vjp or verify threw: ") + e.what();
    }
    if (why.empty()) why = primal_mismatch_on_specials(*f, *fj, *fv, rng);
    for (int sample = 0; sample < 3 && why.empty(); ++sample) {
      const Outcome out = check_autodiff(*f, *fj, *fv, random_sample(*f, wrt, rng), smooth, why);
      tally.checked += out == Outcome::Checked;
      tally.skipped += out == Outcome::Skipped;
      if (out == Outcome::Failed) why = "sample " + std::to_string(sample) + ": " + why;
    }
    if (why.empty()) continue;
    std::ostringstream report;
    report << "jvp/vjp of " << base_name(base) << (smooth ? "smooth " : "") << "random graph seed "
           << seed << ", wrt " << axes_str(wrt) << ": " << why;
    if (++tally.failures <= kFullReports) report << "\n" << ir::print(graph);
    ADD_FAILURE() << report.str();
  }
  return tally;
}

const int kAutodiffGraphs = scaled(120);

TEST(RandomGraphAutodiff, VjpIsTheTransposeOfJvp) {
  const Tally t = check_random_autodiff(kAutodiffGraphs, 10000, /*smooth=*/false);
  // Most samples must be checked, or the test proves little.
  EXPECT_GE(t.checked, 2 * kAutodiffGraphs) << t.skipped << " samples skipped";
}

TEST(RandomGraphAutodiff, JvpMatchesFiniteDifferencesOnSmoothGraphs) {
  const Tally t = check_random_autodiff(kAutodiffGraphs, 20000, /*smooth=*/true);
  EXPECT_GE(t.checked, 2 * kAutodiffGraphs) << t.skipped << " samples skipped";
}

// Second order: the checks above on the jvp and the vjp of random graphs, whose own rules
// (scatter_add and pad as transposes, symbolic zeros) then get differentiated in turn.
const int kSecondOrderGraphs = scaled(40);

TEST(RandomGraphAutodiff, SecondOrderVjpIsTheTransposeOfJvp) {
  for (Base base : {Base::Jvp, Base::Vjp}) {
    const Tally t = check_random_autodiff(kSecondOrderGraphs, 30000, /*smooth=*/false, base);
    EXPECT_GE(t.checked, 2 * kSecondOrderGraphs) << t.skipped << " samples skipped";
  }
}

TEST(RandomGraphAutodiff, SecondOrderJvpMatchesFiniteDifferencesOnSmoothGraphs) {
  for (Base base : {Base::Jvp, Base::Vjp}) {
    const Tally t = check_random_autodiff(kSecondOrderGraphs, 40000, /*smooth=*/true, base);
    EXPECT_GE(t.checked, 2 * kSecondOrderGraphs) << t.skipped << " samples skipped";
  }
}

}  // namespace
}  // namespace kiln::passes::testing
