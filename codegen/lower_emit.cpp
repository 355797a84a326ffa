// Writes fused values as kernel expressions: elementwise ops as scalar ops, index movement as
// index arithmetic.

#include "codegen/lower_emit.h"

#include <cassert>

#include "codegen/math_expand.h"
#include "ir/scalar_semantics.h"

namespace kiln::codegen::lowering {

using ir::DType;
using ir::Node;
using ir::OpKind;
using ir::Value;

// ---- index arithmetic ---------------------------------------------------------------------

std::optional<int64_t> IndexMath::value(ExprId e) const {
  const Expr& x = b_.get(e);
  if (x.kind == ExprKind::Constant && x.dtype == DType::I64) return x.int_value;
  return std::nullopt;
}

ExprId IndexMath::add(ExprId a, ExprId b) {
  auto va = value(a), vb = value(b);
  if (va && vb) return cst(*va + *vb);
  if (va == 0) return b;
  if (vb == 0) return a;
  return b_.op(OpKind::Add, DType::I64, {a, b});
}

ExprId IndexMath::sub(ExprId a, ExprId b) {
  auto va = value(a), vb = value(b);
  if (va && vb) return cst(*va - *vb);
  if (vb == 0) return a;
  return b_.op(OpKind::Sub, DType::I64, {a, b});
}

ExprId IndexMath::mul(ExprId a, int64_t c) {
  if (auto va = value(a)) return cst(*va * c);
  if (c == 0) return cst(0);
  if (c == 1) return a;
  return b_.op(OpKind::Mul, DType::I64, {a, cst(c)});
}

ExprId IndexMath::div(ExprId a, int64_t c) {
  assert(c > 0);
  if (auto va = value(a)) return cst(*va / c);
  if (c == 1) return a;
  return b_.op(OpKind::Div, DType::I64, {a, cst(c)});
}

ExprId IndexMath::rem(ExprId a, int64_t c) {
  assert(c > 0);
  if (auto va = value(a)) return cst(*va % c);
  if (c == 1) return cst(0);
  return b_.op(OpKind::Rem, DType::I64, {a, cst(c)});
}

ExprId IndexMath::clamp(ExprId a, int64_t lo, int64_t hi) {
  if (auto va = value(a)) return cst(std::min(std::max(*va, lo), hi));
  if (lo == hi) return cst(lo);
  ExprId upper = b_.op(OpKind::Min, DType::I64, {a, cst(hi)});
  return b_.op(OpKind::Max, DType::I64, {upper, cst(lo)});
}

ExprId IndexMath::cmp(OpKind op, ExprId a, ExprId b) {
  return b_.op(op, DType::Bool, {a, b});
}

ExprId IndexMath::both(ExprId a, ExprId b) {
  return b_.op(OpKind::And, DType::Bool, {a, b});
}

ExprId IndexMath::linear(const Index& index, const ir::Shape& shape) {
  assert(index.size() == shape.size());
  ExprId acc = cst(0);
  for (size_t d = 0; d < shape.size(); ++d)
    acc = add(mul(acc, shape[d]), index[d]);
  return acc;
}

Index IndexMath::delinear(ExprId linear, const ir::Shape& shape) {
  Index out(shape.size(), cst(0));
  int first = -1;  // the outermost dim of size > 1 needs no remainder
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) {
      first = static_cast<int>(d);
      break;
    }
  int64_t stride = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    ExprId q = div(linear, stride);
    out[d] = d == first ? q : rem(q, shape[d]);
    stride *= shape[d];
  }
  return out;
}

ExprId to_index(ExprBuilder& b, ExprId value) {
  if (b.get(value).dtype == DType::I64) return value;
  return b.op(OpKind::Convert, DType::I64, {value});
}

// ---- values -------------------------------------------------------------------------------

namespace {

ExprId constant_expr(ExprBuilder& b, const ir::Attr& a, DType dtype) {
  if (ir::is_float(dtype)) {
    const double v = a.is_float()  ? a.as_float()
                     : a.is_bool() ? (a.as_bool() ? 1.0 : 0.0)
                                   : static_cast<double>(a.as_int());
    return b.constant_float(v, dtype);
  }
  int64_t v = a.is_bool() ? int64_t{a.as_bool()} : a.is_float() ? 0 : a.as_int();
  if (dtype == DType::Bool) v = v != 0;
  return b.constant_int(v, dtype);
}

// rng_bits' element from its key words and 64-bit counter (high, low), as
// ir::scalar::threefry2x32: plain u32 adds, xors and rotations (two shifts and an or), so
// every backend computes it with ops it already has.
ExprId threefry_bits(ExprBuilder& b, ExprId key0, ExprId key1, ExprId counter_hi,
                     ExprId counter_lo) {
  const DType u32 = DType::U32;
  auto cst = [&](uint32_t v) { return b.constant_int(v, u32); };
  auto add = [&](ExprId x, ExprId y) { return b.op(OpKind::Add, u32, {x, y}); };
  auto xor_ = [&](ExprId x, ExprId y) { return b.op(OpKind::Xor, u32, {x, y}); };
  auto rotl = [&](ExprId x, int r) {
    return b.op(OpKind::Or, u32,
                {b.op(OpKind::ShiftLeft, u32, {x, cst(static_cast<uint32_t>(r))}),
                 b.op(OpKind::ShiftRightLogical, u32, {x, cst(static_cast<uint32_t>(32 - r))})});
  };
  const ExprId ks[3] = {key0, key1, xor_(xor_(key0, key1), cst(ir::scalar::kThreefryParity))};
  ExprId x0 = add(counter_hi, ks[0]), x1 = add(counter_lo, ks[1]);
  for (int round = 0; round < 20; ++round) {
    x0 = add(x0, x1);
    x1 = xor_(rotl(x1, ir::scalar::kThreefryRotations[round % 8]), x0);
    if (round % 4 == 3) {
      const int s = round / 4 + 1;
      x0 = add(x0, ks[s % 3]);
      x1 = add(x1, add(ks[(s + 1) % 3], cst(static_cast<uint32_t>(s))));
    }
  }
  return xor_(x0, x1);
}

int64_t product(const ir::Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

}  // namespace

ExprId ScalarLowering::emit(Value v, const Index& index) {
  Awaiter first = at(v, index);
  if (first.await_ready()) return first.await_resume();
  // The steps under way, each awaiting the one above it. The top one runs until it awaits a
  // step of its own (pushed, and run next) or returns (popped, its result handed down).
  std::vector<Pending> stack;
  stack.push_back(std::move(*first.pending_));
  while (true) {
    Pending& top = stack.back();
    top.step.resume();
    if (!top.step.done()) {
      assert(pending_ && "a step suspends only to await another step");
      stack.push_back(std::move(*pending_));
      pending_.reset();
      continue;
    }
    const ExprId result = top.step.result();
    if (top.memo_key) memo_.emplace(std::move(*top.memo_key), result);
    stack.pop_back();
    if (stack.empty()) return result;
    delivered_ = result;
  }
}

ScalarLowering::Awaiter ScalarLowering::at(Value v, Index index) {
  auto key = std::make_pair(v.id, std::move(index));
  if (auto it = memo_.find(key); it != memo_.end()) return Awaiter(*this, it->second);
  if (members_.count(v.id)) {
    Step step = compute(v, key.second);
    return Awaiter(*this, Pending{std::move(step), std::move(key)});
  }
  const ir::TensorType& type = f_.type(v);
  auto it = buffers_.find(v.id);
  assert(it != buffers_.end() && "a value read by a kernel must be a member or an input");
  const ExprId load = b_.load(it->second, type.dtype, math_.linear(key.second, type.shape));
  memo_.emplace(std::move(key), load);
  return Awaiter(*this, load);
}

Step ScalarLowering::compute(Value v, Index index) {
  const Node& node = f_.node(v);
  const DType dtype = node.type.dtype;
  switch (node.op) {
    case OpKind::Parameter:
      break;  // parameters are inputs, never members
    case OpKind::Neg:
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
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
    case OpKind::Not:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::IsFinite:
    case OpKind::Convert:
    case OpKind::BitcastConvert:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Pow:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
    case OpKind::Select: {
      // The operands at the same index, in order.
      std::vector<ExprId> operands;
      for (Value operand : node.operands)
        operands.push_back(co_await at(operand, index));
      co_return b_.op(node.op, dtype, std::move(operands));
    }
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
    case OpKind::Atan2: {
      std::vector<ExprId> operands;
      for (Value operand : node.operands)
        operands.push_back(co_await at(operand, index));
      co_return expand_math(b_, node.op, dtype, operands);
    }
    case OpKind::Constant:
      co_return constant(node, index);
    case OpKind::Iota: {
      const ExprId i = index[ir::iota_attrs(node).axis];
      co_return dtype == DType::I64 ? i : b_.op(OpKind::Convert, dtype, {i});
    }
    case OpKind::RngBits: {
      // The key's leading dims index the keys; the rest of the index counts within one key.
      const Value key = node.operands[0];
      const size_t key_dims = f_.type(key).shape.size() - 1;
      Index at_key(index.begin(), index.begin() + static_cast<std::ptrdiff_t>(key_dims));
      at_key.push_back(math_.cst(0));
      const ExprId key0 = co_await at(key, at_key);
      at_key.back() = math_.cst(1);
      const ExprId key1 = co_await at(key, at_key);
      const ir::Shape& per_key = ir::rng_bits_attrs(node).shape;
      const ExprId counter = math_.linear(
          Index(index.begin() + static_cast<std::ptrdiff_t>(key_dims), index.end()), per_key);
      const ExprId lo = b_.op(OpKind::Convert, DType::U32, {counter});  // wraps: the low word
      const ExprId hi =
          product(per_key) <= (int64_t{1} << 32)
              ? b_.constant_int(0, DType::U32)
              : b_.op(OpKind::Convert, DType::U32, {math_.div(counter, int64_t{1} << 32)});
      co_return threefry_bits(b_, key0, key1, hi, lo);
    }
    case OpKind::Broadcast:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
      co_return co_await at(node.operands[0], movement_source(node, index));
    case OpKind::Pad:
      co_return co_await run(pad(node, std::move(index)));
    case OpKind::Concatenate:
      co_return co_await run(concatenate(node, std::move(index)));
    case OpKind::Take:
      co_return co_await run(take(node, std::move(index)));
    case OpKind::TakeAlongAxis: {
      // The same index, its coordinate along the axis read from the indices, clamped.
      const Value x = node.operands[0];
      const int64_t axis = ir::along_axis_attrs(node).axis;
      const int64_t size = f_.type(x).shape[axis];
      Index from = index;
      const ExprId i = to_index(b_, co_await at(node.operands[1], index));
      from[axis] = size == 1 ? math_.cst(0) : math_.clamp(i, 0, size - 1);
      co_return co_await at(x, from);
    }
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::DotGeneral:
      co_return co_await run(reduction_(v, index));
    case OpKind::StopGradient:
      co_return co_await at(node.operands[0], index);  // the identity, once the transforms are done
    case OpKind::ScatterAdd:
    case OpKind::ScatterAlongAxis:
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
      break;  // always a kernel's root, lowered by the kernel builder
    case OpKind::Call:
      break;  // inlined before fusion
  }
  assert(false && "no expression for this member");
  co_return 0;
}

ExprId ScalarLowering::constant(const Node& node, const Index& index) {
  const std::vector<ir::Attr> flat = ir::flat_elements(ir::constant_value(node));
  const DType dtype = node.type.dtype;
  if (flat.size() == 1) return constant_expr(b_, flat[0], dtype);
  // A short list: a chain of selects on the linear position (longer lists are inputs).
  const ExprId at = math_.linear(index, node.type.shape);
  ExprId result = constant_expr(b_, flat.back(), dtype);
  for (size_t j = flat.size() - 1; j-- > 0;) {
    const ExprId hit = math_.cmp(OpKind::Eq, at, math_.cst(static_cast<int64_t>(j)));
    result = b_.op(OpKind::Select, dtype, {hit, constant_expr(b_, flat[j], dtype), result});
  }
  return result;
}

Index ScalarLowering::reshape_index(const ir::Shape& from, const ir::Shape& to,
                                    const Index& index) {
  // `index` is a position in `to`; the result the same element's position in `from`. Dims
  // split into runs whose sizes multiply to the same count; each run maps on its own, so a
  // reshape that only merges or splits trailing dims leaves the others alone.
  Index out(from.size(), math_.cst(0));
  if (product(from) == 0) return out;  // nothing is ever read
  size_t i = 0, o = 0;
  while (i < from.size() || o < to.size()) {
    const size_t i0 = i, o0 = o;
    int64_t pi = 1, po = 1;
    if (i < from.size()) pi *= from[i++];
    if (o < to.size()) po *= to[o++];
    while (pi != po) {
      if (pi < po)
        pi *= from[i++];
      else
        po *= to[o++];
    }
    const Index part(index.begin() + o0, index.begin() + o);
    const ExprId lin = math_.linear(part, ir::Shape(to.begin() + o0, to.begin() + o));
    const Index mapped = math_.delinear(lin, ir::Shape(from.begin() + i0, from.begin() + i));
    std::copy(mapped.begin(), mapped.end(), out.begin() + i0);
  }
  return out;
}

// The index of the operand that a broadcast, reshape, transpose or slice reads at `index`.
Index ScalarLowering::movement_source(const Node& node, const Index& index) {
  const Value x = node.operands[0];
  const ir::Shape& in = f_.type(x).shape;
  Index from(in.size(), math_.cst(0));
  switch (node.op) {
    case OpKind::Broadcast: {
      const std::vector<int64_t> dims = ir::broadcast_attrs(node).dims;
      for (size_t j = 0; j < in.size(); ++j)
        if (in[j] != 1) from[j] = index[dims[j]];
      break;
    }
    case OpKind::Reshape:
      from = reshape_index(in, node.type.shape, index);
      break;
    case OpKind::Transpose: {
      const std::vector<int64_t> perm = ir::transpose_attrs(node).perm;
      for (size_t i = 0; i < perm.size(); ++i)
        from[perm[i]] = index[i];
      break;
    }
    case OpKind::Slice: {
      const ir::SliceAttrs slice = ir::slice_attrs(node);
      for (size_t d = 0; d < in.size(); ++d)
        if (in[d] != 1)
          from[d] = math_.add(math_.cst(slice.start[d]), math_.mul(index[d], slice.stride[d]));
      break;
    }
    default:
      assert(false);
  }
  return from;
}

Step ScalarLowering::pad(const Node& node, Index index) {
  const Value x = node.operands[0];
  const ir::Shape& in = f_.type(x).shape;
  const ExprId fill = co_await at(node.operands[1], {});
  if (product(in) == 0) co_return fill;
  const ir::PadAttrs amounts = ir::pad_attrs(node);
  const std::vector<int64_t>&low = amounts.low, &high = amounts.high, &interior = amounts.interior;
  std::optional<ExprId> inside;
  auto require = [&](ExprId c) { inside = inside ? math_.both(*inside, c) : c; };
  Index from(in.size(), math_.cst(0));
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t n = in[d], step = interior[d] + 1;
    if (low[d] == 0 && high[d] == 0 && (interior[d] == 0 || n == 1)) {
      from[d] = n == 1 ? math_.cst(0) : index[d];
      continue;
    }
    const ExprId t = math_.sub(index[d], math_.cst(low[d]));
    require(math_.cmp(OpKind::Ge, t, math_.cst(0)));
    ExprId q = t;
    if (step > 1) {
      require(math_.cmp(OpKind::Eq, math_.rem(t, step), math_.cst(0)));
      q = math_.div(t, step);
    }
    require(math_.cmp(OpKind::Lt, q, math_.cst(n)));
    // Clamped so that the load stays in bounds where the select discards it.
    from[d] = math_.clamp(q, 0, n - 1);
  }
  const ExprId value = co_await at(x, from);
  if (!inside) co_return value;
  co_return b_.op(OpKind::Select, node.type.dtype, {*inside, value, fill});
}

Step ScalarLowering::concatenate(const Node& node, Index index) {
  const int64_t axis = ir::concatenate_attrs(node).axis;
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (Value part : node.operands) {
    offsets.push_back(offset);
    offset += f_.type(part).shape[axis];
  }
  std::optional<ExprId> result;
  for (size_t p = node.operands.size(); p-- > 0;) {
    const int64_t n = f_.type(node.operands[p]).shape[axis];
    if (n == 0) continue;
    Index within = index;  // the position in part p
    within[axis] = n == 1 ? math_.cst(0)
                          : math_.clamp(math_.sub(index[axis], math_.cst(offsets[p])), 0, n - 1);
    const ExprId value = co_await at(node.operands[p], within);
    if (!result) {
      result = value;
      continue;
    }
    const ExprId here = math_.cmp(OpKind::Lt, index[axis], math_.cst(offsets[p] + n));
    result = b_.op(OpKind::Select, node.type.dtype, {here, value, *result});
  }
  assert(result && "a concatenate with elements has a non-empty part");
  co_return *result;
}

Step ScalarLowering::take(const Node& node, Index index) {
  const Value x = node.operands[0], indices = node.operands[1];
  const int64_t axis = ir::take_attrs(node).axis;
  const ir::Shape& in = f_.type(x).shape;
  const size_t count = f_.type(indices).shape.size();
  const Index position(index.begin() + axis, index.begin() + axis + static_cast<int64_t>(count));
  const ExprId i = to_index(b_, co_await at(indices, position));
  Index from(index.begin(), index.begin() + axis);
  from.push_back(in[axis] == 1 ? math_.cst(0) : math_.clamp(i, 0, in[axis] - 1));
  from.insert(from.end(), index.begin() + axis + static_cast<int64_t>(count), index.end());
  co_return co_await at(x, from);
}

}  // namespace kiln::codegen::lowering
