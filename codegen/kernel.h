#pragma once
// Kernel IR: the loop-level form of one fused kernel, read by every backend (the LLVM emitter
// now, the SPIR-V emitter later). It says what to compute, not how a machine should: an outer
// parallel iteration space, and for each outer index a sequence of phases (reductions, then
// stores) whose inner loops run over their own extents. Values are scalar expressions in a pool
// (SSA: operands refer to earlier entries). Scalar ops reuse ir::OpKind with exactly the
// reference interpreter's semantics; index arithmetic is the same ops on i64.
//
// Nothing here assumes a CPU: the CPU emitter vectorizes the innermost inner loop and splits
// the outer space across threads; a GPU emitter maps the outer space onto workgroups.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/ops.h"
#include "ir/type.h"

namespace kiln::codegen {

using ExprId = uint32_t;

enum class ExprKind : uint8_t {
  Index,        // i64: index `axis` of the outer space (loop == Outer) or of the enclosing
                // phase's inner loops (loop == Inner)
  Constant,     // a scalar of `dtype`: `float_value` for float dtypes, else `int_value`
  Load,         // element of buffer `buffer` at linear element offset operands[0] (i64)
  Op,           // scalar `op` (unary, binary, compare, select, convert) over operands
  PhaseResult,  // the value reduction phase `phase` produced for the current outer index
};

enum class LoopLevel : uint8_t { Outer, Inner };

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

enum class PhaseKind : uint8_t { Reduce, Store };

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
  // Each store runs once per inner iteration: in a Store phase these are the phase's work; a
  // Reduce phase may also have stores (never Argmax/Argmin), which write out values it computes
  // anyway, so that a later phase loads them instead of computing them again.
  std::vector<Store> stores;
  bool operator==(const Phase&) const = default;
};

struct KernelBuffer {
  ir::TensorType type;
  bool is_output = false;
  bool operator==(const KernelBuffer&) const = default;
};

// A dot_general in canonical form: out[b, i, j] = sum_k lhs[b, i, k] * rhs[b, k, j], with
// either operand possibly stored transposed. A Dot kernel's outer space is [batch, m] (rows of
// the product): for a range of outer indices the backend first computes those rows of `out`,
// then runs the phases (the epilogue, usually one Store phase with extents [n]) for the same
// rows, which read `out` through Loads while the rows are still in cache. f16/bf16 accumulate
// in f32.
struct Matmul {
  int32_t lhs = -1, rhs = -1, out = -1;  // buffers
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool lhs_batched = true;  // false: one lhs shared by every batch
  bool rhs_batched = true;
  bool transpose_lhs = false;  // lhs laid out [batch, k, m]
  bool transpose_rhs = false;  // rhs laid out [batch, n, k]
  bool operator==(const Matmul&) const = default;
};

struct Kernel {
  std::string name;
  std::vector<KernelBuffer> buffers;  // the kernel's arguments, inputs and outputs
  std::vector<int64_t> outer;         // the parallel iteration space, row-major
  std::vector<Phase> phases;
  std::vector<Expr> exprs;
  std::optional<Matmul> matmul;
  // Buffers used only inside the kernel (a matmul's raw product before its epilogue): indices
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
