#pragma once
// The oracle for vmap: run the batched function on random batched arguments, and compare with
// running the original function once per batch element (its slice of every batched argument)
// and stacking the results along each out axis. The same ops run in the same order, so the
// results must be identical bit for bit (any NaN equals any NaN).

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/vmap.h"
#include "tests/passes/pass_test_util.h"

namespace kiln::passes::testing {

// Sizes in bytes of the parts of a row-major array split at `axis`: outer count, axis size,
// inner bytes.
struct Split {
  int64_t outer = 1, size = 1;
  size_t inner = 0;
};
inline Split split_at(const ir::TensorType& t, int axis) {
  Split s;
  for (int i = 0; i < axis; ++i)
    s.outer *= t.shape[i];
  s.size = t.shape[axis];
  int64_t inner = 1;
  for (int i = axis + 1; i < t.rank(); ++i)
    inner *= t.shape[i];
  s.inner = static_cast<size_t>(inner) * ir::dtype_size(t.dtype);
  return s;
}

// Element `index` along `axis`, the axis removed.
inline ir::HostArray slice_out(const ir::HostArray& a, int axis, int64_t index) {
  const Split s = split_at(a.type(), axis);
  ir::Shape shape = a.shape();
  shape.erase(shape.begin() + axis);
  ir::HostArray out(ir::TensorType{a.dtype(), shape});
  for (int64_t o = 0; o < s.outer; ++o)
    if (s.inner)
      std::memcpy(out.data() + o * s.inner, a.data() + (o * s.size + index) * s.inner, s.inner);
  return out;
}

// The parts stacked along a new axis `axis`.
inline ir::HostArray stack(const std::vector<ir::HostArray>& parts, int axis) {
  ir::Shape shape = parts.at(0).shape();
  shape.insert(shape.begin() + axis, static_cast<int64_t>(parts.size()));
  ir::HostArray out(ir::TensorType{parts[0].dtype(), shape});
  const Split s = split_at(out.type(), axis);
  for (int64_t b = 0; b < s.size; ++b)
    for (int64_t o = 0; o < s.outer; ++o)
      if (s.inner)
        std::memcpy(out.data() + (o * s.size + b) * s.inner, parts[b].data() + o * s.inner,
                    s.inner);
  return out;
}

inline int normalized(int axis, int rank) {
  return axis < 0 ? axis + rank : axis;
}

// Random arguments; integer parameters whose name starts with "idx" get indices in [-2, 6], so
// that most are in range for the small axes of the tests and some are clamped.
inline std::vector<ir::HostArray> random_args(const ir::Function& g, std::mt19937_64& rng) {
  std::vector<ir::HostArray> args;
  for (ir::Value p : g.params()) {
    const ir::TensorType& t = g.type(p);
    ir::HostArray a = random_array(t, rng);
    if (g.node(p).param_name.starts_with("idx") && ir::is_integer(t.dtype))
      for (int64_t i = 0; i < a.num_elements(); ++i)
        a.set_i64(i, static_cast<int64_t>(rng() % 9) - 2);
    args.push_back(std::move(a));
  }
  return args;
}

// vmaps f and checks the batched function against the per-element loop on `trials` random
// argument sets. Returns the batched function.
inline ir::Function expect_vmap_matches_loop(const ir::Function& f,
                                             const std::vector<std::optional<int>>& in_axes,
                                             const std::vector<int>& out_axes, int64_t batch,
                                             int trials = 2) {
  std::string what = "@" + f.name() + " in_axes [";
  for (auto a : in_axes)
    what += (a ? std::to_string(*a) : std::string("none")) + " ";
  what += "] out_axes [";
  for (int a : out_axes)
    what += std::to_string(a) + " ";
  what += "] batch " + std::to_string(batch);
  SCOPED_TRACE(what);
  ir::Function g = vmap(f, in_axes, out_axes, batch);
  EXPECT_EQ(g.name(), f.name() + "_vmap");
  ir::verify(g);
  for (size_t j = 0; j < f.results().size(); ++j) {
    const int axis = out_axes.size() == 1 ? out_axes[0] : out_axes[j];
    ir::TensorType want = f.type(f.results()[j]);
    want.shape.insert(want.shape.begin() + normalized(axis, want.rank() + 1), batch);
    EXPECT_EQ(g.type(g.results()[j]), want) << "result " << j;
  }
  for (int seed = 0; seed < trials; ++seed) {
    std::mt19937_64 rng(seed);
    const std::vector<ir::HostArray> args = random_args(g, rng);
    const std::vector<ir::HostArray> got = ir::interpret(g, args);
    std::vector<std::vector<ir::HostArray>> per_result(f.results().size());
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<ir::HostArray> element;
      for (size_t i = 0; i < args.size(); ++i)
        element.push_back(
            in_axes[i] ? slice_out(args[i], normalized(*in_axes[i], args[i].type().rank()), b)
                       : args[i]);
      std::vector<ir::HostArray> results = ir::interpret(f, element);
      for (size_t j = 0; j < results.size(); ++j)
        per_result[j].push_back(std::move(results[j]));
    }
    for (size_t j = 0; j < per_result.size(); ++j) {
      const int axis = out_axes.size() == 1 ? out_axes[0] : out_axes[j];
      const ir::HostArray want =
          stack(per_result[j], normalized(axis, per_result[j][0].type().rank() + 1));
      EXPECT_TRUE(same_values(got[j], want))
          << "result " << j << " differs for seed " << seed << "\n"
          << ir::print(g);
    }
  }
  return g;
}

// How many nodes of g have op `kind`.
inline int count_ops(const ir::Function& g, ir::OpKind kind) {
  int n = 0;
  for (const ir::Node& node : g.nodes())
    n += node.op == kind;
  return n;
}

}  // namespace kiln::passes::testing
