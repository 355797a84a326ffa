#pragma once
// The SPIR-V emitter's state, shared by the files that implement its strategies (emitter.cpp:
// setup, expressions, Flat and Rows; the other emitter_*.cpp files one strategy or phase kind
// each). Internal to codegen/spirv.

#include <bit>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "codegen/kernel.h"
#include "codegen/spirv/builder.h"
#include "codegen/spirv/spirv_compiler.h"

namespace kiln::codegen::spirv::detail {

using ir::DType;
using ir::OpKind;
using spv::Op;

inline constexpr uint32_t kMaxWorkgroup = 256;
inline constexpr uint32_t kMaxSubgroupSize = 128;  // Vulkan's bound on any device

inline int64_t count_of(const std::vector<int64_t>& extents) {
  int64_t n = 1;
  for (int64_t e : extents)
    n *= e;
  return n;
}

inline bool is_flat(const Kernel& k) {
  return k.phases.size() == 1 && k.phases[0].kind == PhaseKind::Store && !k.phases[0].sequential;
}

inline uint32_t floor_pow2(uint32_t v) {
  return v ? std::bit_floor(v) : 1;
}

// The accumulator of a reduction: f16/bf16 sums in f32, float products in f64, as on the CPU.
inline DType accumulator_dtype(OpKind reduce, DType value) {
  if (reduce == OpKind::ReduceProd && ir::is_float(value)) return DType::F64;
  return reduce == OpKind::ReduceSum ? dot_accumulator(value) : value;
}

inline bool unsigned_like(DType d) {
  return d == DType::Bool || ir::is_unsigned(d);
}

// The Tiled plan for a kernel, if it is one (emitter_dot.cpp).
std::optional<DispatchPlan> plan_tiled(const Kernel& kernel, const SpirvTarget& target);

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
  void emit_tiled(Id group);
  Id combine(OpKind op, DType value_dtype, Id a, Id b);
  // ---- subgroups (emitter_reduce.cpp)
  Id subgroup_size();  // the SubgroupSize builtin's value, declared on first use
  Id shuffle_xor(Id value, uint32_t mask);

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
  Id subgroup_size_ = 0;  // the SubgroupSize builtin, once declared
  // Current indices and results.
  std::vector<Id> outer_, inner_;
  Id contraction_ = 0;
  std::vector<Id> phase_results_;
  std::vector<std::unordered_map<ExprId, Id>> scopes_;
};

}  // namespace kiln::codegen::spirv::detail
