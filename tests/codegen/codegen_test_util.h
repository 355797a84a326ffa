#pragma once
// Runs a function through fusion, lowering and the scalar kernel evaluator, the way the
// runtime will (buffers per LoweredFunction::kernel_values), and compares with the reference
// interpreter.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "codegen/kernel_eval.h"
#include "codegen/lower.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/fusion.h"

namespace kiln::codegen::testing {

// Seeded data: floats in [-2, 2) with a few exact zeros, signed ints in [-20, 20], unsigned in
// [0, 40], fair bools.
inline ir::HostArray random_array(const ir::TensorType& type, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ir::HostArray a(type);
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const uint64_t r = rng();
    if (ir::is_float(type.dtype))
      a.set_f64(i, r % 17 == 0 ? 0.0 : std::ldexp(static_cast<double>(r >> 11), -51) - 2.0);
    else if (type.dtype == ir::DType::Bool)
      a.set_i64(i, static_cast<int64_t>(r & 1));
    else if (ir::is_unsigned(type.dtype))
      a.set_i64(i, static_cast<int64_t>(r % 41));
    else
      a.set_i64(i, static_cast<int64_t>(r % 41) - 20);
  }
  return a;
}

inline std::vector<ir::HostArray> random_args(const ir::Function& f, uint64_t seed) {
  std::vector<ir::HostArray> args;
  for (size_t i = 0; i < f.params().size(); ++i)
    args.push_back(random_array(f.type(f.params()[i]), seed + i));
  return args;
}

// A constant among a kernel's inputs: the runtime's job, done here with the interpreter.
inline ir::HostArray materialize_constant(const ir::Function& f, ir::Value v) {
  const ir::Node& node = f.node(v);
  ir::Function g("constant");
  g.set_results({g.add(node.op, {}, node.attrs, node.type)});
  return ir::interpret(g, {}).front();
}

inline std::vector<ir::HostArray> run_lowered(const ir::Function& f,
                                              const std::vector<ir::HostArray>& args,
                                              const passes::FusionOptions& options = {}) {
  const passes::FusionPlan plan = passes::plan_fusion(f, options);
  const LoweredFunction lowered = lower(f, plan);
  std::map<uint32_t, ir::HostArray> env;
  for (size_t i = 0; i < f.params().size(); ++i)
    env[f.params()[i].id] = args[i];
  auto value_of = [&](ir::Value v) -> const ir::HostArray& {
    if (!env.count(v.id)) env[v.id] = materialize_constant(f, v);
    return env.at(v.id);
  };
  for (size_t k = 0; k < lowered.kernels.size(); ++k) {
    const Kernel& kernel = lowered.kernels[k];
    std::vector<ir::HostArray> buffers;
    for (size_t b = 0; b < kernel.buffers.size(); ++b) {
      const ir::Value v = lowered.kernel_values[k][b];
      if (!v.valid() || kernel.buffers[b].is_output) {
        buffers.emplace_back(kernel.buffers[b].type);
      } else {
        buffers.push_back(value_of(v));
        EXPECT_EQ(buffers.back().type(), kernel.buffers[b].type);
      }
    }
    evaluate_kernel(kernel, buffers);
    for (size_t b = 0; b < kernel.buffers.size(); ++b)
      if (kernel.buffers[b].is_output) env[lowered.kernel_values[k][b].id] = buffers[b];
  }
  std::vector<ir::HostArray> results;
  for (ir::Value r : f.results())
    results.push_back(value_of(r));
  return results;
}

// The evaluator rounds like the interpreter, so only scatter_add (which rounds each addition)
// and transcendentals of libm differ at all.
inline double tolerance(ir::DType d) {
  switch (d) {
    case ir::DType::F16:
      return 1e-3;  // one ulp (scatter_add rounds each addition)
    case ir::DType::BF16:
      return 8e-3;
    case ir::DType::F32:
      return 2e-6;
    default:
      return 1e-13;
  }
}

// Empty when equal (NaN matches NaN; floats within a relative tolerance), else a description.
inline std::string compare(const ir::HostArray& want, const ir::HostArray& got) {
  if (want.type() != got.type()) return "type " + got.type().str() + " != " + want.type().str();
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    if (ir::is_float(want.dtype())) {
      const double a = want.get_f64(i), b = got.get_f64(i);
      if (std::isnan(a) && std::isnan(b)) continue;
      if (a == b) continue;
      const double tol = tolerance(want.dtype()) * std::max({1.0, std::fabs(a), std::fabs(b)});
      if (std::fabs(a - b) <= tol) continue;
      std::ostringstream s;
      s << "element " << i << ": got " << b << ", want " << a;
      return s.str();
    }
    if (want.get_i64(i) != got.get_i64(i))
      return "element " + std::to_string(i) + ": got " + std::to_string(got.get_i64(i)) +
             ", want " + std::to_string(want.get_i64(i));
  }
  return "";
}

// Checks fused and unfused lowering of `f` against the interpreter on seeded inputs; every
// mismatch prints the function's .kir.
inline void expect_matches_interpreter(const ir::Function& f, uint64_t seed = 1) {
  const std::vector<ir::HostArray> args = random_args(f, seed);
  const std::vector<ir::HostArray> want = ir::interpret(f, args);
  for (bool fuse : {true, false}) {
    const std::vector<ir::HostArray> got = run_lowered(f, args, {.fuse = fuse});
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      const std::string diff = compare(want[r], got[r]);
      EXPECT_EQ(diff, "") << (fuse ? "fused" : "unfused") << ", result " << r << ", in\n"
                          << ir::print(f);
    }
  }
}

inline ir::Function parse_one(std::string_view text) {
  return ir::parse_module(text).functions.front();
}

}  // namespace kiln::codegen::testing
