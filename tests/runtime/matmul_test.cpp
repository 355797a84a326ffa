// Compiled matrix products against the interpreter, end to end (compiler::compile, then
// Executable::run on the default context's threads), for every dtype dot_general takes: both
// operand layouts on each side, batched operands, a right operand shared by every batch,
// shapes whose m, n and k each take 1, 3, 17, 255 and 1023, and epilogues (bias, row scale,
// relu, tanh-gelu) that must stay in the matmul's kernel. The GEMM itself is checked bit for
// bit against its contract in gemm_test.cpp; this is the path from a graph to it.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "codegen/cpu/gemm_call.h"
#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "runtime/kernel_abi.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::ir {
// gtest lists a dtype parameter by name ("GetParam() = f32"), not as a byte dump.
static void PrintTo(DType d, std::ostream* os) {
  *os << dtype_name(d);
}
}  // namespace kiln::ir

namespace kiln::runtime {
namespace {

using ir::DType;

// How the operands reach the dot_general.
enum class Operands {
  Unbatched,     // lhs [m, k], rhs [k, n]
  Batched,       // lhs [B, m, k], rhs [B, k, n], batch dims on both
  SharedRhs,     // lhs [B, m, k], rhs [k, n] with no batch dims: every batch reads one rhs
  BroadcastLhs,  // lhs [m, k] broadcast to [B, m, k] by a broadcast op, then batched
};

enum class Activation { None, Relu, Gelu };

struct Case {
  DType dtype;
  Operands operands;
  int64_t batch, m, n, k;
  // The operand stored transposed ([k, m] for lhs, [n, k] for rhs). The dot_general reads it
  // so through its contracting dims, or (via_transpose_op) through a transpose op, which
  // simplify folds into those dims.
  bool transpose_lhs, transpose_rhs;
  bool via_transpose_op;
  // Epilogue: product * scale[row] + bias[column], then the activation.
  bool scale, bias;
  Activation activation;
};

bool lhs_batched(const Case& c) {
  return c.operands == Operands::Batched || c.operands == Operands::SharedRhs;
}
bool rhs_batched(const Case& c) {
  return c.operands == Operands::Batched || c.operands == Operands::BroadcastLhs;
}
bool has_batch_dim(const Case& c) {
  return c.operands != Operands::Unbatched;
}

ir::Shape operand_shape(const Case& c, bool lhs) {
  ir::Shape s;
  if (lhs ? lhs_batched(c) : rhs_batched(c)) s.push_back(c.batch);
  if (lhs)
    s.insert(s.end(), c.transpose_lhs ? std::initializer_list<int64_t>{c.k, c.m}
                                      : std::initializer_list<int64_t>{c.m, c.k});
  else
    s.insert(s.end(), c.transpose_rhs ? std::initializer_list<int64_t>{c.n, c.k}
                                      : std::initializer_list<int64_t>{c.k, c.n});
  return s;
}

ir::Shape out_shape(const Case& c) {
  return has_batch_dim(c) ? ir::Shape{c.batch, c.m, c.n} : ir::Shape{c.m, c.n};
}

std::string type_of(DType d, const ir::Shape& s) {
  return ir::TensorType{d, s}.str();
}

// Kernels besides the matmul's own: a broadcast operand is stored first, since a matrix
// kernel reads its operands from memory (the cost rule in passes/fusion.cpp). A transpose op
// is not: simplify folds it into the dot_general's dimension numbers, so the GEMM reads the
// transposed layout in place.
int operand_ops(const Case& c) {
  return c.operands == Operands::BroadcastLhs;
}

// The case as a function of (%a, %b[, %scale][, %bias]).
std::string kir(const Case& c) {
  const std::string d(ir::dtype_name(c.dtype));
  const ir::Shape out = out_shape(c);
  const int64_t rank = static_cast<int64_t>(out.size());
  const std::string o = type_of(c.dtype, out);
  std::ostringstream s;
  s << "func @matmul(%a: " << type_of(c.dtype, operand_shape(c, true))
    << ", %b: " << type_of(c.dtype, operand_shape(c, false));
  if (c.scale) s << ", %scale: " << type_of(c.dtype, {c.m});
  if (c.bias) s << ", %bias: " << type_of(c.dtype, {c.n});
  s << ") -> " << o << " {\n";
  // The operands as the dot_general sees them; `lt`/`rt`: still transposed there.
  std::string lhs = "%a", rhs = "%b";
  bool lt = c.transpose_lhs, rt = c.transpose_rhs;
  auto swap_last = [](ir::Shape shape) {
    std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
    return shape;
  };
  auto perm = [](size_t rank) { return rank == 3 ? "[0,2,1]" : "[1,0]"; };
  if (c.via_transpose_op && lt) {
    const ir::Shape shape = swap_last(operand_shape(c, true));
    s << "  %at = transpose %a {perm=" << perm(shape.size()) << "} : " << type_of(c.dtype, shape)
      << "\n";
    lhs = "%at", lt = false;
  }
  if (c.via_transpose_op && rt) {
    const ir::Shape shape = swap_last(operand_shape(c, false));
    s << "  %bt = transpose %b {perm=" << perm(shape.size()) << "} : " << type_of(c.dtype, shape)
      << "\n";
    rhs = "%bt", rt = false;
  }
  if (c.operands == Operands::BroadcastLhs) {
    const ir::Shape shape = {c.batch, lt ? c.k : c.m, lt ? c.m : c.k};
    s << "  %ab = broadcast " << lhs << " {shape=" << ir::shape_str(shape)
      << ", dims=[1,2]} : " << type_of(c.dtype, shape) << "\n";
    lhs = "%ab";
  }
  const bool lhs3 = lhs_batched(c) || c.operands == Operands::BroadcastLhs;
  const bool rhs3 = rhs_batched(c);
  s << "  %p = dot_general " << lhs << ", " << rhs << " {";
  if (lhs3 && rhs3) s << "lhs_batch=[0], rhs_batch=[0], ";
  s << "lhs_contract=[" << (lhs3 ? 1 : 0) + (lt ? 0 : 1) << "], rhs_contract=["
    << (rhs3 ? 1 : 0) + (rt ? 1 : 0) << "]} : " << o << "\n";
  std::string x = "%p";
  auto splat = [&](const std::string& name, const std::string& value) {
    s << "  %" << name << "0 = constant {value=" << value << "} : " << d << "[]\n";
    s << "  %" << name << " = broadcast %" << name << "0 {shape=" << ir::shape_str(out)
      << ", dims=[]} : " << o << "\n";
    return "%" + name;
  };
  if (c.scale) {
    s << "  %sb = broadcast %scale {shape=" << ir::shape_str(out) << ", dims=[" << rank - 2
      << "]} : " << o << "\n  %scaled = mul " << x << ", %sb : " << o << "\n";
    x = "%scaled";
  }
  if (c.bias) {
    s << "  %bb = broadcast %bias {shape=" << ir::shape_str(out) << ", dims=[" << rank - 1
      << "]} : " << o << "\n  %biased = add " << x << ", %bb : " << o << "\n";
    x = "%biased";
  }
  if (c.activation == Activation::Relu) {
    const std::string zero = splat("zero", ir::is_float(c.dtype) ? "0.0" : "0");
    s << "  %relu = max " << x << ", " << zero << " : " << o << "\n";
    x = "%relu";
  }
  if (c.activation == Activation::Gelu) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh form, written out.
    const std::string cubic = splat("cubic", "0.044715"),
                      root = splat("root", "0.7978845608028654");
    const std::string one = splat("one", "1.0"), half = splat("half", "0.5");
    s << "  %x2 = mul " << x << ", " << x << " : " << o << "\n"
      << "  %x3 = mul %x2, " << x << " : " << o << "\n"
      << "  %g1 = mul %x3, " << cubic << " : " << o << "\n"
      << "  %g2 = add " << x << ", %g1 : " << o << "\n"
      << "  %g3 = mul %g2, " << root << " : " << o << "\n"
      << "  %g4 = tanh %g3 : " << o << "\n"
      << "  %g5 = add %g4, " << one << " : " << o << "\n"
      << "  %g6 = mul " << x << ", %g5 : " << o << "\n"
      << "  %gelu = mul %g6, " << half << " : " << o << "\n";
    x = "%gelu";
  }
  s << "  return " << x << "\n}\n";
  return s.str();
}

std::string describe(const Case& c) {
  static const char* kOperands[] = {"unbatched", "batched", "shared rhs", "broadcast lhs"};
  static const char* kActivations[] = {"", " relu", " gelu"};
  std::ostringstream s;
  s << ir::dtype_name(c.dtype) << " " << kOperands[static_cast<int>(c.operands)] << " b" << c.batch
    << " m" << c.m << " n" << c.n << " k" << c.k << (c.transpose_lhs ? " A^T" : " A")
    << (c.transpose_rhs ? " B^T" : " B") << (c.via_transpose_op ? " (transpose ops)" : "")
    << (c.scale ? " scale" : "") << (c.bias ? " bias" : "")
    << kActivations[static_cast<int>(c.activation)];
  return s.str();
}

// Floats uniform in [-1, 1] (scales in [-2, 2]), rounded to the dtype; integers over the
// dtype's whole range, so that products and sums wrap (i64's in uint64 arithmetic).
ir::HostArray random_array(const ir::TensorType& type, double magnitude, std::mt19937_64& rng) {
  ir::HostArray x(type);
  std::uniform_real_distribution<double> real(-magnitude, magnitude);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    if (ir::is_float(type.dtype))
      x.set_f64(i, real(rng));
    else
      x.set_i64(i, static_cast<int64_t>(rng()));  // set_i64 wraps to the dtype
  }
  return x;
}

// Element (i, j) of batch b of a stored operand, by its logical (row, column) position.
double logical(const ir::HostArray& x, const Case& c, bool lhs, int64_t b, int64_t i, int64_t j) {
  const bool batched = lhs ? lhs_batched(c) : rhs_batched(c);
  const bool transposed = lhs ? c.transpose_lhs : c.transpose_rhs;
  const int64_t rows = lhs ? c.m : c.k, cols = lhs ? c.k : c.n;
  const int64_t base = batched ? b * rows * cols : 0;
  return x.get_f64(base + (transposed ? j * rows + i : i * cols + j));
}

// The error a correct compiled result may have against the interpreter, element by element.
// The GEMM sums in the accumulator's precision (f32 for f32, f16 and bf16; f64 for f64) as a
// chain of k fused multiply-adds, the interpreter in double rounded once, so the two products
// differ by up to about k * u * sum_p |a_ip b_pj| (u the accumulator's unit roundoff; the
// classic bound for a recursive sum, and for f64 the interpreter's own sum errs as much: hence
// 2k). Relative to the result that can be large where terms cancel, so the bound scales with
// the sum of magnitudes, not with the result. The epilogue carries that error (scaled by
// |scale| and gelu's slope, at most 1.13) and adds one rounding per op, a few ulp of the
// values it passes through (the pre-activation's magnitude), and the 4 ulp of tanh.
struct Bound {
  double accumulator_u, dtype_u, ulps_per_op;

  static Bound of(const Case& c) {
    const double u16 = std::ldexp(1.0, -11), ub16 = std::ldexp(1.0, -8);
    const double u32 = std::ldexp(1.0, -24), u64 = std::ldexp(1.0, -53);
    const double dtype_u = c.dtype == DType::F64   ? u64
                           : c.dtype == DType::F32 ? u32
                           : c.dtype == DType::F16 ? u16
                                                   : ub16;
    return {c.dtype == DType::F64 ? u64 : u32, dtype_u,
            2.0 + c.scale + c.bias + (c.activation == Activation::Gelu ? 8.0 : 0.0)};
  }
};

void check(const Case& c) {
  const std::string text = kir(c);
  const std::string what = describe(c);
  SCOPED_TRACE(what);
  const ir::Function f = testing::parse_function(text);

  // The kernels: the matmul's takes the whole epilogue and, where the dot_general's layout is
  // one the GEMM takes, runs on it with the transposes as flags.
  const compiler::LoweredProgram program = compiler::lower_program(f);
  const codegen::Kernel* dot_kernel = nullptr;
  for (size_t g = 0; g < program.lowered.kernels.size(); ++g) {
    const codegen::Kernel& kernel = program.lowered.kernels[g];
    const bool is_dot = program.fusion.groups[g].kind == passes::KernelKind::Dot;
    const bool holds_dot = std::any_of(
        program.fusion.groups[g].members.begin(), program.fusion.groups[g].members.end(),
        [&](ir::Value v) { return program.function.node(v).op == ir::OpKind::DotGeneral; });
    if (!holds_dot) continue;
    EXPECT_EQ(dot_kernel, nullptr) << "the product is split over kernels";
    dot_kernel = &kernel;
    EXPECT_EQ(program.fusion.groups[g].outputs, program.function.results())
        << "the epilogue left the matmul's kernel:\n"
        << passes::print_with_fusion(program.function, program.fusion);
    // Layouts the GEMM takes: the lhs's contracting dim last (or, transposed, right after the
    // batch dims), likewise for rhs. A shared rhs with a transposed lhs is neither.
    const bool fits = !(c.operands == Operands::SharedRhs && c.transpose_lhs);
    EXPECT_EQ(is_dot, fits);
    const std::optional<codegen::cpu::GemmCall> call = codegen::cpu::gemm_call(kernel, 0);
    ASSERT_EQ(call.has_value(), fits) << "the Dot phase does not run on the GEMM";
    if (!call) continue;
    const bool lt = c.transpose_lhs, rt = c.transpose_rhs;
    EXPECT_EQ((call->flags & kTransposeLhs) != 0, lt && c.m > 1 && c.k > 1);
    EXPECT_EQ((call->flags & kTransposeRhs) != 0, rt && c.n > 1 && c.k > 1);
    // Batches stay batches, but a shared rhs lets the GEMM take all batches' rows as one m.
    const bool batches = c.operands == Operands::Batched || c.operands == Operands::BroadcastLhs;
    EXPECT_EQ(call->batch, batches ? c.batch : 1);
    EXPECT_EQ(call->m, c.operands == Operands::SharedRhs ? c.batch * c.m : c.m);
    EXPECT_EQ(call->n, c.n);
    EXPECT_EQ(call->k, c.k);
    if (batches && c.batch > 1) {
      EXPECT_EQ(call->flags & (kLhsBatched | kRhsBatched), kLhsBatched | kRhsBatched);
    }
  }
  ASSERT_NE(dot_kernel, nullptr);
  const Executable exe = compiler::compile(f);
  EXPECT_EQ(exe.num_kernels(), program.lowered.kernels.size());
  EXPECT_EQ(exe.num_kernels(), static_cast<size_t>(1 + operand_ops(c)))
      << passes::print_with_fusion(program.function, program.fusion);

  std::mt19937_64 rng(static_cast<uint64_t>(c.m * 1000003 + c.n * 1009 + c.k) ^
                      static_cast<uint64_t>(c.dtype));
  std::vector<ir::HostArray> args;
  for (ir::Value p : f.params())
    args.push_back(random_array(f.type(p), f.node(p).param_name == "scale" ? 2 : 1, rng));
  const ir::HostArray want = ir::interpret(f, args).at(0);
  const ir::HostArray got = exe.run(args).at(0);
  ASSERT_EQ(got.type(), want.type());

  int failures = 0;
  if (!ir::is_float(c.dtype)) {
    for (int64_t e = 0; e < want.num_elements() && failures < 5; ++e)
      if (got.get_i64(e) != want.get_i64(e)) {
        ADD_FAILURE() << "element " << e << ": got " << got.get_i64(e) << ", want "
                      << want.get_i64(e) << "\n"
                      << text;
        ++failures;
      }
    return;
  }
  const Bound bound = Bound::of(c);
  const double slope = c.activation == Activation::Gelu ? 1.13 : 1.0;
  const ir::HostArray& a = args[0];
  const ir::HostArray& b = args[1];
  const ir::HostArray* scale = c.scale ? &args[2] : nullptr;
  const ir::HostArray* bias = c.bias ? &args[c.scale ? 3 : 2] : nullptr;
  const int64_t batches = has_batch_dim(c) ? c.batch : 1;
  double worst = 0;  // the largest error as a share of its bound
  std::vector<double> row(static_cast<size_t>(c.k));
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t p = 0; p < c.k; ++p)
        row[p] = logical(a, c, true, bi, i, p);
      const double s = scale ? std::fabs(scale->get_f64(i)) : 1.0;
      for (int64_t j = 0; j < c.n && failures < 5; ++j) {
        double product = 0, magnitudes = 0;
        for (int64_t p = 0; p < c.k; ++p) {
          const double term = row[p] * logical(b, c, false, bi, p, j);
          product += term;
          magnitudes += std::fabs(term);
        }
        const int64_t e = (bi * c.m + i) * c.n + j;
        const double w = want.get_f64(e), g = got.get_f64(e);
        const double pre = std::fabs(product) * s + (bias ? std::fabs(bias->get_f64(j)) : 0.0);
        const double tol = slope * s * 2 * c.k * bound.accumulator_u * magnitudes +
                           bound.ulps_per_op * bound.dtype_u * (slope * pre + std::fabs(w)) +
                           std::numeric_limits<double>::min();
        if (std::isnan(w) || std::isnan(g) || !(std::fabs(g - w) <= tol)) {
          ADD_FAILURE() << "element " << e << " (batch " << bi << ", row " << i << ", column " << j
                        << "): got " << g << ", want " << w << ", tolerance " << tol << "\n"
                        << text;
          ++failures;
        }
        worst = std::max(worst, std::fabs(g - w) / tol);
      }
    }
  std::cout << what << ": worst error " << worst << " of the bound\n";
}

// Per dtype: m, n and k each take 1, 3, 17, 255 and 1023 once over the first five cases,
// which between them read both operands in all four transposition combinations, batched,
// unbatched and with a shared rhs, under every epilogue; the sixth shares one rhs among
// batches of many rows. m * n * k stays under 20M per case, as the interpreter is slow.
std::vector<Case> cases_for(DType d) {
  const Activation act = ir::is_float(d) ? Activation::Gelu : Activation::Relu;
  using O = Operands;
  using A = Activation;
  return {
      {d, O::Unbatched, 1, 1023, 17, 255, false, false, false, false, true, A::Relu},
      {d, O::Unbatched, 1, 255, 1023, 17, true, true, false, true, true, A::None},
      {d, O::Batched, 2, 17, 255, 1023, false, true, false, false, false, act},
      {d, O::SharedRhs, 3, 3, 1, 1, false, true, false, false, false, A::None},
      {d, O::Batched, 3, 1, 3, 3, true, false, false, false, true, act},
      {d, O::SharedRhs, 3, 17, 255, 255, false, false, false, true, false, A::Relu},
  };
}

class CompiledMatmul : public ::testing::TestWithParam<DType> {};

TEST_P(CompiledMatmul, MatchesTheInterpreter) {
  for (const Case& c : cases_for(GetParam()))
    check(c);
}

INSTANTIATE_TEST_SUITE_P(EveryDtype, CompiledMatmul,
                         ::testing::Values(DType::F32, DType::F64, DType::F16, DType::BF16,
                                           DType::I8, DType::I16, DType::I32, DType::I64, DType::U8,
                                           DType::U32),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(ir::dtype_name(info.param));
                         });

// Operands that reach the dot_general through ops: transposes (which fusion stores as
// row-major copies first, so the matmul's kernel sees plain layouts), a broadcast that shares
// one lhs among batches, and a transposed lhs beside a shared rhs, a layout the GEMM cannot
// take, which runs as a reduction kernel with the epilogue in it.
TEST(CompiledMatmul, OperandsThroughTransposeAndBroadcastOps) {
  for (DType d : {DType::F32, DType::I32}) {
    const Activation act = ir::is_float(d) ? Activation::Gelu : Activation::Relu;
    using O = Operands;
    using A = Activation;
    const Case cases[] = {
        {d, O::Unbatched, 1, 17, 255, 255, true, false, true, false, true, A::Relu},
        {d, O::Batched, 2, 3, 17, 1023, false, true, true, false, false, act},
        {d, O::Unbatched, 1, 255, 3, 17, true, true, true, false, false, A::None},
        {d, O::BroadcastLhs, 3, 17, 17, 255, false, false, false, true, true, A::None},
        {d, O::SharedRhs, 2, 3, 255, 17, true, false, false, false, true, act},
    };
    for (const Case& c : cases)
      check(c);
  }
}

}  // namespace
}  // namespace kiln::runtime
