// Every elementwise op on every dtype the IR accepts, compiled through the CPU backend and
// compared with the reference interpreter on the same inputs (special values included).

#include <cmath>
#include <limits>
#include <sstream>

#include "codegen/cpu/cpu_compiler.h"
#include "codegen/math_expand.h"
#include "ir/error.h"
#include "ir/ops.h"
#include "tests/codegen/elementwise_values.h"
#include "tests/codegen/llvm_test_util.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;
using namespace testing;

// out[i] = op(in_0[i], ...): outer space [n], one store phase without inner loops.
Kernel elementwise_kernel(OpKind op, const std::vector<DType>& in, DType out, int64_t n) {
  Kernel k;
  k.name = "elementwise";
  for (DType d : in)
    k.buffers.push_back({ir::TensorType{d, {n}}, false});
  k.buffers.push_back({ir::TensorType{out, {n}}, true});
  k.outer = {n};
  ExprBuilder eb(k.exprs);
  ExprId i = eb.index(LoopLevel::Outer, 0);
  std::vector<ExprId> operands;
  for (size_t j = 0; j < in.size(); ++j)
    operands.push_back(eb.load(static_cast<int>(j), in[j], i));
  Phase phase;
  phase.kind = PhaseKind::Store;
  phase.stores.push_back({static_cast<int32_t>(in.size()), i, eb.op(op, out, operands)});
  k.phases.push_back(phase);
  return k;
}

std::string kir(OpKind op, const std::vector<ir::TensorType>& in, const ir::TensorType& out) {
  std::ostringstream s;
  s << "func @f(";
  for (size_t j = 0; j < in.size(); ++j)
    s << (j ? ", " : "") << "%a" << j << ": " << in[j].str();
  s << ") -> " << out.str() << " {\n  %r = " << ir::op_name(op) << " ";
  for (size_t j = 0; j < in.size(); ++j)
    s << (j ? ", " : "") << "%a" << j;
  s << " : " << out.str() << "\n  return %r\n}\n";
  return s.str();
}

// Allowed error: the f32 approximations (4 ulp), one ulp of f16/bf16 where the interpreter
// rounds a double once and the kernel rounds an f32 result again, and Rsqrt's two roundings.
double tolerance(OpKind op, DType dtype) {
  const bool half = dtype == DType::F16 || dtype == DType::BF16;
  if (is_transcendental(op)) return dtype == DType::F32 ? 4 : half ? 1 : 0;
  if (op == OpKind::Rsqrt || (op == OpKind::Pow && half)) return 1;
  return 0;
}

// Compiles and checks `op` over `in`; returns false when the IR refuses the combination.
bool check_op(OpKind op, const std::vector<DType>& in_dtypes, std::optional<DType> declared) {
  const size_t count = value_count(in_dtypes[0]);
  const size_t arity = in_dtypes.size();
  const size_t total = arity == 1 ? count : count * count;
  std::vector<ir::TensorType> types;
  std::vector<ir::HostArray> args;
  for (size_t j = 0; j < arity; ++j) {
    types.push_back({in_dtypes[j], {static_cast<int64_t>(total)}});
    if (j == 0 && op == OpKind::Select)
      args.push_back(values_of(DType::Bool, 2, 1, total / 2 + 1));
    else
      args.push_back(values_of(in_dtypes[j], count, j == 0 ? 1 : count, arity == 1 ? 1 : count));
    ir::HostArray trimmed(types.back());
    std::memcpy(trimmed.data(), args.back().data(), trimmed.bytes().size());
    args.back() = trimmed;
  }
  ir::Function f;
  std::vector<ir::Value> params;
  for (size_t j = 0; j < arity; ++j)
    params.push_back(f.add_param("a" + std::to_string(j), types[j]));
  ir::TensorType out_type;
  try {
    std::optional<ir::TensorType> decl;
    if (declared) decl = ir::TensorType{*declared, types[0].shape};
    out_type = f.type(f.add(op, params, {}, decl));
  } catch (const Error&) {
    return false;
  }
  const std::vector<ir::HostArray> want = interpret_text(kir(op, types, out_type), args);
  const Kernel k = elementwise_kernel(op, in_dtypes, out_type.dtype, static_cast<int64_t>(total));
  KernelEntry entry = testing::compile_kernel(k);
  std::vector<ir::HostArray> buffers = make_buffers(k, args);
  run_range(entry, buffers, 0, static_cast<int64_t>(total));
  const double ulps = tolerance(op, in_dtypes[0]);
  for (int64_t i = 0; i < want[0].num_elements(); ++i) {
    // sin and cos are validated for |x| <= 1e4.
    if ((op == OpKind::Sin || op == OpKind::Cos) && !(std::fabs(args[0].get_f64(i)) <= 1e4))
      continue;
    auto r = close(buffers.back(), want[0], ulps, i);
    if (!r) {
      auto show = [&](size_t j) {
        return ir::is_float(in_dtypes[j]) ? std::to_string(args[j].get_f64(i))
                                          : std::to_string(args[j].get_i64(i));
      };
      ADD_FAILURE() << ir::op_name(op) << " on " << ir::dtype_name(in_dtypes[0]) << " of "
                    << show(0) << (arity > 1 ? " and " + show(1) : "") << ": " << r.message();
      return true;
    }
  }
  return true;
}

TEST(LlvmElementwise, EveryUnaryAndBinaryOpOnEveryDtype) {
  int checked = 0;
  for (OpKind op : ir::all_ops()) {
    const ir::OpTraits traits = ir::op_info(op).traits;
    if (!traits.has(ir::OpTrait::Unary) && !traits.has(ir::OpTrait::Binary) &&
        !traits.has(ir::OpTrait::Comparison))
      continue;
    // Never a kernel op: tests/runtime/math_expand_test.cpp checks what lowering writes.
    if (expanded_by_lowering(op)) continue;
    const int arity = ir::op_info(op).min_operands;
    for (DType d : ir::kAllDTypes)
      checked += check_op(op, std::vector<DType>(static_cast<size_t>(arity), d), std::nullopt);
  }
  EXPECT_GT(checked, 250);
}

TEST(LlvmElementwise, ConvertBetweenEveryPairOfDtypes) {
  for (DType from : ir::kAllDTypes)
    for (DType to : ir::kAllDTypes)
      EXPECT_TRUE(check_op(OpKind::Convert, {from}, to))
          << ir::dtype_name(from) << " -> " << ir::dtype_name(to);
}

TEST(LlvmElementwise, IsFiniteAndBitcastConvert) {
  for (DType d : ir::kAllDTypes) {
    if (ir::is_float(d)) {
      EXPECT_TRUE(check_op(OpKind::IsFinite, {d}, std::nullopt));
    }
    for (DType to : ir::kAllDTypes) {
      if (d == DType::Bool || to == DType::Bool || ir::dtype_size(d) != ir::dtype_size(to))
        continue;
      EXPECT_TRUE(check_op(OpKind::BitcastConvert, {d}, to))
          << ir::dtype_name(d) << " -> " << ir::dtype_name(to);
    }
  }
}

TEST(LlvmElementwise, SelectOnEveryDtype) {
  for (DType d : ir::kAllDTypes)
    EXPECT_TRUE(check_op(OpKind::Select, {DType::Bool, d, d}, std::nullopt)) << ir::dtype_name(d);
}

// A three-dimensional outer space whose input is read transposed: the row segments and the
// delinearized leading indices must address the same elements as the interpreter.
TEST(LlvmElementwise, MultiDimensionalOuterSpaceAndSubRanges) {
  const int64_t A = 3, B = 5, C = 7;
  Kernel k;
  k.name = "transpose_add";
  k.buffers = {{ir::TensorType{DType::F32, {C, B, A}}, false},
               {ir::TensorType{DType::F32, {A, B, C}}, true}};
  k.outer = {A, B, C};
  ExprBuilder eb(k.exprs);
  ExprId a = eb.index(LoopLevel::Outer, 0), b = eb.index(LoopLevel::Outer, 1),
         c = eb.index(LoopLevel::Outer, 2);
  auto mul = [&](ExprId x, int64_t s) {
    return eb.op(OpKind::Mul, DType::I64, {x, eb.constant_int(s)});
  };
  auto add = [&](ExprId x, ExprId y, DType d = DType::I64) {
    return eb.op(OpKind::Add, d, {x, y});
  };
  ExprId in_offset = add(add(mul(c, B * A), mul(b, A)), a);
  ExprId out_offset = add(add(mul(a, B * C), mul(b, C)), c);
  ExprId v = add(eb.load(0, DType::F32, in_offset), eb.constant_float(1.0, DType::F32), DType::F32);
  Phase p;
  p.stores.push_back({1, out_offset, v});
  k.phases.push_back(p);
  ir::HostArray x(k.buffers[0].type);
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, static_cast<double>(i) * 0.5);
  const auto want = interpret_text(
      "func @f(%x: f32[7,5,3]) -> f32[3,5,7] {\n"
      "  %t = transpose %x {perm=[2,1,0]} : f32[3,5,7]\n"
      "  %one = constant {value=1.0} : f32[]\n"
      "  %b = broadcast %one {shape=[3,5,7], dims=[]} : f32[3,5,7]\n"
      "  %r = add %t, %b : f32[3,5,7]\n  return %r\n}\n",
      {x});
  KernelEntry entry = testing::compile_kernel(k);
  auto whole = make_buffers(k, {x});
  run_range(entry, whole, 0, A * B * C);
  expect_close(whole[1], want[0], 0, "whole range");
  // Split at awkward points: mid-row, and the two pieces run separately.
  for (int64_t split : {1, 4, 7, 11, 52, 104}) {
    auto parts = make_buffers(k, {x});
    ir::HostArray out(k.buffers[1].type);
    run_range(entry, parts, 0, split);
    std::vector<ir::HostArray> second = {x, parts[1]};
    run_range(entry, second, split, A * B * C);
    expect_close(second[1], want[0], 0, "split at " + std::to_string(split));
  }
}

}  // namespace
}  // namespace kiln::codegen
