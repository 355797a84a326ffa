// Constant folding: evaluates an op whose operands are all constants on the reference
// interpreter, so a folded value is bit for bit what the unfolded graph computes.

#include <cassert>
#include <cstring>

#include "ir/array.h"
#include "ir/interpreter.h"
#include "passes/simplify.h"
#include "passes/simplify_rules.h"

namespace kiln::passes::detail {

namespace {

using ir::Attr;
using ir::Function;
using ir::HostArray;
using ir::Node;
using ir::OpKind;
using ir::TensorType;
using ir::Value;

// Operands are materialized to evaluate the op; a broadcast splat may be far larger than the
// result (reduce_sum of a big splat), so bound what folding may allocate.
constexpr int64_t kMaxOperandElements = int64_t{1} << 16;

bool is_scalar_constant(const Function& f, Value v) {
  const Node& node = f.node(v);
  return node.op == OpKind::Constant && node.type.rank() == 0;
}

// A constant, or the canonical splat: a broadcast of a scalar constant. Anything else built
// from constants has either been folded already or is too large to fold.
bool is_constant(const Function& f, Value v) {
  const Node& node = f.node(v);
  return node.op == OpKind::Constant ||
         (node.op == OpKind::Broadcast && is_scalar_constant(f, node.operands[0]));
}

// Copies the constant `v` (and the scalar under a splat) from `f` into `into`.
Value copy_constant(const Function& f, Value v, Function& into) {
  const Node& node = f.node(v);
  std::vector<Value> operands;
  for (Value operand : node.operands)
    operands.push_back(copy_constant(f, operand, into));
  return into.add(node.op, std::move(operands), node.attrs, node.type);
}

bool is_splat(const HostArray& a) {
  const size_t size = ir::dtype_size(a.dtype());
  for (int64_t i = 1; i < a.num_elements(); ++i)
    if (std::memcmp(a.data(), a.data() + i * size, size) != 0) return false;
  return true;
}

Value scalar_constant(Attr value, ir::DType dtype, Function& out) {
  return out.add(OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{std::move(value)}),
                 TensorType{dtype, {}});
}

Value splat(Value scalar, const TensorType& type, Function& out) {
  if (type.rank() == 0) return scalar;
  return out.add(OpKind::Broadcast, {scalar}, make_attrs(ir::BroadcastAttrs{type.shape, {}}));
}

// The folded value in canonical form: a splat of a scalar, or a constant listing every element.
Value materialize(const HostArray& a, Function& out) {
  if (a.num_elements() > 0 && is_splat(a))
    return splat(scalar_constant(ir::element_attr(a, 0), a.dtype(), out), a.type(), out);
  // Folded values are small (at most kMaxFoldedElements): a list, which prints and hash-conses
  // like the same constant written in text.
  return out.add(OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{ir::nested_list(a)}), a.type());
}

HostArray evaluate(const Function& tiny) {
  std::vector<HostArray> results = ir::interpret(tiny, {});
  assert(results.size() == 1);
  return std::move(results.front());
}

// An elementwise op on splats is a splat of the op on their scalars, whatever the size.
std::optional<Value> fold_splats(const Node& node, std::span<const Value> operands, Function& out) {
  Function tiny("fold");
  std::vector<Value> scalars;
  for (Value v : operands) {
    std::optional<Attr> value = splat_value(out, v);
    if (!value) return std::nullopt;
    scalars.push_back(tiny.add(OpKind::Constant, {},
                               make_attrs(ir::ConstantAttrs{std::move(*value)}),
                               TensorType{out.type(v).dtype, {}}));
  }
  tiny.set_results(
      {tiny.add(node.op, std::move(scalars), node.attrs, TensorType{node.type.dtype, {}})});
  return splat(materialize(evaluate(tiny), out), node.type, out);
}

}  // namespace

std::optional<Value> fold_constant(const Node& node, std::span<const Value> operands,
                                   Function& out) {
  // Constants and iota have no operands: they are what folding produces, not inputs to it.
  if (operands.empty()) return std::nullopt;
  for (Value v : operands)
    if (!is_constant(out, v)) return std::nullopt;
  // A broadcast of a scalar constant is already the canonical splat.
  if (node.op == OpKind::Broadcast && is_scalar_constant(out, operands[0])) return std::nullopt;
  if (ir::has_trait(node.op, ir::OpTrait::Elementwise))
    if (auto folded = fold_splats(node, operands, out)) return folded;
  if (node.type.num_elements() > kMaxFoldedElements) return std::nullopt;
  Function tiny("fold");
  std::vector<Value> copies;
  for (Value v : operands) {
    if (out.type(v).num_elements() > kMaxOperandElements) return std::nullopt;
    copies.push_back(copy_constant(out, v, tiny));
  }
  tiny.set_results({tiny.add(node.op, std::move(copies), node.attrs, node.type)});
  return materialize(evaluate(tiny), out);
}

}  // namespace kiln::passes::detail
