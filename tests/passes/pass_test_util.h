#pragma once
// Text-in/text-out checks for passes: parse .kir, run passes, compare the printed result with
// the expected canonical text exactly, and check on the interpreter that the result computes
// bit for bit what the input did (all NaNs alike) on seeded random inputs rich in special
// values (signed zeros, infinities, NaN, integer extremes).

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pass_manager.h"

namespace kiln::passes::testing {

// The first function of `text`, parsed and verified.
inline ir::Function parse_function(std::string_view text) {
  ir::Module m = ir::parse_module(text, "test.kir");
  ir::verify(m);
  return std::move(m.functions.at(0));
}

inline ir::HostArray random_array(const ir::TensorType& type, std::mt19937_64& rng) {
  ir::HostArray a(type);
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double specials[] = {0.0, -0.0, 1.0, -1.0, inf, -inf, std::nan(""), 0.5, 65504.0};
  const int64_t int_specials[] = {0, 1, -1, 127, -128, INT32_MIN, INT32_MAX, INT64_MIN};
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const uint64_t r = rng();
    if (ir::is_float(type.dtype)) {
      a.set_f64(i, r % 2 == 0 ? specials[(r >> 8) % std::size(specials)]
                              : std::ldexp(static_cast<double>(r >> 12), -50) - 8.0);
    } else if (type.dtype == ir::DType::Bool) {
      a.set_i64(i, r & 1);
    } else {
      a.set_i64(i, r % 3 == 0 ? int_specials[(r >> 8) % std::size(int_specials)]
                              : static_cast<int64_t>(r >> 8) % 300 - 150);
    }
  }
  return a;
}

// Equal bit for bit, except that any NaN equals any NaN.
inline bool same_values(const ir::HostArray& a, const ir::HostArray& b) {
  if (a.type() != b.type()) return false;
  const size_t size = ir::dtype_size(a.dtype());
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    if (ir::is_float(a.dtype()) && std::isnan(a.get_f64(i)) && std::isnan(b.get_f64(i))) continue;
    if (std::memcmp(a.data() + i * size, b.data() + i * size, size) != 0) return false;
  }
  return true;
}

// Interprets `before` and `after` on the same random inputs and expects equal results.
inline void expect_same_results(const ir::Function& before, const ir::Function& after,
                                int trials = 8) {
  ASSERT_EQ(before.param_types(), after.param_types());
  ASSERT_EQ(before.result_types(), after.result_types());
  for (int seed = 0; seed < trials; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<ir::HostArray> args;
    for (const ir::TensorType& t : before.param_types())
      args.push_back(random_array(t, rng));
    std::vector<ir::HostArray> want = ir::interpret(before, args);
    std::vector<ir::HostArray> got = ir::interpret(after, args);
    for (size_t r = 0; r < want.size(); ++r)
      EXPECT_TRUE(same_values(want[r], got[r]))
          << "@" << before.name() << " result " << r << " differs for seed " << seed;
  }
}

// Runs the comma-separated `passes` on `input`, checks the printed module against `expected`
// and the results on the interpreter, and returns the printed module.
inline std::string expect_passes(std::string_view passes, std::string_view input,
                                 std::string_view expected) {
  ir::Module before = ir::parse_module(input, "input.kir");
  ir::verify(before);
  PassManager manager;
  manager.add_list(passes);
  ir::Module after = manager.run(before);
  std::string printed = ir::print(after);
  EXPECT_EQ(printed, expected);
  for (size_t i = 0; i < before.functions.size(); ++i)
    expect_same_results(before.functions[i], after.functions[i]);
  return printed;
}

}  // namespace kiln::passes::testing
