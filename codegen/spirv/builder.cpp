#include "codegen/spirv/builder.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace kiln::codegen::spirv {

using spv::Op;

Builder::Builder() = default;

void Builder::append(Words& to, Op op, std::span<const uint32_t> operands) {
  const uint32_t count = static_cast<uint32_t>(operands.size() + 1);
  assert(count < 0x10000 && "instruction too long");
  to.push_back(count << 16 | static_cast<uint32_t>(op));
  to.insert(to.end(), operands.begin(), operands.end());
}

// A literal string: UTF-8 bytes, nul-terminated, padded to whole words.
void Builder::append_string(Words& to, std::string_view text) {
  const size_t words = text.size() / 4 + 1;
  const size_t start = to.size();
  to.resize(start + words, 0);
  std::memcpy(to.data() + start, text.data(), text.size());
}

namespace {
std::vector<uint32_t> with_string(std::initializer_list<uint32_t> head, std::string_view text,
                                  std::span<const uint32_t> tail = {}) {
  std::vector<uint32_t> words(head);
  const size_t start = words.size();
  words.resize(start + text.size() / 4 + 1, 0);
  std::memcpy(words.data() + start, text.data(), text.size());
  words.insert(words.end(), tail.begin(), tail.end());
  return words;
}
}  // namespace

void Builder::capability(spv::Capability capability) {
  for (spv::Capability c : declared_capabilities_)
    if (c == capability) return;
  declared_capabilities_.push_back(capability);
  append(capabilities_, Op::OpCapability, {{static_cast<uint32_t>(capability)}});
}

void Builder::extension(std::string_view name) {
  for (const std::string& e : declared_extensions_)
    if (e == name) return;
  declared_extensions_.emplace_back(name);
  append(extensions_, Op::OpExtension, with_string({}, name));
}

Id Builder::glsl_std450() {
  if (!glsl_) {
    glsl_ = fresh_id();
    append(imports_, Op::OpExtInstImport, with_string({glsl_}, "GLSL.std.450"));
  }
  return glsl_;
}

void Builder::memory_model(spv::AddressingModel addressing, spv::MemoryModel memory) {
  memory_model_.clear();
  append(memory_model_, Op::OpMemoryModel,
         {{static_cast<uint32_t>(addressing), static_cast<uint32_t>(memory)}});
}

void Builder::entry_point(spv::ExecutionModel model, Id function, std::string_view name,
                          std::span<const Id> interface) {
  append(entry_points_, Op::OpEntryPoint,
         with_string({static_cast<uint32_t>(model), function}, name, interface));
}

void Builder::execution_mode(Id function, spv::ExecutionMode mode,
                             std::initializer_list<uint32_t> literals) {
  std::vector<uint32_t> words{function, static_cast<uint32_t>(mode)};
  words.insert(words.end(), literals.begin(), literals.end());
  append(execution_modes_, Op::OpExecutionMode, words);
}

void Builder::name(Id id, std::string_view text) {
  append(debug_, Op::OpName, with_string({id}, text));
}

void Builder::decorate(Id id, spv::Decoration decoration,
                       std::initializer_list<uint32_t> literals) {
  std::vector<uint32_t> words{id, static_cast<uint32_t>(decoration)};
  words.insert(words.end(), literals.begin(), literals.end());
  append(annotations_, Op::OpDecorate, words);
}

void Builder::member_decorate(Id type, uint32_t member, spv::Decoration decoration,
                              std::initializer_list<uint32_t> literals) {
  std::vector<uint32_t> words{type, member, static_cast<uint32_t>(decoration)};
  words.insert(words.end(), literals.begin(), literals.end());
  append(annotations_, Op::OpMemberDecorate, words);
}

// ---- types

Id Builder::declare_type(Op op, std::initializer_list<uint32_t> operands) {
  std::vector<uint32_t> key{static_cast<uint32_t>(op)};
  key.insert(key.end(), operands.begin(), operands.end());
  auto [it, inserted] = interned_types_.try_emplace(key, 0);
  if (!inserted) return it->second;
  it->second = fresh_id();
  std::vector<uint32_t> words{it->second};
  words.insert(words.end(), operands.begin(), operands.end());
  append(globals_, op, words);
  return it->second;
}

Id Builder::type_void() {
  return declare_type(Op::OpTypeVoid, {});
}

Id Builder::type_bool() {
  bool_type_ = declare_type(Op::OpTypeBool, {});
  return bool_type_;
}

Id Builder::type_int(uint32_t width) {
  Id t = declare_type(Op::OpTypeInt, {width, 0});
  int_widths_[t] = width;
  return t;
}

Id Builder::type_float(uint32_t width) {
  Id t = declare_type(Op::OpTypeFloat, {width});
  float_widths_[t] = width;
  return t;
}

Id Builder::type_pointer(spv::StorageClass storage, Id pointee) {
  Id t = declare_type(Op::OpTypePointer, {static_cast<uint32_t>(storage), pointee});
  pointee_of_[t] = pointee;
  return t;
}

Id Builder::type_struct(std::span<const Id> members) {
  Id t = fresh_id();
  std::vector<uint32_t> words{t};
  words.insert(words.end(), members.begin(), members.end());
  append(globals_, Op::OpTypeStruct, words);
  return t;
}

Id Builder::type_array(Id element, uint32_t length) {
  return declare_type(Op::OpTypeArray, {element, u32(length)});
}

Id Builder::type_runtime_array(Id element) {
  // Not interned: each runtime array carries its own ArrayStride decoration.
  Id t = fresh_id();
  append(globals_, Op::OpTypeRuntimeArray, {{t, element}});
  return t;
}

Id Builder::type_function(Id result, std::span<const Id> params) {
  std::vector<uint32_t> key{static_cast<uint32_t>(Op::OpTypeFunction), result};
  key.insert(key.end(), params.begin(), params.end());
  auto [it, inserted] = interned_types_.try_emplace(key, 0);
  if (!inserted) return it->second;
  it->second = fresh_id();
  std::vector<uint32_t> words{it->second, result};
  words.insert(words.end(), params.begin(), params.end());
  append(globals_, Op::OpTypeFunction, words);
  return it->second;
}

Id Builder::type_vector(Id component, uint32_t count) {
  return declare_type(Op::OpTypeVector, {component, count});
}

bool Builder::declares_int(uint32_t width) const {
  return interned_types_.count({static_cast<uint32_t>(Op::OpTypeInt), width, 0}) != 0;
}

bool Builder::declares_float(uint32_t width) const {
  return interned_types_.count({static_cast<uint32_t>(Op::OpTypeFloat), width}) != 0;
}

uint32_t Builder::int_width(Id type) const {
  auto it = int_widths_.find(type);
  return it == int_widths_.end() ? 0 : it->second;
}

uint32_t Builder::float_width(Id type) const {
  auto it = float_widths_.find(type);
  return it == float_widths_.end() ? 0 : it->second;
}

// ---- constants

Id Builder::constant_bits(Id type, uint64_t bits) {
  const uint32_t width = int_width(type) ? int_width(type) : float_width(type);
  assert(width && "a constant of a non-scalar type");
  if (width < 64) bits &= (uint64_t{1} << width) - 1;
  auto [it, inserted] = interned_constants_.try_emplace({type, bits}, 0);
  if (!inserted) return it->second;
  it->second = fresh_id();
  if (width <= 32)
    append(globals_, Op::OpConstant, {{type, it->second, static_cast<uint32_t>(bits)}});
  else
    append(globals_, Op::OpConstant,
           {{type, it->second, static_cast<uint32_t>(bits), static_cast<uint32_t>(bits >> 32)}});
  value_types_[it->second] = type;
  return it->second;
}

Id Builder::constant_bool(bool value) {
  Id t = type_bool();
  auto [it, inserted] = interned_constants_.try_emplace({t, value ? 1u : 0u}, 0);
  if (!inserted) return it->second;
  it->second = fresh_id();
  append(globals_, value ? Op::OpConstantTrue : Op::OpConstantFalse, {{t, it->second}});
  value_types_[it->second] = t;
  return it->second;
}

Id Builder::int_constant(Id type, int64_t value) {
  return constant_bits(type, static_cast<uint64_t>(value));
}

Id Builder::f32(float value) {
  return constant_bits(type_float(32), std::bit_cast<uint32_t>(value));
}

Id Builder::f64(double value) {
  return constant_bits(type_float(64), std::bit_cast<uint64_t>(value));
}

Id Builder::float_constant(Id type, double value) {
  return float_width(type) == 64 ? f64(value) : f32(static_cast<float>(value));
}

Id Builder::global_variable(Id pointer_type, spv::StorageClass storage) {
  Id v = fresh_id();
  append(globals_, Op::OpVariable, {{pointer_type, v, static_cast<uint32_t>(storage)}});
  value_types_[v] = pointer_type;
  return v;
}

// ---- functions

Id Builder::begin_function(Id result_type, Id function_type) {
  assert(function_body_.empty() && function_variables_.empty());
  Id f = fresh_id();
  append(
      functions_, Op::OpFunction,
      {{result_type, f, static_cast<uint32_t>(spv::FunctionControlMask::MaskNone), function_type}});
  function_first_label_ = 0;
  return f;
}

void Builder::end_function() {
  assert(!block_open_ && "a block without a terminator");
  // The first block's label, then the variables, then the rest of the body.
  assert(function_body_.size() >= 2);
  functions_.insert(functions_.end(), function_body_.begin(), function_body_.begin() + 2);
  functions_.insert(functions_.end(), function_variables_.begin(), function_variables_.end());
  functions_.insert(functions_.end(), function_body_.begin() + 2, function_body_.end());
  append(functions_, Op::OpFunctionEnd, {});
  function_body_.clear();
  function_variables_.clear();
}

Id Builder::local_variable(Id pointee_type) {
  Id pointer = type_pointer(spv::StorageClass::Function, pointee_type);
  Id v = fresh_id();
  append(function_variables_, Op::OpVariable,
         {{pointer, v, static_cast<uint32_t>(spv::StorageClass::Function)}});
  value_types_[v] = pointer;
  return v;
}

void Builder::begin_block(Id label) {
  assert(!block_open_ && "the previous block has no terminator");
  if (!function_first_label_) function_first_label_ = label;
  append(function_body_, Op::OpLabel, {{label}});
  block_open_ = true;
}

Id Builder::emit(Op op, Id type, std::initializer_list<uint32_t> operands) {
  return emit(op, type, std::span<const uint32_t>(operands.begin(), operands.size()));
}

Id Builder::emit(Op op, Id type, std::span<const uint32_t> operands) {
  assert(block_open_ && "an instruction outside a block");
  Id r = fresh_id();
  std::vector<uint32_t> words{type, r};
  words.insert(words.end(), operands.begin(), operands.end());
  append(function_body_, op, words);
  value_types_[r] = type;
  return r;
}

void Builder::emit_void(Op op, std::initializer_list<uint32_t> operands) {
  emit_void(op, std::span<const uint32_t>(operands.begin(), operands.size()));
}

void Builder::emit_void(Op op, std::span<const uint32_t> operands) {
  assert(block_open_ && "an instruction outside a block");
  append(function_body_, op, operands);
}

Id Builder::type_of(Id value) const {
  auto it = value_types_.find(value);
  assert(it != value_types_.end() && "a value of unknown type");
  return it->second;
}

// ---- control flow

void Builder::branch(Id target) {
  emit_void(Op::OpBranch, {target});
  block_open_ = false;
}

void Builder::branch_conditional(Id condition, Id if_true, Id if_false) {
  emit_void(Op::OpBranchConditional, {condition, if_true, if_false});
  block_open_ = false;
}

void Builder::selection_merge(Id merge) {
  emit_void(Op::OpSelectionMerge,
            {merge, static_cast<uint32_t>(spv::SelectionControlMask::MaskNone)});
}

void Builder::loop_merge(Id merge, Id continue_target) {
  emit_void(Op::OpLoopMerge,
            {merge, continue_target, static_cast<uint32_t>(spv::LoopControlMask::MaskNone)});
}

void Builder::loop(const std::function<Id()>& condition, const std::function<void()>& body) {
  Id header = new_label(), check = new_label(), body_label = new_label(), cont = new_label(),
     merge = new_label();
  branch(header);
  begin_block(header);
  loop_merge(merge, cont);
  branch(check);
  begin_block(check);
  branch_conditional(condition(), body_label, merge);
  begin_block(body_label);
  body();
  branch(cont);
  begin_block(cont);
  branch(header);
  begin_block(merge);
}

void Builder::return_void() {
  emit_void(Op::OpReturn, {});
  block_open_ = false;
}

// ---- typed helpers

Id Builder::load(Id pointer, uint32_t alignment) {
  auto it = pointee_of_.find(type_of(pointer));
  assert(it != pointee_of_.end() && "a load through a non-pointer");
  if (alignment)
    return emit(Op::OpLoad, it->second,
                {pointer, static_cast<uint32_t>(spv::MemoryAccessMask::Aligned), alignment});
  return emit(Op::OpLoad, it->second, {pointer});
}

void Builder::store(Id pointer, Id value, uint32_t alignment) {
  if (alignment)
    emit_void(Op::OpStore,
              {pointer, value, static_cast<uint32_t>(spv::MemoryAccessMask::Aligned), alignment});
  else
    emit_void(Op::OpStore, {pointer, value});
}

Id Builder::access_chain(Id pointer_type, Id base, std::initializer_list<Id> indices) {
  std::vector<uint32_t> words{base};
  words.insert(words.end(), indices.begin(), indices.end());
  return emit(Op::OpAccessChain, pointer_type, words);
}

Id Builder::glsl(Id type, GLSLstd450 instruction, std::initializer_list<Id> args) {
  std::vector<uint32_t> words{glsl_std450(), static_cast<uint32_t>(instruction)};
  words.insert(words.end(), args.begin(), args.end());
  return emit(Op::OpExtInst, type, words);
}

Id Builder::fadd(Id a, Id b) {
  Id r = binary(Op::OpFAdd, a, b);
  decorate(r, spv::Decoration::NoContraction);
  return r;
}

Id Builder::fsub(Id a, Id b) {
  Id r = binary(Op::OpFSub, a, b);
  decorate(r, spv::Decoration::NoContraction);
  return r;
}

Id Builder::fmul(Id a, Id b) {
  Id r = binary(Op::OpFMul, a, b);
  decorate(r, spv::Decoration::NoContraction);
  return r;
}

Id Builder::fdiv(Id a, Id b) {
  Id r = binary(Op::OpFDiv, a, b);
  decorate(r, spv::Decoration::NoContraction);
  return r;
}

Id Builder::fneg(Id a) {
  return emit(Op::OpFNegate, type_of(a), {a});
}

Id Builder::fma(Id a, Id b, Id c) {
  return glsl(type_of(a), GLSLstd450Fma, {a, b, c});
}

Id Builder::select(Id condition, Id if_true, Id if_false) {
  return emit(Op::OpSelect, type_of(if_true), {condition, if_true, if_false});
}

std::vector<uint32_t> Builder::finish() {
  assert(function_body_.empty() && "finish() inside a function");
  std::vector<uint32_t> words{spv::MagicNumber, 0x00010500, 0, next_id_, 0};
  for (const Words* section :
       {&capabilities_, &extensions_, &imports_, &memory_model_, &entry_points_, &execution_modes_,
        &debug_, &annotations_, &globals_, &functions_})
    words.insert(words.end(), section->begin(), section->end());
  return words;
}

}  // namespace kiln::codegen::spirv
