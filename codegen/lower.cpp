// Lowering: one Kernel per fusion group. The group's root decides the kernel's shape:
//   Loop      the root's shape, split into outer dims (parallel) and trailing inner dims;
//   Reduction outer = the kept dims of the reduced row, one Reduce phase per member reduction
//             over the reduced dims, then a Store phase over the row (or once per outer point);
//   Dot       outer = [batch, m], a Dot phase over [n] writing the product's row to a scratch
//             buffer (or straight to the output), and a Store phase over [n] that applies the
//             epilogue to it.
// scatter_add is a Loop-like kernel of two Store phases: copy the operand, then add the updates
// (a sequential phase, since duplicate indices accumulate in order).

#include "codegen/lower.h"

#include "codegen/kernel_opt.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <set>
#include <string>
#include <unordered_map>

#include "codegen/lower_emit.h"

namespace kiln::codegen {

using ir::DType;
using ir::Node;
using ir::OpKind;
using ir::Value;
using lowering::Index;

namespace {

constexpr int64_t kMinInnerElements = 1024;  // a Loop kernel's inner loops cover at least this
constexpr int64_t kSplitChunk = 4096;        // a long 1-D space splits into rows of this

ir::Shape squeezed(const ir::Shape& shape) {
  ir::Shape out;
  for (int64_t d : shape)
    if (d != 1) out.push_back(d);
  return out;
}

int64_t product(const ir::Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t> free_dims(int rank, const std::vector<int64_t>& batch,
                               const std::vector<int64_t>& contract) {
  std::vector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d)
    if (std::find(batch.begin(), batch.end(), d) == batch.end() &&
        std::find(contract.begin(), contract.end(), d) == contract.end())
      out.push_back(d);
  return out;
}

class KernelBuilder {
 public:
  KernelBuilder(const ir::Function& f, const passes::FusionGroup& group, std::string name)
      : f_(f), group_(group), b_(kernel_.exprs) {
    kernel_.name = std::move(name);
    std::unordered_map<uint32_t, int> inputs;
    for (Value v : group.inputs)
      inputs.emplace(v.id, add_buffer(v, false));
    assert(group.outputs.size() == 1);
    root_ = group.outputs.front();
    out_ = add_buffer(root_, true);
    std::set<uint32_t> members;
    for (Value v : group.members)
      members.insert(v.id);
    emitter_.emplace(f, b_, std::move(members), std::move(inputs),
                     [this](Value v, const Index& index) { return reduction(v, index); });
  }

  Kernel build(std::vector<Value>& values) {
    if (ir::has_trait(f_.node(root_).op, ir::OpTrait::Scatter))
      scatter();
    else if (ir::has_trait(f_.node(root_).op, ir::OpTrait::Scan))
      scan();
    else if (group_.kind == passes::KernelKind::Dot)
      dot();
    else if (group_.kind == passes::KernelKind::Reduction)
      reduce();
    else
      loop();
    values = values_;
    return std::move(kernel_);
  }

 private:
  int add_buffer(Value v, bool is_output) {
    kernel_.buffers.push_back({f_.type(v), is_output});
    values_.push_back(v);
    return static_cast<int>(kernel_.buffers.size()) - 1;
  }

  ExprId index(LoopLevel loop, int axis, int64_t extent) {
    return extent == 1 ? b_.constant_int(0) : b_.index(loop, axis);
  }

  void store_phase(std::vector<int64_t> extents, const Index& at) {
    const ir::Shape& shape = f_.type(root_).shape;
    const ExprId value = emitter_->emit(root_, at);
    Phase phase;
    phase.kind = PhaseKind::Store;
    phase.extents = std::move(extents);
    phase.stores.push_back({out_, emitter_->math().linear(at, shape), value});
    kernel_.phases.push_back(std::move(phase));
  }

  // ---- Loop ---------------------------------------------------------------------------------

  void loop() {
    const ir::Shape& shape = f_.type(root_).shape;
    const int rank = static_cast<int>(shape.size());
    Index at(shape.size());
    if (rank == 1 && shape[0] >= 16 * kSplitChunk && shape[0] % kSplitChunk == 0) {
      // One long dim: rows of kSplitChunk, so there is an outer space to share out.
      kernel_.outer = {shape[0] / kSplitChunk};
      at[0] = emitter_->math().add(emitter_->math().mul(b_.index(LoopLevel::Outer, 0), kSplitChunk),
                                   b_.index(LoopLevel::Inner, 0));
      store_phase({kSplitChunk}, at);
      return;
    }
    int split = std::max(rank - 1, 0);
    while (split > 0 && product(ir::Shape(shape.begin() + split, shape.end())) < kMinInnerElements)
      --split;
    std::vector<int64_t> inner;
    for (int d = 0; d < rank; ++d) {
      if (d < split) {
        kernel_.outer.push_back(shape[d]);
        at[d] = index(LoopLevel::Outer, d, shape[d]);
      } else {
        inner.push_back(shape[d]);
        at[d] = index(LoopLevel::Inner, d - split, shape[d]);
      }
    }
    store_phase(std::move(inner), at);
  }

  // ---- Reduction ----------------------------------------------------------------------------

  bool is_reduced(int64_t d) const {
    return std::find(axes_.begin(), axes_.end(), d) != axes_.end();
  }

  // Positions in a value squeeze-equal to the row (or to the kept dims): the kernel's indices.
  Index index_like(const ir::Shape& shape, const Index& full, const ir::Shape& full_shape) {
    Index wanted;
    for (size_t d = 0; d < full_shape.size(); ++d)
      if (full_shape[d] != 1) wanted.push_back(full[d]);
    Index out(shape.size(), b_.constant_int(0));
    size_t next = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (shape[d] != 1) out[d] = wanted[next++];
    assert(next == wanted.size());
    return out;
  }

  void reduce() {
    // The row the planner grouped the kernel's reductions by: each member reduction's.
    for (Value m : group_.members)
      if (std::optional<passes::ReductionRow> row = passes::reduction_row(f_, m)) {
        row_ = std::move(row->row);
        axes_ = std::move(row->axes);
        break;
      }
    int outer_axis = 0, inner_axis = 0;
    for (int64_t d = 0; d < static_cast<int64_t>(row_.size()); ++d) {
      if (is_reduced(d)) {
        reduced_.push_back(row_[d]);
        row_index_.push_back(index(LoopLevel::Inner, inner_axis++, row_[d]));
      } else {
        kernel_.outer.push_back(row_[d]);
        kept_.push_back(row_[d]);
        outer_index_.push_back(index(LoopLevel::Outer, outer_axis++, row_[d]));
        row_index_.push_back(outer_index_.back());
      }
    }
    const ir::Shape& shape = f_.type(root_).shape;
    if (squeezed(shape) == squeezed(row_))
      store_phase(reduced_, index_like(shape, row_index_, row_));
    else
      store_phase({}, index_like(shape, outer_index_, kept_));
  }

  // A step of the emitter's walk (see lower_emit.h), as it reaches the reduction's operands.
  lowering::Step reduction(Value v, [[maybe_unused]] Index at) {
    assert(at == index_like(f_.type(v).shape, outer_index_, kept_) &&
           "a fused reduction is read at its kernel's outer point");
    const Node& n = f_.node(v);
    if (auto it = phase_of_.find(v.id); it != phase_of_.end())
      co_return b_.phase_result(it->second, n.type.dtype);
    Phase phase;
    phase.kind = PhaseKind::Reduce;
    phase.extents = reduced_;
    phase.result_dtype = n.type.dtype;
    if (n.op == OpKind::DotGeneral) {
      phase.reduce_op = OpKind::ReduceSum;
      phase.value = co_await emitter_->run(dot_product_term(n));
    } else {
      phase.reduce_op = n.op;
      phase.value = co_await emitter_->at(n.operands[0], row_index_);
    }
    const int p = static_cast<int>(kernel_.phases.size());
    kernel_.phases.push_back(std::move(phase));
    phase_of_[v.id] = p;
    co_return b_.phase_result(p, n.type.dtype);
  }

  // lhs * rhs at one point of a dot's [result..., contracting...] row, in the dtype's
  // accumulator: f16 and bf16 widen to f32 (the Reduce phase sums them in f32 and rounds once
  // at the end), f32 and f64 stay as they are, like the matrix kernels' GEMM.
  lowering::Step dot_product_term(const Node& n) {
    const ir::DotGeneralAttrs dims = ir::dot_general_attrs(n);
    const std::vector<int64_t>&lb = dims.lhs_batch, &rb = dims.rhs_batch;
    const std::vector<int64_t>&lc = dims.lhs_contract, &rc = dims.rhs_contract;
    const ir::TensorType& lt = f_.type(n.operands[0]);
    const ir::TensorType& rt = f_.type(n.operands[1]);
    const auto lf = free_dims(lt.rank(), lb, lc), rf = free_dims(rt.rank(), rb, rc);
    const size_t nb = lb.size(), rank = n.type.shape.size();
    Index li(lt.shape.size()), ri(rt.shape.size());
    for (size_t i = 0; i < nb; ++i)
      li[lb[i]] = ri[rb[i]] = row_index_[i];
    for (size_t j = 0; j < lf.size(); ++j)
      li[lf[j]] = row_index_[nb + j];
    for (size_t j = 0; j < rf.size(); ++j)
      ri[rf[j]] = row_index_[nb + lf.size() + j];
    for (size_t i = 0; i < lc.size(); ++i)
      li[lc[i]] = ri[rc[i]] = row_index_[rank + i];
    ExprId l = co_await emitter_->at(n.operands[0], li);
    ExprId r = co_await emitter_->at(n.operands[1], ri);
    const DType dtype = dot_accumulator(n.type.dtype);
    if (dtype != n.type.dtype) {
      l = b_.op(OpKind::Convert, dtype, {l});
      r = b_.op(OpKind::Convert, dtype, {r});
    }
    co_return b_.op(OpKind::Mul, dtype, {l, r});
  }

  // ---- Dot ----------------------------------------------------------------------------------

  // Phase 0 is the Dot phase: the product's row (batch b, row i) over [n], read from the
  // operands in the canonical layout matmul_layout found, written to the output or to a scratch
  // buffer that a Store phase then reads to apply the epilogue while the row is in cache.
  void dot() {
    Value d;
    for (Value m : group_.members)
      if (f_.node(m).op == OpKind::DotGeneral) d = m;
    assert(d.valid());
    const Node& n = f_.node(d);
    const std::optional<passes::MatmulLayout> layout = passes::matmul_layout(f_, d);
    assert(layout);
    const int64_t batch = layout->batch, m = layout->m, cols = layout->n, depth = layout->k;
    kernel_.outer = {batch, m};
    int32_t out = out_;
    if (d != root_) {
      out = static_cast<int32_t>(kernel_.buffers.size());
      kernel_.buffers.push_back({n.type, false});
      values_.push_back(Value{});
      kernel_.scratch.push_back(out);
    }
    auto& math = emitter_->math();
    const ExprId b = index(LoopLevel::Outer, 0, batch), i = index(LoopLevel::Outer, 1, m);
    const ExprId j = index(LoopLevel::Inner, 0, cols);
    const ExprId k = index(LoopLevel::Contraction, 0, depth);
    const DType dtype = n.type.dtype;
    const ExprId lhs_at = layout->transpose_lhs ? math.linear({b, k, i}, {batch, depth, m})
                                                : math.linear({b, i, k}, {batch, m, depth});
    const ExprId rhs_at = layout->transpose_rhs ? math.linear({b, j, k}, {batch, cols, depth})
                                                : math.linear({b, k, j}, {batch, depth, cols});
    Phase phase;
    phase.kind = PhaseKind::Dot;
    phase.extents = {cols};
    phase.dot_lhs = b_.load(buffer_of(n.operands[0]), dtype, lhs_at);
    phase.dot_rhs = b_.load(buffer_of(n.operands[1]), dtype, rhs_at);
    phase.contraction = depth;
    phase.accumulator = dot_accumulator(dtype);
    phase.result_dtype = dtype;
    const ExprId out_at = math.linear({b, i, j}, {batch, m, cols});
    phase.stores.push_back({out, out_at, b_.phase_result(0, dtype)});
    assert(kernel_.phases.empty());
    kernel_.phases.push_back(std::move(phase));
    if (d == root_) return;
    emitter_->read_from_buffer(d, out);
    // The product's dims are [batch..., lhs free..., rhs free...]; outer 0, outer 1 and the
    // inner loop walk those three runs.
    const ir::DotGeneralAttrs dims = ir::dot_general_attrs(n);
    const size_t nb = dims.lhs_batch.size();
    const size_t nlf =
        static_cast<size_t>(f_.type(n.operands[0]).rank()) - nb - dims.lhs_contract.size();
    const ir::Shape& shape = n.type.shape;
    auto run = [&](size_t begin, size_t end, ExprId at) {
      return emitter_->math().delinear(at, ir::Shape(shape.begin() + begin, shape.begin() + end));
    };
    Index at;
    for (const Index& part : {run(0, nb, b), run(nb, nb + nlf, i), run(nb + nlf, shape.size(), j)})
      at.insert(at.end(), part.begin(), part.end());
    store_phase({cols}, at);
  }

  int buffer_of(Value v) const {
    for (size_t i = 0; i < values_.size(); ++i)
      if (values_[i] == v) return static_cast<int>(i);
    assert(false && "a dot's operands are kernel inputs");
    return -1;
  }

  // ---- scatter_add, scatter_along_axis -------------------------------------------------------

  // Outer = the dims before the axis; per outer point, phase 0 copies the operand's slab and
  // phase 1 combines each update into place. Phase 1 reads the output it writes: duplicates
  // combine in order (and the last `set` wins), so its loops over the index dims must run in
  // sequence. scatter_add's indices replace the axis by their own dims; scatter_along_axis's
  // have the operand's rank, read at the update's own position.
  void scatter() {
    const Node& n = f_.node(root_);
    const bool along = n.op == OpKind::ScatterAlongAxis;
    const int64_t axis =
        along ? ir::scatter_along_axis_attrs(n).axis : ir::scatter_add_attrs(n).axis;
    const ir::Shape& shape = n.type.shape;
    const ir::Shape& idx_shape = f_.type(n.operands[1]).shape;
    auto& math = emitter_->math();
    Index outer;
    for (int64_t d = 0; d < axis; ++d) {
      kernel_.outer.push_back(shape[d]);
      outer.push_back(index(LoopLevel::Outer, static_cast<int>(d), shape[d]));
    }
    // Phase 0: out = x over this outer point's slab.
    Index at = outer;
    std::vector<int64_t> extents;
    for (size_t d = static_cast<size_t>(axis); d < shape.size(); ++d) {
      extents.push_back(shape[d]);
      at.push_back(index(LoopLevel::Inner, static_cast<int>(extents.size()) - 1, shape[d]));
    }
    Phase copy;
    copy.kind = PhaseKind::Store;
    copy.extents = extents;
    copy.stores.push_back({out_, math.linear(at, shape), emitter_->emit(n.operands[0], at)});
    kernel_.phases.push_back(std::move(copy));
    // Phase 1: out[.., clamp(idx[j]), ..] = combine(out[..], upd[.., j, ..]).
    extents.clear();
    Index upd_at = outer;
    const size_t idx_dims = along ? 1 : idx_shape.size();
    for (size_t d = 0; d < idx_dims; ++d) {
      const int64_t e = along ? idx_shape[static_cast<size_t>(axis)] : idx_shape[d];
      extents.push_back(e);
      upd_at.push_back(index(LoopLevel::Inner, static_cast<int>(extents.size()) - 1, e));
    }
    Index target = outer;
    target.push_back(0);  // the clamped index, below
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) {
      extents.push_back(shape[d]);
      const ExprId t = index(LoopLevel::Inner, static_cast<int>(extents.size()) - 1, shape[d]);
      upd_at.push_back(t);
      target.push_back(t);
    }
    const Index j = along ? upd_at
                          : Index(upd_at.begin() + axis,
                                  upd_at.begin() + axis + static_cast<int64_t>(idx_dims));
    const ExprId i = lowering::to_index(b_, emitter_->emit(n.operands[1], j));
    target[static_cast<size_t>(axis)] = math.clamp(i, 0, shape[axis] - 1);
    const ExprId offset = math.linear(target, shape);
    const ExprId old = b_.load(out_, n.type.dtype, offset);
    const ExprId update = emitter_->emit(n.operands[2], upd_at);
    Phase combine;
    combine.kind = PhaseKind::Store;
    combine.extents = extents;
    combine.stores.push_back({out_, offset, combined(n, old, update)});
    combine.sequential = true;
    kernel_.phases.push_back(std::move(combine));
  }

  // ---- scans --------------------------------------------------------------------------------

  // Outer = every dim but the axis; one sequential store phase walks the axis in scan order,
  // each element the one before it (loaded back from the output) combined with the operand's.
  void scan() {
    const Node& n = f_.node(root_);
    const ir::ScanAttrs a = ir::scan_attrs(n);
    const ir::Shape& shape = n.type.shape;
    const DType dtype = n.type.dtype;
    auto& math = emitter_->math();
    Index at(shape.size());
    int outer_axis = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (static_cast<int64_t>(d) == a.axis) continue;
      kernel_.outer.push_back(shape[d]);
      at[d] = index(LoopLevel::Outer, outer_axis++, shape[d]);
    }
    const int64_t size = shape[a.axis];
    const ExprId k = index(LoopLevel::Inner, 0, size);
    const ExprId i = a.reverse ? math.add(math.cst(size - 1), math.mul(k, -1)) : k;
    at[a.axis] = i;
    const ExprId value = emitter_->emit(n.operands[0], at);
    const ExprId offset = math.linear(at, shape);
    Index before = at;
    before[a.axis] = math.clamp(math.add(i, math.cst(a.reverse ? 1 : -1)), 0, size - 1);
    const ExprId carried = b_.load(out_, dtype, math.linear(before, shape));
    const ExprId first = math.cmp(OpKind::Eq, k, math.cst(0));
    Phase phase;
    phase.kind = PhaseKind::Store;
    phase.extents = {size};
    phase.stores.push_back(
        {out_, offset, b_.op(OpKind::Select, dtype, {first, value, scan_step(n, carried, value)})});
    phase.sequential = true;
    kernel_.phases.push_back(std::move(phase));
  }

  // The running value after `value`, from the one before it.
  ExprId scan_step(const Node& n, ExprId carried, ExprId value) {
    const DType dtype = n.type.dtype;
    switch (n.op) {
      case OpKind::CumSum:
        return b_.op(OpKind::Add, dtype, {carried, value});
      case OpKind::CumProd:
        return b_.op(OpKind::Mul, dtype, {carried, value});
      case OpKind::CumMax:
        return b_.op(OpKind::Max, dtype, {carried, value});
      case OpKind::CumMin:
        return b_.op(OpKind::Min, dtype, {carried, value});
      case OpKind::CumLogSumExp: {
        // log(e^a + e^b) = max + log1p(e^-|a - b|), a + log 2 where a == b (both infinite
        // included); f16/bf16 in f32.
        const bool half = dtype == DType::F16 || dtype == DType::BF16;
        const DType t = half ? DType::F32 : dtype;
        auto widen = [&](ExprId v) { return half ? b_.op(OpKind::Convert, t, {v}) : v; };
        const ExprId x = widen(carried), y = widen(value);
        const ExprId m = b_.op(OpKind::Max, t, {x, y});
        const ExprId gap =
            b_.op(OpKind::Neg, t, {b_.op(OpKind::Abs, t, {b_.op(OpKind::Sub, t, {x, y})})});
        const ExprId sum =
            b_.op(OpKind::Add, t, {m, b_.op(OpKind::Log1p, t, {b_.op(OpKind::Exp, t, {gap})})});
        const ExprId doubled = b_.op(OpKind::Add, t, {x, b_.constant_float(std::log(2.0), t)});
        const ExprId r =
            b_.op(OpKind::Select, t, {b_.op(OpKind::Eq, DType::Bool, {x, y}), doubled, sum});
        return half ? b_.op(OpKind::Convert, dtype, {r}) : r;
      }
      default:
        break;
    }
    assert(false && "not a scan");
    return value;
  }

  // What phase 1 stores: the old element combined with the update by the op's mode.
  ExprId combined(const Node& n, ExprId old, ExprId update) {
    const std::string mode =
        n.op == OpKind::ScatterAlongAxis ? ir::scatter_along_axis_attrs(n).mode : "add";
    if (mode == "set") return update;
    const OpKind op = mode == "add"   ? OpKind::Add
                      : mode == "mul" ? OpKind::Mul
                      : mode == "max" ? OpKind::Max
                                      : OpKind::Min;
    return b_.op(op, n.type.dtype, {old, update});
  }

  const ir::Function& f_;
  const passes::FusionGroup& group_;
  Kernel kernel_;
  ExprBuilder b_;
  std::optional<lowering::ScalarLowering> emitter_;
  std::vector<Value> values_;
  Value root_;
  int out_ = -1;
  // Reduction kernels: the row, its reduced axes, and the loop indices over both.
  ir::Shape row_, kept_;
  std::vector<int64_t> axes_, reduced_;
  Index row_index_, outer_index_;
  std::unordered_map<uint32_t, int> phase_of_;
};

}  // namespace

LoweredFunction lower(const ir::Function& function, const passes::FusionPlan& plan) {
  LoweredFunction out;
  for (size_t k = 0; k < plan.groups.size(); ++k) {
    KernelBuilder builder(function, plan.groups[k], function.name() + "_k" + std::to_string(k));
    std::vector<Value> values;
    out.kernels.push_back(builder.build(values));
    store_reduced_operands(out.kernels.back());
    out.kernel_values.push_back(std::move(values));
  }
  return out;
}

}  // namespace kiln::codegen
