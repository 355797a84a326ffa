// Reduce phases in the Rows strategy: per-invocation accumulation, then a fixed tree.

#include <cassert>
#include <cmath>
#include <functional>

#include "codegen/spirv/emitter_internal.h"
#include "codegen/spirv/scalar_ops.h"
#include "ir/scalar_semantics.h"

namespace kiln::codegen::spirv::detail {

Id Emitter::combine(OpKind op, DType value_dtype, Id a, Id b) {
  const bool fp = ir::is_float(value_dtype);
  switch (op) {
    case OpKind::ReduceSum:
      return fp ? b_.fadd(a, b) : b_.iadd(a, b);
    case OpKind::ReduceProd:
      return fp ? b_.fmul(a, b) : b_.imul(a, b);
    case OpKind::ReduceMax:
    case OpKind::ReduceMin: {
      const bool is_max = op == OpKind::ReduceMax;
      if (fp) return float_max_min(b_, a, b, is_max);
      Op greater = unsigned_like(value_dtype) ? Op::OpUGreaterThan : Op::OpSGreaterThan;
      return b_.select(is_max ? b_.compare(greater, a, b) : b_.compare(greater, b, a), a, b);
    }
    default:
      break;
  }
  assert(false && "not a reduction");
  return 0;
}

Id Emitter::subgroup_size() {
  if (!subgroup_size_) {
    Id u32 = b_.type_int(32);
    Id v = b_.global_variable(b_.type_pointer(spv::StorageClass::Input, u32),
                              spv::StorageClass::Input);
    b_.decorate(v, spv::Decoration::BuiltIn, {static_cast<uint32_t>(spv::BuiltIn::SubgroupSize)});
    b_.name(v, "subgroup_size");
    interface_.push_back(v);
    b_.capability(spv::Capability::GroupNonUniform);
    subgroup_size_ = v;
  }
  return b_.load(subgroup_size_);
}

Id Emitter::shuffle_xor(Id value, uint32_t mask) {
  b_.capability(spv::Capability::GroupNonUniformShuffle);
  return b_.emit(Op::OpGroupNonUniformShuffleXor, b_.type_of(value),
                 {b_.u32(static_cast<uint32_t>(spv::Scope::Subgroup)), value, b_.u32(mask)});
}

void Emitter::emit_reduce(const Phase& phase, size_t p) {
  const OpKind op = phase.reduce_op;
  const DType value_dtype = k_.exprs[phase.value].dtype;
  const bool arg = op == OpKind::Argmax || op == OpKind::Argmin;
  const bool fp = ir::is_float(value_dtype);
  const int64_t n = count_of(phase.extents);
  const DType acc_dtype = arg ? value_dtype : accumulator_dtype(op, value_dtype);
  Id acc_type = register_type(b_, acc_dtype);
  Id width = index_constant(plan_.workgroup_size);

  // Identities, as the interpreter's: -0 for a non-empty float sum, -inf/+inf or the dtype's
  // extremes for max/min.
  Id init = 0;
  if (arg) {
    init = fp ? b_.float_constant(acc_type, 0.0) : b_.int_constant(acc_type, 0);
  } else if (op == OpKind::ReduceSum) {
    init = fp ? b_.float_constant(acc_type, n > 0 ? -0.0 : 0.0) : b_.int_constant(acc_type, 0);
  } else if (op == OpKind::ReduceProd) {
    init = fp ? b_.float_constant(acc_type, 1.0) : b_.int_constant(acc_type, 1);
  } else {
    const bool is_max = op == OpKind::ReduceMax;
    if (fp) {
      init = b_.float_constant(acc_type, is_max ? -INFINITY : INFINITY);
    } else {
      auto [lo, hi] = ir::scalar::int_range(value_dtype);
      init = emit_constant(b_, value_dtype, 0, is_max ? lo : hi);
    }
  }
  const uint64_t none = narrow_ ? UINT32_MAX : UINT64_MAX;
  Id acc = b_.local_variable(acc_type);
  Id pos = arg ? b_.local_variable(index_type_) : 0;
  b_.store(acc, init);
  if (arg) b_.store(pos, b_.constant_bits(index_type_, none));

  const bool is_max_arg = op == OpKind::Argmax;
  // Whether (v2, p2) replaces (v1, p1) as the arg extreme: a NaN beats any number, a better
  // value wins, and equal values (or two NaNs) go to the lower position.
  auto takes = [&](Id v1, Id p1, Id v2, Id p2) {
    Id none_id = b_.constant_bits(index_type_, none);
    Id better, tie;
    if (fp) {
      Id beats = b_.compare(is_max_arg ? Op::OpFOrdGreaterThan : Op::OpFOrdLessThan, v2, v1);
      better = b_.logical_and(b_.logical_not(b_.is_nan(v1)), b_.logical_or(b_.is_nan(v2), beats));
      tie = b_.logical_or(b_.compare(Op::OpFOrdEqual, v1, v2),
                          b_.logical_and(b_.is_nan(v1), b_.is_nan(v2)));
    } else {
      const bool u = unsigned_like(value_dtype);
      Op gt = u ? Op::OpUGreaterThan : Op::OpSGreaterThan;
      better = is_max_arg ? b_.compare(gt, v2, v1) : b_.compare(gt, v1, v2);
      tie = b_.compare(Op::OpIEqual, v1, v2);
    }
    Id lower = b_.compare(Op::OpULessThan, p2, p1);
    Id wins = b_.logical_or(b_.compare(Op::OpIEqual, p1, none_id),
                            b_.logical_or(better, b_.logical_and(tie, lower)));
    return b_.logical_and(b_.compare(Op::OpINotEqual, p2, none_id), wins);
  };

  strided_loop(lid_index_, index_constant(n), width, [&](Id i) {
    inner_ = decompose(i, phase.extents);
    Id v = value(phase.value);
    emit_stores(phase);
    Id a = b_.load(acc);
    if (arg) {
      Id at = b_.load(pos);
      Id take = takes(a, at, v, i);
      b_.store(acc, b_.select(take, v, a));
      b_.store(pos, b_.select(take, i, at));
    } else {
      if (acc_dtype != value_dtype && fp) v = emit_convert(b_, v, value_dtype, acc_dtype);
      b_.store(acc, combine(op, value_dtype, a, v));
    }
  });

  // The invocations' partial results, combined in a fixed tree through shared memory.
  const uint32_t w = plan_.workgroup_size;
  auto shared_array = [&](Id element) {
    Id array = b_.type_array(element, w);
    Id var = b_.global_variable(b_.type_pointer(spv::StorageClass::Workgroup, array),
                                spv::StorageClass::Workgroup);
    interface_.push_back(var);
    return var;
  };
  Id values = shared_array(acc_type);
  Id positions = arg ? shared_array(index_type_) : 0;
  Id value_ptr = b_.type_pointer(spv::StorageClass::Workgroup, acc_type);
  Id pos_ptr = arg ? b_.type_pointer(spv::StorageClass::Workgroup, index_type_) : 0;
  // With subgroup shuffles, the levels below the subgroup size (read at run time: it may
  // differ per device and pipeline) combine registers instead: lane i takes lane i ^ s's pair,
  // its own on the left. For the lanes the tree reads later (i mod 2s == 0) that is the
  // shared-memory level's pair (i, i + s) in the same order, so the bits are the same whatever
  // the subgroup size. Subgroups are consecutive invocations of the 1-D workgroup.
  // Shuffles of 64-bit integers (i64 values, positions indexed in 64 bits) would need
  // shaderSubgroupExtendedTypes; those reductions keep the shared-memory levels.
  const bool wide_int = b_.int_width(acc_type) == 64 || (arg && b_.int_width(index_type_) == 64);
  const bool shuffle = t_.subgroup_shuffle && w > 1 && !wide_int;
  Id subgroup = shuffle ? subgroup_size() : 0;
  auto pair_step = [&](Id a, Id pa, Id c, Id pc, const std::function<void(Id, Id)>& put) {
    if (arg) {
      Id take = takes(a, pa, c, pc);
      put(b_.select(take, c, a), b_.select(take, pc, pa));
    } else {
      put(combine(op, value_dtype, a, c), 0);
    }
  };
  for (uint32_t stride = 1; shuffle && stride < std::min(w, kMaxSubgroupSize); stride *= 2) {
    if_then(b_.compare(Op::OpULessThan, b_.u32(stride), subgroup), [&] {
      Id a = b_.load(acc);
      Id pa = arg ? b_.load(pos) : 0;
      Id c = shuffle_xor(a, stride);
      Id pc = arg ? shuffle_xor(pa, stride) : 0;
      pair_step(a, pa, c, pc, [&](Id v, Id at) {
        b_.store(acc, v);
        if (arg) b_.store(pos, at);
      });
    });
  }
  b_.store(b_.access_chain(value_ptr, values, {lid_}), b_.load(acc));
  if (arg) b_.store(b_.access_chain(pos_ptr, positions, {lid_}), b_.load(pos));
  barrier();
  for (uint32_t stride = 1; stride < w; stride *= 2) {
    auto level = [&] {
      if_then(b_.compare(Op::OpIEqual, b_.bit_and(lid_, b_.u32(2 * stride - 1)), b_.u32(0)), [&] {
        Id other = b_.iadd(lid_, b_.u32(stride));
        Id mine_ptr = b_.access_chain(value_ptr, values, {lid_});
        Id mine_pos_ptr = arg ? b_.access_chain(pos_ptr, positions, {lid_}) : 0;
        Id a = b_.load(mine_ptr);
        Id c = b_.load(b_.access_chain(value_ptr, values, {other}));
        Id pa = arg ? b_.load(mine_pos_ptr) : 0;
        Id pc = arg ? b_.load(b_.access_chain(pos_ptr, positions, {other})) : 0;
        pair_step(a, pa, c, pc, [&](Id v, Id at) {
          b_.store(mine_ptr, v);
          if (arg) b_.store(mine_pos_ptr, at);
        });
      });
      barrier();
    };
    // The subgroup size is the same for the whole workgroup, so the barrier stays uniform.
    if (shuffle && stride < kMaxSubgroupSize)
      if_then(b_.compare(Op::OpUGreaterThanEqual, b_.u32(stride), subgroup), level);
    else
      level();
  }
  Id result;
  if (arg) {
    Id at = b_.load(b_.access_chain(pos_ptr, positions, {b_.u32(0)}));
    at = b_.select(b_.compare(Op::OpIEqual, at, b_.constant_bits(index_type_, none)),
                   index_constant(0), at);
    if (!narrow_) at = b_.convert(Op::OpUConvert, b_.type_int(32), at);
    result = emit_convert(b_, at, DType::I32, phase.result_dtype);
  } else {
    Id total = b_.load(b_.access_chain(value_ptr, values, {b_.u32(0)}));
    result = fp ? emit_convert(b_, total, acc_dtype, phase.result_dtype)
                : wrap_to_dtype(b_, total, phase.result_dtype);
  }
  barrier();  // every invocation has read the total before the next reduction reuses memory
  phase_results_[p] = result;
}

}  // namespace kiln::codegen::spirv::detail
