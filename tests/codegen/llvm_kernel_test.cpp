// Reductions, multi-phase kernels, matrix products with epilogues, object round trips and
// concurrent compilation through the CPU backend, against the reference interpreter.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <random>
#include <thread>

#include "codegen/cpu/cpu_compiler.h"
#include "codegen/cpu/gemm_call.h"
#include "codegen/kernel_eval.h"
#include "ir/error.h"
#include "tests/codegen/llvm_test_util.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;
using namespace testing;

std::string type_str(DType d, std::vector<int64_t> shape) {
  return ir::TensorType{d, std::move(shape)}.str();
}

// out[row] = reduce over j of x[row, j], as a Reduce phase and a Store phase.
Kernel reduce_kernel(OpKind op, DType in, DType out, int64_t rows, int64_t cols) {
  Kernel k;
  k.name = "reduce";
  k.buffers = {{ir::TensorType{in, {rows, cols}}, false}, {ir::TensorType{out, {rows}}, true}};
  k.outer = {rows};
  ExprBuilder eb(k.exprs);
  ExprId row = eb.index(LoopLevel::Outer, 0);
  ExprId offset = eb.op(OpKind::Add, DType::I64,
                        {eb.op(OpKind::Mul, DType::I64, {row, eb.constant_int(cols)}),
                         eb.index(LoopLevel::Inner, 0)});
  Phase reduce;
  reduce.kind = PhaseKind::Reduce;
  reduce.extents = {cols};
  reduce.reduce_op = op;
  reduce.value = eb.load(0, in, offset);
  reduce.result_dtype = out;
  Phase store;
  store.stores.push_back({1, row, eb.phase_result(0, out)});
  k.phases = {reduce, store};
  return k;
}

// Rows with the cases reductions get wrong: NaN early and late, infinities, signed zeros, ties.
ir::HostArray reduce_input(DType d, int64_t rows, int64_t cols, uint32_t seed) {
  ir::HostArray x(ir::TensorType{d, {rows, cols}});
  std::mt19937 rng(seed);
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      if (!ir::is_float(d)) {
        if (d == DType::Bool)
          x.set_i64(i, (rng() % 3) == 0);
        else
          x.set_i64(i, static_cast<int64_t>(rng()) - (r % 2 ? 0 : (int64_t{1} << 31)));
        continue;
      }
      double v = static_cast<double>(static_cast<int>(rng() % 80) - 40) * 0.25;
      if (r == 1 && c == 5) v = nan;
      if (r == 2 && c == cols - 2) v = nan;
      if (r == 2 && c == 3) v = inf;
      if (r == 3) v = -0.0;
      if (r == 4) v = (c % 3 == 1) ? 2.5 : -1.0;  // ties: the first 2.5 wins
      if (r == 5) v = -inf;
      x.set_f64(i, v);
    }
  return x;
}

void check_reduce(OpKind op, DType d) {
  const int64_t rows = 7, cols = 37;
  const bool arg = op == OpKind::Argmax || op == OpKind::Argmin;
  const DType out = arg ? DType::I32 : d;
  const ir::HostArray x = reduce_input(d, rows, cols, 7);
  const std::string attrs = arg ? "{axis=1}" : "{axes=[1]}";
  const auto want =
      interpret_text("func @f(%x: " + type_str(d, {rows, cols}) + ") -> " + type_str(out, {rows}) +
                         " {\n  %r = " + std::string(ir::op_name(op)) + " %x " + attrs + " : " +
                         type_str(out, {rows}) + "\n  return %r\n}\n",
                     {x});
  const Kernel k = reduce_kernel(op, d, out, rows, cols);
  auto buffers = make_buffers(k, {x});
  run_range(testing::compile_kernel(k), buffers, 0, rows);
  const double ulps = op == OpKind::ReduceProd ? 8 : 2;
  expect_close(buffers[1], want[0], ulps,
               std::string(ir::op_name(op)) + " on " + std::string(ir::dtype_name(d)));
}

TEST(LlvmKernel, ReductionsOnEveryDtypeClass) {
  for (OpKind op : {OpKind::ReduceSum, OpKind::ReduceProd, OpKind::ReduceMax, OpKind::ReduceMin,
                    OpKind::Argmax, OpKind::Argmin})
    for (DType d : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I8,
                    DType::U8, DType::U32, DType::I64})
      check_reduce(op, d);
  for (OpKind op : {OpKind::ReduceMax, OpKind::ReduceMin, OpKind::Argmax, OpKind::Argmin})
    check_reduce(op, DType::Bool);
}

// A row softmax as one kernel: max, then the sum of exponentials, then the normalized store.
Kernel softmax_kernel(int64_t rows, int64_t n, double shift = 0) {
  Kernel k;
  k.name = "softmax";
  k.buffers = {{ir::TensorType{DType::F32, {rows, n}}, false},
               {ir::TensorType{DType::F32, {rows, n}}, true}};
  k.outer = {rows};
  ExprBuilder eb(k.exprs);
  ExprId row = eb.index(LoopLevel::Outer, 0);
  ExprId offset = eb.op(
      OpKind::Add, DType::I64,
      {eb.op(OpKind::Mul, DType::I64, {row, eb.constant_int(n)}), eb.index(LoopLevel::Inner, 0)});
  ExprId x = eb.load(0, DType::F32, offset);
  if (shift != 0) x = eb.op(OpKind::Add, DType::F32, {x, eb.constant_float(shift, DType::F32)});
  Phase max;
  max.kind = PhaseKind::Reduce;
  max.extents = {n};
  max.reduce_op = OpKind::ReduceMax;
  max.value = x;
  ExprId e = eb.op(OpKind::Exp, DType::F32,
                   {eb.op(OpKind::Sub, DType::F32, {x, eb.phase_result(0, DType::F32)})});
  Phase sum = max;
  sum.reduce_op = OpKind::ReduceSum;
  sum.value = e;
  Phase store;
  store.extents = {n};
  store.stores.push_back(
      {1, offset, eb.op(OpKind::Div, DType::F32, {e, eb.phase_result(1, DType::F32)})});
  k.phases = {max, sum, store};
  return k;
}

TEST(LlvmKernel, RowSoftmaxInOneKernel) {
  const int64_t rows = 6, n = 1000;
  ir::HostArray x(ir::TensorType{DType::F32, {rows, n}});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-8, 8);
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, dist(rng));
  const auto want = interpret_text(R"(
func @softmax(%x: f32[6,1000]) -> f32[6,1000] {
  %m = reduce_max %x {axes=[1]} : f32[6]
  %mb = broadcast %m {shape=[6,1000], dims=[0]} : f32[6,1000]
  %d = sub %x, %mb : f32[6,1000]
  %e = exp %d : f32[6,1000]
  %s = reduce_sum %e {axes=[1]} : f32[6]
  %sb = broadcast %s {shape=[6,1000], dims=[0]} : f32[6,1000]
  %r = div %e, %sb : f32[6,1000]
  return %r
}
)",
                                   {x});
  const Kernel k = softmax_kernel(rows, n);
  KernelEntry entry = testing::compile_kernel(k);
  auto buffers = make_buffers(k, {x});
  run_range(entry, buffers, 0, rows);
  expect_close(buffers[1], want[0], 16, "softmax");
  auto split = make_buffers(k, {x});
  run_range(entry, split, 0, 2);
  run_range(entry, split, 2, 4);
  run_range(entry, split, 4, rows);
  expect_close(split[1], want[0], 16, "softmax in three ranges");
}

TEST(LlvmKernel, EmptyReductionsYieldTheIdentity) {
  for (OpKind op : {OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceProd}) {
    const Kernel k = reduce_kernel(op, DType::F32, DType::F32, 3, 0);
    auto buffers = make_buffers(k, {ir::HostArray(ir::TensorType{DType::F32, {3, 0}})});
    run_range(testing::compile_kernel(k), buffers, 0, 3);
    const double want = op == OpKind::ReduceSum ? 0.0 : op == OpKind::ReduceProd ? 1.0 : -INFINITY;
    EXPECT_EQ(buffers[1].get_f64(2), want);
    EXPECT_FALSE(std::signbit(buffers[1].get_f64(0)) && op == OpKind::ReduceSum);
  }
}

// relu(lhs @ rhs + bias) with the epilogue reading the product's rows from a scratch buffer.
struct MatmulCase {
  DType dtype;
  int64_t batch, m, n, k;
  bool transpose_lhs, transpose_rhs, rhs_batched;
};

// The product's Dot phase with the canonical offsets the CPU's GEMM takes, or (via_gemm false)
// with the same offsets hidden behind a max, which the GEMM matcher cannot see through, so the
// emitter runs the phase's loops itself.
Kernel matmul_kernel(const MatmulCase& c, bool via_gemm) {
  Kernel k;
  k.name = "matmul";
  const DType d = c.dtype;
  auto lhs_shape = c.transpose_lhs ? std::vector<int64_t>{c.batch, c.k, c.m}
                                   : std::vector<int64_t>{c.batch, c.m, c.k};
  auto rhs_shape =
      c.transpose_rhs ? std::vector<int64_t>{c.n, c.k} : std::vector<int64_t>{c.k, c.n};
  if (c.rhs_batched) rhs_shape.insert(rhs_shape.begin(), c.batch);
  k.buffers = {{ir::TensorType{d, lhs_shape}, false},
               {ir::TensorType{d, rhs_shape}, false},
               {ir::TensorType{d, {c.n}}, false},
               {ir::TensorType{d, {c.batch, c.m, c.n}}, false},
               {ir::TensorType{d, {c.batch, c.m, c.n}}, true}};
  k.scratch = {3};
  k.outer = {c.batch, c.m};
  ExprBuilder eb(k.exprs);
  auto i64 = [&](OpKind op, ExprId a, ExprId b) { return eb.op(op, DType::I64, {a, b}); };
  // (a * extent + b), the row-major step.
  auto step = [&](ExprId a, int64_t extent, ExprId b) {
    return i64(OpKind::Add, i64(OpKind::Mul, a, eb.constant_int(extent)), b);
  };
  const ExprId batch = eb.index(LoopLevel::Outer, 0), i = eb.index(LoopLevel::Outer, 1);
  const ExprId j = eb.index(LoopLevel::Inner, 0), p = eb.index(LoopLevel::Contraction, 0);
  ExprId lhs_at =
      c.transpose_lhs ? step(step(batch, c.k, p), c.m, i) : step(step(batch, c.m, i), c.k, p);
  if (!via_gemm) lhs_at = i64(OpKind::Max, lhs_at, eb.constant_int(0));
  const ExprId rb = c.rhs_batched ? batch : eb.constant_int(0);
  const ExprId rhs_at =
      c.transpose_rhs ? step(step(rb, c.n, j), c.k, p) : step(step(rb, c.k, p), c.n, j);
  const ExprId offset = step(step(batch, c.m, i), c.n, j);
  Phase dot;
  dot.kind = PhaseKind::Dot;
  dot.extents = {c.n};
  dot.dot_lhs = eb.load(0, d, lhs_at);
  dot.dot_rhs = eb.load(1, d, rhs_at);
  dot.contraction = c.k;
  dot.accumulator = dot_accumulator(d);
  dot.result_dtype = d;
  dot.stores.push_back({3, offset, eb.phase_result(0, d)});
  ExprId sum = eb.op(OpKind::Add, d, {eb.load(3, d, offset), eb.load(2, d, j)});
  ExprId zero = ir::is_float(d) ? eb.constant_float(0, d) : eb.constant_int(0, d);
  Phase epilogue;
  epilogue.extents = {c.n};
  epilogue.stores.push_back({4, offset, eb.op(OpKind::Max, d, {sum, zero})});
  k.phases = {dot, epilogue};
  return k;
}

std::string matmul_kir(const MatmulCase& c, const Kernel& k) {
  const std::string d(ir::dtype_name(c.dtype));
  const std::string out = type_str(c.dtype, {c.batch, c.m, c.n});
  std::string s = "func @f(%a: " + k.buffers[0].type.str() + ", %b: " + k.buffers[1].type.str() +
                  ", %bias: " + k.buffers[2].type.str() + ") -> " + out + " {\n";
  std::string rhs = "%b";
  if (!c.rhs_batched) {
    auto shape = k.buffers[1].type.shape;
    shape.insert(shape.begin(), c.batch);
    s += "  %bb = broadcast %b {shape=" + ir::shape_str(shape) +
         ", dims=[1,2]} : " + type_str(c.dtype, shape) + "\n";
    rhs = "%bb";
  }
  s += "  %p = dot_general %a, " + rhs + " {lhs_batch=[0], rhs_batch=[0], lhs_contract=[" +
       (c.transpose_lhs ? "1" : "2") + "], rhs_contract=[" + (c.transpose_rhs ? "2" : "1") +
       "]} : " + out + "\n";
  s += "  %bias3 = broadcast %bias {shape=" + ir::shape_str({c.batch, c.m, c.n}) +
       ", dims=[2]} : " + out + "\n";
  s += "  %s = add %p, %bias3 : " + out + "\n";
  s += std::string("  %z = constant {value=") + (ir::is_float(c.dtype) ? "0.0" : "0") + "} : " + d +
       "[]\n";
  s += "  %zb = broadcast %z {shape=" + ir::shape_str({c.batch, c.m, c.n}) + ", dims=[]} : " + out +
       "\n";
  s += "  %r = max %s, %zb : " + out + "\n  return %r\n}\n";
  return s;
}

void check_matmul(const MatmulCase& c, bool via_gemm) {
  const Kernel k = matmul_kernel(c, via_gemm);
  EXPECT_EQ(cpu::gemm_call(k, 0).has_value(), via_gemm);
  std::vector<ir::HostArray> inputs;
  std::mt19937 rng(11);
  for (int b = 0; b < 3; ++b) {
    ir::HostArray a(k.buffers[b].type);
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      const int v = static_cast<int>(rng() % 9) - 4;
      if (ir::is_float(c.dtype))
        a.set_f64(i, v * 0.5);
      else
        a.set_i64(i, v);
    }
    inputs.push_back(a);
  }
  const auto want = interpret_text(matmul_kir(c, k), inputs);
  KernelEntry entry = testing::compile_kernel(k);
  const std::string what = "matmul " + std::string(ir::dtype_name(c.dtype)) + " b" +
                           std::to_string(c.batch) + " m" + std::to_string(c.m) + " n" +
                           std::to_string(c.n) + " k" + std::to_string(c.k) +
                           (via_gemm ? " on the GEMM" : " as loops");
  auto buffers = make_buffers(k, inputs);
  run_range(entry, buffers, 0, c.batch * c.m);
  expect_close(buffers[4], want[0], 0, what);
  // The kernel evaluator, the oracle for lowering's index arithmetic, agrees too.
  auto evaluated = make_buffers(k, inputs);
  evaluate_kernel(k, evaluated);
  expect_close(evaluated[4], want[0], 0, what + " (kernel evaluator)");
  // Ranges that start and end inside a batch.
  auto parts = make_buffers(k, inputs);
  const int64_t total = c.batch * c.m, cut1 = total / 3 + 1, cut2 = 2 * total / 3 + 1;
  run_range(entry, parts, 0, cut1);
  run_range(entry, parts, cut1, cut2);
  run_range(entry, parts, cut2, total);
  expect_close(parts[4], want[0], 0, what + " in three ranges");
}

void check_matmul(const MatmulCase& c) {
  check_matmul(c, true);
  check_matmul(c, false);
}

TEST(LlvmKernel, MatmulWithEpilogue) {
  check_matmul({DType::F32, 1, 37, 53, 29, false, false, true});
  check_matmul({DType::F32, 3, 17, 40, 33, true, true, false});
  check_matmul({DType::F64, 2, 9, 12, 7, false, true, true});
  check_matmul({DType::I32, 2, 13, 21, 17, false, false, true});
  check_matmul({DType::I8, 1, 5, 6, 7, true, false, true});
  check_matmul({DType::F16, 2, 7, 9, 11, false, true, false});
  check_matmul({DType::BF16, 1, 6, 5, 4, false, false, true});
  check_matmul({DType::F32, 1, 4, 6, 0, false, false, true});  // empty contraction
}

Kernel add_constant_kernel(int64_t n, double c) {
  Kernel k;
  k.name = "add_constant";
  k.buffers = {{ir::TensorType{DType::F32, {n}}, false}, {ir::TensorType{DType::F32, {n}}, true}};
  k.outer = {n};
  ExprBuilder eb(k.exprs);
  ExprId i = eb.index(LoopLevel::Outer, 0);
  Phase p;
  p.stores.push_back({1, i,
                      eb.op(OpKind::Add, DType::F32,
                            {eb.load(0, DType::F32, i), eb.constant_float(c, DType::F32)})});
  k.phases = {p};
  return k;
}

void expect_adds(KernelEntry entry, int64_t n, double c) {
  ir::HostArray x(ir::TensorType{DType::F32, {n}});
  for (int64_t i = 0; i < n; ++i)
    x.set_f64(i, static_cast<double>(i));
  std::vector<ir::HostArray> buffers = {x, ir::HostArray(x.type())};
  run_range(entry, buffers, 0, n);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(buffers[1].get_f64(i), static_cast<double>(i) + c);
}

// The object code goes through the runtime's loader, as a plan's kernels do; corrupt objects
// are refused with a [loader] error, never run.
TEST(LlvmKernel, ObjectRoundTripAndCorruptObjects) {
  CpuCompiler& cc = CpuCompiler::instance();
  const Kernel k = add_constant_kernel(100, 2.0);
  const std::vector<std::byte> object = cc.compile_to_object(k, "kiln_test_object");
  EXPECT_EQ(object, cc.compile_to_object(k, "kiln_test_object")) << "code generation is not "
                                                                    "deterministic";
  runtime::KernelLoader& loader = runtime::host_kernel_loader();
  auto load = [&](std::vector<std::byte> bytes, const std::string& symbol) {
    return loader.load(runtime::PlanKernel{"add", symbol, std::move(bytes)});
  };
  runtime::LoadedKernel first = load(object, "kiln_test_object");
  runtime::LoadedKernel second = load(object, "kiln_test_object");
  EXPECT_EQ(first.code, second.code) << "equal objects share one mapping";
  expect_adds(first.entry, 100, 2.0);

  auto expect_refused = [&](std::vector<std::byte> bytes, const std::string& symbol,
                            const char* why) {
    try {
      load(std::move(bytes), symbol);
      ADD_FAILURE() << why << ": loaded";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("[loader] ", 0), 0u) << e.what();
    }
  };
  expect_refused({}, "kiln_test_object", "empty");
  expect_refused(std::vector<std::byte>(object.begin(), object.begin() + 40), "kiln_test_object",
                 "truncated");
  expect_refused(std::vector<std::byte>(4096, std::byte{'x'}), "kiln_test_object", "garbage");
  expect_refused(object, "some_other_symbol", "wrong symbol");
}

// A kernel keeps to its own outer space whatever range it is asked for, so a damaged plan's
// step cannot make it run past its buffers.
TEST(LlvmKernel, EntryClampsTheRangeToItsOuterSpace) {
  const KernelEntry entry = testing::compile_kernel(add_constant_kernel(100, 1.0));
  ir::HostArray x(ir::TensorType{DType::F32, {100}});
  for (int64_t i = 0; i < 100; ++i)
    x.set_f64(i, static_cast<double>(i));
  std::vector<ir::HostArray> buffers = {x, ir::HostArray(x.type())};
  run_range(entry, buffers, -50, int64_t{1} << 40);
  for (int64_t i = 0; i < 100; ++i)
    ASSERT_EQ(buffers[1].get_f64(i), static_cast<double>(i) + 1.0);
}

TEST(LlvmKernel, ConcurrentCompilesAndRuns) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &ok] {
      for (int r = 0; r < 3; ++r) {
        const double c = t * 10 + r;
        KernelEntry entry = testing::compile_kernel(add_constant_kernel(257, c));
        expect_adds(entry, 257, c);
      }
      ok[t] = 1;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

TEST(LlvmKernel, InnermostLoopIsVectorizedForTheHost) {
  CpuCompiler& cc = CpuCompiler::instance();
  const std::string host = cc.target_description();
  EXPECT_FALSE(CpuCompiler::llvm_version().empty());
  const Kernel k = softmax_kernel(64, 1024);
  const std::string ir = cc.emit_llvm_ir(k);
  const std::string assembly = cc.emit_asm(k);
  EXPECT_NE(ir.find("x float>"), std::string::npos) << "no vector code in the optimized IR";
  if (host.find("+avx512f") != std::string::npos) {
    EXPECT_NE(assembly.find("zmm"), std::string::npos);
  } else if (host.find("+avx2") != std::string::npos) {
    EXPECT_NE(assembly.find("ymm"), std::string::npos);
  }
  // No calls into libm for f32 transcendentals.
  EXPECT_EQ(ir.find("@expf"), std::string::npos);
  EXPECT_EQ(ir.find("@exp("), std::string::npos);
}

// Reports (does not assert) the compile time of a typical fused kernel.
TEST(LlvmKernel, ReportsCompileTime) {
  std::vector<double> ms;
  for (int i = 0; i < 15; ++i) {
    const Kernel k = softmax_kernel(128, 512, 0.5 + i);
    const auto start = std::chrono::steady_clock::now();
    testing::compile_kernel(k);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "softmax kernel compile: median " << ms[ms.size() / 2] << " ms, min " << ms[0]
            << " ms, max " << ms.back() << " ms\n";
  RecordProperty("compile_ms_median", std::to_string(ms[ms.size() / 2]));
}

}  // namespace
}  // namespace kiln::codegen
