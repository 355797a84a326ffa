// Batching, after JAX's batching rules. Every old value maps to a new value and an optional
// batch dimension (where the batch axis sits in the new value, or none when the value does not
// depend on a batched parameter and is computed once, as in f). Rules keep the batch axis
// where it already is whenever the op allows, so that a chain of elementwise ops, reductions
// or dot_generals needs no transposes; a rule that needs it elsewhere (reshape, the operands
// of elementwise ops that disagree) moves it with one transpose, and an unbatched operand that
// must meet a batched one is broadcast.

#include "passes/vmap.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <string>
#include <utility>

#include "ir/error.h"
#include "passes/rewriter.h"

namespace kiln::passes {

namespace {

using ir::Attrs;
using ir::DType;
using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::Shape;
using ir::TensorType;
using ir::Value;

struct Batched {
  Value value;
  std::optional<int> bdim;  // nullopt: the value is the same for every batch element
};

[[noreturn]] void fail(const std::string& message) {
  throw Error("[vmap] " + message);
}

Shape with_dim(Shape shape, int at, int64_t size) {
  shape.insert(shape.begin() + at, size);
  return shape;
}

std::vector<int64_t> with_entry(std::vector<int64_t> list, int at, int64_t value) {
  list.insert(list.begin() + at, value);
  return list;
}

// An axis of the unbatched value, renumbered for the batched value with the batch at bdim.
int64_t shifted(int64_t axis, int bdim) {
  return axis >= bdim ? axis + 1 : axis;
}

std::vector<int64_t> shifted(std::vector<int64_t> axes, int bdim) {
  for (int64_t& a : axes)
    a = shifted(a, bdim);
  return axes;
}

// Builds the batched ops of one function. `out` receives the new nodes; batch_ is B.
class Batcher {
 public:
  Batcher(Function& out, int64_t batch_size) : out_(out), batch_(batch_size) {}

  // The node's batched value from its operands' (at least one of which is batched).
  Batched batch(const Node& node, std::span<const Batched> in);

  // x with its batch axis at `at`: moved there by a transpose, or broadcast there when x is
  // unbatched.
  Value materialize(const Batched& x, int at);
  // Every operand batched at the first batched operand's axis (operands that already agree,
  // the common case, need no transpose), and that axis.
  std::pair<std::vector<Value>, int> meet(std::span<const Batched> in);

 private:
  // A copy: adding nodes may move the nodes a reference would point into.
  TensorType type(Value v) const { return out_.type(v); }
  int rank(Value v) const { return type(v).rank(); }
  Value add(OpKind op, std::vector<Value> operands, Attrs attrs = {},
            std::optional<TensorType> declared = std::nullopt) {
    return out_.add(op, std::move(operands), std::move(attrs), std::move(declared));
  }
  Value scalar(DType dtype, ir::Attr value) {
    return add(OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{std::move(value)}),
               TensorType{dtype, {}});
  }
  Value splat(DType dtype, const Shape& shape, ir::Attr value) {
    return add(OpKind::Broadcast, {scalar(dtype, std::move(value))},
               make_attrs(ir::BroadcastAttrs{shape, {}}));
  }
  static ir::Attr zero_of(DType dtype) {
    if (dtype == DType::Bool) return false;
    if (ir::is_float(dtype)) return 0.0;
    return int64_t{0};
  }

  Batched elementwise(const Node& node, std::span<const Batched> in);
  Batched broadcast(const Node& node, const Batched& x);
  Batched pad(const Node& node, const Batched& x, const Batched& value);
  Batched concatenate(const Node& node, std::span<const Batched> in);
  Batched reduce(const Node& node, const Batched& x);
  Batched arg_reduce(const Node& node, const Batched& x);
  Batched dot_general(const Node& node, const Batched& lhs, const Batched& rhs);
  Batched take(const Node& node, const Batched& x, const Batched& indices);
  Batched scatter_add(const Node& node, const Batched& x, const Batched& indices,
                      const Batched& updates);
  Value merge_batch_into_axis(const Batched& x, int axis);
  Value offset_indices(const Batched& indices, int64_t axis_size);

  Function& out_;
  int64_t batch_;
};

Value Batcher::materialize(const Batched& x, int at) {
  const TensorType t = type(x.value);
  if (!x.bdim) {
    std::vector<int64_t> dims;
    for (int i = 0; i < t.rank(); ++i)
      dims.push_back(i < at ? i : i + 1);
    return add(OpKind::Broadcast, {x.value},
               make_attrs(ir::BroadcastAttrs{with_dim(t.shape, at, batch_), dims}));
  }
  if (*x.bdim == at) return x.value;
  std::vector<int64_t> perm;
  for (int i = 0; i < t.rank(); ++i)
    if (i != *x.bdim) perm.push_back(i);
  perm.insert(perm.begin() + at, *x.bdim);
  return add(OpKind::Transpose, {x.value}, make_attrs(ir::TransposeAttrs{perm}));
}

Batched Batcher::batch(const Node& node, std::span<const Batched> in) {
  switch (node.op) {
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Iota:
      // No operands, so never batched: the caller copies them.
      assert(false && "an op without operands is never batched");
      return {};
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
    case OpKind::Not:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Pow:
    case OpKind::Atan2:
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
    case OpKind::Select:
    case OpKind::IsFinite:
    case OpKind::Convert:
    case OpKind::BitcastConvert:
    case OpKind::StopGradient:
      return elementwise(node, in);
    case OpKind::RngBits: {
      // One key per batch index: rng_bits takes a leading batch of keys itself, each row's
      // bits counting from 0, so element for element what a loop over the batch gives.
      TensorType result{node.type.dtype, with_dim(node.type.shape, 0, batch_)};
      return {add(OpKind::RngBits, {materialize(in[0], 0)}, node.attrs, result), 0};
    }
    case OpKind::Broadcast:
      return broadcast(node, in[0]);
    case OpKind::Reshape: {
      // Row-major order with the batch outermost keeps each element's block contiguous.
      Shape shape = with_dim(ir::reshape_attrs(node).shape, 0, batch_);
      return {add(OpKind::Reshape, {materialize(in[0], 0)}, make_attrs(ir::ReshapeAttrs{shape})),
              0};
    }
    case OpKind::Transpose: {
      // The batch goes first, folded into the one transpose.
      const int b = *in[0].bdim;
      std::vector<int64_t> perm = with_entry(shifted(ir::transpose_attrs(node).perm, b), 0, b);
      return {add(OpKind::Transpose, {in[0].value}, make_attrs(ir::TransposeAttrs{perm})), 0};
    }
    case OpKind::Slice: {
      const int b = *in[0].bdim;
      const ir::SliceAttrs unbatched = ir::slice_attrs(node);
      const ir::SliceAttrs batched{with_entry(unbatched.start, b, 0),
                                   with_entry(unbatched.limit, b, batch_),
                                   with_entry(unbatched.stride, b, 1)};
      return {add(OpKind::Slice, {in[0].value}, make_attrs(batched)), b};
    }
    case OpKind::Pad:
      return pad(node, in[0], in[1]);
    case OpKind::Concatenate:
      return concatenate(node, in);
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
      return reduce(node, in[0]);
    case OpKind::Argmax:
    case OpKind::Argmin:
      return arg_reduce(node, in[0]);
    case OpKind::DotGeneral:
      return dot_general(node, in[0], in[1]);
    case OpKind::Take:
      return take(node, in[0], in[1]);
    case OpKind::ScatterAdd:
      return scatter_add(node, in[0], in[1], in[2]);
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
      return {add(node.op, {materialize(in[0], 0)},
                  make_attrs(
                      ir::ScanAttrs{ir::scan_attrs(node).axis + 1, ir::scan_attrs(node).reverse})),
              0};
    case OpKind::TakeAlongAxis:
    case OpKind::ScatterAlongAxis: {
      // Every operand batched at 0 (an unbatched one broadcast): the indices keep the
      // operand's rank, and the op works one axis further in.
      std::vector<Value> operands;
      for (const Batched& x : in)
        operands.push_back(materialize(x, 0));
      ir::Attrs attrs = node.attrs;
      if (node.op == OpKind::TakeAlongAxis) {
        attrs = make_attrs(ir::AlongAxisAttrs{ir::along_axis_attrs(node).axis + 1});
      } else {
        ir::ScatterAlongAxisAttrs a = ir::scatter_along_axis_attrs(node);
        ++a.axis;
        attrs = make_attrs(a);
      }
      return {add(node.op, std::move(operands), attrs), 0};
    }
    case OpKind::Call:
      fail("call @" + ir::call_attrs(node).callee +
           ": inline calls before batching (a call on batched values has no batching rule)");
  }
  assert(false && "every op returns above");
  return {};
}

std::pair<std::vector<Value>, int> Batcher::meet(std::span<const Batched> in) {
  int at = 0;
  for (const Batched& x : in)
    if (x.bdim) {
      at = *x.bdim;
      break;
    }
  std::vector<Value> operands;
  for (const Batched& x : in)
    operands.push_back(materialize(x, at));
  return {std::move(operands), at};
}

Batched Batcher::elementwise(const Node& node, std::span<const Batched> in) {
  auto [operands, at] = meet(in);
  TensorType result{node.type.dtype, with_dim(node.type.shape, at, batch_)};
  return {add(node.op, std::move(operands), node.attrs, result), at};
}

// The batch axis goes right after the result dimension that the operand dimension before it
// maps to, so the operand keeps its layout and `dims` stays increasing.
Batched Batcher::broadcast(const Node& node, const Batched& x) {
  const int b = *x.bdim;
  const ir::BroadcastAttrs unbatched = ir::broadcast_attrs(node);
  const std::vector<int64_t>& dims = unbatched.dims;
  const int at = b == 0 ? 0 : static_cast<int>(dims[b - 1]) + 1;
  const ir::BroadcastAttrs batched{with_dim(unbatched.shape, at, batch_),
                                   with_entry(shifted(dims, at), b, at)};
  return {add(OpKind::Broadcast, {x.value}, make_attrs(batched)), at};
}

// A batched padding value cannot be pad's scalar operand. The operand is padded with zero
// and a select puts each batch element's own padding value where an unbatched mask (the same
// pad applied to `true` with `false` padding) says the result is padding; select copies
// values bit for bit, so the result equals the per-element pad exactly.
Batched Batcher::pad(const Node& node, const Batched& x, const Batched& value) {
  auto padded = [&](const Batched& operand, Value fill) -> Batched {
    if (!operand.bdim) return {add(OpKind::Pad, {operand.value, fill}, node.attrs), std::nullopt};
    const int b = *operand.bdim;
    const ir::PadAttrs unbatched = ir::pad_attrs(node);
    const ir::PadAttrs batched{with_entry(unbatched.low, b, 0), with_entry(unbatched.high, b, 0),
                               with_entry(unbatched.interior, b, 0)};
    return {add(OpKind::Pad, {operand.value, fill}, make_attrs(batched)), b};
  };
  if (!value.bdim) return padded(x, value.value);
  const DType dtype = node.type.dtype;
  const Batched body = padded(x, scalar(dtype, zero_of(dtype)));
  const int at = body.bdim.value_or(0);
  Shape operand_shape = type(x.value).shape;
  if (x.bdim) operand_shape.erase(operand_shape.begin() + *x.bdim);
  const Batched mask{
      add(OpKind::Pad, {splat(DType::Bool, operand_shape, true), scalar(DType::Bool, false)},
          node.attrs),
      std::nullopt};
  const Shape shape = with_dim(node.type.shape, at, batch_);
  const Value fill =
      add(OpKind::Broadcast, {value.value}, make_attrs(ir::BroadcastAttrs{shape, {at}}));
  return {add(OpKind::Select, {materialize(mask, at), materialize(body, at), fill}), at};
}

Batched Batcher::concatenate(const Node& node, std::span<const Batched> in) {
  auto [operands, at] = meet(in);
  const int64_t axis = shifted(ir::concatenate_attrs(node).axis, at);
  return {add(OpKind::Concatenate, std::move(operands), make_attrs(ir::ConcatenateAttrs{axis})),
          at};
}

Batched Batcher::reduce(const Node& node, const Batched& x) {
  const int b = *x.bdim;
  const std::vector<int64_t> axes = ir::reduce_attrs(node).axes;
  const auto before = std::count_if(axes.begin(), axes.end(), [&](int64_t a) { return a < b; });
  return {add(node.op, {x.value}, make_attrs(ir::ReduceAttrs{shifted(axes, b)})),
          b - static_cast<int>(before)};
}

Batched Batcher::arg_reduce(const Node& node, const Batched& x) {
  const int b = *x.bdim;
  const int64_t axis = ir::arg_reduce_attrs(node).axis;
  return {add(node.op, {x.value}, make_attrs(ir::ArgReduceAttrs{shifted(axis, b)})),
          axis < b ? b - 1 : b};
}

// Both batched: the batch axis joins lhs_batch/rhs_batch in front, so the result has it at 0.
// One batched: it is a free dimension of that side and lands among the result's free
// dimensions, in order (result dims: batch, lhs free, rhs free); no loop, no transpose.
Batched Batcher::dot_general(const Node& node, const Batched& lhs, const Batched& rhs) {
  ir::DotGeneralAttrs dims = ir::dot_general_attrs(node);
  std::vector<int64_t>&lb = dims.lhs_batch, &rb = dims.rhs_batch;
  std::vector<int64_t>&lc = dims.lhs_contract, &rc = dims.rhs_contract;
  if (lhs.bdim) lb = shifted(lb, *lhs.bdim), lc = shifted(lc, *lhs.bdim);
  if (rhs.bdim) rb = shifted(rb, *rhs.bdim), rc = shifted(rc, *rhs.bdim);
  // Where the batch axis sits among one side's free dimensions.
  auto free_position = [](int rank, const std::vector<int64_t>& bs, const std::vector<int64_t>& cs,
                          int dim) {
    int position = 0, count = 0;
    for (int i = 0; i < rank; ++i) {
      if (std::find(bs.begin(), bs.end(), i) != bs.end()) continue;
      if (std::find(cs.begin(), cs.end(), i) != cs.end()) continue;
      if (i == dim) position = count;
      ++count;
    }
    return std::pair{position, count};
  };
  int at = 0;
  if (lhs.bdim && rhs.bdim) {
    lb.insert(lb.begin(), *lhs.bdim);
    rb.insert(rb.begin(), *rhs.bdim);
  } else if (lhs.bdim) {
    at = static_cast<int>(lb.size()) + free_position(rank(lhs.value), lb, lc, *lhs.bdim).first;
  } else {
    const int lhs_free = free_position(rank(lhs.value), lb, lc, -1).second;
    at = static_cast<int>(lb.size()) + lhs_free +
         free_position(rank(rhs.value), rb, rc, *rhs.bdim).first;
  }
  return {add(OpKind::DotGeneral, {lhs.value, rhs.value}, make_attrs(std::move(dims))), at};
}

// take and scatter_add with batched indices: batch element b must read (or write) its own
// slice of x. The batch axis of x moves right before the indexed axis (size N) and merges
// with it, [.., B, N, ..] -> [.., B*N, ..], and each index becomes b*N + clamp(i, 0, N-1)
// (iota along the indices' batch axis gives b). One take (or scatter_add) on the merged axis
// then does every batch element at once; clamping first keeps the interpreter's clamping
// semantics, which the merged axis would otherwise change.
Value Batcher::merge_batch_into_axis(const Batched& x, int axis) {
  const Value moved = materialize(x, axis);
  Shape shape = type(moved).shape;
  // Shapes with a zero dimension are not checked for element counts past int64.
  if (__builtin_mul_overflow(shape[axis], shape[axis + 1], &shape[axis]))
    fail("take/scatter_add with batched indices: " + std::to_string(shape[axis + 1]) +
         " rows batched " + std::to_string(batch_) + " times are too many to index");
  shape.erase(shape.begin() + axis + 1);
  return add(OpKind::Reshape, {moved}, make_attrs(ir::ReshapeAttrs{shape}));
}

Value Batcher::offset_indices(const Batched& indices, int64_t axis_size) {
  const TensorType t = type(indices.value);
  // The widest index is B*N - 1 (merge_batch_into_axis checked that it fits int64); a signed
  // dtype that holds it keeps the indices' dtype.
  const int64_t last = batch_ * axis_size - 1;
  const bool fits = (t.dtype == DType::I8 && last <= INT8_MAX) ||
                    (t.dtype == DType::I16 && last <= INT16_MAX) ||
                    (t.dtype == DType::I32 && last <= INT32_MAX) || t.dtype == DType::I64;
  const DType dtype = fits ? t.dtype : DType::I64;
  Value v = indices.value;
  if (dtype != t.dtype) v = add(OpKind::Convert, {v}, {}, TensorType{dtype, t.shape});
  v = add(OpKind::Max, {v, splat(dtype, t.shape, int64_t{0})});
  v = add(OpKind::Min, {v, splat(dtype, t.shape, axis_size - 1)});
  const Value b =
      add(OpKind::Iota, {}, make_attrs(ir::IotaAttrs{*indices.bdim}), TensorType{dtype, t.shape});
  return add(OpKind::Add, {v, add(OpKind::Mul, {b, splat(dtype, t.shape, axis_size)})});
}

Batched Batcher::take(const Node& node, const Batched& x, const Batched& indices) {
  const int64_t axis = ir::take_attrs(node).axis;
  const int index_rank = rank(indices.value) - (indices.bdim ? 1 : 0);
  if (!indices.bdim) {
    const int b = *x.bdim;
    const int64_t new_axis = shifted(axis, b);
    const int at = b < new_axis ? b : b + index_rank - 1;
    return {add(OpKind::Take, {x.value, indices.value}, make_attrs(ir::TakeAttrs{new_axis})), at};
  }
  const int at = static_cast<int>(axis) + *indices.bdim;
  if (!x.bdim) return {add(OpKind::Take, {x.value, indices.value}, node.attrs), at};
  const int64_t size = type(x.value).shape[shifted(axis, *x.bdim)];
  const Value merged = merge_batch_into_axis(x, static_cast<int>(axis));
  return {add(OpKind::Take, {merged, offset_indices(indices, size)}, node.attrs), at};
}

// With unbatched indices the op keeps its form on a batched x (x and updates broadcast where
// unbatched, so every batch element adds its updates to x in the same order as alone); with
// batched indices, see merge_batch_into_axis.
Batched Batcher::scatter_add(const Node& node, const Batched& x, const Batched& indices,
                             const Batched& updates) {
  const int64_t axis = ir::scatter_add_attrs(node).axis;
  const int index_rank = rank(indices.value) - (indices.bdim ? 1 : 0);
  if (!indices.bdim) {
    // Keep x's batch axis, or else the one the updates already have where x can match it.
    int b = 0;
    if (x.bdim) {
      b = *x.bdim;
    } else if (*updates.bdim <= axis) {
      b = *updates.bdim;
    } else if (*updates.bdim >= axis + index_rank) {
      b = *updates.bdim - index_rank + 1;
    }
    const int64_t new_axis = shifted(axis, b);
    const int at = b < new_axis ? b : b + index_rank - 1;
    return {add(OpKind::ScatterAdd, {materialize(x, b), indices.value, materialize(updates, at)},
                make_attrs(ir::ScatterAddAttrs{new_axis})),
            b};
  }
  const int a = static_cast<int>(axis);
  const Shape& x_shape = node.type.shape;
  const Value merged = merge_batch_into_axis(x, a);
  const Value summed =
      add(OpKind::ScatterAdd,
          {merged, offset_indices(indices, x_shape[a]), materialize(updates, a + *indices.bdim)},
          node.attrs);
  Shape shape = with_dim(x_shape, a, batch_);
  return {add(OpKind::Reshape, {summed}, make_attrs(ir::ReshapeAttrs{shape})), a};
}

// An axis for a value of `rank` (batch axis included): negative counts from the end.
std::optional<int> normalize_axis(int axis, int rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

std::string range_text(int rank) {
  return "[" + std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]";
}

}  // namespace

Function vmap(const Function& f, std::span<const std::optional<int>> in_axes,
              std::span<const int> out_axes, std::optional<int64_t> batch_size) {
  const std::string where = "@" + f.name() + ": ";
  const size_t num_params = f.params().size(), num_results = f.results().size();
  if (in_axes.size() != num_params)
    fail(where + "in_axes has " + std::to_string(in_axes.size()) +
         " entries but the function has " + std::to_string(num_params) + " parameters");
  if (out_axes.size() != num_results && out_axes.size() != 1)
    fail(where + "out_axes has " + std::to_string(out_axes.size()) +
         " entries but the function has " + std::to_string(num_results) +
         " results (give one per result, or one for all)");
  if (!batch_size)
    fail(where +
         "batch_size is required: the parameter types carry no batch axis "
         "(unbatched_signature reads it from argument types)");
  if (*batch_size <= 0)
    fail(where + "batch_size must be positive, got " + std::to_string(*batch_size));
  const int64_t batch = *batch_size;

  Function out(f.name() + "_vmap");
  std::vector<Batched> map(f.num_nodes());
  for (size_t i = 0; i < num_params; ++i) {
    const Value p = f.params()[i];
    const Node& node = f.node(p);
    TensorType t = node.type;
    std::optional<int> bdim;
    if (in_axes[i]) {
      bdim = normalize_axis(*in_axes[i], t.rank() + 1);
      if (!bdim)
        fail(where + "in_axes[" + std::to_string(i) + "] = " + std::to_string(*in_axes[i]) +
             " is out of range for parameter %" + node.param_name + " of type " + t.str() +
             " (batched rank " + std::to_string(t.rank() + 1) + ": axes " +
             range_text(t.rank() + 1) + ")");
      t.shape = with_dim(t.shape, *bdim, batch);
    }
    map[p.id] = {out.add_param(node.param_name, t), bdim};
  }

  Batcher batcher(out, batch);
  std::vector<Batched> params;
  for (Value p : f.params())
    params.push_back(map[p.id]);
  std::vector<Value> operands;
  map = ir::map_values(
      f, std::move(params), live_nodes(f), [&](const Node& node, std::span<const Batched> in) {
        const bool batched =
            std::any_of(in.begin(), in.end(), [](const Batched& x) { return x.bdim; });
        if (batched) return batcher.batch(node, in);
        operands.clear();
        for (const Batched& x : in)
          operands.push_back(x.value);
        return Batched{copy_node(node, operands, out), std::nullopt};
      });

  std::vector<Value> results;
  for (size_t j = 0; j < num_results; ++j) {
    const Value r = f.results()[j];
    const int axis = out_axes.size() == 1 ? out_axes[0] : out_axes[j];
    const int batched_rank = f.type(r).rank() + 1;
    const std::optional<int> at = normalize_axis(axis, batched_rank);
    if (!at)
      fail(where + "out_axes" + (out_axes.size() == 1 ? "" : "[" + std::to_string(j) + "]") +
           " = " + std::to_string(axis) + " is out of range for result " + std::to_string(j) +
           " of type " + f.type(r).str() + " (batched rank " + std::to_string(batched_rank) +
           ": axes " + range_text(batched_rank) + ")");
    results.push_back(batcher.materialize(map[r.id], *at));
  }
  out.set_results(std::move(results));
  // Rules may leave helper values unused (a transposed operand that a later rule bypassed).
  return rewrite(out);
}

UnbatchedSignature unbatched_signature(std::span<const ir::TensorType> arg_types,
                                       std::span<const std::optional<int>> in_axes,
                                       std::optional<int64_t> batch_size) {
  if (in_axes.size() != arg_types.size())
    fail("in_axes has " + std::to_string(in_axes.size()) + " entries but there are " +
         std::to_string(arg_types.size()) + " arguments");
  if (batch_size && *batch_size <= 0)
    fail("batch_size must be positive, got " + std::to_string(*batch_size));
  UnbatchedSignature signature;
  std::optional<size_t> sized_by;  // the first batched argument
  for (size_t i = 0; i < arg_types.size(); ++i) {
    TensorType t = arg_types[i];
    if (in_axes[i]) {
      const std::optional<int> axis = normalize_axis(*in_axes[i], t.rank());
      if (!axis)
        fail("in_axes[" + std::to_string(i) + "] = " + std::to_string(*in_axes[i]) +
             " is out of range for argument " + std::to_string(i) + " of type " + t.str() +
             " (axes " + (t.rank() ? range_text(t.rank()) : std::string("none: a scalar")) + ")");
      const int64_t size = t.shape[*axis];
      if (size <= 0)
        fail("argument " + std::to_string(i) + " of type " + t.str() + " has batch size " +
             std::to_string(size) + " at axis " + std::to_string(*axis) +
             "; the batch size must be positive");
      if (batch_size && size != *batch_size)
        fail("argument " + std::to_string(i) + " of type " + t.str() + " has batch size " +
             std::to_string(size) + " at axis " + std::to_string(*axis) + " but batch_size is " +
             std::to_string(*batch_size));
      if (sized_by && size != signature.batch_size)
        fail("batch sizes disagree: argument " + std::to_string(*sized_by) + " has " +
             std::to_string(signature.batch_size) + " but argument " + std::to_string(i) +
             " of type " + t.str() + " has " + std::to_string(size) + " at axis " +
             std::to_string(*axis));
      if (!sized_by) sized_by = i, signature.batch_size = size;
      t.shape.erase(t.shape.begin() + *axis);
    }
    signature.param_types.push_back(std::move(t));
  }
  if (!sized_by) {
    if (!batch_size) fail("no argument is batched and no batch_size is given");
    signature.batch_size = *batch_size;
  }
  return signature;
}

}  // namespace kiln::passes
