// Forward mode: one JVP rule per op. The tangent of every value is symbolic (nullopt = zero)
// while the graph is built, so derivative-free ops cost nothing; only a float result whose
// tangent is zero gets a zero tensor. Every tangent op is linear in its tangent operands and
// is one of the ops autodiff_transpose.cpp can transpose, with primal values (or constants) in
// the other operands: that is what makes reverse mode a transpose of this graph.

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>
#include <set>
#include <string>

#include "ir/error.h"
#include "passes/autodiff.h"
#include "passes/autodiff_internal.h"
#include "passes/inline.h"
#include "passes/rewriter.h"

namespace kiln::passes {

namespace detail {

using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::TensorType;
using ir::Value;

std::vector<int> resolve_wrt(const Function& f, std::span<const int> wrt,
                             std::string_view component) {
  const std::string prefix = "[" + std::string(component) + "] @" + f.name() + ": ";
  const int n = static_cast<int>(f.params().size());
  std::vector<int> picked;
  if (wrt.empty()) {
    for (int i = 0; i < n; ++i)
      if (ir::is_float(f.type(f.params()[i]).dtype)) picked.push_back(i);
    return picked;
  }
  for (int i : wrt) {
    if (i < 0 || i >= n)
      throw Error(prefix + "wrt index " + std::to_string(i) +
                  " is out of range (the function has " + std::to_string(n) + " parameter" +
                  (n == 1 ? "" : "s") + ")");
    if (std::find(picked.begin(), picked.end(), i) != picked.end())
      throw Error(prefix + "wrt lists parameter " + std::to_string(i) + " twice");
    const ir::Node& p = f.node(f.params()[i]);
    if (!ir::is_float(p.type.dtype))
      throw Error(prefix + "parameter " + std::to_string(i) + " (%" + p.param_name + ": " +
                  p.type.str() + ") is not a float; only float parameters can be differentiated");
    picked.push_back(i);
  }
  return picked;
}

std::string unique_param_name(const Function& f, std::string name) {
  while (f.find_param(name))
    name += "_";
  return name;
}

Value GraphBuilder::splat(TensorType type, double value) {
  Value scalar =
      op(OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{value}), TensorType{type.dtype, {}});
  if (type.rank() == 0) return scalar;
  return broadcast(scalar, type.shape, {});
}

Value GraphBuilder::reduce_sum(Value a, const std::vector<int64_t>& axes) {
  if (axes.empty()) return a;
  return op(OpKind::ReduceSum, {a}, make_attrs(ir::ReduceAttrs{axes}));
}

Value GraphBuilder::reduce_all(Value a) {
  std::vector<int64_t> axes(type(a).rank());
  for (size_t i = 0; i < axes.size(); ++i)
    axes[i] = static_cast<int64_t>(i);
  return reduce_sum(a, axes);
}

Value GraphBuilder::broadcast(Value a, const ir::Shape& shape, const std::vector<int64_t>& dims) {
  if (type(a).shape == shape) return a;
  return op(OpKind::Broadcast, {a}, make_attrs(ir::BroadcastAttrs{shape, dims}));
}

Value GraphBuilder::reshape(Value a, const ir::Shape& shape) {
  if (type(a).shape == shape) return a;
  return op(OpKind::Reshape, {a}, make_attrs(ir::ReshapeAttrs{shape}));
}

Value GraphBuilder::transpose(Value a, const std::vector<int64_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity) return a;
  return op(OpKind::Transpose, {a}, make_attrs(ir::TransposeAttrs{perm}));
}

MaybeValue GraphBuilder::add(MaybeValue a, MaybeValue b) {
  if (!a) return b;
  if (!b) return a;
  return add(*a, *b);
}

namespace {

// The operands and result of one node in the jvp function, and its operands' tangents.
struct Site {
  const Node& node;
  std::span<const Value> x;       // primal operands
  std::span<const MaybeValue> t;  // their tangents
  Value y;                        // primal result
};

// t * factor, with the tangent first so that equal terms hash-cons into one value.
MaybeValue scale(GraphBuilder& e, MaybeValue t, Value factor) {
  if (!t) return std::nullopt;
  return e.mul(*t, factor);
}

// The tangent itself, or zeros of the primal's type where the tangent is symbolic zero: for
// ops (select, pad, concatenate, scatter_add) whose other operands carry tangents.
Value or_zeros(GraphBuilder& e, MaybeValue t, Value primal) {
  return t ? *t : e.zeros(e.type(primal));
}

bool any(std::span<const MaybeValue> t) {
  return std::any_of(t.begin(), t.end(), [](const MaybeValue& v) { return v.has_value(); });
}

// Re-emits the node's op (same attributes) on tangents: for ops linear in every operand.
Value same_op(GraphBuilder& e, const Site& s, std::vector<Value> operands) {
  return e.op(s.node.op, std::move(operands), s.node.attrs, s.node.type);
}

// (1 - x)(1 + x) = 1 - x^2, without the cancellation near |x| = 1.
Value one_minus_square(GraphBuilder& e, Value x) {
  const Value one = e.splat_like(x, 1.0);
  return e.mul(e.sub(one, x), e.add(one, x));
}

// psi'(x), the derivative of digamma, as a graph (JAX's polygamma(1, x)): the reflection
// psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x) below 1/2 (sin of the exact remainder of x), the
// recurrence psi'(x) = psi'(x + 1) + 1 / x^2 eight times, then the asymptotic series
// 1/w + 1/(2w^2) + sum of B_2k / w^(2k+1) to k = 5 at w >= 8.5 (about 1e-12 relative).
Value trigamma(GraphBuilder& e, Value x) {
  auto c = [&](double v) { return e.splat_like(x, v); };
  const Value reflect = e.op(OpKind::Lt, {x, c(0.5)});
  const Value z = e.select(reflect, e.sub(c(1.0), x), x);
  Value sum = e.zeros(e.type(x));
  for (int i = 0; i < 8; ++i) {
    const Value zi = e.add(z, c(i));
    sum = e.add(sum, e.div(c(1.0), e.mul(zi, zi)));
  }
  const Value w = e.add(z, c(8.0));
  const Value v = e.div(c(1.0), w), v2 = e.mul(v, v);
  // 1 + v/2 + v^2 (1/6 - v^2 (1/30 - v^2 (1/42 - v^2 (1/30 - v^2 * 5/66))))
  Value series = e.mul(v2, c(5.0 / 66));
  for (double k : {1.0 / 30, 1.0 / 42, 1.0 / 30})
    series = e.mul(v2, e.sub(c(k), series));
  series = e.mul(v2, e.sub(c(1.0 / 6), series));
  series = e.add(e.add(c(1.0), e.mul(v, c(0.5))), series);
  const Value positive = e.add(sum, e.mul(v, series));
  const Value r = e.sub(x, e.op(OpKind::Round, {x}));
  const Value sin_pi_r = e.op(OpKind::Sin, {e.mul(r, c(std::numbers::pi))});
  const Value reflected =
      e.sub(e.div(c(std::numbers::pi * std::numbers::pi), e.mul(sin_pi_r, sin_pi_r)), positive);
  return e.select(reflect, reflected, positive);
}

MaybeValue unary_rule(GraphBuilder& e, const Site& s) {
  const Value x = s.x[0], y = s.y;
  const MaybeValue t = s.t[0];
  if (!t) return std::nullopt;
  switch (s.node.op) {
    case OpKind::Exp:
      return e.mul(*t, y);
    case OpKind::Log:
      return e.div(*t, x);
    case OpKind::Log1p:
      return e.div(*t, e.add(x, e.splat_like(x, 1.0)));
    case OpKind::Expm1:
      return e.mul(*t, e.add(y, e.splat_like(y, 1.0)));
    case OpKind::Sqrt:  // 1 / (2 sqrt x)
      return e.div(*t, e.add(y, y));
    case OpKind::Rsqrt:  // -x^(-3/2) / 2 = -y / (2x)
      return e.mul(*t, e.div(y, e.mul(x, e.splat_like(x, -2.0))));
    case OpKind::Sin:
      return e.mul(*t, e.op(OpKind::Cos, {x}));
    case OpKind::Cos:
      return e.mul(*t, e.neg(e.op(OpKind::Sin, {x})));
    case OpKind::Tanh:
      return e.mul(*t, e.sub(e.splat_like(y, 1.0), e.mul(y, y)));
    case OpKind::Logistic:
      return e.mul(*t, e.mul(y, e.sub(e.splat_like(y, 1.0), y)));
    case OpKind::Erf:  // 2/sqrt(pi) exp(-x^2)
      return e.mul(*t, e.mul(e.splat_like(x, 2.0 * std::numbers::inv_sqrtpi),
                             e.op(OpKind::Exp, {e.neg(e.mul(x, x))})));
    case OpKind::Tan:  // 1 + tan^2
      return e.mul(*t, e.add(e.splat_like(y, 1.0), e.mul(y, y)));
    case OpKind::Asin:
      return e.mul(*t, e.op(OpKind::Rsqrt, {one_minus_square(e, x)}));
    case OpKind::Acos:
      return e.neg(e.mul(*t, e.op(OpKind::Rsqrt, {one_minus_square(e, x)})));
    case OpKind::Atan:
      return e.div(*t, e.add(e.splat_like(x, 1.0), e.mul(x, x)));
    case OpKind::Sinh:
      return e.mul(*t, e.op(OpKind::Cosh, {x}));
    case OpKind::Cosh:
      return e.mul(*t, e.op(OpKind::Sinh, {x}));
    case OpKind::Asinh:
      return e.mul(*t, e.op(OpKind::Rsqrt, {e.add(e.mul(x, x), e.splat_like(x, 1.0))}));
    case OpKind::Acosh: {  // 1 / (sqrt(x - 1) sqrt(x + 1))
      const Value one = e.splat_like(x, 1.0);
      return e.mul(
          *t, e.mul(e.op(OpKind::Rsqrt, {e.sub(x, one)}), e.op(OpKind::Rsqrt, {e.add(x, one)})));
    }
    case OpKind::Atanh:
      return e.div(*t, one_minus_square(e, x));
    case OpKind::ErfInv:  // sqrt(pi)/2 exp(y^2)
      return e.mul(*t, e.mul(e.splat_like(y, std::sqrt(std::numbers::pi) / 2),
                             e.op(OpKind::Exp, {e.mul(y, y)})));
    case OpKind::Lgamma:
      return e.mul(*t, e.op(OpKind::Digamma, {x}));
    case OpKind::Digamma:
      return e.mul(*t, trigamma(e, x));
    case OpKind::Abs:
      return e.mul(*t, e.op(OpKind::Sign, {x}));
    case OpKind::Neg:
      return e.neg(*t);
    default:
      break;
  }
  assert(false && "unary_rule called for an op without a unary rule");
  return std::nullopt;
}

MaybeValue mul_rule(GraphBuilder& e, const Site& s) {
  return e.add(scale(e, s.t[0], s.x[1]), scale(e, s.t[1], s.x[0]));
}

MaybeValue div_rule(GraphBuilder& e, const Site& s) {
  // d(a/b) = ta / b - tb * (y / b)
  MaybeValue da = s.t[0] ? MaybeValue(e.div(*s.t[0], s.x[1])) : std::nullopt;
  if (!s.t[1]) return da;
  Value db = e.mul(*s.t[1], e.div(s.y, s.x[1]));
  return da ? e.sub(*da, db) : e.neg(db);
}

MaybeValue rem_rule(GraphBuilder& e, const Site& s) {
  // Float rem is fmod: a - b * trunc(a / b), and trunc(a / b) = (a - y) / b away from the
  // jumps, where it is locally constant.
  MaybeValue da = s.t[0];
  if (!s.t[1]) return da;
  Value db = e.mul(*s.t[1], e.div(e.sub(s.x[0], s.y), s.x[1]));
  return da ? e.sub(*da, db) : e.neg(db);
}

// atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
MaybeValue atan2_rule(GraphBuilder& e, const Site& s) {
  if (!any(s.t)) return std::nullopt;
  const Value a = s.x[0], b = s.x[1];
  const Value norm = e.add(e.mul(a, a), e.mul(b, b));
  MaybeValue da, db;
  if (s.t[0]) da = e.mul(*s.t[0], e.div(b, norm));
  if (s.t[1]) db = e.mul(*s.t[1], e.neg(e.div(a, norm)));
  return e.add(da, db);
}

MaybeValue pow_rule(GraphBuilder& e, const Site& s) {
  // As JAX: d/da = b a^(b-1), taken as 0 where b == 0 (so 0^0 has no NaN derivative);
  // d/db = y log(a), with log(a) replaced by log(1) where a == 0.
  const Value a = s.x[0], b = s.x[1];
  MaybeValue da, db;
  if (s.t[0]) {
    Value zero = e.zeros(e.type(b));
    Value b_is_zero = e.op(OpKind::Eq, {b, zero});
    Value d = e.mul(b, e.op(OpKind::Pow, {a, e.sub(b, e.splat_like(b, 1.0))}));
    da = e.mul(*s.t[0], e.select(b_is_zero, zero, d));
  }
  if (s.t[1]) {
    Value a_is_zero = e.op(OpKind::Eq, {a, e.zeros(e.type(a))});
    Value safe_a = e.select(a_is_zero, e.splat_like(a, 1.0), a);
    db = e.mul(*s.t[1], e.mul(s.y, e.op(OpKind::Log, {safe_a})));
  }
  return e.add(da, db);
}

// max/min: the tangent of the side picked; on ties, the first operand (max's a >= b).
MaybeValue extremum_rule(GraphBuilder& e, const Site& s) {
  if (!any(s.t)) return std::nullopt;
  OpKind compare = s.node.op == OpKind::Max ? OpKind::Ge : OpKind::Le;
  Value pick_a = e.op(compare, {s.x[0], s.x[1]});
  return e.select(pick_a, or_zeros(e, s.t[0], s.x[0]), or_zeros(e, s.t[1], s.x[1]));
}

MaybeValue select_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[1] && !s.t[2]) return std::nullopt;
  return e.select(s.x[0], or_zeros(e, s.t[1], s.x[1]), or_zeros(e, s.t[2], s.x[2]));
}

MaybeValue convert_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[0] || !ir::is_float(s.node.type.dtype)) return std::nullopt;
  return e.convert(*s.t[0], s.node.type.dtype);
}

// The kept dimensions of a reduction's operand, in order: where the result's dims come from.
std::vector<int64_t> kept_dims(int rank, const std::vector<int64_t>& axes) {
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < rank; ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) kept.push_back(i);
  return kept;
}

// reduce_max/min, as JAX: the tangents at the positions equal to the extremum, averaged.
MaybeValue reduce_extremum_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[0]) return std::nullopt;
  const TensorType xt = e.type(s.x[0]);  // a copy: emitting may move the nodes
  const std::vector<int64_t> axes = ir::reduce_attrs(s.node).axes;
  Value y_wide = e.broadcast(s.y, xt.shape, kept_dims(xt.rank(), axes));
  Value mask = e.convert(e.op(OpKind::Eq, {s.x[0], y_wide}), xt.dtype);
  Value count = e.reduce_sum(mask, axes);
  return e.div(e.reduce_sum(e.mul(*s.t[0], mask), axes), count);
}

// reduce_prod: sum of t * (y / x); right away from zeros, which is all it promises.
MaybeValue reduce_prod_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[0]) return std::nullopt;
  const TensorType xt = e.type(s.x[0]);  // a copy: emitting may move the nodes
  const std::vector<int64_t> axes = ir::reduce_attrs(s.node).axes;
  Value y_wide = e.broadcast(s.y, xt.shape, kept_dims(xt.rank(), axes));
  return e.reduce_sum(e.mul(*s.t[0], e.div(y_wide, s.x[0])), axes);
}

MaybeValue dot_rule(GraphBuilder& e, const Site& s) {
  MaybeValue da, db;
  if (s.t[0]) da = same_op(e, s, {*s.t[0], s.x[1]});
  if (s.t[1]) db = same_op(e, s, {s.x[0], *s.t[1]});
  return e.add(da, db);
}

MaybeValue pad_rule(GraphBuilder& e, const Site& s) {
  if (!any(s.t)) return std::nullopt;
  return same_op(e, s, {or_zeros(e, s.t[0], s.x[0]), or_zeros(e, s.t[1], s.x[1])});
}

MaybeValue concatenate_rule(GraphBuilder& e, const Site& s) {
  if (!any(s.t)) return std::nullopt;
  std::vector<Value> parts;
  for (size_t i = 0; i < s.x.size(); ++i)
    parts.push_back(or_zeros(e, s.t[i], s.x[i]));
  return same_op(e, s, std::move(parts));
}

Value scatter_along(GraphBuilder& e, Value x, Value idx, Value upd, int64_t axis,
                    const std::string& mode) {
  return e.op(OpKind::ScatterAlongAxis, {x, idx, upd},
              make_attrs(ir::ScatterAlongAxisAttrs{axis, mode}));
}

Value take_along(GraphBuilder& e, Value x, Value idx, int64_t axis) {
  return e.op(OpKind::TakeAlongAxis, {x, idx}, make_attrs(ir::AlongAxisAttrs{axis}));
}

// add and set are linear in (x, updates) together; mul's tangent is the product rule (the
// updates' terms as y / u, right away from zeros, as reduce_prod's); max and min pass the
// tangents of the elements equal to the result, averaged over ties (as reduce_max).
MaybeValue scatter_along_axis_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[0] && !s.t[2]) return std::nullopt;
  const ir::ScatterAlongAxisAttrs a = ir::scatter_along_axis_attrs(s.node);
  const Value x = s.x[0], idx = s.x[1], upd = s.x[2];
  if (a.mode == "add" || a.mode == "set")
    return same_op(e, s, {or_zeros(e, s.t[0], x), idx, or_zeros(e, s.t[2], upd)});
  const Value zeros = e.zeros(e.type(x));
  if (a.mode == "mul") {
    MaybeValue dx, du;
    if (s.t[0]) dx = scatter_along(e, *s.t[0], idx, upd, a.axis, "mul");
    if (s.t[2])
      du = scatter_along(e, zeros, idx, e.mul(*s.t[2], e.div(take_along(e, s.y, idx, a.axis), upd)),
                         a.axis, "add");
    return e.add(dx, du);
  }
  const ir::DType dtype = e.type(x).dtype;
  const Value x_wins = e.convert(e.op(OpKind::Eq, {x, s.y}), dtype);
  const Value u_wins = e.convert(e.op(OpKind::Eq, {upd, take_along(e, s.y, idx, a.axis)}), dtype);
  const Value count = e.add(x_wins, scatter_along(e, zeros, idx, u_wins, a.axis, "add"));
  MaybeValue sum;
  if (s.t[0]) sum = e.mul(*s.t[0], x_wins);
  if (s.t[2])
    sum = e.accumulate(sum, scatter_along(e, zeros, idx, e.mul(*s.t[2], u_wins), a.axis, "add"));
  return e.div(*sum, count);
}

// The scans: cumsum is linear; cumprod's tangent is y * cumsum(t / x), right away from zeros
// (as reduce_prod's); cummax and cummin pass the tangent of the element that holds the running
// extremum (the latest in scan order that was itself a running extremum); cumlogsumexp's is
// sum over j <= i of t_j exp(x_j - y_i), as cumsum(t exp(x - M)) exp(M - y) with M the
// axis' maximum (kept out of the tangent), so nothing overflows.
MaybeValue scan_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[0]) return std::nullopt;
  const ir::ScanAttrs a = ir::scan_attrs(s.node);
  const Value x = s.x[0], t = *s.t[0], y = s.y;
  const TensorType type = e.type(x);  // a copy: emitting may move the nodes
  auto scan = [&](OpKind op, Value v, bool reverse) {
    return e.op(op, {v}, make_attrs(ir::ScanAttrs{a.axis, reverse}));
  };
  switch (s.node.op) {
    case OpKind::CumSum:
      return scan(OpKind::CumSum, t, a.reverse);
    case OpKind::CumProd:
      return e.mul(y, scan(OpKind::CumSum, e.div(t, x), a.reverse));
    case OpKind::CumMax:
    case OpKind::CumMin: {
      const TensorType index_type{ir::DType::I32, type.shape};
      const Value iota = e.op(OpKind::Iota, {}, make_attrs(ir::IotaAttrs{a.axis}), index_type);
      const double none = a.reverse ? static_cast<double>(type.shape[a.axis]) : -1.0;
      const Value none_v =
          e.convert(e.splat(TensorType{ir::DType::F32, type.shape}, none), ir::DType::I32);
      const Value at_extremum = e.select(e.op(OpKind::Eq, {x, y}), iota, none_v);
      const Value holder =
          scan(a.reverse ? OpKind::CumMin : OpKind::CumMax, at_extremum, a.reverse);
      return e.op(OpKind::TakeAlongAxis, {t, holder}, make_attrs(ir::AlongAxisAttrs{a.axis}));
    }
    case OpKind::CumLogSumExp: {
      const std::vector<int64_t> axes{a.axis};
      const Value m = e.op(OpKind::StopGradient,
                           {e.op(OpKind::ReduceMax, {x}, make_attrs(ir::ReduceAttrs{axes}))});
      const Value finite_m = e.select(e.op(OpKind::IsFinite, {m}), m, e.zeros(e.type(m)));
      const Value wide = e.broadcast(finite_m, type.shape, kept_dims(type.rank(), axes));
      const Value sum =
          scan(OpKind::CumSum, e.mul(t, e.op(OpKind::Exp, {e.sub(x, wide)})), a.reverse);
      return e.mul(sum, e.op(OpKind::Exp, {e.sub(wide, y)}));
    }
    default:
      break;
  }
  assert(false && "scan_rule of an op that is not a scan");
  return std::nullopt;
}

MaybeValue scatter_add_rule(GraphBuilder& e, const Site& s) {
  if (!s.t[2]) return s.t[0];
  return same_op(e, s, {or_zeros(e, s.t[0], s.x[0]), s.x[1], *s.t[2]});
}

// A call kept for reverse mode (custom vjp or checkpoint) has no derivative of its own here:
// its tangent is a placeholder `call @f(x..., t...)` that only the transposer reads
// (autodiff_transpose.cpp), with the arguments' tangents after the arguments. An argument
// whose tangent is zero stands in its own tangent slot: being primal, it gets no cotangent.
MaybeValue call_placeholder(GraphBuilder& e, const Site& s) {
  if (!ir::is_float(s.node.type.dtype) || !any(s.t)) return std::nullopt;
  std::vector<Value> operands(s.x.begin(), s.x.end());
  for (size_t i = 0; i < s.x.size(); ++i)
    operands.push_back(s.t[i] ? *s.t[i] : s.x[i]);
  return same_op(e, s, std::move(operands));
}

// The tangent of one node; nullopt is zero.
MaybeValue jvp_rule(GraphBuilder& e, const Site& s, bool linearize_calls) {
  // Tangents live on float values only: integer and bool results are piecewise constant.
  if (!ir::is_float(s.node.type.dtype) && s.node.op != OpKind::Call) return std::nullopt;
  switch (s.node.op) {
    case OpKind::Parameter:
      break;
    case OpKind::Neg:
    case OpKind::Abs:
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
      return unary_rule(e, s);
    // Piecewise constant, or not differentiable by definition.
    case OpKind::Sign:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
    case OpKind::Not:
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
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::StopGradient:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::IsFinite:
    case OpKind::BitcastConvert:
    case OpKind::RngBits:
      return std::nullopt;
    case OpKind::Add:
      return e.add(s.t[0], s.t[1]);
    case OpKind::Sub:
      if (!s.t[1]) return s.t[0];
      return s.t[0] ? e.sub(*s.t[0], *s.t[1]) : e.neg(*s.t[1]);
    case OpKind::Mul:
      return mul_rule(e, s);
    case OpKind::Div:
      return div_rule(e, s);
    case OpKind::Rem:
      return rem_rule(e, s);
    case OpKind::Pow:
      return pow_rule(e, s);
    case OpKind::Atan2:
      return atan2_rule(e, s);
    case OpKind::Max:
    case OpKind::Min:
      return extremum_rule(e, s);
    case OpKind::Select:
      return select_rule(e, s);
    case OpKind::Convert:
      return convert_rule(e, s);
    // Linear in their one operand.
    case OpKind::Broadcast:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::ReduceSum:
      if (!s.t[0]) return std::nullopt;
      return same_op(e, s, {*s.t[0]});
    case OpKind::Take:
    case OpKind::TakeAlongAxis:
      if (!s.t[0]) return std::nullopt;
      return same_op(e, s, {*s.t[0], s.x[1]});
    case OpKind::ScatterAlongAxis:
      return scatter_along_axis_rule(e, s);
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
      return scan_rule(e, s);
    case OpKind::Pad:
      return pad_rule(e, s);
    case OpKind::Concatenate:
      return concatenate_rule(e, s);
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
      return reduce_extremum_rule(e, s);
    case OpKind::ReduceProd:
      return reduce_prod_rule(e, s);
    case OpKind::DotGeneral:
      return dot_rule(e, s);
    case OpKind::ScatterAdd:
      return scatter_add_rule(e, s);
    case OpKind::Call:
      if (linearize_calls) return call_placeholder(e, s);
      throw Error("[jvp] call @" + ir::call_attrs(s.node).callee +
                  ": inline calls before differentiating");
  }
  assert(false && "jvp_rule reached for a parameter");
  return std::nullopt;
}

}  // namespace

Function jvp_picked(const Function& f, const std::vector<int>& picked, std::string name,
                    bool linearize_calls) {
  Function out(std::move(name));
  GraphBuilder e(out);
  std::vector<Value> primal(f.num_nodes());
  std::vector<MaybeValue> tangent(f.num_nodes());
  for (Value p : f.params())
    primal[p.id] = out.add_param(f.node(p).param_name, f.type(p));
  for (int i : picked) {
    Value p = f.params()[i];
    tangent[p.id] = out.add_param(unique_param_name(out, "t_" + f.node(p).param_name), f.type(p));
  }
  // Each node maps to its primal value and its tangent (nullopt: symbolically zero).
  struct Dual {
    Value primal;
    MaybeValue tangent;
  };
  std::vector<Dual> params;
  for (Value p : f.params())
    params.push_back({primal[p.id], tangent[p.id]});
  std::vector<Value> operands;
  std::vector<MaybeValue> operand_tangents;
  const std::vector<Dual> map = ir::map_values(
      f, std::move(params), live_nodes(f), [&](const Node& node, std::span<const Dual> in) {
        operands.clear();
        operand_tangents.clear();
        for (const Dual& d : in) {
          operands.push_back(d.primal);
          operand_tangents.push_back(d.tangent);
        }
        Dual d{copy_node(node, operands, out), std::nullopt};
        if (any(operand_tangents) || node.op == OpKind::Call)
          d.tangent =
              jvp_rule(e, Site{node, operands, operand_tangents, d.primal}, linearize_calls);
        assert(!d.tangent || out.type(*d.tangent) == node.type);
        return d;
      });
  for (size_t i = 0; i < map.size(); ++i) {
    primal[i] = map[i].primal;
    tangent[i] = map[i].tangent;
  }
  std::vector<Value> results;
  for (Value r : f.results())
    results.push_back(primal[r.id]);
  for (Value r : f.results())
    if (ir::is_float(f.type(r).dtype))
      results.push_back(tangent[r.id] ? *tangent[r.id] : e.zeros(f.type(r)));
  out.set_results(std::move(results));
  return out;
}

}  // namespace detail

ir::Function jvp(const ir::Function& f, std::span<const int> wrt) {
  // Tangents of values that reach no result (a product only compared, say) are dropped here.
  return rewrite(detail::jvp_picked(f, detail::resolve_wrt(f, wrt, "jvp"), f.name() + "_jvp"));
}

namespace {

// A custom vjp gives reverse mode a rule and forward mode none (as JAX's custom_vjp), so a call
// that carries one anywhere `f` would run it (inside its callees too) is an error.
void reject_custom_vjps(const ir::Module& module, const ir::Function& f,
                        std::set<std::string>& seen) {
  const std::vector<bool> live = live_nodes(f);
  for (size_t i = 0; i < f.num_nodes(); ++i) {
    const ir::Node& node = f.nodes()[i];
    if (!live[i] || node.op != ir::OpKind::Call) continue;
    const ir::CallAttrs call = ir::call_attrs(node);
    const std::string& callee = call.callee;
    if (call.vjp)
      throw Error("[jvp] @" + f.name() + ": call @" + callee +
                  " has a custom vjp and forward mode has no rule for it (as in JAX's "
                  "custom_vjp); use vjp or grad");
    if (!seen.insert(callee).second) continue;
    if (const ir::Function* g = module.find(callee)) reject_custom_vjps(module, *g, seen);
  }
}

}  // namespace

ir::Module jvp(const ir::Module& module, const ir::Function& f, std::span<const int> wrt) {
  std::set<std::string> seen;
  reject_custom_vjps(module, f, seen);
  // Checkpointing only matters to reverse mode, so every call inlines.
  ir::Module out;
  out.functions.push_back(jvp(inline_calls(module, f), wrt));
  return out;
}

}  // namespace kiln::passes
