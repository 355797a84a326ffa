#include "passes/split_reductions.h"

#include "passes/rewriter.h"

namespace kiln::passes {

namespace {

using ir::OpKind;
using ir::Value;

// A reduction to a scalar that can be split: rows then total gives what reducing all at once
// does (up to rounding); an arg reduction would need the rows' positions as well.
bool is_full_reduction(const ir::Node& node, const ir::TensorType& operand) {
  const bool splittable = ir::has_trait(node.op, ir::OpTrait::Reduction) &&
                          !ir::has_trait(node.op, ir::OpTrait::ArgReduction);
  return splittable && operand.rank() > 0 &&
         ir::reduce_attrs(node).axes.size() == static_cast<size_t>(operand.rank());
}

// The number of rows to split n elements into: the largest divisor of n up to 1024 that
// leaves rows of at least 4096 elements, or nullopt when n has none above 1.
std::optional<int64_t> row_count(int64_t n) {
  for (int64_t rows = 1024; rows > 1; --rows)
    if (n % rows == 0 && n / rows >= 4096) return rows;
  return std::nullopt;
}

}  // namespace

ir::Function split_reductions(const ir::Function& function, int64_t min_elements) {
  return rewrite(
      function,
      [min_elements](const ir::Node& node, std::span<const Value> operands,
                     ir::Function& out) -> std::optional<Value> {
        if (node.operands.size() != 1) return std::nullopt;
        // A copy: adding nodes below may move out's types.
        const ir::TensorType operand = out.type(operands[0]);
        if (!is_full_reduction(node, operand) || operand.num_elements() < min_elements)
          return std::nullopt;
        std::optional<int64_t> rows = row_count(operand.num_elements());
        if (!rows) return std::nullopt;
        const std::vector<int64_t> shape{*rows, operand.num_elements() / *rows};
        Value matrix = out.add(OpKind::Reshape, {operands[0]}, make_attrs(ir::ReshapeAttrs{shape}));
        // A float product is taken in f64 in both steps, as the interpreter takes it in one:
        // an f32 row product can underflow to 0 (or overflow to inf) where the whole product
        // is finite or infinite, and 0 times a later inf is NaN.
        const ir::DType dtype = operand.dtype;
        const bool widen =
            node.op == OpKind::ReduceProd && ir::is_float(dtype) && dtype != ir::DType::F64;
        if (widen)
          matrix = out.add(OpKind::Convert, {matrix}, {}, ir::TensorType{ir::DType::F64, shape});
        Value per_row = out.add(node.op, {matrix}, make_attrs(ir::ReduceAttrs{{1}}));
        Value total = out.add(node.op, {per_row}, make_attrs(ir::ReduceAttrs{{0}}));
        if (widen) total = out.add(OpKind::Convert, {total}, {}, ir::TensorType{dtype, {}});
        return total;
      });
}

}  // namespace kiln::passes
