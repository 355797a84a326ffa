#pragma once
// A small SPIR-V module builder: ids, the module's sections in the order the specification
// fixes, interned types and constants (spirv-val rejects a non-aggregate type declared twice),
// one function at a time with its blocks, and typed helpers for the scalar arithmetic the
// kernel emitter and the math approximations write. It knows nothing of kernels.
//
// Every float add, subtract, multiply and divide it emits is decorated NoContraction: the
// interpreter rounds each op, and a driver that fuses a*b+c into an fma would change bits
// (Vulkan allows it otherwise). Fused multiply-adds are asked for explicitly with fma().

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spirv/unified1/GLSL.std.450.h>
#include <spirv/unified1/spirv.hpp11>

namespace kiln::codegen::spirv {

using Id = uint32_t;

class Builder {
 public:
  Builder();

  Id fresh_id() { return next_id_++; }

  // ---- module-level sections
  void capability(spv::Capability capability);
  void extension(std::string_view name);
  Id glsl_std450();  // the extended instruction set, imported on first use
  void memory_model(spv::AddressingModel addressing, spv::MemoryModel memory);
  void entry_point(spv::ExecutionModel model, Id function, std::string_view name,
                   std::span<const Id> interface);
  void execution_mode(Id function, spv::ExecutionMode mode,
                      std::initializer_list<uint32_t> literals = {});
  void name(Id id, std::string_view text);
  void decorate(Id id, spv::Decoration decoration, std::initializer_list<uint32_t> literals = {});
  void member_decorate(Id type, uint32_t member, spv::Decoration decoration,
                       std::initializer_list<uint32_t> literals = {});

  // ---- types (interned except structs, which carry their own decorations)
  Id type_void();
  Id type_bool();
  Id type_int(uint32_t width);  // signedness 0: the ops, not the type, decide
  Id type_float(uint32_t width);
  Id type_vector(Id component, uint32_t count);
  Id type_pointer(spv::StorageClass storage, Id pointee);
  Id type_struct(std::span<const Id> members);
  Id type_array(Id element, uint32_t length);
  Id type_runtime_array(Id element);
  Id type_function(Id result, std::span<const Id> params);
  uint32_t int_width(Id type) const;    // 0 if not an integer type
  uint32_t float_width(Id type) const;  // 0 if not a float type
  bool is_bool(Id type) const { return type == bool_type_ && type != 0; }

  // ---- constants (interned)
  Id constant_bits(Id type, uint64_t bits);  // an int or float constant from its bit pattern
  Id constant_bool(bool value);
  Id u32(uint32_t value) { return constant_bits(type_int(32), value); }
  Id u64(uint64_t value) { return constant_bits(type_int(64), value); }
  Id int_constant(Id type, int64_t value);  // wrapped to the type's width
  Id f32(float value);
  Id f64(double value);
  Id float_constant(Id type, double value);  // f32 or f64

  // A module-scope variable (Workgroup, PushConstant, Input, ...).
  Id global_variable(Id pointer_type, spv::StorageClass storage);

  // ---- functions and blocks
  Id begin_function(Id result_type, Id function_type);
  void end_function();
  // A Function-storage variable, placed at the start of the function's first block.
  Id local_variable(Id pointee_type);
  Id new_label() { return fresh_id(); }
  void begin_block(Id label);
  bool in_block() const { return block_open_; }

  // An instruction with a result (of `type`) in the current block; operands are raw words.
  Id emit(spv::Op op, Id type, std::initializer_list<uint32_t> operands);
  Id emit(spv::Op op, Id type, std::span<const uint32_t> operands);
  // An instruction without result id or type.
  void emit_void(spv::Op op, std::initializer_list<uint32_t> operands);
  void emit_void(spv::Op op, std::span<const uint32_t> operands);
  Id type_of(Id value) const;

  // ---- control flow (structured)
  void branch(Id target);
  void branch_conditional(Id condition, Id if_true, Id if_false);
  void selection_merge(Id merge);
  void loop_merge(Id merge, Id continue_target);
  void return_void();
  // A structured loop: `condition` (emitted in the loop's check block) says whether to run
  // `body` again; the builder continues after the loop.
  void loop(const std::function<Id()>& condition, const std::function<void()>& body);

  // ---- typed helpers; operands share a type unless said otherwise
  Id load(Id pointer, uint32_t alignment = 0);  // alignment: PhysicalStorageBuffer pointers
  void store(Id pointer, Id value, uint32_t alignment = 0);
  Id access_chain(Id pointer_type, Id base, std::initializer_list<Id> indices);
  Id glsl(Id type, GLSLstd450 instruction, std::initializer_list<Id> args);

  Id fadd(Id a, Id b);
  Id fsub(Id a, Id b);
  Id fmul(Id a, Id b);
  Id fdiv(Id a, Id b);
  Id fneg(Id a);
  Id fma(Id a, Id b, Id c);  // a * b + c, one rounding where the device fuses
  Id fabs(Id a) { return glsl(type_of(a), GLSLstd450FAbs, {a}); }
  Id iadd(Id a, Id b) { return binary(spv::Op::OpIAdd, a, b); }
  Id isub(Id a, Id b) { return binary(spv::Op::OpISub, a, b); }
  Id imul(Id a, Id b) { return binary(spv::Op::OpIMul, a, b); }
  Id udiv(Id a, Id b) { return binary(spv::Op::OpUDiv, a, b); }
  Id umod(Id a, Id b) { return binary(spv::Op::OpUMod, a, b); }
  Id bit_and(Id a, Id b) { return binary(spv::Op::OpBitwiseAnd, a, b); }
  Id bit_or(Id a, Id b) { return binary(spv::Op::OpBitwiseOr, a, b); }
  Id bit_xor(Id a, Id b) { return binary(spv::Op::OpBitwiseXor, a, b); }
  Id shl(Id a, Id b) { return binary(spv::Op::OpShiftLeftLogical, a, b); }
  Id lshr(Id a, Id b) { return binary(spv::Op::OpShiftRightLogical, a, b); }
  Id ashr(Id a, Id b) { return binary(spv::Op::OpShiftRightArithmetic, a, b); }
  Id ineg(Id a) { return emit(spv::Op::OpSNegate, type_of(a), {a}); }
  Id bit_not(Id a) { return emit(spv::Op::OpNot, type_of(a), {a}); }
  // Comparisons give bool.
  Id compare(spv::Op op, Id a, Id b) { return emit(op, type_bool(), {a, b}); }
  Id is_nan(Id a) { return emit(spv::Op::OpIsNan, type_bool(), {a}); }
  Id logical_and(Id a, Id b) { return emit(spv::Op::OpLogicalAnd, type_bool(), {a, b}); }
  Id logical_or(Id a, Id b) { return emit(spv::Op::OpLogicalOr, type_bool(), {a, b}); }
  Id logical_not(Id a) { return emit(spv::Op::OpLogicalNot, type_bool(), {a}); }
  Id select(Id condition, Id if_true, Id if_false);
  Id bitcast(Id type, Id value) { return emit(spv::Op::OpBitcast, type, {value}); }
  Id convert(spv::Op op, Id type, Id value) { return emit(op, type, {value}); }
  Id extract(Id type, Id composite, uint32_t index) {
    return emit(spv::Op::OpCompositeExtract, type, {composite, index});
  }
  // Whether the module declares an integer or float type of `width` bits (for capabilities).
  bool declares_int(uint32_t width) const;
  bool declares_float(uint32_t width) const;

  // The finished module's words. Call once, after the last function.
  std::vector<uint32_t> finish();

 private:
  using Words = std::vector<uint32_t>;
  static void append(Words& to, spv::Op op, std::span<const uint32_t> operands);
  static void append_string(Words& to, std::string_view text);
  Id binary(spv::Op op, Id a, Id b) { return emit(op, type_of(a), {a, b}); }
  Id declare_type(spv::Op op, std::initializer_list<uint32_t> operands);

  Id next_id_ = 1;
  Words capabilities_, extensions_, imports_, memory_model_, entry_points_, execution_modes_,
      debug_, annotations_, globals_, functions_;
  Words function_variables_, function_body_;
  Id function_first_label_ = 0;
  bool block_open_ = false;
  Id glsl_ = 0;
  Id bool_type_ = 0;
  std::map<std::vector<uint32_t>, Id> interned_types_;  // opcode + operands -> id
  std::map<std::pair<Id, uint64_t>, Id> interned_constants_;
  std::unordered_map<Id, uint32_t> int_widths_, float_widths_;
  std::unordered_map<Id, Id> value_types_;
  std::unordered_map<Id, Id> pointee_of_;  // pointer type -> pointee type
  std::vector<spv::Capability> declared_capabilities_;
  std::vector<std::string> declared_extensions_;
};

}  // namespace kiln::codegen::spirv
