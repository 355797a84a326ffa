// Kernel IR -> a SPIR-V compute module (see spirv_compiler.h for the dispatch plans).

#include <bit>
#include <cassert>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "codegen/spirv/builder.h"
#include "codegen/spirv/emitter.h"
#include "codegen/spirv/scalar_ops.h"
#include "ir/error.h"
#include "ir/scalar_semantics.h"
#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::codegen::spirv {

namespace {

using ir::DType;
using ir::OpKind;
using spv::Op;

constexpr uint32_t kMaxWorkgroup = 256;

int64_t count_of(const std::vector<int64_t>& extents) {
  int64_t n = 1;
  for (int64_t e : extents)
    n *= e;
  return n;
}

bool is_flat(const Kernel& k) {
  return k.phases.size() == 1 && k.phases[0].kind == PhaseKind::Store && !k.phases[0].sequential;
}

uint32_t floor_pow2(uint32_t v) {
  return v ? std::bit_floor(v) : 1;
}

// The accumulator of a reduction: f16/bf16 sums in f32, float products in f64, as on the CPU.
DType accumulator_dtype(OpKind reduce, DType value) {
  if (reduce == OpKind::ReduceProd && ir::is_float(value)) return DType::F64;
  return reduce == OpKind::ReduceSum ? dot_accumulator(value) : value;
}

bool unsigned_like(DType d) {
  return d == DType::Bool || ir::is_unsigned(d);
}

class Emitter {
 public:
  Emitter(const Kernel& kernel, const SpirvTarget& target, const DispatchPlan& plan)
      : k_(kernel), t_(target), plan_(plan) {}

  std::vector<uint32_t> emit(const std::string& entry);

 private:
  // ---- setup
  void analyze();
  void declare_interface();
  void load_buffer_pointers();
  // ---- expressions
  DType effective(ExprId e) const;
  Id value(ExprId e);
  Id compute(ExprId e);
  Id element_pointer(int buffer, ExprId offset);
  // The Aligned operand an access through a physical pointer needs (none for descriptors).
  uint32_t alignment(int buffer) const {
    const size_t i = static_cast<size_t>(buffer);
    return by_descriptor_[i] ? 0 : static_cast<uint32_t>(ir::dtype_size(k_.buffers[i].type.dtype));
  }
  void emit_stores(const Phase& phase);
  void hoist(const Phase& phase, size_t p);
  // ---- control flow
  void strided_loop(Id begin, Id end, Id step, const std::function<void(Id)>& body);
  void if_then(Id condition, const std::function<void()>& body);
  void barrier();
  std::vector<Id> decompose(Id linear, const std::vector<int64_t>& extents);
  Id index_constant(int64_t v) { return b_.int_constant(index_type_, v); }
  // ---- strategies
  void emit_flat(Id group);
  void emit_rows(Id group);
  void emit_reduce(const Phase& phase, size_t p);
  void emit_dot(const Phase& phase, size_t p);
  Id combine(OpKind op, DType value_dtype, Id a, Id b);

  const Kernel& k_;
  const SpirvTarget& t_;
  DispatchPlan plan_;
  Builder b_;
  bool narrow_ = false;  // index arithmetic in 32 bits
  Id index_type_ = 0;
  std::vector<bool> narrowable_;     // index arithmetic that reads no memory
  std::vector<bool> written_;        // buffers the kernel stores to
  std::vector<bool> accessed_;       // buffers the kernel loads from or stores to
  std::vector<bool> by_descriptor_;  // bound as storage buffers (else by address)
  // Interface.
  Id workgroup_id_ = 0, num_workgroups_ = 0, local_id_ = 0, push_constants_ = 0;
  Id table_type_ = 0;
  std::vector<Id> block_pointer_type_, element_pointer_type_, buffer_pointer_;
  std::vector<Id> interface_;
  Id lid_ = 0;  // this invocation's index in its workgroup (u32), and as an index register
  Id lid_index_ = 0;
  // Current indices and results.
  std::vector<Id> outer_, inner_;
  Id contraction_ = 0;
  std::vector<Id> phase_results_;
  std::vector<std::unordered_map<ExprId, Id>> scopes_;
};

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
        bool all = true;
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
      if (result == DType::I64 && x.op != OpKind::Convert && all_narrow) {
        // An i64 op over narrowed operands whose result is not narrowable cannot happen: the
        // result of an op over narrowable operands is narrowable.
        assert(false && "narrowing mismatch");
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
  b_.store(b_.access_chain(value_ptr, values, {lid_}), b_.load(acc));
  if (arg) b_.store(b_.access_chain(pos_ptr, positions, {lid_}), b_.load(pos));
  barrier();
  for (uint32_t stride = 1; stride < w; stride *= 2) {
    if_then(b_.compare(Op::OpIEqual, b_.bit_and(lid_, b_.u32(2 * stride - 1)), b_.u32(0)), [&] {
      Id other = b_.iadd(lid_, b_.u32(stride));
      Id mine_ptr = b_.access_chain(value_ptr, values, {lid_});
      Id a = b_.load(mine_ptr);
      Id c = b_.load(b_.access_chain(value_ptr, values, {other}));
      if (arg) {
        Id mine_pos_ptr = b_.access_chain(pos_ptr, positions, {lid_});
        Id pa = b_.load(mine_pos_ptr);
        Id pc = b_.load(b_.access_chain(pos_ptr, positions, {other}));
        Id take = takes(a, pa, c, pc);
        b_.store(mine_ptr, b_.select(take, c, a));
        b_.store(mine_pos_ptr, b_.select(take, pc, pa));
      } else {
        b_.store(mine_ptr, combine(op, value_dtype, a, c));
      }
    });
    barrier();
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

void Emitter::emit_dot(const Phase& phase, size_t p) {
  const DType dtype = phase.result_dtype;
  const DType acc_dtype = phase.accumulator;
  const bool fp = ir::is_float(acc_dtype);
  Id acc_type = register_type(b_, acc_dtype);
  Id acc = b_.local_variable(acc_type);
  Id width = index_constant(plan_.workgroup_size);
  strided_loop(lid_index_, index_constant(count_of(phase.extents)), width, [&](Id i) {
    inner_ = decompose(i, phase.extents);
    // The -0 identity of a non-empty float sum, as on the CPU.
    b_.store(acc, fp ? b_.float_constant(acc_type, phase.contraction > 0 ? -0.0 : 0.0)
                     : b_.int_constant(acc_type, 0));
    strided_loop(index_constant(0), index_constant(phase.contraction), index_constant(1),
                 [&](Id kk) {
                   contraction_ = kk;
                   Id l = emit_convert(b_, value(phase.dot_lhs), dtype, acc_dtype);
                   Id r = emit_convert(b_, value(phase.dot_rhs), dtype, acc_dtype);
                   Id a = b_.load(acc);
                   b_.store(acc, fp ? b_.fma(l, r, a) : b_.iadd(a, b_.imul(l, r)));
                 });
    Id total = b_.load(acc);
    phase_results_[p] =
        fp ? emit_convert(b_, total, acc_dtype, dtype) : wrap_to_dtype(b_, total, dtype);
    emit_stores(phase);
  });
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
  Id uvec3 = b_.type_vector(u32, 3);
  Id wg = b_.load(workgroup_id_);
  Id nwg = b_.load(num_workgroups_);
  lid_ = b_.extract(u32, b_.load(local_id_), 0);
  lid_index_ = narrow_ ? lid_ : b_.convert(Op::OpUConvert, index_type_, lid_);
  (void)uvec3;
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

}  // namespace

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
