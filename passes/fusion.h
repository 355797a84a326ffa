#pragma once
// Fusion: partitions a function into kernels. Elementwise ops, broadcasts, converts, constants,
// iota and index movement (reshape, transpose, slice, pad, concatenate, take) fuse into their
// consumers as index arithmetic, never as copies; reductions fuse with their elementwise
// producers and with elementwise consumers of their result (a row softmax or layernorm is one
// kernel); a dot_general takes its elementwise epilogue. Kernels have a bounded size, so a long
// chain becomes a run of kernels (the size rule in fusion.cpp). The plan is a side table over the
// function: the IR itself is unchanged, so `kiln opt --passes=fuse` prints the same .kir with
// each kernel marked by comments and the text still parses.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/function.h"

namespace kiln::passes {

enum class KernelKind : uint8_t {
  Loop,       // elementwise over the output's shape
  Reduction,  // an outer parallel space; per outer index, reduction phases then stores
  Dot,        // a dot_general with its elementwise epilogue
};

struct FusionGroup {
  KernelKind kind = KernelKind::Loop;
  // Every value computed inside this kernel, in body order. A cheap value may be a member of
  // several groups (recomputed rather than stored; see the cost rule in fusion.cpp).
  std::vector<ir::Value> members;
  // Values the kernel reads from memory: parameters or other groups' outputs, in body order.
  std::vector<ir::Value> inputs;
  // Members written to memory: function results and values other groups read. Body order.
  std::vector<ir::Value> outputs;
};

struct FusionOptions {
  bool fuse = true;  // false: every op (but constants, which inline) is its own kernel
};

struct FusionPlan {
  std::vector<FusionGroup> groups;  // in an order that respects data dependences
};

// How a dot_general maps onto a canonical batched matrix product (codegen::Matmul):
// batch dims leading on both operands in order, the contracting dims one consecutive block in
// order on each side, lhs [batch, m, k] or transposed [batch, k, m], rhs [batch, k, n] or
// transposed [batch, n, k]. nullopt when the layout fits neither form; such a dot is planned as
// a reduction over its contracting dims.
struct MatmulLayout {
  int64_t batch = 1, m = 1, n = 1, k = 1;
  bool transpose_lhs = false, transpose_rhs = false;
};
std::optional<MatmulLayout> matmul_layout(const ir::Function& function, ir::Value dot);

// The row a reduction kernel folds: the reduced operand's shape and the reduced axes (sorted);
// the kept dims form the kernel's outer space. Fusion groups reductions by it and lowering
// builds their kernels from it, so the two cannot disagree.
struct ReductionRow {
  ir::Shape row;
  std::vector<int64_t> axes;
  bool operator==(const ReductionRow&) const = default;

  ir::Shape kept() const;                  // the sizes of the kept dims
  std::vector<int64_t> kept_dims() const;  // their positions in the row
};

// The row `v` folds if it is a reduction, or a dot_general fitting no MatmulLayout (which folds
// [result dims..., contracting dims...]); nullopt for every other value.
std::optional<ReductionRow> reduction_row(const ir::Function& function, ir::Value v);

FusionPlan plan_fusion(const ir::Function& function, const FusionOptions& options = {});

// The function's .kir with a comment line before each kernel's members:
//   // kernel 0 (reduction): inputs %x; outputs %7
std::string print_with_fusion(const ir::Function& function, const FusionPlan& plan);

}  // namespace kiln::passes
