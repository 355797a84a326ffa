// Every elementwise op on every dtype it accepts, compiled for Vulkan (codegen/spirv through
// compiler::compile) fused and unfused and run on the device, against the interpreter on
// inputs rich in special values (tests/codegen/elementwise_values.h, the CPU test's lists).
// One function per dtype holds every op as a result of its own over all operand pairs, so a
// dtype costs two compiles, not one per op.
//
// Tolerances (ulps of the result dtype; see vulkan_compile_util.h for subnormal flushing):
//   0  integers, bool, comparisons, select, convert (saturating float-to-int, f64-to-f16/bf16
//      by round-to-odd), and + - * / rem sqrt floor ceil round max min abs neg sign on every
//      float dtype: the device rounds these correctly (lavapipe does; Vulkan requires it of
//      f32 add/sub/mul), and f16/bf16 results computed in f32 and rounded once more are still
//      correctly rounded (f32 holds more than twice their precision plus two bits).
//   1  rsqrt (1 / sqrt: two roundings in the dtype, where the interpreter rounds a double
//      once), and every math op on f16/bf16 (an f32 result within a few f32 ulps, rounded to
//      the half dtype, can land one half-ulp step away from the interpreter's double rounded
//      once).
//   4  exp log log1p expm1 sin cos tanh logistic erf pow on f32: kiln's own approximations,
//      at most 2.4 ulp from exact on lavapipe (codegen/spirv/math.h), plus the interpreter's
//      own half ulp.
//   5  the same on f64 (tanh: 3.98 ulp measured, plus libm's error in the interpreter).

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <sstream>

#include "codegen/math_expand.h"
#include "ir/error.h"
#include "ir/ops.h"
#include "ir/parser.h"
#include "tests/codegen/elementwise_values.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::ir {
static void PrintTo(DType d, std::ostream* os) {
  *os << dtype_name(d);
}
}  // namespace kiln::ir

namespace kiln::runtime {
namespace {

using codegen::testing::is_transcendental;
using codegen::testing::value_count;
using codegen::testing::values_of;
using ir::DType;
using ir::OpKind;
using testing::Expected;
using testing::run_on_vulkan;
using testing::show;

double vulkan_ulps(OpKind op, DType d) {
  const bool half = d == DType::F16 || d == DType::BF16;
  if (!ir::is_float(d)) return 0;
  if (is_transcendental(op) || op == OpKind::Pow) return half ? 1 : d == DType::F32 ? 4 : 5;
  if (op == OpKind::Rsqrt) return 1;
  return 0;
}

ir::HostArray first(ir::HostArray a, int64_t n) {
  ir::HostArray out(ir::TensorType{a.dtype(), {n}});
  std::memcpy(out.data(), a.data(), out.size_bytes());
  return out;
}

// One result per op (and convert target), all reading the same parameters:
//   u [count]          every value once (unary ops, convert)
//   a, b [count^2]     every pair (binary ops, comparisons; a with stride 1, b with count)
//   c bool [count^2]   alternating (select between a and b)
struct OpTable {
  ir::Function f{"every_op"};
  std::vector<ir::HostArray> args;
  struct Row {
    OpKind op;
    DType to;
    std::vector<size_t> operands;  // parameter indices
  };
  std::vector<Row> rows;
};

OpTable every_op(DType d) {
  OpTable t;
  const size_t count = value_count(d);
  const int64_t n = static_cast<int64_t>(count), pairs = n * n;
  const ir::Value u = t.f.add_param("u", {d, {n}});
  const ir::Value a = t.f.add_param("a", {d, {pairs}});
  const ir::Value b = t.f.add_param("b", {d, {pairs}});
  const ir::Value c = t.f.add_param("c", {DType::Bool, {pairs}});
  t.args = {values_of(d, count, 1, 1), values_of(d, count, 1, count),
            values_of(d, count, count, count),
            first(values_of(DType::Bool, 2, 1, static_cast<size_t>(pairs)), pairs)};
  std::vector<ir::Value> results;
  auto add = [&](OpKind op, std::vector<ir::Value> operands, std::vector<size_t> indices,
                 std::optional<ir::TensorType> declared = std::nullopt) {
    try {
      results.push_back(t.f.add(op, operands, {}, declared));
    } catch (const Error&) {
      return;  // the op does not take this dtype
    }
    t.rows.push_back({op, t.f.type(results.back()).dtype, std::move(indices)});
  };
  for (OpKind op : ir::all_ops()) {
    const ir::OpTraits traits = ir::op_info(op).traits;
    if (codegen::expanded_by_lowering(op)) continue;  // vulkan_math_expand_test.cpp
    if (traits.has(ir::OpTrait::Unary))
      add(op, {u}, {0});
    else if (traits.has(ir::OpTrait::Binary) || traits.has(ir::OpTrait::Comparison))
      add(op, {a, b}, {1, 2});
  }
  add(OpKind::Select, {c, a, b}, {3, 1, 2});
  for (DType to : ir::kAllDTypes) {
    add(OpKind::Convert, {u}, {0}, ir::TensorType{to, {n}});
    add(OpKind::BitcastConvert, {u}, {0}, ir::TensorType{to, {n}});
  }
  add(OpKind::IsFinite, {u}, {0});
  t.f.set_results(results);
  return t;
}

class VulkanElementwise : public ::testing::TestWithParam<DType> {};

void check_every_op(DType d) {
  const OpTable t = every_op(d);
  // Every dtype has at least its comparisons, select and the eleven converts.
  ASSERT_GE(t.rows.size(), 18u);
  const Expected want(t.f, t.args);
  for (bool fuse : {true, false}) {
    const std::vector<ir::HostArray> got = run_on_vulkan(t.f, t.args, fuse);
    ASSERT_EQ(got.size(), t.rows.size());
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const OpTable::Row& row = t.rows[r];
      ASSERT_EQ(got[r].type(), want.exact[r].type());
      const double ulps = vulkan_ulps(row.op, d);
      int failures = 0;
      for (int64_t i = 0; i < got[r].num_elements() && failures < 4; ++i) {
        if (want.matches(r, got[r], ulps, i)) continue;
        ++failures;
        std::string operands;
        for (size_t p : row.operands)
          operands += (operands.empty() ? "" : ", ") + show(t.args[p], i);
        ADD_FAILURE() << ir::op_name(row.op) << " " << ir::dtype_name(d)
                      << (row.op == OpKind::Convert || row.op == OpKind::BitcastConvert
                              ? " -> " + std::string(ir::dtype_name(row.to))
                              : "")
                      << (fuse ? " fused" : " unfused") << " of (" << operands << "): got "
                      << show(got[r], i) << ", want " << show(want.exact[r], i) << " (" << ulps
                      << " ulp)";
      }
    }
  }
}

TEST_P(VulkanElementwise, EveryOpMatchesTheInterpreter) {
  KILN_REQUIRE_VULKAN_DEVICE();
  check_every_op(GetParam());
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, VulkanElementwise, ::testing::ValuesIn(ir::kAllDTypes),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(ir::dtype_name(info.param));
                         });

// The same ops fused into one kernel with a transcendental between them: values pass from op to
// op in registers (f16/bf16 rounded after each), not through memory.
TEST(VulkanElementwiseFused, ChainsRoundAfterEveryOp) {
  KILN_REQUIRE_VULKAN_DEVICE();
  for (DType d : {DType::F16, DType::BF16, DType::F32, DType::F64}) {
    const std::string t = std::string(ir::dtype_name(d)) + "[961]";
    const ir::Function f =
        std::move(ir::parse_module("func @chain(%a: " + t + ", %b: " + t + ") -> " + t + " {\n" +
                                   "  %s = add %a, %b : " + t + "\n  %m = mul %s, %a : " + t +
                                   "\n  %q = div %m, %b : " + t + "\n  %x = max %q, %a : " + t +
                                   "\n  %r = round %x : " + t + "\n  return %r\n}\n")
                      .functions.front());
    const size_t count = value_count(d);
    testing::expect_vulkan_matches(
        f, {values_of(d, count, 1, count), values_of(d, count, count, count)}, 0,
        std::string(ir::dtype_name(d)));
  }
}

}  // namespace
}  // namespace kiln::runtime
