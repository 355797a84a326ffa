// Fusion planning.
//
// THE COST RULE. Every value is either *materialized* (the root of its own kernel, stored to
// memory, read by its consumers) or *fused* (a member of each kernel that consumes it, written
// there as scalar and index arithmetic and recomputed where it is needed). Values are decided
// from the results backwards, so a value's consumers are already placed when it is decided.
//
//   Always materialized: function results; dot_general and scatter_add unless they can join
//   their consumer's kernel as below; every operand of a dot_general (the matrix kernel reads
//   its operands from memory).
//   Never materialized (unless a result): constants with at most 16 elements or one repeated
//   value (they become immediates). A larger constant list is neither: the runtime fills its
//   buffer from the attribute (see codegen/lower.h).
//   A reduction (and argmax/argmin) is never recomputed: it joins its consumer's kernel only
//   when all its consumers are in one kernel and they read it at the kernel's outer point (an
//   elementwise consumer over the kept dims, or a broadcast that puts the reduced dims back).
//   That kernel is then a Reduction kernel over the kept dims, one reduce phase per reduction
//   and a store phase over the row, so softmax and layernorm are one kernel each. All
//   reductions of a kernel reduce the same operand shape over the same axes.
//   A dot_general joins its consumer's kernel (as a Dot kernel whose epilogue is that kernel's
//   elementwise work) when every consumer reads it elementwise at the root's own index and the
//   kernel has no reduction. A dot whose layout fits no canonical or transposed matrix
//   product becomes a reduction over its contracting dims (correct, not fast).
//   Any other value (elementwise, broadcast, convert, iota, reshape, transpose, slice, pad,
//   concatenate, take) is fused, i.e. recomputed, unless recomputing costs more than storing:
//     - its recompute cost is at least 16 units and it is evaluated in more than one context
//       (several kernels, or one kernel at several different indices); or
//     - a broadcast reads it at least 8 times per element, it costs at least 8 units and it
//       does not depend on a fused reduction (a per-row value is computed once per row anyway).
//   Units: a transcendental (exp, log, tanh, erf, logistic, pow, sin, ...) 8; div, rem, sqrt,
//   rsqrt 4; other arithmetic, compare, select, convert, pad, concatenate, take 1; broadcast,
//   reshape, transpose, slice, iota and constants 0. The cost of a value is its own plus that
//   of the fused values under it, stopping at parameters, results and reductions.
//
// THE SIZE RULE. A kernel's members' own units (a member counted once in each kernel it is in)
// add up to at most 512: a value that would take a kernel past that is materialized instead.
// Compiling a kernel (LLVM's optimizer and register allocator above all) takes time that grows
// faster than its length: one kernel of 1,000 fused exps took 12 s to compile and one of 5,000
// over 5 minutes, while 64 take 0.2 s. So a long chain becomes a run of kernels of bounded
// size, and equal kernels compile once. Results do not change: a stored value is the value
// that recomputing it gives, bit for bit.
//
// With FusionOptions::fuse == false every op is its own kernel except constants and broadcasts
// of scalar constants, which still inline as immediates.

#include "passes/fusion.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "ir/error.h"
#include "ir/printer.h"
#include "ir/syntax.h"
#include "passes/rewriter.h"

namespace kiln::passes {

using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::Value;

namespace {

constexpr int64_t kRecomputeLimit = 16;
constexpr int64_t kBroadcastCostLimit = 8;
constexpr int64_t kBroadcastFactor = 8;
constexpr int64_t kInlineConstantElements = 16;
constexpr int64_t kMaxKernelCost = 512;

// The op's cost per element when recomputed (the cost rule's units).
int64_t op_cost(OpKind op) {
  switch (op) {
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Pow:
    case OpKind::Tan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
      return 8;
    // Written out by lowering in a dozen ops or more (codegen/math_expand.h).
    case OpKind::Atan:
    case OpKind::ErfInv:
      return 12;
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan2:
      return 16;
    case OpKind::Lgamma:
    case OpKind::Digamma:
      return 32;
    // 20 rounds of add, rotate and xor, and 5 key injections: about 100 integer ops.
    case OpKind::RngBits:
      return 64;
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
      return 4;
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Iota:
    case OpKind::Broadcast:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::StopGradient:
      return 0;
    case OpKind::Call:  // refused by plan_fusion before any cost is asked
    case OpKind::Neg:
    case OpKind::Abs:
    case OpKind::Sign:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
    case OpKind::Not:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
    case OpKind::Popcount:
    case OpKind::Clz:
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
    case OpKind::IsFinite:
    case OpKind::BitcastConvert:
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
    case OpKind::Select:
    case OpKind::Convert:
    case OpKind::Pad:
    case OpKind::Concatenate:
    case OpKind::Take:
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
    case OpKind::TakeAlongAxis:
    case OpKind::ScatterAlongAxis:
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::DotGeneral:
    case OpKind::ScatterAdd:
      return 1;
  }
  return 1;
}

// Where a kernel evaluates a value: at the row index (every dim of the row), at the outer
// point (the kept dims only), or anywhere else.
enum class Level { Row, Outer, Free };

struct Draft {
  Value root;
  std::optional<ReductionRow> sig;
  bool has_dot = false;
  std::set<uint32_t> members;
  int64_t cost = 0;  // the members' units, summed (see the size rule)
};

class Planner {
 public:
  Planner(const Function& f, const FusionOptions& options)
      : f_(f),
        options_(options),
        live_(live_nodes(f)),
        users_(f.num_nodes()),
        is_result_(f.num_nodes(), false),
        groups_of_(f.num_nodes()),
        external_(f.num_nodes(), false) {
    for (Value r : f.results())
      is_result_[r.id] = true;
    for (size_t i = 0; i < f.num_nodes(); ++i) {
      if (!live_[i]) continue;
      for (Value o : f.nodes()[i].operands) {
        auto& list = users_[o.id];
        if (list.empty() || list.back() != i) list.push_back(static_cast<uint32_t>(i));
      }
    }
    summarize_walks();
  }

  FusionPlan run() {
    for (size_t i = f_.num_nodes(); i-- > 0;) {
      const Node& node = f_.nodes()[i];
      if (!live_[i] || node.op == OpKind::Parameter) continue;
      if (is_external_constant(node)) {
        external_[i] = true;
        continue;
      }
      place(Value{static_cast<uint32_t>(i)});
    }
    return finish();
  }

 private:
  const Node& node(uint32_t id) const { return f_.nodes()[id]; }
  const ir::Shape& shape(uint32_t id) const { return node(id).type.shape; }

  static bool is_external_constant(const Node& n) {
    return n.op == OpKind::Constant && !is_splat(n) &&
           n.type.num_elements() > kInlineConstantElements;
  }
  static bool is_splat(const Node& n) {
    const ir::Attr& value = ir::constant_value(n);
    if (!value.is_list() && !value.is_dense()) return true;
    return n.type.num_elements() <= 1;
  }
  // Constants and broadcasts of scalar constants: immediates, never kernels of their own.
  bool is_immediate(const Node& n) const {
    if (n.op == OpKind::Constant) return true;
    return n.op == OpKind::Broadcast && node(n.operands[0].id).op == OpKind::Constant &&
           node(n.operands[0].id).type.num_elements() == 1;
  }

  std::optional<ReductionRow> row_of(uint32_t id) const { return reduction_row(f_, Value{id}); }

  bool is_fitting_dot(uint32_t id) const {
    return node(id).op == OpKind::DotGeneral && matmul_layout(f_, Value{id}).has_value();
  }

  bool member_of(uint32_t id, int g) const {
    const auto& gs = groups_of_[id];
    return std::find(gs.begin(), gs.end(), g) != gs.end();
  }

  // ---- levels -------------------------------------------------------------------------------

  // Shapes equal up to dims of size 1, which every kernel indexes with the constant 0.
  static ir::Shape squeezed(const ir::Shape& shape) {
    ir::Shape out;
    for (int64_t d : shape)
      if (d != 1) out.push_back(d);
    return out;
  }

  // The level at which a kernel with reduction row `sig` evaluates a value of `shape` when that
  // value is its root.
  static Level root_level(const ir::Shape& shape, const std::optional<ReductionRow>& sig) {
    if (!sig || squeezed(shape) == squeezed(sig->row)) return Level::Row;
    if (squeezed(shape) == squeezed(sig->kept())) return Level::Outer;
    return Level::Free;
  }

  using LevelMemo = std::unordered_map<uint32_t, Level>;

  // The level at which kernel g evaluates `id`: the meet of the levels at which its users in g
  // read it, most of which follow from the user's own level, and so on up to the root. The
  // users' levels come first: a post-order walk toward the root on an explicit stack (a chain
  // of fused users is as long as the graph), each entry with its place in its users' list.
  // `memo` keeps every level found.
  Level level(int g, uint32_t id, const std::optional<ReductionRow>& sig, LevelMemo& memo) const {
    struct Entry {
      uint32_t id;
      size_t next_user = 0;
    };
    std::vector<Entry> stack{{id}};
    while (!stack.empty()) {
      Entry& top = stack.back();
      if (memo.count(top.id)) {
        stack.pop_back();
        continue;
      }
      if (drafts_[g].root.id != top.id) {
        const std::vector<uint32_t>& users = users_[top.id];
        auto needed = [&](uint32_t u) {
          return member_of(u, g) && reads_at_own_level(u, top.id, sig) && !memo.count(u);
        };
        while (top.next_user < users.size() && !needed(users[top.next_user]))
          ++top.next_user;
        if (top.next_user < users.size()) {
          const uint32_t user = users[top.next_user++];
          stack.push_back({user});
          continue;
        }
      }
      memo[top.id] = level_from_users(g, top.id, sig, memo);
      stack.pop_back();
    }
    return memo.at(id);
  }

  // The level of `id` once its users' levels are in `memo`.
  Level level_from_users(int g, uint32_t id, const std::optional<ReductionRow>& sig,
                         const LevelMemo& memo) const {
    if (drafts_[g].root.id == id) return root_level(shape(id), sig);
    std::optional<Level> meet;
    for (uint32_t u : users_[id]) {
      if (!member_of(u, g)) continue;
      const Level l = use_level(u, id, sig, memo);
      meet = (!meet || *meet == l) ? l : Level::Free;
    }
    return meet.value_or(Level::Free);
  }

  // The non-unit dims of `shape`, mapped through `dims` (a broadcast's operand-to-result map).
  static std::vector<int64_t> non_unit_dims(const ir::Shape& shape,
                                            const std::vector<int64_t>& dims) {
    std::vector<int64_t> out;
    for (size_t j = 0; j < shape.size(); ++j)
      if (shape[j] != 1) out.push_back(dims[j]);
    return out;
  }

  // Whether the level at which `user` reads `id` depends on the user's own level.
  bool reads_at_own_level(uint32_t user, uint32_t id,
                          const std::optional<ReductionRow>& sig) const {
    const Node& u = node(user);
    if (ir::has_trait(u.op, ir::OpTrait::Elementwise)) return true;
    if (!sig) return false;
    return (u.op == OpKind::Reshape && squeezed(u.type.shape) == squeezed(shape(id))) ||
           u.op == OpKind::Broadcast;
  }

  // The level at which `user` reads `id`; `memo` holds the user's own level where that counts.
  Level use_level(uint32_t user, uint32_t id, const std::optional<ReductionRow>& sig,
                  const LevelMemo& memo) const {
    const Node& u = node(user);
    if (ir::has_trait(u.op, ir::OpTrait::Elementwise)) return memo.at(user);
    if (!sig) return Level::Free;
    if (u.op == OpKind::Reshape && squeezed(u.type.shape) == squeezed(shape(id))) {
      const Level l = memo.at(user);
      return l == Level::Row ? Level::Row : l == Level::Outer ? Level::Outer : Level::Free;
    }
    if (u.op == OpKind::Broadcast) {
      const Level l = memo.at(user);
      const std::vector<int64_t> mapped = non_unit_dims(shape(id), ir::broadcast_attrs(u).dims);
      std::vector<int64_t> wanted;
      for (int64_t d = 0; d < u.type.rank(); ++d) {
        const bool kept = l == Level::Outer ||
                          std::find(sig->axes.begin(), sig->axes.end(), d) == sig->axes.end();
        if (u.type.shape[d] != 1 && kept) wanted.push_back(d);
      }
      // A broadcast that only stretches the reduced dims (or only unit dims) reads its
      // operand at the outer point.
      if (l == Level::Row && u.type.shape == sig->row && mapped == wanted) return Level::Outer;
      if (l == Level::Outer && mapped == wanted) return Level::Outer;
      return Level::Free;
    }
    if (ir::has_trait(u.op, ir::OpTrait::Reduction) && row_of(user) == sig) return Level::Row;
    return Level::Free;
  }

  // ---- the cost rule ------------------------------------------------------------------------

  bool stops_walk(uint32_t id) const {
    const Node& n = node(id);
    return n.op == OpKind::Parameter || n.op == OpKind::Constant || is_result_[id] ||
           ir::has_trait(n.op, ir::OpTrait::Reduction) || n.op == OpKind::DotGeneral ||
           ir::has_trait(n.op, ir::OpTrait::Scatter) || ir::has_trait(n.op, ir::OpTrait::Scan);
  }

  // A free op with one operand that the cost walk passes through (broadcast, reshape,
  // transpose, slice, stop_gradient): it adds nothing, so a run of them is one step.
  bool passes_through(uint32_t id) const {
    return op_cost(node(id).op) == 0 && node(id).operands.size() == 1 && !stops_walk(id);
  }

  // What the walks below would find over and over, found once in body order (operands
  // first): where each run of pass-through ops ends, and which values depend on a fused
  // reduction. Without them a long chain of free ops, or of values under a broadcast, would
  // be walked once per value in it.
  void summarize_walks() {
    const size_t n = f_.num_nodes();
    run_end_.resize(n);
    under_reduction_.assign(n, false);
    for (uint32_t i = 0; i < n; ++i) {
      run_end_[i] = i;
      if (passes_through(i)) run_end_[i] = run_end_[node(i).operands[0].id];
      for (Value o : node(i).operands) {
        const OpKind op = node(o.id).op;
        if (ir::has_trait(op, ir::OpTrait::Reduction) ||
            (op == OpKind::DotGeneral && !is_fitting_dot(o.id)) ||
            (!stops_walk(o.id) && under_reduction_[o.id]))
          under_reduction_[i] = true;
      }
    }
  }

  // The cost of recomputing `id` with the fused values under it, capped at `cap`: the sum over
  // the distinct values reached, or some value of at least `cap` where the sum reaches it.
  int64_t recompute_cost(uint32_t id, int64_t cap) const {
    int64_t cost = op_cost(node(id).op);
    std::set<uint32_t> seen{id};
    std::vector<uint32_t> stack{id};
    while (!stack.empty() && cost < cap) {
      const uint32_t v = stack.back();
      stack.pop_back();
      for (Value o : node(v).operands) {
        const uint32_t next = run_end_[o.id];  // the free ops on the way cost nothing
        if (stops_walk(next) || !seen.insert(next).second) continue;
        cost += op_cost(node(next).op);
        stack.push_back(next);
      }
    }
    return cost;
  }

  // Whether `id` reads, through fused values, a reduction (or a dot planned as one).
  bool depends_on_reduction(uint32_t id) const { return under_reduction_[id]; }

  // How many times per element the kernels consuming `id` would evaluate it: elementwise users
  // in one kernel share one evaluation, every other use is one more.
  size_t contexts(uint32_t id) const {
    std::set<std::pair<int, uint32_t>> keys;
    for (uint32_t u : users_[id])
      for (int g : groups_of_[u])
        keys.insert({g, ir::has_trait(node(u).op, ir::OpTrait::Elementwise) ? UINT32_MAX : u});
    return keys.size();
  }

  bool amplified_by_broadcast(uint32_t id, int64_t cost) const {
    if (cost < kBroadcastCostLimit) return false;
    const int64_t size = std::max<int64_t>(1, node(id).type.num_elements());
    for (uint32_t u : users_[id])
      if (node(u).op == OpKind::Broadcast && node(u).type.num_elements() >= kBroadcastFactor * size)
        return !depends_on_reduction(id);
    return false;
  }

  std::set<int> consumer_groups(uint32_t id) const {
    std::set<int> out;
    for (uint32_t u : users_[id])
      out.insert(groups_of_[u].begin(), groups_of_[u].end());
    return out;
  }

  // ---- placement ----------------------------------------------------------------------------

  // Whether reduction-like `id` (with reduction row `sig`) can join kernel g.
  bool can_join_as_reduction(uint32_t id, int g, const ReductionRow& sig) const {
    const Draft& d = drafts_[g];
    if (d.has_dot || (d.sig && *d.sig != sig)) return false;
    if (root_level(shape(d.root.id), sig) == Level::Free) return false;
    LevelMemo memo;
    const Level l = level(g, id, sig, memo);
    return l == Level::Outer || (sig.axes.empty() && l == Level::Row);
  }

  bool can_join_as_dot(uint32_t id, int g) const {
    const Draft& d = drafts_[g];
    if (d.has_dot || d.sig || shape(d.root.id) != shape(id)) return false;
    LevelMemo memo;
    return level(g, id, std::nullopt, memo) == Level::Row;
  }

  // The kernel `id` joins, or nullopt when it must be materialized.
  std::optional<int> joins(uint32_t id) const {
    const Node& n = node(id);
    if (is_result_[id]) return std::nullopt;
    for (uint32_t u : users_[id])
      if (node(u).op == OpKind::DotGeneral) return std::nullopt;
    const std::set<int> groups = consumer_groups(id);
    if (ir::has_trait(n.op, ir::OpTrait::Scatter) || ir::has_trait(n.op, ir::OpTrait::Scan))
      return std::nullopt;
    if (!options_.fuse && !is_immediate(n)) return std::nullopt;
    if (is_fitting_dot(id)) {
      if (groups.size() == 1 && can_join_as_dot(id, *groups.begin())) return *groups.begin();
      return std::nullopt;
    }
    if (std::optional<ReductionRow> sig = row_of(id)) {
      if (groups.size() == 1 && can_join_as_reduction(id, *groups.begin(), *sig))
        return *groups.begin();
      return std::nullopt;
    }
    return -1;  // fused into every consumer, unless the cost rule says otherwise
  }

  bool worth_storing(uint32_t id) const {
    if (node(id).op == OpKind::Constant) return false;
    const int64_t cost = recompute_cost(id, kRecomputeLimit);
    if (cost >= kRecomputeLimit && contexts(id) > 1) return true;
    return amplified_by_broadcast(id, cost);
  }

  // The size rule: whether `id` would take a kernel it joins (`target`, or every consumer's
  // for a fused value) past kMaxKernelCost.
  bool overflows(uint32_t id, int target) const {
    const int64_t cost = op_cost(node(id).op);
    if (target >= 0) return drafts_[target].cost + cost > kMaxKernelCost;
    for (int g : consumer_groups(id))
      if (drafts_[g].cost + cost > kMaxKernelCost) return true;
    return false;
  }

  void place(Value v) {
    const uint32_t id = v.id;
    std::optional<int> target = joins(id);
    if (target && *target < 0 && options_.fuse && worth_storing(id)) target.reset();
    if (target && options_.fuse && overflows(id, *target)) target.reset();
    const int64_t cost = op_cost(node(id).op);
    if (!target) {
      const int g = static_cast<int>(drafts_.size());
      Draft d;
      d.root = v;
      d.sig = row_of(id);
      d.has_dot = is_fitting_dot(id);
      d.members.insert(id);
      d.cost = cost;
      drafts_.push_back(std::move(d));
      groups_of_[id] = {g};
      return;
    }
    if (*target >= 0) {
      Draft& d = drafts_[*target];
      if (is_fitting_dot(id))
        d.has_dot = true;
      else
        d.sig = row_of(id);
      d.members.insert(id);
      d.cost += cost;
      groups_of_[id] = {*target};
      return;
    }
    for (int g : consumer_groups(id)) {
      drafts_[g].members.insert(id);
      drafts_[g].cost += cost;
      groups_of_[id].push_back(g);
    }
  }

  FusionPlan finish() const {
    std::vector<int> order(drafts_.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return drafts_[a].root.id < drafts_[b].root.id; });
    FusionPlan plan;
    for (int g : order) {
      const Draft& d = drafts_[g];
      FusionGroup group;
      group.kind = d.has_dot ? KernelKind::Dot : d.sig ? KernelKind::Reduction : KernelKind::Loop;
      std::set<uint32_t> inputs;
      for (uint32_t m : d.members) {
        group.members.push_back(Value{m});
        for (Value o : node(m).operands)
          if (!d.members.count(o.id)) inputs.insert(o.id);
      }
      for (uint32_t i : inputs)
        group.inputs.push_back(Value{i});
      group.outputs = {d.root};
      plan.groups.push_back(std::move(group));
    }
    return plan;
  }

  const Function& f_;
  FusionOptions options_;
  std::vector<bool> live_;
  std::vector<std::vector<uint32_t>> users_;
  std::vector<bool> is_result_;
  std::vector<std::vector<int>> groups_of_;
  std::vector<bool> external_;
  std::vector<uint32_t> run_end_;      // see summarize_walks
  std::vector<bool> under_reduction_;  // see summarize_walks
  std::vector<Draft> drafts_;
};

bool is_block(const std::vector<int64_t>& dims, int64_t start) {
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] != start + static_cast<int64_t>(i)) return false;
  return true;
}

int64_t product(const ir::Shape& shape, int64_t begin, int64_t end) {
  int64_t n = 1;
  for (int64_t d = begin; d < end; ++d)
    n *= shape[d];
  return n;
}

}  // namespace

std::optional<MatmulLayout> matmul_layout(const Function& function, Value dot) {
  const Node& n = function.node(dot);
  assert(n.op == OpKind::DotGeneral);
  const ir::Shape& lhs = function.type(n.operands[0]).shape;
  const ir::Shape& rhs = function.type(n.operands[1]).shape;
  const ir::DotGeneralAttrs dims = ir::dot_general_attrs(n);
  const std::vector<int64_t>&lb = dims.lhs_batch, &rb = dims.rhs_batch;
  const std::vector<int64_t>&lc = dims.lhs_contract, &rc = dims.rhs_contract;
  const int64_t nb = static_cast<int64_t>(lb.size()), nc = static_cast<int64_t>(lc.size());
  const int64_t rl = static_cast<int64_t>(lhs.size()), rr = static_cast<int64_t>(rhs.size());
  if (!is_block(lb, 0) || !is_block(rb, 0)) return std::nullopt;
  MatmulLayout layout;
  if (is_block(lc, rl - nc))
    layout.transpose_lhs = false;
  else if (is_block(lc, nb))
    layout.transpose_lhs = true;
  else
    return std::nullopt;
  if (is_block(rc, nb))
    layout.transpose_rhs = false;
  else if (is_block(rc, rr - nc))
    layout.transpose_rhs = true;
  else
    return std::nullopt;
  layout.batch = product(lhs, 0, nb);
  layout.k = layout.transpose_lhs ? product(lhs, nb, nb + nc) : product(lhs, rl - nc, rl);
  layout.n = 1;
  for (int64_t d = nb; d < rr; ++d)
    if (std::find(rc.begin(), rc.end(), d) == rc.end()) layout.n *= rhs[d];
  layout.m = 1;
  for (int64_t d = nb; d < rl; ++d)
    if (std::find(lc.begin(), lc.end(), d) == lc.end()) layout.m *= lhs[d];
  return layout;
}

ir::Shape ReductionRow::kept() const {
  ir::Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(row.size()); ++d)
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) out.push_back(row[d]);
  return out;
}

std::vector<int64_t> ReductionRow::kept_dims() const {
  std::vector<int64_t> out;
  for (int64_t d = 0; d < static_cast<int64_t>(row.size()); ++d)
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) out.push_back(d);
  return out;
}

std::optional<ReductionRow> reduction_row(const Function& function, Value v) {
  const Node& n = function.node(v);
  if (ir::has_trait(n.op, ir::OpTrait::ArgReduction))
    return ReductionRow{function.type(n.operands[0]).shape, {ir::arg_reduce_attrs(n).axis}};
  if (ir::has_trait(n.op, ir::OpTrait::Reduction))
    return ReductionRow{function.type(n.operands[0]).shape, ir::reduce_attrs(n).axes};
  if (n.op != OpKind::DotGeneral || matmul_layout(function, v)) return std::nullopt;
  // A dot as a reduction: the row is [result dims..., contracting dims...].
  ReductionRow row{n.type.shape, {}};
  const ir::Shape& lhs = function.type(n.operands[0]).shape;
  for (int64_t d : ir::dot_general_attrs(n).lhs_contract) {
    row.axes.push_back(static_cast<int64_t>(row.row.size()));
    row.row.push_back(lhs[d]);
  }
  return row;
}

FusionPlan plan_fusion(const Function& function, const FusionOptions& options) {
  for (const ir::Node& node : function.nodes())
    if (node.op == OpKind::Call)
      throw Error("[fuse] @" + function.name() + " calls @" + ir::call_attrs(node).callee +
                  ": calls are inlined before fusion (passes::inline_calls; kiln opt and kiln "
                  "run do it for you)");
  return Planner(function, options).run();
}

namespace {

std::string kind_name(KernelKind kind) {
  switch (kind) {
    case KernelKind::Loop:
      return "loop";
    case KernelKind::Reduction:
      return "reduction";
    case KernelKind::Dot:
      return "dot";
  }
  return "";
}

std::string name_list(const std::vector<Value>& values, const std::vector<std::string>& names) {
  std::string out;
  for (Value v : values)
    out += (out.empty() ? "%" : ", %") + names[v.id];
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string print_with_fusion(const Function& function, const FusionPlan& plan) {
  // Each kernel's comment goes before the statement of its first member.
  std::map<uint32_t, std::vector<size_t>> header_at;
  for (size_t k = 0; k < plan.groups.size(); ++k)
    header_at[plan.groups[k].members.front().id].push_back(k);
  return ir::print(function, [&](Value v, const std::vector<std::string>& names) {
    std::string out;
    if (auto it = header_at.find(v.id); it != header_at.end())
      for (size_t k : it->second) {
        const FusionGroup& g = plan.groups[k];
        out += "  // kernel " + std::to_string(k) + " (" + std::string(kind_name(g.kind)) +
               "): inputs " + name_list(g.inputs, names) + "; outputs " +
               name_list(g.outputs, names) + "\n";
      }
    return out;
  });
}

}  // namespace kiln::passes
