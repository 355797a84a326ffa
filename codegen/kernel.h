#pragma once
// Kernel IR: the loop-level form of one fused kernel, read by every backend (the LLVM emitter
// now, the SPIR-V emitter later). It says what to compute, not how a machine should: an outer
// parallel iteration space, and for each outer index a sequence of phases (reductions, then
// stores) whose inner loops run over their own extents. Values are scalar expressions in a pool
// (SSA: operands refer to earlier entries). Scalar ops reuse ir::OpKind with exactly the
// reference interpreter's semantics; index arithmetic is the same ops on i64.
//
// Nothing here assumes a CPU: the CPU emitter vectorizes the innermost inner loop, maps Dot
// phases onto its GEMM and splits the outer space across threads (its schedule step,
// codegen/cpu/schedule.h); a GPU emitter maps the outer space onto workgroups.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/ops.h"
#include "ir/type.h"

namespace kiln::codegen {

using ExprId = uint32_t;

enum class ExprKind : uint8_t {
  Index,        // i64: index `axis` of the outer space (loop == Outer), of the enclosing
                // phase's inner loops (loop == Inner), or a Dot phase's contraction index
                // (loop == Contraction, axis 0)
  Constant,     // a scalar of `dtype`: `float_value` for float dtypes, else `int_value`
  Load,         // element of buffer `buffer` at linear element offset operands[0] (i64)
  Op,           // scalar `op` (unary, binary, compare, select, convert) over operands
  PhaseResult,  // the value reduction phase `phase` produced for the current outer index
};

enum class LoopLevel : uint8_t { Outer, Inner, Contraction };

struct Expr {
  ExprKind kind = ExprKind::Constant;
  ir::DType dtype = ir::DType::I64;
  ir::OpKind op = ir::OpKind::Add;  // Op only
  std::vector<ExprId> operands;
  LoopLevel loop = LoopLevel::Outer;  // Index only
  int32_t axis = -1;                  // Index only
  int32_t buffer = -1;                // Load only
  int32_t phase = -1;                 // PhaseResult only
  double float_value = 0;             // Constant only
  int64_t int_value = 0;              // Constant only
  bool operator==(const Expr&) const = default;
};

struct Store {
  int32_t buffer = -1;
  ExprId offset = 0;  // i64 linear element offset into the buffer
  ExprId value = 0;   // of the buffer's dtype
  bool operator==(const Store&) const = default;
};

enum class PhaseKind : uint8_t { Reduce, Store, Dot };

struct Phase {
  PhaseKind kind = PhaseKind::Store;
  std::vector<int64_t> extents;  // inner loop extents, row-major; empty: one iteration
  // Reduce: accumulate `value` over the inner loops with `reduce_op` (ReduceSum, ReduceMax,
  // ReduceMin, ReduceProd, Argmax, Argmin). Sums and products of f16/bf16 accumulate in f32;
  // Argmax/Argmin yield the i32 position (row-major over `extents`) of the first extreme,
  // NaN counting as the extreme, like the interpreter. The result's dtype is `result_dtype`.
  ir::OpKind reduce_op = ir::OpKind::ReduceSum;
  ExprId value = 0;
  ir::DType result_dtype = ir::DType::F32;
  // Dot: for each inner index, the sum over the contraction index k in [0, contraction) of
  // dot_lhs * dot_rhs, two Loads of `result_dtype` whose offsets may use the contraction index
  // (Index with loop == Contraction). Products and sums are in `accumulator` (f32 for f16 and
  // bf16, else result_dtype), rounded once to result_dtype. The phase has exactly one store,
  // whose value is this phase's PhaseResult: the product at the current inner index. A backend
  // maps it onto its matrix engine (the CPU onto its GEMM) where the loads' layout allows, and
  // runs the loops as written everywhere else.
  ExprId dot_lhs = 0, dot_rhs = 0;
  int64_t contraction = 0;
  ir::DType accumulator = ir::DType::F32;
  // Each store runs once per inner iteration: in a Store phase these are the phase's work; a
  // Reduce phase may also have stores (never Argmax/Argmin), which write out values it computes
  // anyway, so that a later phase loads them instead of computing them again.
  std::vector<Store> stores;
  // The inner iterations must run one after another, in row-major order: a later one reads what
  // an earlier one stored (the scatters' repeated indices). A backend must not vectorize,
  // reorder or split them; different outer indices stay independent.
  bool sequential = false;
  bool operator==(const Phase&) const = default;
};

// The expressions a phase evaluates itself: a Reduce phase's value, a Dot phase's two loads,
// and every store's offset and value.
std::vector<ExprId> phase_roots(const Phase& phase);

// The accumulator of a Dot phase or a sum/product over `dtype`: f16 and bf16 widen to f32.
ir::DType dot_accumulator(ir::DType dtype);

// Whether an elementwise op's result, computed in f32 registers on f16/bf16 operands, is
// already a value of the operands' dtype (so backends skip rounding it): the ops that only
// move, pick or compare values, and the exact float remainder.
bool exact_in_rounded_dtype(ir::OpKind op);

struct KernelBuffer {
  ir::TensorType type;
  bool is_output = false;
  bool operator==(const KernelBuffer&) const = default;
};

struct Kernel {
  std::string name;
  std::vector<KernelBuffer> buffers;  // the kernel's arguments, inputs and outputs
  std::vector<int64_t> outer;         // the parallel iteration space, row-major
  std::vector<Phase> phases;
  std::vector<Expr> exprs;
  // Buffers used only inside the kernel (a Dot phase's product before its epilogue): indices
  // into `buffers` that the runtime allocates per call and nobody else sees.
  std::vector<int32_t> scratch;

  int64_t outer_count() const;
  bool is_scratch(int32_t buffer) const;
  // Structural hash and equality ignore `name`: equal kernels compile once.
  size_t hash() const;
  bool same_structure(const Kernel& other) const;
};

// Builds a kernel's expression pool with hash-consing, so equal subexpressions (a value used
// by two stores, an index computed twice) are one entry.
class ExprBuilder {
 public:
  explicit ExprBuilder(std::vector<Expr>& pool) : pool_(pool) {}
  ExprId add(Expr expr);
  ExprId index(LoopLevel loop, int axis);
  ExprId constant_int(int64_t value, ir::DType dtype = ir::DType::I64);
  ExprId constant_float(double value, ir::DType dtype);
  ExprId load(int buffer, ir::DType dtype, ExprId offset);
  ExprId op(ir::OpKind op, ir::DType dtype, std::vector<ExprId> operands);
  ExprId phase_result(int phase, ir::DType dtype);
  const Expr& get(ExprId id) const { return pool_[id]; }

 private:
  struct ExprHash {
    size_t operator()(const Expr& e) const;
  };
  std::vector<Expr>& pool_;
  // Pool entries already in `interned_`; entries added to the pool directly are picked up on
  // the next add().
  size_t indexed_ = 0;
  std::unordered_map<Expr, ExprId, ExprHash> interned_;
};

// The printed form, for `kiln opt --emit=kernel` and tests: one line per expression and a
// nested block per phase.
std::string print_kernel(const Kernel& kernel);

}  // namespace kiln::codegen
