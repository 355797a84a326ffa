#pragma once
// A seeded random-graph generator: DAGs of elementwise ops, reductions, broadcasts, index
// movement and dots over small random shapes. The codegen tests run its graphs through the
// kernel evaluator and the runtime tests through the JIT, each against the interpreter.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "ir/function.h"
#include "tests/codegen/codegen_test_util.h"

namespace kiln::codegen::testing {

using ir::Attrs;
using ir::DType;
using ir::int_list;
using ir::OpKind;
using ir::Value;

class GraphGenerator {
 public:
  explicit GraphGenerator(uint64_t seed) : rng_(seed) {}

  ir::Function generate(int steps) {
    ir::Function f("random");
    const int64_t a = dim(), b = dim();
    pool_ = {f.add_param("x", {DType::F32, {a, b}}), f.add_param("y", {DType::F32, {a, b}}),
             f.add_param("w", {DType::F32, {b}})};
    scalar_ = f.add_param("s", {DType::F32, {}});
    index_ = f.add_param("i", {DType::I32, {3}});
    const size_t first_op = pool_.size();
    const size_t first_op_node = f.num_nodes();
    for (int tries = 0; static_cast<int>(pool_.size() - first_op) < steps && tries < 50 * steps;
         ++tries) {
      try {
        if (std::optional<Value> v = step(f)) pool_.push_back(*v);
      } catch (const TypeError&) {
        // An op whose random attributes break its rule: try another.
      }
    }
    // The newest values nothing reads (at most three) are the results, so little is dead.
    std::vector<bool> read(f.num_nodes(), false);
    for (const ir::Node& n : f.nodes())
      for (Value o : n.operands)
        read[o.id] = true;
    std::vector<Value> results;
    for (size_t i = f.num_nodes(); i-- > first_op_node && results.size() < 3;)
      if (!read[i]) results.push_back(Value{static_cast<uint32_t>(i)});
    if (results.empty()) results.push_back(pool_.back());
    f.set_results(results);
    return f;
  }

 private:
  int64_t dim() { return std::vector<int64_t>{1, 3, 4, 5, 6}[pick(0, 5)]; }
  size_t pick(size_t lo, size_t hi) { return lo + rng_() % (hi - lo); }
  // Mostly one of the newest values, so that the graph grows deep rather than wide.
  Value any() {
    const size_t n = pool_.size();
    return rng_() % 4 != 0 && n > 3 ? pool_[pick(n - 3, n)] : pool_[pick(0, n)];
  }
  Value same_shape_as(const ir::Function& f, Value v) {
    for (int t = 0; t < 8; ++t) {
      Value u = any();
      if (f.type(u) == f.type(v)) return u;
    }
    return v;
  }

  std::optional<Value> step(ir::Function& f) {
    const Value v = any();
    const ir::Shape& shape = f.type(v).shape;
    const int rank = static_cast<int>(shape.size());
    switch (rng_() % 12) {
      case 0: {
        // And ops lowering writes out (codegen/math_expand.h), on any value: outside their
        // domains both sides give NaN. Not lgamma, whose f32 error near its zeros is absolute
        // (tests/common/math_check.h), past these tests' relative tolerance.
        const OpKind ops[] = {OpKind::Exp,      OpKind::Tanh, OpKind::Neg,   OpKind::Abs,
                              OpKind::Logistic, OpKind::Atan, OpKind::Asinh, OpKind::Sinh,
                              OpKind::ErfInv,   OpKind::Atanh};
        return f.add(ops[pick(0, std::size(ops))], {v});
      }
      case 1: {
        const OpKind ops[] = {OpKind::Add, OpKind::Mul, OpKind::Sub, OpKind::Max};
        return f.add(ops[pick(0, 4)], {v, same_shape_as(f, v)});
      }
      case 2: {
        if (rank == 0) return std::nullopt;
        std::vector<int64_t> axes;
        for (int d = 0; d < rank; ++d)
          if (rng_() % 2) axes.push_back(d);
        if (axes.empty()) axes.push_back(rank - 1);
        const OpKind ops[] = {OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin};
        return f.add(ops[pick(0, 3)], {v}, Attrs{{"axes", int_list(axes)}});
      }
      case 3:
      case 4: {
        // Broadcast back to the shape of a bigger value, mapping dims where sizes agree.
        const Value u = any();
        const ir::Shape& to = f.type(u).shape;
        std::vector<int64_t> dims;
        size_t next = 0;
        for (int64_t d = 0; d < static_cast<int64_t>(to.size()) && next < shape.size(); ++d)
          if (shape[next] == to[d] || shape[next] == 1) {
            dims.push_back(d);
            ++next;
          }
        if (next != shape.size()) return std::nullopt;
        return f.add(OpKind::Broadcast, {v},
                     Attrs{{"shape", int_list(to)}, {"dims", int_list(dims)}});
      }
      case 5: {
        std::vector<int64_t> perm;
        for (int d = rank - 1; d >= 0; --d)
          perm.push_back(d);
        return f.add(OpKind::Transpose, {v}, Attrs{{"perm", int_list(perm)}});
      }
      case 6: {
        std::vector<int64_t> start, limit, stride;
        for (int64_t n : shape) {
          start.push_back(n > 1 ? static_cast<int64_t>(rng_() % 2) : 0);
          limit.push_back(n);
          stride.push_back(1 + static_cast<int64_t>(rng_() % 2));
        }
        return f.add(OpKind::Slice, {v},
                     Attrs{{"start", int_list(start)},
                           {"limit", int_list(limit)},
                           {"stride", int_list(stride)}});
      }
      case 7: {
        const int64_t n = f.type(v).num_elements();
        ir::Shape to = rank == 1 && n % 2 == 0 ? ir::Shape{2, n / 2} : ir::Shape{n};
        return f.add(OpKind::Reshape, {v}, Attrs{{"shape", int_list(to)}});
      }
      case 8: {
        std::vector<int64_t> low, high, interior;
        for (int d = 0; d < rank; ++d) {
          low.push_back(static_cast<int64_t>(rng_() % 2));
          high.push_back(static_cast<int64_t>(rng_() % 2));
          interior.push_back(static_cast<int64_t>(rng_() % 2));
        }
        return f.add(OpKind::Pad, {v, scalar_},
                     Attrs{{"low", int_list(low)},
                           {"high", int_list(high)},
                           {"interior", int_list(interior)}});
      }
      case 9:
        if (rank == 0) return std::nullopt;
        return f.add(OpKind::Concatenate, {v, v}, Attrs{{"axis", int64_t{rank - 1}}});
      case 10: {
        if (rank != 2) return std::nullopt;
        const Value u = any();
        const ir::Shape& us = f.type(u).shape;
        if (us.size() != 2) return std::nullopt;
        const int64_t uc = us[0] == shape[1] ? 0 : 1;
        return f.add(OpKind::DotGeneral, {v, u},
                     Attrs{{"lhs_contract", int_list({1})}, {"rhs_contract", int_list({uc})}});
      }
      default: {
        if (rank == 0) return std::nullopt;
        if (rng_() % 2) return f.add(OpKind::Take, {v, index_}, Attrs{{"axis", int64_t{0}}});
        const Value u = same_shape_as(f, v);
        const Value p = f.add(OpKind::Gt, {v, u});
        return f.add(OpKind::Select, {p, v, u});
      }
    }
  }

  std::mt19937_64 rng_;
  std::vector<Value> pool_;
  Value scalar_, index_;
};

// How many graphs the compiled-code tests run: KILN_RANDOM_GRAPHS=N runs more than CI's bounded
// count.
inline uint64_t random_graph_count() {
  const char* count = std::getenv("KILN_RANDOM_GRAPHS");
  return count ? std::strtoull(count, nullptr, 10) : 150;
}

// Compiled code's transcendentals are within a few ulp and its sums reassociate, so f32 results
// get a relative tolerance of a few thousand ulp of the larger magnitude (at least 1): enough for
// error carried through a dozen ops, far below any wrong-index or wrong-op mismatch.
inline std::string compare_compiled(const ir::HostArray& want, const ir::HostArray& got) {
  if (want.type() != got.type()) return "type " + got.type().str() + " != " + want.type().str();
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double a = want.get_f64(i), b = got.get_f64(i);
    if ((std::isnan(a) && std::isnan(b)) || a == b) continue;
    const double tol = 2e-4 * std::max({1.0, std::fabs(a), std::fabs(b)});
    if (!ir::is_float(want.dtype()) || !(std::fabs(a - b) <= tol))
      return "element " + std::to_string(i) + ": got " + std::to_string(b) + ", want " +
             std::to_string(a);
  }
  return "";
}

}  // namespace kiln::codegen::testing
