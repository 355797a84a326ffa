// Reverse mode as JAX does it: linearize (the jvp graph), then transpose its linear part.
// The jvp function's nodes split in two: those reached from a tangent parameter are linear in
// the tangents, the rest are primal. The primal nodes are copied as they are; the linear ones
// are walked backwards, each handing its cotangent to its linear operands through one
// transpose rule per op. Cotangents are symbolic zeros until a use gives them a value, and
// several uses add up.

#include <algorithm>
#include <cassert>
#include <map>
#include <set>
#include <string>

#include "ir/error.h"
#include "ir/printer.h"
#include "passes/autodiff.h"
#include "passes/autodiff_internal.h"
#include "passes/inline.h"
#include "passes/rewriter.h"

namespace kiln::passes {

namespace detail {

namespace {

using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::TensorType;
using ir::Value;

std::vector<int64_t> iota(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; ++i)
    v.push_back(i);
  return v;
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The dims of 0..rank-1 that are in neither list, in order.
std::vector<int64_t> free_dims(int rank, const std::vector<int64_t>& a,
                               const std::vector<int64_t>& b) {
  std::vector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d)
    if (!contains(a, d) && !contains(b, d)) out.push_back(d);
  return out;
}

// For the dims `from` (the contracting dims of one side) taken in increasing order, the
// matching dims of the other side (`to`, paired with `from` by position).
std::vector<int64_t> paired_in_order(const std::vector<int64_t>& from,
                                     const std::vector<int64_t>& to) {
  std::vector<size_t> order(from.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return from[x] < from[y]; });
  std::vector<int64_t> out;
  for (size_t i : order)
    out.push_back(to[i]);
  return out;
}

// The transpose that puts a value whose dim i is dim produced[i] of some operand back into
// that operand's order.
std::vector<int64_t> restoring_perm(const std::vector<int64_t>& produced) {
  std::vector<int64_t> perm(produced.size());
  for (size_t i = 0; i < produced.size(); ++i)
    perm[produced[i]] = static_cast<int64_t>(i);
  return perm;
}

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class ModuleContext;

class Transposer {
 public:
  // `module` resolves the calls that `lin` kept; without one, `lin` has none.
  Transposer(const Function& lin, Function& out, ModuleContext* module = nullptr)
      : lin_(lin), e_(out), module_(module) {}

  // Copies the primal (non-linear) nodes of `lin` into the output; `params` maps lin's
  // primal parameters, `num_tangents` trailing parameters of lin are the tangents.
  void copy_primal(std::span<const Value> params, size_t num_tangents);
  void seed(Value lin_value, Value cotangent);
  void run();
  MaybeValue cotangent(Value lin_value) const { return ct_[lin_value.id]; }
  bool is_linear(Value lin_value) const { return linear_[lin_value.id]; }
  Value primal(Value lin_value) const { return primal_[lin_value.id]; }

 private:
  void transpose(const Node& node, Value c);
  void dot_general(const Node& node, Value c);
  void pad(const Node& node, Value c);
  void scatter_along_axis(const Node& node, Value c);
  std::vector<std::vector<size_t>> call_sites() const;
  void call_site(const std::vector<size_t>& placeholders);
  Value zeros_of(const TensorType& type);

  bool lin(const Node& node, int i) const { return linear_[node.operands[i].id]; }
  // Whether every linear operand of `node` is one the op is linear in (its LinearIn traits),
  // so that a transpose rule can hand it a cotangent. A kept call's placeholder is linear in
  // its tangent slots by construction (autodiff_jvp.cpp).
  bool tangents_only_where_linear(const Node& node) const {
    if (node.op == OpKind::Call) return true;
    for (size_t k = 0; k < node.operands.size(); ++k)
      if (lin(node, static_cast<int>(k)) && !ir::is_linear_in(node.op, static_cast<int>(k)))
        return false;
    return true;
  }
  // The output value of a primal operand.
  Value p(const Node& node, int i) const {
    assert(!lin(node, i) && "a jvp rule put a tangent where the op is not linear");
    return primal_[node.operands[i].id];
  }
  const TensorType& operand_type(const Node& node, int i) const {
    return lin_.type(node.operands[i]);
  }
  void give(const Node& node, int i, Value c) {
    assert(lin(node, i));
    MaybeValue& slot = ct_[node.operands[i].id];
    slot = e_.accumulate(slot, c);
  }

  const Function& lin_;
  GraphBuilder e_;
  ModuleContext* module_;
  std::vector<bool> linear_;
  std::vector<Value> primal_;
  std::vector<MaybeValue> ct_;
};

void Transposer::copy_primal(std::span<const Value> params, size_t num_tangents) {
  const size_t n = lin_.num_nodes();
  linear_.assign(n, false);
  primal_.assign(n, Value{});
  ct_.assign(n, std::nullopt);
  const auto& lin_params = lin_.params();
  assert(lin_params.size() == params.size() + num_tangents);
  for (size_t i = 0; i < params.size(); ++i)
    primal_[lin_params[i].id] = params[i];
  for (size_t i = params.size(); i < lin_params.size(); ++i)
    linear_[lin_params[i].id] = true;
  std::vector<Value> operands;
  for (size_t i = 0; i < n; ++i) {
    const Node& node = lin_.nodes()[i];
    if (node.op == OpKind::Parameter) continue;
    linear_[i] = std::any_of(node.operands.begin(), node.operands.end(),
                             [&](Value v) { return linear_[v.id]; });
    assert(tangents_only_where_linear(node) &&
           "a jvp rule put a tangent where the op is not linear");
    if (linear_[i]) continue;
    operands.clear();
    for (Value v : node.operands)
      operands.push_back(primal_[v.id]);
    primal_[i] = copy_node(node, operands, e_.fn());
  }
}

void Transposer::seed(Value lin_value, Value cotangent) {
  if (!linear_[lin_value.id]) return;  // a zero tangent: its cotangent goes nowhere
  ct_[lin_value.id] = e_.accumulate(ct_[lin_value.id], cotangent);
}

void Transposer::run() {
  // A call site's placeholders (one per float result) go back together at the first of them,
  // when the walk has passed every use of every result.
  std::vector<const std::vector<size_t>*> site_at(lin_.num_nodes(), nullptr);
  const std::vector<std::vector<size_t>> sites = call_sites();
  for (const std::vector<size_t>& site : sites)
    site_at[site.front()] = &site;
  for (size_t i = lin_.num_nodes(); i-- > 0;) {
    const Node& node = lin_.nodes()[i];
    if (!linear_[i] || node.op == OpKind::Parameter) continue;
    if (node.op == OpKind::Call) {
      if (site_at[i]) call_site(*site_at[i]);
      continue;
    }
    if (ct_[i]) transpose(node, *ct_[i]);
  }
}

// The linear call placeholders grouped by call site (callee, arguments and attributes but the
// result index), each group in node order.
std::vector<std::vector<size_t>> Transposer::call_sites() const {
  auto site_attrs = [](const Node& node) {
    ir::CallAttrs call = ir::call_attrs(node);
    call.result = 0;
    return call;
  };
  std::vector<std::vector<size_t>> sites;
  for (size_t i = 0; i < lin_.num_nodes(); ++i) {
    const Node& node = lin_.nodes()[i];
    if (!linear_[i] || node.op != OpKind::Call) continue;
    auto same_site = [&](const std::vector<size_t>& site) {
      const Node& first = lin_.nodes()[site.front()];
      return first.operands == node.operands && site_attrs(first) == site_attrs(node);
    };
    auto it = std::find_if(sites.begin(), sites.end(), same_site);
    if (it == sites.end())
      sites.push_back({i});
    else
      it->push_back(i);
  }
  return sites;
}

Value Transposer::zeros_of(const TensorType& type) {
  if (ir::is_float(type.dtype)) return e_.zeros(type);
  ir::Attr zero = type.dtype == ir::DType::Bool ? ir::Attr(false) : ir::Attr(int64_t{0});
  Value scalar =
      e_.op(OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{zero}), TensorType{type.dtype, {}});
  return e_.broadcast(scalar, type.shape, {});
}

void Transposer::dot_general(const Node& node, Value c) {
  const ir::DotGeneralAttrs dims = ir::dot_general_attrs(node);
  const std::vector<int64_t>&lb = dims.lhs_batch, &rb = dims.rhs_batch;
  const std::vector<int64_t>&lc = dims.lhs_contract, &rc = dims.rhs_contract;
  const int lrank = operand_type(node, 0).rank(), rrank = operand_type(node, 1).rank();
  const auto lf = free_dims(lrank, lb, lc), rf = free_dims(rrank, rb, rc);
  const int64_t nb = static_cast<int64_t>(lb.size());
  const int64_t nlf = static_cast<int64_t>(lf.size()), nrf = static_cast<int64_t>(rf.size());
  assert(lin(node, 0) != lin(node, 1) && "dot_general of two tangents is not linear");
  if (lin(node, 0)) {
    // c[batch, lf, rf] . rhs over rf: [batch, lf, rhs contract dims in rhs order].
    Value d =
        e_.op(OpKind::DotGeneral, {c, p(node, 1)},
              make_attrs(ir::DotGeneralAttrs{iota(0, nb), rb, iota(nb + nlf, nb + nlf + nrf), rf}));
    give(node, 0, e_.transpose(d, restoring_perm(concat(concat(lb, lf), paired_in_order(rc, lc)))));
  } else {
    // lhs . c over lf: [batch, lhs contract dims in lhs order, rf].
    Value d = e_.op(OpKind::DotGeneral, {p(node, 0), c},
                    make_attrs(ir::DotGeneralAttrs{lb, iota(0, nb), lf, iota(nb, nb + nlf)}));
    give(node, 1, e_.transpose(d, restoring_perm(concat(concat(rb, paired_in_order(lc, rc)), rf))));
  }
}

void Transposer::pad(const Node& node, Value c) {
  const ir::PadAttrs amounts = ir::pad_attrs(node);
  const std::vector<int64_t>&low = amounts.low, &interior = amounts.interior;
  const TensorType& xt = operand_type(node, 0);
  std::vector<int64_t> limit, stride;
  for (int i = 0; i < xt.rank(); ++i) {
    const int64_t n = xt.shape[i];
    stride.push_back(interior[i] + 1);
    limit.push_back(n == 0 ? low[i] : low[i] + (n - 1) * (interior[i] + 1) + 1);
  }
  Value inner = e_.op(OpKind::Slice, {c}, make_attrs(ir::SliceAttrs{low, limit, stride}));
  if (lin(node, 0)) give(node, 0, inner);
  // The padding value fills every position the operand does not.
  if (lin(node, 1)) give(node, 1, e_.sub(e_.reduce_all(c), e_.reduce_all(inner)));
}

void Transposer::transpose(const Node& node, Value c) {
  switch (node.op) {
    case OpKind::Add:
      for (int i = 0; i < 2; ++i)
        if (lin(node, i)) give(node, i, c);
      return;
    case OpKind::Sub:
      if (lin(node, 0)) give(node, 0, c);
      if (lin(node, 1)) give(node, 1, e_.neg(c));
      return;
    case OpKind::Neg:
      give(node, 0, e_.neg(c));
      return;
    case OpKind::Mul:
      if (lin(node, 0))
        give(node, 0, e_.mul(c, p(node, 1)));
      else
        give(node, 1, e_.mul(c, p(node, 0)));
      return;
    case OpKind::Div:
      give(node, 0, e_.div(c, p(node, 1)));
      return;
    case OpKind::Select: {
      Value pred = p(node, 0), zero = e_.zeros(node.type);
      if (lin(node, 1)) give(node, 1, e_.select(pred, c, zero));
      if (lin(node, 2)) give(node, 2, e_.select(pred, zero, c));
      return;
    }
    case OpKind::Convert:
      give(node, 0, e_.convert(c, operand_type(node, 0).dtype));
      return;
    case OpKind::Broadcast: {
      const TensorType& xt = operand_type(node, 0);
      const std::vector<int64_t> dims = ir::broadcast_attrs(node).dims;
      std::vector<int64_t> axes;
      for (int64_t d = 0; d < node.type.rank(); ++d) {
        auto at = std::find(dims.begin(), dims.end(), d);
        if (at == dims.end() || (xt.shape[at - dims.begin()] == 1 && node.type.shape[d] != 1))
          axes.push_back(d);
      }
      give(node, 0, e_.reshape(e_.reduce_sum(c, axes), xt.shape));
      return;
    }
    case OpKind::ReduceSum: {
      const TensorType& xt = operand_type(node, 0);
      const std::vector<int64_t> axes = ir::reduce_attrs(node).axes;
      give(node, 0, e_.broadcast(c, xt.shape, free_dims(xt.rank(), axes, {})));
      return;
    }
    case OpKind::Reshape:
      give(node, 0, e_.reshape(c, operand_type(node, 0).shape));
      return;
    case OpKind::Transpose:
      give(node, 0, e_.transpose(c, restoring_perm(ir::transpose_attrs(node).perm)));
      return;
    case OpKind::Slice: {
      const TensorType& xt = operand_type(node, 0);
      const ir::SliceAttrs slice = ir::slice_attrs(node);
      const std::vector<int64_t>&start = slice.start, &stride = slice.stride;
      std::vector<int64_t> high, interior;
      for (int i = 0; i < xt.rank(); ++i) {
        const int64_t n = node.type.shape[i];
        const int64_t end = n == 0 ? start[i] : start[i] + (n - 1) * stride[i] + 1;
        high.push_back(xt.shape[i] - end);
        interior.push_back(stride[i] - 1);
      }
      give(node, 0,
           e_.op(OpKind::Pad, {c, e_.zeros({xt.dtype, {}})},
                 make_attrs(ir::PadAttrs{start, high, interior})));
      return;
    }
    case OpKind::Pad:
      pad(node, c);
      return;
    case OpKind::Concatenate: {
      const int64_t axis = ir::concatenate_attrs(node).axis;
      std::vector<int64_t> start(node.type.rank(), 0);
      const std::vector<int64_t> stride(node.type.rank(), 1);
      for (size_t i = 0; i < node.operands.size(); ++i) {
        std::vector<int64_t> limit = node.type.shape;
        limit[axis] = start[axis] + operand_type(node, static_cast<int>(i)).shape[axis];
        if (lin(node, static_cast<int>(i)))
          give(node, static_cast<int>(i),
               e_.op(OpKind::Slice, {c}, make_attrs(ir::SliceAttrs{start, limit, stride})));
        start[axis] = limit[axis];
      }
      return;
    }
    case OpKind::DotGeneral:
      dot_general(node, c);
      return;
    case OpKind::Take:
      give(node, 0,
           e_.op(OpKind::ScatterAdd, {e_.zeros(operand_type(node, 0)), p(node, 1), c},
                 make_attrs(ir::ScatterAddAttrs{ir::take_attrs(node).axis})));
      return;
    case OpKind::CumSum: {  // the sum of the later cotangents: the scan the other way
      const ir::ScanAttrs a = ir::scan_attrs(node);
      give(node, 0, e_.op(OpKind::CumSum, {c}, make_attrs(ir::ScanAttrs{a.axis, !a.reverse})));
      return;
    }
    case OpKind::TakeAlongAxis:
      give(node, 0,
           e_.op(OpKind::ScatterAlongAxis, {e_.zeros(operand_type(node, 0)), p(node, 1), c},
                 make_attrs(ir::ScatterAlongAxisAttrs{ir::along_axis_attrs(node).axis, "add"})));
      return;
    case OpKind::ScatterAlongAxis:
      scatter_along_axis(node, c);
      return;
    case OpKind::ScatterAdd:
      if (lin(node, 0)) give(node, 0, c);
      if (lin(node, 2))
        give(node, 2,
             e_.op(OpKind::Take, {c, p(node, 1)},
                   make_attrs(ir::TakeAttrs{ir::scatter_add_attrs(node).axis})));
      return;
    // Not linear: a jvp rule that puts a tangent into one of these is a bug.
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
    case OpKind::Not:
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
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
    case OpKind::StopGradient:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::IsFinite:
    case OpKind::BitcastConvert:
    case OpKind::RngBits:
    case OpKind::Call:  // placeholders go back per call site, in run()
      break;
  }
  assert(false && "transpose of an op that is not linear: a jvp rule bug");
}

// add: x gets c, each update c at its position. mul (in the operand, the updates fixed): x
// gets c scaled the same way. set: x gets c where no update lands, and an
// update gets c at its position only if it is the one that stayed (the last in row-major
// order): each update's own position id is scattered with set and gathered back, and the
// updates that find their own id won.
void Transposer::scatter_along_axis(const Node& node, Value c) {
  const ir::ScatterAlongAxisAttrs a = ir::scatter_along_axis_attrs(node);
  const Value idx = p(node, 1);
  const TensorType x_type = operand_type(node, 0), u_type = operand_type(node, 2);
  auto scatter = [&](Value x, Value u, const std::string& mode) {
    return e_.op(OpKind::ScatterAlongAxis, {x, idx, u},
                 make_attrs(ir::ScatterAlongAxisAttrs{a.axis, mode}));
  };
  auto take = [&](Value x) {
    return e_.op(OpKind::TakeAlongAxis, {x, idx}, make_attrs(ir::AlongAxisAttrs{a.axis}));
  };
  if (a.mode == "add") {
    if (lin(node, 0)) give(node, 0, c);
    if (lin(node, 2)) give(node, 2, take(c));
    return;
  }
  if (a.mode == "mul") {
    // mul's jvp scales the operand's tangent by the (primal) updates: a diagonal map, its own
    // transpose.
    assert(!lin(node, 2) && "mul is linear in the operand only");
    give(node, 0, scatter(c, p(node, 2), "mul"));
    return;
  }
  assert(a.mode == "set" && "jvp rules make only add, set and mul's operand linear");
  if (lin(node, 0)) give(node, 0, scatter(c, e_.zeros(u_type), "set"));
  if (!lin(node, 2)) return;
  const int64_t n = u_type.num_elements();
  const Value flat_ids =
      e_.op(OpKind::Iota, {}, make_attrs(ir::IotaAttrs{0}), TensorType{ir::DType::I32, {n}});
  const Value ids = e_.reshape(flat_ids, u_type.shape);
  const Value minus_one = e_.op(OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{int64_t{-1}}),
                                TensorType{ir::DType::I32, {}});
  const Value none = e_.broadcast(minus_one, x_type.shape, {});
  const Value winners = e_.op(OpKind::ScatterAlongAxis, {none, idx, ids},
                              make_attrs(ir::ScatterAlongAxisAttrs{a.axis, "set"}));
  const Value won = e_.op(OpKind::Eq, {take(winners), ids});
  give(node, 2, e_.select(won, take(c), e_.zeros(u_type)));
}

struct VjpShape {
  bool unit_cotangent;  // grad: the one result's cotangent is 1, not a parameter
  bool primal_results;  // the function's own results come first
};

// The functions a transformed module function needs beside it: flat copies of the module's
// functions that kept calls name (their own calls inlined but the marked ones), and a vjp
// generated once per checkpointed callee.
class ModuleContext {
 public:
  explicit ModuleContext(const ir::Module& module) : module_(module) {
    for (const Function& f : module.functions)
      taken_.insert(f.name());
  }

  const Function& flat(const std::string& name);
  // The name of "<callee>_vjp" = vjp(callee) over every float parameter, generated at the first
  // ask under a name no function of the module has.
  const std::string& checkpoint_vjp(const std::string& callee);
  // `main` first, then every function it calls (as callee or vjp), transitively, in the order
  // found; main is renamed if one of them has its name.
  ir::Module finish(Function main);

 private:
  const ir::Module& module_;
  std::set<std::string> taken_;
  std::map<std::string, Function> flat_;  // node-stable: callers keep references
  std::map<std::string, std::string> vjp_names_;
  std::map<std::string, Function> generated_;
};

Function vjp_picked(const Function& f, const std::vector<int>& picked, std::string name,
                    VjpShape shape, ModuleContext* module = nullptr);

// The backward pass of one kept call, from the cotangents of all its results at once: a custom
// vjp need not be linear (it may clip), so it must see them together, never one result at a
// time summed. `placeholders` are the site's tangent nodes (autodiff_jvp.cpp):
// call @f(x..., t...) {result=k}.
void Transposer::call_site(const std::vector<size_t>& placeholders) {
  assert(module_ && "a kept call in a function differentiated without its module");
  const Node& node = lin_.nodes()[placeholders.front()];
  const ir::CallAttrs call = ir::call_attrs(node);
  const Function& callee = module_->flat(call.callee);
  const size_t n = callee.params().size(), m = callee.results().size();
  assert(node.operands.size() == 2 * n);
  std::vector<MaybeValue> ct(m);
  for (size_t i : placeholders)
    ct.at(static_cast<size_t>(ir::call_attrs(lin_.nodes()[i]).result)) = ct_[i];
  if (std::none_of(ct.begin(), ct.end(), [](const MaybeValue& c) { return c.has_value(); })) return;
  std::vector<Value> args;
  for (size_t i = 0; i < n; ++i)
    args.push_back(p(node, static_cast<int>(i)));
  const std::optional<std::string>& custom = call.vjp;
  for (size_t r = 0; r < m; ++r) {
    const TensorType& t = callee.type(callee.results()[r]);
    if (custom || ir::is_float(t.dtype)) args.push_back(ct[r] ? *ct[r] : zeros_of(t));
  }
  // custom: @g(x..., c_y...) -> (c_x...); checkpoint: @f_vjp(x..., c_float_y...) -> (y...,
  // c_float_x...).
  const std::string bwd = custom ? *custom : module_->checkpoint_vjp(callee.name());
  size_t index = custom ? 0 : m;
  for (size_t i = 0; i < n; ++i) {
    const TensorType& t = callee.type(callee.params()[i]);
    if (!custom && !ir::is_float(t.dtype)) continue;
    const int slot = static_cast<int>(n + i);
    const ir::CallAttrs backward{
        .callee = bwd, .result = static_cast<int64_t>(index++), .checkpoint = custom ? 0 : 1};
    if (lin(node, slot)) give(node, slot, e_.op(OpKind::Call, args, make_attrs(backward), t));
  }
}

const Function& ModuleContext::flat(const std::string& name) {
  if (auto it = flat_.find(name); it != flat_.end()) return it->second;
  const Function* f = module_.find(name);
  if (!f) throw Error("[vjp] no function @" + name + " in the module");
  return flat_.emplace(name, inline_calls(module_, *f, {.keep_marked_calls = true})).first->second;
}

const std::string& ModuleContext::checkpoint_vjp(const std::string& callee) {
  if (auto it = vjp_names_.find(callee); it != vjp_names_.end()) return it->second;
  const Function& f = flat(callee);
  std::string name = callee + "_vjp";
  // Its own kept calls get their rules, and their vjps, from this same context.
  Function g = vjp_picked(f, resolve_wrt(f, {}, "vjp"), name,
                          {.unit_cotangent = false, .primal_results = true}, this);
  // A module differentiated before (grad of grad) may hold this very function: reuse it.
  const bool same = module_.find(name) && ir::print(flat(name)) == ir::print(g);
  if (!same) {
    while (taken_.count(name))
      name += "_";
    taken_.insert(name);
    g.set_name(name);
    generated_.emplace(name, std::move(g));
  }
  return vjp_names_.emplace(callee, std::move(name)).first->second;
}

ir::Module ModuleContext::finish(Function main) {
  ir::Module out;
  out.functions.push_back(std::move(main));
  std::set<std::string> called;
  for (size_t k = 0; k < out.functions.size(); ++k) {
    std::vector<std::string> names;
    for (const Node& node : out.functions[k].nodes())
      if (node.op == OpKind::Call) {
        ir::CallAttrs call = ir::call_attrs(node);
        names.push_back(std::move(call.callee));
        if (call.vjp) names.push_back(std::move(*call.vjp));
      }
    for (const std::string& name : names) {
      if (!called.insert(name).second) continue;
      auto gen = generated_.find(name);
      out.functions.push_back(gen != generated_.end() ? gen->second : flat(name));
    }
  }
  std::string name = out.functions[0].name();
  while (called.count(name))
    name += "_";
  out.functions[0].set_name(std::move(name));
  return out;
}

Function vjp_picked(const Function& f, const std::vector<int>& picked, std::string name,
                    VjpShape shape, ModuleContext* module) {
  const Function lin = jvp_picked(f, picked, name, /*linearize_calls=*/module != nullptr);
  Function out(std::move(name));
  GraphBuilder e(out);
  std::vector<Value> params;
  for (Value p : f.params())
    params.push_back(out.add_param(f.node(p).param_name, f.type(p)));
  std::vector<Value> seeds;  // per float result of f
  for (size_t r = 0; r < f.results().size(); ++r) {
    const TensorType& t = f.type(f.results()[r]);
    if (!ir::is_float(t.dtype)) continue;
    seeds.push_back(shape.unit_cotangent
                        ? e.splat(t, 1.0)
                        : out.add_param(unique_param_name(out, "c" + std::to_string(r)), t));
  }
  Transposer tr(lin, out, module);
  tr.copy_primal(params, picked.size());
  const size_t num_results = f.results().size();
  for (size_t k = 0; k < seeds.size(); ++k)
    tr.seed(lin.results()[num_results + k], seeds[k]);
  tr.run();
  std::vector<Value> results;
  if (shape.primal_results)
    for (size_t r = 0; r < num_results; ++r)
      results.push_back(tr.primal(lin.results()[r]));
  for (size_t j = 0; j < picked.size(); ++j) {
    Value t = lin.params()[f.params().size() + j];
    MaybeValue c = tr.cotangent(t);
    results.push_back(c ? *c : e.zeros(lin.type(t)));
  }
  out.set_results(std::move(results));
  return rewrite(out);
}

void check_scalar_loss(const Function& f) {
  const std::string prefix = "[grad] @" + f.name() + ": ";
  if (f.results().size() != 1)
    throw Error(prefix + "grad needs a function with one result, got " +
                std::to_string(f.results().size()));
  const TensorType& t = f.type(f.results()[0]);
  if (!ir::is_float(t.dtype)) throw Error(prefix + "grad needs a float result, got " + t.str());
  if (t.rank() != 0) throw Error(prefix + "grad needs a scalar result, got " + t.str());
}

// Reverse mode over a module: calls inlined but the marked ones, which keep their rules.
ir::Module module_vjp(const ir::Module& module, const Function& f, std::span<const int> wrt,
                      const std::string& suffix, VjpShape shape) {
  ModuleContext context(module);
  Function flat = inline_calls(module, f, {.keep_marked_calls = true});
  const bool is_grad = shape.unit_cotangent;
  if (is_grad) check_scalar_loss(flat);
  std::vector<int> picked = resolve_wrt(flat, wrt, is_grad ? "grad" : "vjp");
  Function g = vjp_picked(flat, picked, f.name() + suffix, shape, &context);
  return context.finish(std::move(g));
}

}  // namespace

}  // namespace detail

ir::Module vjp(const ir::Module& module, const ir::Function& f, std::span<const int> wrt) {
  return detail::module_vjp(module, f, wrt, "_vjp",
                            {.unit_cotangent = false, .primal_results = true});
}

ir::Module grad(const ir::Module& module, const ir::Function& f, std::span<const int> wrt) {
  return detail::module_vjp(module, f, wrt, "_grad",
                            {.unit_cotangent = true, .primal_results = false});
}

ir::Module value_and_grad(const ir::Module& module, const ir::Function& f,
                          std::span<const int> wrt) {
  return detail::module_vjp(module, f, wrt, "_value_and_grad",
                            {.unit_cotangent = true, .primal_results = true});
}

ir::Function vjp(const ir::Function& f, std::span<const int> wrt) {
  return detail::vjp_picked(f, detail::resolve_wrt(f, wrt, "vjp"), f.name() + "_vjp",
                            {.unit_cotangent = false, .primal_results = true});
}

ir::Function grad(const ir::Function& f, std::span<const int> wrt) {
  detail::check_scalar_loss(f);
  return detail::vjp_picked(f, detail::resolve_wrt(f, wrt, "grad"), f.name() + "_grad",
                            {.unit_cotangent = true, .primal_results = false});
}

ir::Function value_and_grad(const ir::Function& f, std::span<const int> wrt) {
  detail::check_scalar_loss(f);
  return detail::vjp_picked(f, detail::resolve_wrt(f, wrt, "grad"), f.name() + "_value_and_grad",
                            {.unit_cotangent = true, .primal_results = true});
}

}  // namespace kiln::passes
