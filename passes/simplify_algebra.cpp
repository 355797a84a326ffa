// Algebraic identities. Each holds exactly on the interpreter, for every input, signed zeros
// and infinities included (NaNs only as a class):
//   x + 0 -> x (integers; floats only for -0, since -0 + +0 is +0), x - 0 -> x (integers;
//   floats only for +0), x * 1, 1 * x, x / 1 -> x, integer x * 0 -> 0 (not floats: NaN, inf
//   and -0), neg(neg x), not(not x) -> x, convert to the same dtype -> x,
//   convert(convert(x, B), C) -> convert(x, C) when B holds every value of x's dtype,
//   broadcast/reshape/transpose/slice of the same op -> one op, and each of them -> x when it
//   leaves x as it is, reductions over size-1 axes -> reshape, select with a splat predicate
//   -> that branch, select(p, x, x) -> x, dot_general of a transpose -> dot_general of its
//   source when the free dimensions keep their order.
// A zero or one is a constant or a broadcast of a scalar constant (detail::splat_value).

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

#include "passes/simplify_rules.h"

namespace kiln::passes::detail {

namespace {

using ir::Attr;
using ir::DType;
using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::TensorType;
using ir::Value;

using Operands = std::span<const Value>;
using Result = std::optional<Value>;

// ---- recognizing constants ----------------------------------------------------------------

enum class Sign { Positive, Negative, Any };

bool is_zero(const Function& f, Value v, Sign sign) {
  std::optional<Attr> a = splat_value(f, v);
  if (!a) return false;
  if (a->is_int()) return a->as_int() == 0;
  if (!a->is_float() || a->as_float() != 0.0) return false;
  return sign == Sign::Any || std::signbit(a->as_float()) == (sign == Sign::Negative);
}

bool is_one(const Function& f, Value v) {
  std::optional<Attr> a = splat_value(f, v);
  if (!a) return false;
  if (a->is_int()) return a->as_int() == 1;
  return a->is_float() && a->as_float() == 1.0;
}

// The zero that x + zero leaves x unchanged: any integer 0, but only -0.0 for floats.
bool is_additive_identity(const Function& f, Value v) {
  return is_zero(f, v, ir::is_float(f.type(v).dtype) ? Sign::Negative : Sign::Any);
}

// ---- elementwise arithmetic ---------------------------------------------------------------

Result add_rule(const Function& f, Operands x) {
  if (is_additive_identity(f, x[1])) return x[0];
  if (is_additive_identity(f, x[0])) return x[1];
  return std::nullopt;
}

Result sub_rule(const Function& f, Operands x) {
  // x - +0 is x + -0; x - -0 would be x + +0, which turns -0 into +0.
  if (is_zero(f, x[1], Sign::Positive)) return x[0];
  if (ir::is_integer(f.type(x[1]).dtype) && is_zero(f, x[1], Sign::Any)) return x[0];
  return std::nullopt;
}

Result mul_rule(const Function& f, Operands x) {
  if (is_one(f, x[1])) return x[0];
  if (is_one(f, x[0])) return x[1];
  // Only integers: for floats NaN * 0, inf * 0 and -1 * 0 are not +0.
  if (ir::is_integer(f.type(x[0]).dtype)) {
    if (is_zero(f, x[1], Sign::Any)) return x[1];
    if (is_zero(f, x[0], Sign::Any)) return x[0];
  }
  return std::nullopt;
}

Result div_rule(const Function& f, Operands x) {
  if (is_one(f, x[1])) return x[0];
  return std::nullopt;
}

// neg and not are their own inverses, wrapping integers included (neg(neg INT_MIN) = INT_MIN).
Result involution_rule(const Node& node, const Function& f, Operands x) {
  const Node& inner = f.node(x[0]);
  if (inner.op == node.op) return inner.operands[0];
  return std::nullopt;
}

Result select_rule(const Function& f, Operands x) {
  if (x[1] == x[2]) return x[1];
  std::optional<Attr> predicate = splat_value(f, x[0]);
  if (predicate && predicate->is_bool()) return predicate->as_bool() ? x[1] : x[2];
  return std::nullopt;
}

// ---- convert ------------------------------------------------------------------------------

// Whether every value of `from` (signed zeros, infinities and NaN included) is a value of `to`.
// convert depends only on the value it reads, so then convert(convert(x, to), T) equals
// convert(x, T).
bool holds_every_value(DType from, DType to) {
  using D = DType;
  if (from == to || from == D::Bool) return true;
  switch (from) {
    case D::I8:
      return to == D::I16 || to == D::I32 || to == D::I64 || to == D::F16 || to == D::BF16 ||
             to == D::F32 || to == D::F64;
    case D::U8:
      return to == D::I16 || to == D::I32 || to == D::I64 || to == D::U32 || to == D::F16 ||
             to == D::BF16 || to == D::F32 || to == D::F64;
    case D::I16:
      return to == D::I32 || to == D::I64 || to == D::F32 || to == D::F64;
    case D::I32:
    case D::U32:
      return to == D::I64 || to == D::F64;
    case D::F16:
    case D::BF16:
      return to == D::F32 || to == D::F64;
    case D::F32:
      return to == D::F64;
    case D::I64:
    case D::F64:
    case D::Bool:
      return false;
  }
  return false;
}

Result convert_rule(const Node& node, Function& f, Operands x) {
  if (f.type(x[0]) == node.type) return x[0];
  const Node& inner = f.node(x[0]);
  if (inner.op != OpKind::Convert) return std::nullopt;
  Value source = inner.operands[0];
  if (!holds_every_value(f.type(source).dtype, inner.type.dtype)) return std::nullopt;
  if (f.type(source) == node.type) return source;
  return f.add(OpKind::Convert, {source}, {}, node.type);
}

// ---- index movement -----------------------------------------------------------------------

Value broadcast(Function& f, Value x, const ir::Shape& shape, const std::vector<int64_t>& dims) {
  return f.add(OpKind::Broadcast, {x}, make_attrs(ir::BroadcastAttrs{shape, dims}));
}

Value reshape(Function& f, Value x, const ir::Shape& shape) {
  if (f.type(x).shape == shape) return x;
  return f.add(OpKind::Reshape, {x}, make_attrs(ir::ReshapeAttrs{shape}));
}

Result broadcast_rule(const Node& node, Function& f, Operands x) {
  // Same type means same rank, and increasing dims of that rank are the identity.
  if (f.type(x[0]) == node.type) return x[0];
  const Node& inner = f.node(x[0]);
  if (inner.op != OpKind::Broadcast) return std::nullopt;
  // Operand dim i goes to inner dim d1[i], which goes to result dim d2[d1[i]].
  const std::vector<int64_t> d1 = ir::broadcast_attrs(inner).dims;
  const std::vector<int64_t> d2 = ir::broadcast_attrs(node).dims;
  std::vector<int64_t> dims;
  for (int64_t d : d1)
    dims.push_back(d2[d]);
  Value source = inner.operands[0];
  return broadcast(f, source, node.type.shape, dims);
}

Result reshape_rule(const Node& node, Function& f, Operands x) {
  const Node& inner = f.node(x[0]);
  Value source = inner.op == OpKind::Reshape ? inner.operands[0] : x[0];
  if (source == x[0] && f.type(source) != node.type) return std::nullopt;
  return reshape(f, source, node.type.shape);
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

Result transpose_rule(const Node& node, Function& f, Operands x) {
  std::vector<int64_t> perm = ir::transpose_attrs(node).perm;
  const Node& inner = f.node(x[0]);
  if (inner.op != OpKind::Transpose) {
    if (is_identity(perm)) return x[0];
    return std::nullopt;
  }
  // Result dim i is inner dim perm[i], which is source dim inner_perm[perm[i]].
  const std::vector<int64_t> inner_perm = ir::transpose_attrs(inner).perm;
  for (int64_t& p : perm)
    p = inner_perm[p];
  Value source = inner.operands[0];
  if (is_identity(perm)) return source;
  return f.add(OpKind::Transpose, {source}, make_attrs(ir::TransposeAttrs{perm}));
}

// One slice of the source equal to slicing it by `inner` and then by `outer`: outer element k
// is inner element s2 + k*t2, which is source element s1 + (s2 + k*t2)*t1. The limit is the
// last element taken plus one, so it never passes the source's end. nullopt if a stride
// product overflows.
std::optional<ir::SliceAttrs> compose_slices(const Node& inner, const Node& outer) {
  const ir::SliceAttrs first = ir::slice_attrs(inner), second = ir::slice_attrs(outer);
  const std::vector<int64_t>&s1 = first.start, &t1 = first.stride;
  const std::vector<int64_t>&s2 = second.start, &t2 = second.stride;
  ir::SliceAttrs out;
  for (size_t d = 0; d < s1.size(); ++d) {
    const int64_t count = outer.type.shape[d];
    int64_t stride = 0;
    if (__builtin_mul_overflow(t1[d], t2[d], &stride)) return std::nullopt;
    if (count == 0) {
      out.start.push_back(0), out.limit.push_back(0), out.stride.push_back(1);
      continue;
    }
    // Both are indices of source elements the two slices take, so neither overflows.
    const int64_t start = s1[d] + s2[d] * t1[d];
    out.start.push_back(start);
    out.limit.push_back(start + (count - 1) * stride + 1);
    out.stride.push_back(stride);
  }
  return out;
}

Result slice_rule(const Node& node, Function& f, Operands x) {
  // Same type means start 0, limit the size and stride 1 (or a dimension of size <= 1).
  if (f.type(x[0]) == node.type) return x[0];
  const Node& inner = f.node(x[0]);
  if (inner.op != OpKind::Slice) return std::nullopt;
  std::optional<ir::SliceAttrs> bounds = compose_slices(inner, node);
  if (!bounds) return std::nullopt;
  Value source = inner.operands[0];
  if (f.type(source) == node.type) return source;
  return f.add(OpKind::Slice, {source}, make_attrs(std::move(*bounds)));
}

// dot_general of a transpose reads the transpose's source in place: its batch and contracting
// dimension numbers map through the permutation, provided the free dimensions keep their
// relative order (the result lists them in operand order). The same products are summed in
// the same order, so this is exact; the GEMM then reads a transposed layout instead of a
// transposed copy (x^T @ y, x @ w^T).
Result dot_general_rule(const Node& node, Function& f, Operands x) {
  ir::DotGeneralAttrs dims = ir::dot_general_attrs(node);
  Value operands[2] = {x[0], x[1]};
  bool changed = false;
  for (int side = 0; side < 2; ++side) {
    const Node& inner = f.node(operands[side]);
    if (inner.op != OpKind::Transpose) continue;
    const std::vector<int64_t>& perm = ir::transpose_attrs(inner).perm;
    std::vector<int64_t>& batch = side == 0 ? dims.lhs_batch : dims.rhs_batch;
    std::vector<int64_t>& contract = side == 0 ? dims.lhs_contract : dims.rhs_contract;
    auto used = [&](int64_t d) {
      return std::find(batch.begin(), batch.end(), d) != batch.end() ||
             std::find(contract.begin(), contract.end(), d) != contract.end();
    };
    bool in_order = true;
    int64_t previous = -1;
    for (int64_t d = 0; d < static_cast<int64_t>(perm.size()) && in_order; ++d) {
      if (used(d)) continue;
      in_order = perm[d] > previous;
      previous = perm[d];
    }
    if (!in_order) continue;
    for (int64_t& d : batch)
      d = perm[d];
    for (int64_t& d : contract)
      d = perm[d];
    operands[side] = inner.operands[0];
    changed = true;
  }
  if (!changed) return std::nullopt;
  return f.add(OpKind::DotGeneral, {operands[0], operands[1]}, make_attrs(std::move(dims)));
}

// Reducing over axes of size 1 reads one element per result element: the sum starts from -0
// for floats and the product from 1, and max/min from the lowest/highest value, so each gives
// that element back unchanged, which is a reshape.
Result reduce_rule(const Node& node, Function& f, Operands x) {
  const ir::Shape& shape = f.type(x[0]).shape;
  for (int64_t axis : ir::reduce_attrs(node).axes)
    if (shape[axis] != 1) return std::nullopt;
  return reshape(f, x[0], node.type.shape);
}

}  // namespace

std::optional<Value> apply_algebra(const Node& node, Operands x, Function& f) {
  switch (node.op) {
    case OpKind::Add:
      return add_rule(f, x);
    case OpKind::Sub:
      return sub_rule(f, x);
    case OpKind::Mul:
      return mul_rule(f, x);
    case OpKind::Div:
      return div_rule(f, x);
    case OpKind::Neg:
    case OpKind::Not:
      return involution_rule(node, f, x);
    case OpKind::Select:
      return select_rule(f, x);
    case OpKind::Convert:
      return convert_rule(node, f, x);
    case OpKind::Broadcast:
      return broadcast_rule(node, f, x);
    case OpKind::Reshape:
      return reshape_rule(node, f, x);
    case OpKind::Transpose:
      return transpose_rule(node, f, x);
    case OpKind::DotGeneral:
      return dot_general_rule(node, f, x);
    case OpKind::Slice:
      return slice_rule(node, f, x);
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
      return reduce_rule(node, f, x);
    // No identity rules (yet) for these.
    case OpKind::Parameter:
    case OpKind::Abs:
    case OpKind::Sign:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
    case OpKind::Rem:
    case OpKind::Pow:
    case OpKind::Atan2:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
    case OpKind::Constant:
    case OpKind::Iota:
    case OpKind::Pad:
    case OpKind::Concatenate:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::Take:
    case OpKind::ScatterAdd:
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
    case OpKind::TakeAlongAxis:
    case OpKind::ScatterAlongAxis:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::IsFinite:
    case OpKind::BitcastConvert:
    case OpKind::RngBits:
    // stop_gradient stays until lowering: it means something to the transforms that may run
    // after simplify.
    case OpKind::StopGradient:
    case OpKind::Call:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace kiln::passes::detail
