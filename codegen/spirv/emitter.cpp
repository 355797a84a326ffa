// Kernel IR -> a SPIR-V compute module (see spirv_compiler.h for the dispatch plans).

#include <bit>
#include <cassert>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "codegen/spirv/builder.h"
#include "codegen/spirv/emitter.h"
#include "codegen/spirv/emitter_internal.h"
#include "codegen/spirv/scalar_ops.h"
#include "ir/error.h"
#include "ir/scalar_semantics.h"
#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::codegen::spirv {

namespace detail {

using ir::DType;
using ir::OpKind;
using spv::Op;

void Emitter::analyze() {
  auto fits32 = [](int64_t n) { return n >= 0 && n < (int64_t{1} << 31); };
  narrow_ = fits32(k_.outer_count());
  for (const KernelBuffer& buffer : k_.buffers)
    narrow_ = narrow_ && fits32(buffer.type.num_elements());
  for (const Phase& phase : k_.phases)
    narrow_ = narrow_ && fits32(count_of(phase.extents)) && fits32(phase.contraction);
  index_type_ = b_.type_int(narrow_ ? 32 : 64);

  narrowable_.assign(k_.exprs.size(), false);
  for (size_t e = 0; e < k_.exprs.size(); ++e) {
    const Expr& x = k_.exprs[e];
    switch (x.kind) {
      case ExprKind::Index:
        narrowable_[e] = true;
        break;
      case ExprKind::Constant:
        narrowable_[e] =
            x.dtype != DType::I64 || (x.int_value >= INT32_MIN && x.int_value <= INT32_MAX);
        break;
      case ExprKind::Op: {
        // Bit-level ops see the width itself (clz, popcount of a negative value, shifts past
        // bit 31, a bitcast's 64 bits), so their i64 results are never narrowed.
        bool all = x.op != OpKind::Popcount && x.op != OpKind::Clz && x.op != OpKind::ShiftLeft &&
                   x.op != OpKind::ShiftRightLogical && x.op != OpKind::ShiftRightArithmetic &&
                   x.op != OpKind::BitcastConvert;
        for (ExprId o : x.operands)
          all = all && narrowable_[o];
        narrowable_[e] = all;
        break;
      }
      case ExprKind::Load:
      case ExprKind::PhaseResult:
        break;
    }
  }
  written_.assign(k_.buffers.size(), false);
  accessed_.assign(k_.buffers.size(), false);
  for (const Phase& phase : k_.phases)
    for (const Store& s : phase.stores)
      written_[static_cast<size_t>(s.buffer)] = accessed_[static_cast<size_t>(s.buffer)] = true;
  for (const Expr& x : k_.exprs)
    if (x.kind == ExprKind::Load) accessed_[static_cast<size_t>(x.buffer)] = true;
  phase_results_.assign(k_.phases.size(), 0);
}

DType Emitter::effective(ExprId e) const {
  const DType d = k_.exprs[e].dtype;
  return d == DType::I64 && narrow_ && narrowable_[e] ? DType::I32 : d;
}

void Emitter::declare_interface() {
  b_.capability(spv::Capability::Shader);
  b_.capability(spv::Capability::PhysicalStorageBufferAddresses);
  b_.memory_model(spv::AddressingModel::PhysicalStorageBuffer64, spv::MemoryModel::GLSL450);
  Id u32 = b_.type_int(32);
  Id uvec3 = b_.type_vector(u32, 3);
  Id input_uvec3 = b_.type_pointer(spv::StorageClass::Input, uvec3);
  auto builtin = [&](spv::BuiltIn which, const char* name) {
    Id v = b_.global_variable(input_uvec3, spv::StorageClass::Input);
    b_.decorate(v, spv::Decoration::BuiltIn, {static_cast<uint32_t>(which)});
    b_.name(v, name);
    interface_.push_back(v);
    return v;
  };
  workgroup_id_ = builtin(spv::BuiltIn::WorkgroupId, "workgroup_id");
  num_workgroups_ = builtin(spv::BuiltIn::NumWorkgroups, "num_workgroups");
  local_id_ = builtin(spv::BuiltIn::LocalInvocationId, "local_id");

  // One block type per memory dtype: { T data[]; }.
  std::vector<Id> block_of_dtype(std::size(ir::kAllDTypes), 0);
  block_pointer_type_.resize(k_.buffers.size());
  element_pointer_type_.resize(k_.buffers.size());
  buffer_pointer_.assign(k_.buffers.size(), 0);
  by_descriptor_.assign(k_.buffers.size(), false);
  std::vector<Id> members;
  for (size_t i = 0; i < k_.buffers.size(); ++i) {
    const DType d = k_.buffers[i].type.dtype;
    Id mem = memory_type(b_, d);
    Id& block = block_of_dtype[static_cast<size_t>(d)];
    if (!block) {
      Id array = b_.type_runtime_array(mem);
      b_.decorate(array, spv::Decoration::ArrayStride, {static_cast<uint32_t>(ir::dtype_size(d))});
      Id array_member[] = {array};
      block = b_.type_struct(array_member);
      b_.decorate(block, spv::Decoration::Block);
      b_.member_decorate(block, 0, spv::Decoration::Offset, {0});
    }
    by_descriptor_[i] =
        runtime::bound_by_descriptor(i, k_.buffers[i].type.size_bytes(), t_.descriptors);
    const spv::StorageClass storage = by_descriptor_[i] ? spv::StorageClass::StorageBuffer
                                                        : spv::StorageClass::PhysicalStorageBuffer;
    block_pointer_type_[i] = b_.type_pointer(storage, block);
    element_pointer_type_[i] = b_.type_pointer(storage, mem);
    // The table keeps a slot per buffer (the ABI's layout); descriptor-bound ones go unread.
    members.push_back(b_.type_pointer(spv::StorageClass::PhysicalStorageBuffer, block));
    if (by_descriptor_[i] && accessed_[i]) {
      Id v = b_.global_variable(block_pointer_type_[i], spv::StorageClass::StorageBuffer);
      b_.decorate(v, spv::Decoration::DescriptorSet, {0});
      b_.decorate(v, spv::Decoration::Binding, {static_cast<uint32_t>(i)});
      b_.name(v, "b" + std::to_string(i));
      interface_.push_back(v);
      buffer_pointer_[i] = v;
    }
  }
  if (members.empty()) members.push_back(b_.type_int(32));  // a kernel without buffers
  table_type_ = b_.type_struct(members);
  b_.decorate(table_type_, spv::Decoration::Block);
  for (uint32_t i = 0; i < members.size(); ++i)
    b_.member_decorate(table_type_, i, spv::Decoration::Offset, {8 * i});
  Id table_pointer = b_.type_pointer(spv::StorageClass::PhysicalStorageBuffer, table_type_);
  Id push_member[] = {table_pointer};
  Id push_type = b_.type_struct(push_member);
  b_.decorate(push_type, spv::Decoration::Block);
  b_.member_decorate(push_type, 0, spv::Decoration::Offset, {0});
  push_constants_ = b_.global_variable(b_.type_pointer(spv::StorageClass::PushConstant, push_type),
                                       spv::StorageClass::PushConstant);
  b_.name(push_constants_, "push_constants");
  interface_.push_back(push_constants_);
}

void Emitter::load_buffer_pointers() {
  bool any = false;
  for (size_t i = 0; i < k_.buffers.size(); ++i)
    any = any || (accessed_[i] && !by_descriptor_[i]);
  if (!any) return;
  Id table_pointer_type = b_.type_pointer(spv::StorageClass::PhysicalStorageBuffer, table_type_);
  Id pc_member =
      b_.access_chain(b_.type_pointer(spv::StorageClass::PushConstant, table_pointer_type),
                      push_constants_, {b_.u32(0)});
  Id table = b_.load(pc_member);
  for (size_t i = 0; i < k_.buffers.size(); ++i) {
    if (!accessed_[i] || by_descriptor_[i]) continue;
    Id slot = b_.access_chain(
        b_.type_pointer(spv::StorageClass::PhysicalStorageBuffer, block_pointer_type_[i]), table,
        {b_.u32(static_cast<uint32_t>(i))});
    buffer_pointer_[i] = b_.load(slot, 8);
    b_.name(buffer_pointer_[i], "b" + std::to_string(i));
  }
}

// ---- expressions

Id Emitter::value(ExprId e) {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
    if (auto found = it->find(e); found != it->end()) return found->second;
  Id v = compute(e);
  scopes_.back()[e] = v;
  return v;
}

Id Emitter::element_pointer(int buffer, ExprId offset) {
  const size_t i = static_cast<size_t>(buffer);
  return b_.access_chain(element_pointer_type_[i], buffer_pointer_[i], {b_.u32(0), value(offset)});
}

Id Emitter::compute(ExprId e) {
  const Expr& x = k_.exprs[e];
  switch (x.kind) {
    case ExprKind::Index:
      switch (x.loop) {
        case LoopLevel::Outer:
          return outer_[static_cast<size_t>(x.axis)];
        case LoopLevel::Inner:
          return inner_[static_cast<size_t>(x.axis)];
        case LoopLevel::Contraction:
          return contraction_;
      }
      break;
    case ExprKind::Constant:
      return emit_constant(b_, effective(e), x.float_value, x.int_value);
    case ExprKind::Load: {
      const DType d = k_.buffers[static_cast<size_t>(x.buffer)].type.dtype;
      Id loaded = b_.load(element_pointer(x.buffer, x.operands[0]), alignment(x.buffer));
      return from_memory(b_, loaded, d);
    }
    case ExprKind::PhaseResult:
      assert(phase_results_[static_cast<size_t>(x.phase)] && "a phase result before its phase");
      return phase_results_[static_cast<size_t>(x.phase)];
    case ExprKind::Op: {
      // Narrowed i64 operands compute as i32 when every i64 operand is narrowed, else widen.
      bool all_narrow = true;
      for (ExprId o : x.operands)
        if (k_.exprs[o].dtype == DType::I64) all_narrow = all_narrow && effective(o) == DType::I32;
      std::vector<DType> dtypes;
      std::vector<Id> args;
      for (ExprId o : x.operands) {
        Id v = value(o);
        DType d = effective(o);
        if (k_.exprs[o].dtype == DType::I64 && !all_narrow && d == DType::I32) {
          v = widen_to_64(b_, v, DType::I32);
          d = DType::I64;
        }
        dtypes.push_back(d);
        args.push_back(v);
      }
      DType result = effective(e);
      // An op over narrowable operands is narrowable itself, so an i64 result is never
      // computed from narrowed operands alone (a convert from a narrower dtype, and the
      // bit-level ops analyze() keeps wide, aside).
      if (result == DType::I64 && all_narrow) {
        // Those ops read their i64 operands at full width.
        for (size_t i = 0; i < args.size(); ++i)
          if (dtypes[i] == DType::I32 && k_.exprs[x.operands[i]].dtype == DType::I64) {
            args[i] = widen_to_64(b_, args[i], DType::I32);
            dtypes[i] = DType::I64;
          }
        assert((x.op == OpKind::Convert || !narrowable_[e]) && "narrowing mismatch");
      }
      return emit_scalar_op(b_, x.op, result, dtypes, args);
    }
  }
  assert(false && "unknown expression kind");
  return 0;
}

void Emitter::emit_stores(const Phase& phase) {
  for (const Store& s : phase.stores) {
    const DType d = k_.buffers[static_cast<size_t>(s.buffer)].type.dtype;
    Id v = value(s.value);
    if (d == DType::I64 && effective(s.value) == DType::I32) v = widen_to_64(b_, v, DType::I32);
    v = to_memory(b_, v, d);
    b_.store(element_pointer(s.buffer, s.offset), v, alignment(s.buffer));
  }
}

// Evaluates, before phase p's loops, every expression of the phase that is the same for all
// its inner iterations (index arithmetic on outer indices, earlier phases' results, loads from
// buffers the kernel never writes).
void Emitter::hoist(const Phase& phase, size_t p) {
  std::vector<int8_t> invariant(k_.exprs.size(), -1);
  std::function<bool(ExprId)> visit = [&](ExprId e) -> bool {
    if (invariant[e] >= 0) return invariant[e];
    const Expr& x = k_.exprs[e];
    bool inv = true;
    switch (x.kind) {
      case ExprKind::Index:
        inv = x.loop == LoopLevel::Outer;
        break;
      case ExprKind::Constant:
        break;
      case ExprKind::PhaseResult:
        inv = static_cast<size_t>(x.phase) < p;
        break;
      case ExprKind::Load:
        inv = !written_[static_cast<size_t>(x.buffer)];
        [[fallthrough]];
      case ExprKind::Op:
        for (ExprId o : x.operands)
          inv = visit(o) && inv;
        break;
    }
    invariant[e] = inv;
    return inv;
  };
  for (ExprId root : phase_roots(phase))
    visit(root);
  for (size_t e = 0; e < k_.exprs.size(); ++e)
    if (invariant[e] == 1 && k_.exprs[e].kind != ExprKind::Constant) value(static_cast<ExprId>(e));
}

// ---- control flow

void Emitter::strided_loop(Id begin, Id end, Id step, const std::function<void(Id)>& body) {
  Id counter = b_.local_variable(b_.type_of(begin));
  b_.store(counter, begin);
  b_.loop([&] { return b_.compare(Op::OpULessThan, b_.load(counter), end); },
          [&] {
            Id i = b_.load(counter);
            scopes_.emplace_back();
            body(i);
            scopes_.pop_back();
            b_.store(counter, b_.iadd(i, step));
          });
}

void Emitter::if_then(Id condition, const std::function<void()>& body) {
  Id then = b_.new_label(), merge = b_.new_label();
  b_.selection_merge(merge);
  b_.branch_conditional(condition, then, merge);
  b_.begin_block(then);
  scopes_.emplace_back();
  body();
  scopes_.pop_back();
  b_.branch(merge);
  b_.begin_block(merge);
}

void Emitter::barrier() {
  const uint32_t semantics = static_cast<uint32_t>(spv::MemorySemanticsMask::AcquireRelease) |
                             static_cast<uint32_t>(spv::MemorySemanticsMask::UniformMemory) |
                             static_cast<uint32_t>(spv::MemorySemanticsMask::WorkgroupMemory);
  Id workgroup = b_.u32(static_cast<uint32_t>(spv::Scope::Workgroup));
  b_.emit_void(Op::OpControlBarrier, {workgroup, workgroup, b_.u32(semantics)});
}

// Row-major indices of `linear` over `extents` (as index registers).
std::vector<Id> Emitter::decompose(Id linear, const std::vector<int64_t>& extents) {
  std::vector<Id> dims(extents.size());
  for (size_t d = extents.size(); d-- > 0;) {
    if (d == 0) {
      dims[d] = linear;
      break;
    }
    Id extent = index_constant(extents[d]);
    dims[d] = extents[d] == 1 ? index_constant(0) : b_.umod(linear, extent);
    linear = extents[d] == 1 ? linear : b_.udiv(linear, extent);
  }
  return dims;
}

// ---- strategies

void Emitter::emit_flat(Id group) {
  const Phase& phase = k_.phases[0];
  const int64_t inner_count = count_of(phase.extents);
  const int64_t total = k_.outer_count() * inner_count;
  Id g = narrow_ ? group : b_.convert(Op::OpUConvert, index_type_, group);
  Id element = b_.iadd(b_.imul(g, index_constant(plan_.workgroup_size)), lid_index_);
  Id past = b_.compare(Op::OpUGreaterThanEqual, element, index_constant(total));
  Id out = b_.new_label(), merge = b_.new_label();
  b_.selection_merge(merge);
  b_.branch_conditional(past, out, merge);
  b_.begin_block(out);
  b_.return_void();
  b_.begin_block(merge);
  Id outer_linear =
      k_.outer.empty() ? index_constant(0) : b_.udiv(element, index_constant(inner_count));
  Id inner_linear = b_.umod(element, index_constant(inner_count));
  outer_ = decompose(outer_linear, k_.outer);
  inner_ = decompose(inner_linear, phase.extents);
  emit_stores(phase);
}

void Emitter::emit_rows(Id group) {
  outer_ = decompose(narrow_ ? group : b_.convert(Op::OpUConvert, index_type_, group), k_.outer);
  Id width = index_constant(plan_.workgroup_size);
  for (size_t p = 0; p < k_.phases.size(); ++p) {
    const Phase& phase = k_.phases[p];
    if (p > 0) barrier();
    hoist(phase, p);
    Id count = index_constant(count_of(phase.extents));
    switch (phase.kind) {
      case PhaseKind::Store:
        if (phase.sequential) {
          if_then(b_.compare(Op::OpIEqual, lid_, b_.u32(0)), [&] {
            strided_loop(index_constant(0), count, index_constant(1), [&](Id i) {
              inner_ = decompose(i, phase.extents);
              emit_stores(phase);
            });
          });
        } else {
          strided_loop(lid_index_, count, width, [&](Id i) {
            inner_ = decompose(i, phase.extents);
            emit_stores(phase);
          });
        }
        break;
      case PhaseKind::Reduce:
        emit_reduce(phase, p);
        break;
      case PhaseKind::Dot:
        emit_dot(phase, p);
        break;
    }
  }
}

std::vector<uint32_t> Emitter::emit(const std::string& entry) {
  analyze();
  declare_interface();
  Id void_type = b_.type_void();
  Id function = b_.begin_function(void_type, b_.type_function(void_type, {}));
  b_.name(function, entry);
  b_.begin_block(b_.new_label());
  scopes_.emplace_back();
  Id u32 = b_.type_int(32);
  Id wg = b_.load(workgroup_id_);
  Id nwg = b_.load(num_workgroups_);
  lid_ = b_.extract(u32, b_.load(local_id_), 0);
  lid_index_ = narrow_ ? lid_ : b_.convert(Op::OpUConvert, index_type_, lid_);
  Id group =
      b_.iadd(b_.imul(b_.extract(u32, wg, 1), b_.extract(u32, nwg, 0)), b_.extract(u32, wg, 0));
  // Workgroups past the total do nothing (the grid is a rectangle).
  Id past =
      b_.compare(Op::OpUGreaterThanEqual, group, b_.u32(static_cast<uint32_t>(plan_.workgroups)));
  Id out = b_.new_label(), merge = b_.new_label();
  b_.selection_merge(merge);
  b_.branch_conditional(past, out, merge);
  b_.begin_block(out);
  b_.return_void();
  b_.begin_block(merge);
  load_buffer_pointers();
  if (plan_.strategy == DispatchPlan::Strategy::Flat)
    emit_flat(group);
  else if (plan_.strategy == DispatchPlan::Strategy::Tiled)
    emit_tiled(group);
  else
    emit_rows(group);
  b_.return_void();
  b_.end_function();

  b_.entry_point(spv::ExecutionModel::GLCompute, function, entry, interface_);
  b_.execution_mode(function, spv::ExecutionMode::LocalSize, {plan_.workgroup_size, 1, 1});
  auto require = [&](bool has, const char* feature) {
    if (!has)
      throw Error("[vulkan] kernel " + k_.name + " needs " + feature + ", which device '" +
                  t_.device_name + "' lacks");
  };
  if (b_.declares_int(64)) {
    require(t_.int64, "64-bit integers (shaderInt64)");
    b_.capability(spv::Capability::Int64);
  }
  if (b_.declares_float(64)) {
    require(t_.float64, "64-bit floats (shaderFloat64)");
    b_.capability(spv::Capability::Float64);
  }
  if (b_.declares_int(8)) {
    // Int8 too: the push-constant table reaches the 8-bit arrays through pointers, which the
    // validator counts as 8-bit types outside storage.
    require(t_.storage8 && t_.int8,
            "8-bit storage and integers (storageBuffer8BitAccess, shaderInt8)");
    b_.capability(spv::Capability::StorageBuffer8BitAccess);
    b_.capability(spv::Capability::Int8);
  }
  if (b_.declares_int(16)) {
    require(t_.storage16 && t_.int16,
            "16-bit storage and integers (storageBuffer16BitAccess, shaderInt16)");
    b_.capability(spv::Capability::StorageBuffer16BitAccess);
    b_.capability(spv::Capability::Int16);
  }
  if (t_.signed_zero_inf_nan_preserve32 || t_.signed_zero_inf_nan_preserve64)
    b_.capability(spv::Capability::SignedZeroInfNanPreserve);
  if (t_.signed_zero_inf_nan_preserve32)
    b_.execution_mode(function, spv::ExecutionMode::SignedZeroInfNanPreserve, {32});
  if (t_.signed_zero_inf_nan_preserve64 && b_.declares_float(64))
    b_.execution_mode(function, spv::ExecutionMode::SignedZeroInfNanPreserve, {64});
  return b_.finish();
}

}  // namespace detail

using namespace detail;

DispatchPlan plan_dispatch(const Kernel& kernel, const SpirvTarget& target) {
  DispatchPlan plan;
  const uint32_t limit = floor_pow2(std::min(kMaxWorkgroup, target.max_workgroup_invocations));
  if (is_flat(kernel)) {
    plan.strategy = DispatchPlan::Strategy::Flat;
    plan.workgroup_size = limit;
    const uint64_t total =
        static_cast<uint64_t>(kernel.outer_count()) * count_of(kernel.phases[0].extents);
    plan.workgroups = (total + limit - 1) / limit;
    return plan;
  }
  if (std::optional<DispatchPlan> tiled = plan_tiled(kernel, target)) return *tiled;
  plan.strategy = DispatchPlan::Strategy::Rows;
  int64_t widest = 1;
  for (const Phase& phase : kernel.phases)
    widest = std::max(widest, count_of(phase.extents));
  uint32_t w = widest >= limit ? limit : std::bit_ceil(static_cast<uint32_t>(widest));
  // Shared memory: a value and a position per invocation, at most 16 bytes.
  while (w > 1 && uint64_t{w} * 16 > target.max_shared_memory_bytes)
    w /= 2;
  plan.workgroup_size = w;
  plan.workgroups = static_cast<uint64_t>(kernel.outer_count());
  return plan;
}

std::vector<uint32_t> emit_module(const Kernel& kernel, const SpirvTarget& target,
                                  const DispatchPlan& plan, const std::string& entry) {
  return Emitter(kernel, target, plan).emit(entry);
}

}  // namespace kiln::codegen::spirv
