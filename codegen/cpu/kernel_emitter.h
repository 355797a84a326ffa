#pragma once
// KernelEmitter, internal to codegen/cpu (emit_kernel in emitter.h is its entry point): the
// kernel's entry functions, segments of the outer space, phases as loop nests, expressions
// emitted once per scope (outer-level ones before a phase's loops, inner ones in its innermost
// body), block epilogues and the division rewrites. Its reductions and the Dot phases the
// runtime's GEMM does not run are defined in emitter_reduce.cpp.

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include <llvm/ADT/DenseMap.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include "codegen/cpu/emitter.h"
#include "codegen/cpu/gemm_call.h"
#include "codegen/cpu/math_approx.h"
#include "codegen/cpu/scalar_ops.h"
#include "codegen/dot_layout.h"
#include "codegen/kernel_aliasing.h"
#include "runtime/kernel_abi.h"

namespace kiln::codegen::cpu::detail {

using ir::DType;
using ir::OpKind;
using llvm::BasicBlock;
using llvm::Value;

// Where an expression is emitted: once per outer index, once per inner iteration of its phase,
// or once per contraction step of a Dot phase's loops.
enum class Scope : uint8_t { Outer, Inner, Contraction };

class KernelEmitter {
 public:
  KernelEmitter(const Kernel& kernel, llvm::Module& module, const TargetAttrs& target)
      : k_(kernel), m_(module), ctx_(module.getContext()), b_(ctx_), target_(target) {
    classify();
    if (!k_.phases.empty()) gemm_ = gemm_call(k_, 0);
  }

  void emit(const std::string& symbol) {
    llvm::Function* epilogue = nullptr;
    if (gemm_ && block_epilogue_fits()) epilogue = emit_block_epilogue(symbol + ".epilogue");
    llvm::Function* body = emit_body(symbol + ".body", epilogue);
    emit_entry(symbol, body);
  }

 private:
  const Kernel& k_;
  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  const TargetAttrs& target_;
  llvm::Function* fn_ = nullptr;
  BasicBlock* entry_ = nullptr;
  std::vector<Value*> buffers_;
  std::vector<Value*> outer_index_, inner_index_;
  Value* contraction_index_ = nullptr;
  std::vector<Value*> phase_results_;
  std::vector<Scope> scope_;  // per expr
  std::vector<Value*> outer_cache_, inner_cache_, contraction_cache_;
  std::optional<GemmCall> gemm_;  // phase 0, when the runtime's GEMM computes it
  // f32 values emitted as numerator / denominator, with log2 of the denominator's bound.
  struct PendingQuotient {
    Quotient parts;
    int denominator_log2_bound;
  };
  llvm::DenseMap<Value*, PendingQuotient> quotients_;
  // While emitting a block epilogue: its column range, which the phases' inner loop keeps to.
  Value* column_begin_ = nullptr;
  Value* column_end_ = nullptr;

  llvm::Type* i64() { return b_.getInt64Ty(); }
  Value* c64(int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); }

  // An expression's scope is the innermost of its operands' and its own: an inner or
  // contraction index, or a Dot phase's result (one per inner index).
  void classify() {
    scope_.assign(k_.exprs.size(), Scope::Outer);
    for (size_t i = 0; i < k_.exprs.size(); ++i) {
      const Expr& e = k_.exprs[i];
      Scope scope = Scope::Outer;
      if (e.kind == ExprKind::Index && e.loop == LoopLevel::Inner) scope = Scope::Inner;
      if (e.kind == ExprKind::Index && e.loop == LoopLevel::Contraction) scope = Scope::Contraction;
      if (e.kind == ExprKind::PhaseResult && k_.phases.at(e.phase).kind == PhaseKind::Dot)
        scope = Scope::Inner;
      for (ExprId o : e.operands) {
        assert(o < i && "expression operands refer to earlier entries");
        scope = std::max(scope, scope_[o]);
      }
      scope_[i] = scope;
    }
  }

  void set_target_attributes(llvm::Function* f) {
    f->addFnAttr("target-cpu", target_.cpu);
    f->addFnAttr("target-features", target_.features);
    f->addFnAttr("prefer-vector-width", std::to_string(target_.prefer_vector_width));
    f->addFnAttr(llvm::Attribute::NoUnwind);
  }

  // ---- functions ----------------------------------------------------------------------------

  void emit_entry(const std::string& symbol, llvm::Function* body) {
    mark_streaming_buffers(
        emit_array_entry(symbol, llvm::Function::ExternalLinkage, body, 2, /*pass_array=*/true));
  }

  // `name(void* const* buffers, i64 x index_args)`: loads the buffer pointers from the array
  // (with the runtime's alignment guarantee) and calls `body` with them, the i64 arguments
  // and, if pass_array, the array itself.
  llvm::Function* emit_array_entry(const std::string& name, llvm::Function::LinkageTypes linkage,
                                   llvm::Function* body, unsigned index_args, bool pass_array) {
    std::vector<llvm::Type*> params{b_.getPtrTy()};
    params.insert(params.end(), index_args, i64());
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), params, false);
    auto* f = llvm::Function::Create(type, linkage, name, m_);
    set_target_attributes(f);
    b_.SetInsertPoint(BasicBlock::Create(ctx_, "entry", f));
    std::vector<Value*> args = load_buffers(f->getArg(0));
    for (unsigned i = 1; i <= index_args; ++i)
      args.push_back(f->getArg(i));
    if (pass_array) args.push_back(f->getArg(0));
    b_.CreateCall(body, args);
    b_.CreateRetVoid();
    return f;
  }

  // Outputs far larger than the last-level cache, written and never read by this kernel:
  // caching them would only evict what the kernel reads (W1's 64 MiB result against a 32 MiB
  // cache). Outputs that fit are left alone, where non-temporal stores were measured to halve
  // the bandwidth.
  void mark_streaming_buffers(llvm::Function* entry) {
    if (target_.streaming_store_bytes <= 0) return;
    std::vector<bool> loaded(k_.buffers.size(), false);
    for (const Expr& e : k_.exprs)
      if (e.kind == ExprKind::Load) loaded[e.buffer] = true;
    std::vector<llvm::Metadata*> streaming;
    for (size_t i = 0; i < k_.buffers.size(); ++i) {
      const KernelBuffer& buffer = k_.buffers[i];
      const auto bytes = static_cast<int64_t>(buffer.type.size_bytes());
      if (buffer.is_output && !loaded[i] && bytes >= target_.streaming_store_bytes)
        streaming.push_back(
            llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i64(), static_cast<int64_t>(i))));
    }
    if (!streaming.empty())
      entry->setMetadata(kStreamingBuffersMetadata, llvm::MDNode::get(ctx_, streaming));
  }

  // The buffer pointers from an entry's array, with the runtime's alignment guarantee.
  std::vector<Value*> load_buffers(Value* array) {
    llvm::Type* ptr = b_.getPtrTy();
    llvm::MDNode* align64 =
        llvm::MDNode::get(ctx_, llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i64(), 64)));
    std::vector<Value*> pointers;
    for (size_t i = 0; i < k_.buffers.size(); ++i) {
      Value* slot = b_.CreateConstInBoundsGEP1_64(ptr, array, i);
      llvm::LoadInst* buffer = b_.CreateAlignedLoad(ptr, slot, llvm::Align(8));
      buffer->setMetadata(llvm::LLVMContext::MD_align, align64);
      pointers.push_back(buffer);
    }
    return pointers;
  }

  // Starts an internal function whose first parameters are the kernel's buffers (noalias
  // where no in-place pair shares them, align 64), then `extra`; sets fn_ and buffers_.
  void begin_buffer_function(const std::string& name, const std::vector<llvm::Type*>& extra) {
    std::vector<llvm::Type*> params(k_.buffers.size(), b_.getPtrTy());
    params.insert(params.end(), extra.begin(), extra.end());
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), params, false);
    fn_ = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, m_);
    set_target_attributes(fn_);
    fn_->addFnAttr(llvm::Attribute::AlwaysInline);
    // Buffers memory planning may overlay in place must not be promised distinct.
    std::vector<bool> may_alias(k_.buffers.size(), false);
    for (auto [in, out] : codegen::in_place_pairs(k_))
      may_alias[in] = may_alias[out] = true;
    buffers_.clear();
    for (size_t i = 0; i < k_.buffers.size(); ++i) {
      if (!may_alias[i]) fn_->addParamAttr(static_cast<unsigned>(i), llvm::Attribute::NoAlias);
      fn_->addParamAttr(static_cast<unsigned>(i),
                        llvm::Attribute::getWithAlignment(ctx_, llvm::Align(64)));
      buffers_.push_back(fn_->getArg(static_cast<unsigned>(i)));
    }
  }

  Value* extra_arg(size_t i) { return fn_->getArg(static_cast<unsigned>(k_.buffers.size() + i)); }

  // [begin, end) clamped into [0, limit): the code keeps to its own iteration space whatever
  // range a caller (a damaged plan, say) asks for, so no range reaches past the buffers.
  std::pair<Value*, Value*> clamp_range(Value* begin, Value* end, int64_t limit) {
    return {b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, begin, c64(0)),
            b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, end, c64(limit))};
  }

  // The body of fn_ (begun by begin_buffer_function): `guard` emitted on entry, `work` when it
  // holds, then return.
  void emit_guarded_body(const std::function<Value*()>& guard, const std::function<void()>& work) {
    entry_ = BasicBlock::Create(ctx_, "entry", fn_);
    BasicBlock* work_block = BasicBlock::Create(ctx_, "work", fn_);
    BasicBlock* done = BasicBlock::Create(ctx_, "done", fn_);
    b_.SetInsertPoint(entry_);
    b_.CreateCondBr(guard(), work_block, done);
    b_.SetInsertPoint(work_block);
    work();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    b_.CreateRetVoid();
  }

  llvm::Function* emit_body(const std::string& name, llvm::Function* block_epilogue) {
    begin_buffer_function(name, {i64(), i64(), b_.getPtrTy()});
    Value *begin = nullptr, *end = nullptr;
    emit_guarded_body(
        [&] {
          std::tie(begin, end) = clamp_range(extra_arg(0), extra_arg(1), k_.outer_count());
          return b_.CreateICmpSLT(begin, end);
        },
        [&] {
          if (gemm_) emit_gemm_call(*gemm_, begin, end, block_epilogue, extra_arg(2));
          // With a block epilogue, the GEMM ran every later phase on each block it finished.
          if (!block_epilogue) emit_segments(begin, end);
        });
    return fn_;
  }

  void emit_gemm_call(const GemmCall& call, Value* begin, Value* end,
                      llvm::Function* block_epilogue, Value* array) {
    llvm::Type* ptr = b_.getPtrTy();
    llvm::Type* i32 = b_.getInt32Ty();
    auto* type = llvm::FunctionType::get(
        b_.getVoidTy(),
        {i32, ptr, ptr, ptr, i64(), i64(), i64(), i64(), i32, i64(), i64(), ptr, ptr}, false);
    auto callee = m_.getOrInsertFunction(runtime::kMatmulRowsSymbol, type);
    Value* epilogue = block_epilogue ? static_cast<Value*>(block_epilogue)
                                     : llvm::ConstantPointerNull::get(b_.getPtrTy());
    b_.CreateCall(callee, {b_.getInt32(static_cast<uint32_t>(call.dtype)), buffers_[call.lhs],
                           buffers_[call.rhs], buffers_[call.out], c64(call.batch), c64(call.m),
                           c64(call.n), c64(call.k), b_.getInt32(static_cast<uint32_t>(call.flags)),
                           begin, end, epilogue, array});
  }

  // ---- block epilogues ------------------------------------------------------------------------

  // Whether the phases after a GEMM-run Dot phase can run on each block of columns the GEMM
  // finishes (runtime::EpilogueEntry), while it is in cache: all are store phases over the
  // product's columns that read nothing this kernel writes but the product at the element
  // being finished, so none needs a column of another block.
  // The rule is codegen/dot_layout.h's, shared with the Vulkan backend's tiled products.
  bool block_epilogue_fits() const {
    DotLayout layout;
    layout.n = gemm_->n;
    return dot_epilogue_fits(k_, layout);
  }

  // `name(void* const* buffers, i64 row_begin, i64 row_end, i64 col_begin, i64 col_end)`: the
  // phases after the Dot phase for those outer indices, their inner loop kept to those columns.
  llvm::Function* emit_block_epilogue(const std::string& name) {
    begin_buffer_function(name + ".body", {i64(), i64(), i64(), i64()});
    Value *begin = nullptr, *end = nullptr;
    emit_guarded_body(
        [&] {
          std::tie(begin, end) = clamp_range(extra_arg(0), extra_arg(1), k_.outer_count());
          std::tie(column_begin_, column_end_) = clamp_range(extra_arg(2), extra_arg(3), gemm_->n);
          return b_.CreateAnd(b_.CreateICmpSLT(begin, end),
                              b_.CreateICmpSLT(column_begin_, column_end_));
        },
        [&] { emit_segments(begin, end); });
    column_begin_ = column_end_ = nullptr;
    return emit_array_entry(name, llvm::Function::InternalLinkage, fn_, 4, /*pass_array=*/false);
  }

  // ---- loops --------------------------------------------------------------------------------

  // for (i = 0; i < count; ++i) body(i), for count >= 1; leaves the builder at the exit.
  // `interleave` > 0 asks the vectorizer for that many vector iterations per loop iteration.
  void loop(Value* count, const std::function<void(Value*)>& body, unsigned interleave = 0) {
    BasicBlock* pre = b_.GetInsertBlock();
    BasicBlock* header = BasicBlock::Create(ctx_, "loop", fn_);
    BasicBlock* exit = BasicBlock::Create(ctx_, "loop.exit", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* i = b_.CreatePHI(i64(), 2);
    i->addIncoming(c64(0), pre);
    body(i);
    Value* next = b_.CreateAdd(i, c64(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
    i->addIncoming(next, b_.GetInsertBlock());
    llvm::BranchInst* latch = b_.CreateCondBr(b_.CreateICmpULT(next, count), header, exit);
    if (interleave > 0) {
      llvm::Metadata* count_hint[] = {llvm::MDString::get(ctx_, "llvm.loop.interleave.count"),
                                      llvm::ConstantAsMetadata::get(b_.getInt32(interleave))};
      llvm::Metadata* operands[] = {nullptr, llvm::MDNode::get(ctx_, count_hint)};
      llvm::MDNode* id = llvm::MDNode::getDistinct(ctx_, operands);
      id->replaceOperandWith(0, id);  // a loop ID refers to itself
      latch->setMetadata(llvm::LLVMContext::MD_loop, id);
    }
    b_.SetInsertPoint(exit);
  }

  void loop_nest(const std::vector<int64_t>& extents, size_t depth,
                 const std::function<void()>& body, unsigned innermost_interleave = 0) {
    if (depth == extents.size()) return body();
    const bool innermost = depth + 1 == extents.size();
    // In a block epilogue the one inner axis (the product's columns) keeps to the block's.
    const bool columns = column_begin_ && extents.size() == 1;
    Value* count = columns ? b_.CreateSub(column_end_, column_begin_) : c64(extents[depth]);
    loop(
        count,
        [&](Value* i) {
          inner_index_[depth] = columns ? b_.CreateAdd(column_begin_, i, "", true, true) : i;
          loop_nest(extents, depth + 1, body, innermost_interleave);
        },
        innermost ? innermost_interleave : 0);
  }

  // A store loop whose body holds inline transcendentals is one long dependency chain per
  // element, and LLVM's cost model leaves it at one vector per iteration for register
  // pressure; two independent ones per iteration let the core overlap them (W1: 14.5 -> 12.6
  // ms on one thread), where the spills they cost are cheap loads.
  unsigned store_loop_interleave(const Phase& phase) const {
    std::vector<ExprId> values;
    for (const Store& s : phase.stores)
      values.push_back(s.value);
    return reaches(std::move(values),
                   [](const Expr& e) {
                     return e.kind == ExprKind::Op && e.dtype == DType::F32 &&
                            is_inline_transcendental(e.op);
                   })
               ? 2
               : 0;
  }

  // Whether `pred` holds for an expression reachable from `roots` through operands.
  template <class Pred>
  bool reaches(std::vector<ExprId> roots, Pred pred) const {
    std::vector<bool> seen(k_.exprs.size(), false);
    while (!roots.empty()) {
      const ExprId id = roots.back();
      roots.pop_back();
      if (seen[id]) continue;
      seen[id] = true;
      const Expr& e = k_.exprs[id];
      if (pred(e)) return true;
      roots.insert(roots.end(), e.operands.begin(), e.operands.end());
    }
    return false;
  }

  // Outer indices [begin, end) as runs along the last outer axis: for each run the leading
  // indices are fixed and the last one is a counted loop.
  void emit_segments(Value* begin, Value* end) {
    const size_t rank = k_.outer.size();
    const int64_t last = rank ? k_.outer.back() : 1;
    BasicBlock* pre = b_.GetInsertBlock();
    BasicBlock* header = BasicBlock::Create(ctx_, "segment", fn_);
    BasicBlock* exit = BasicBlock::Create(ctx_, "segment.exit", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* o = b_.CreatePHI(i64(), 2);
    o->addIncoming(begin, pre);
    Value* row = b_.CreateUDiv(o, c64(last));
    Value* first = b_.CreateURem(o, c64(last));
    Value* count = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, b_.CreateSub(c64(last), first),
                                            b_.CreateSub(end, o));
    outer_index_.assign(rank, nullptr);
    for (size_t d = rank - (rank ? 1 : 0); d-- > 0;) {
      outer_index_[d] = d == 0 ? row : b_.CreateURem(row, c64(k_.outer[d]));
      if (d > 0) row = b_.CreateUDiv(row, c64(k_.outer[d]));
    }
    loop(count, [&](Value* c) {
      if (rank) outer_index_[rank - 1] = b_.CreateAdd(first, c, "", true, true);
      emit_phases();
    });
    Value* next = b_.CreateAdd(o, count);
    o->addIncoming(next, b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpSLT(next, end), header, exit);
    b_.SetInsertPoint(exit);
  }

  // ---- phases -------------------------------------------------------------------------------

  void emit_phases() {
    outer_cache_.assign(k_.exprs.size(), nullptr);
    reciprocal_.assign(k_.exprs.size(), std::nullopt);
    phase_results_.assign(k_.phases.size(), nullptr);
    for (size_t p = 0; p < k_.phases.size(); ++p) {
      const Phase& phase = k_.phases[p];
      inner_cache_.assign(k_.exprs.size(), nullptr);
      inner_index_.assign(phase.extents.size(), nullptr);
      bool empty = false;
      for (int64_t e : phase.extents)
        empty = empty || e == 0;
      // A sequential phase needs nothing more here: these loops run in order, and LLVM
      // vectorizes a loop only where that keeps the order's results.
      switch (phase.kind) {
        case PhaseKind::Reduce:
          phase_results_[p] = emit_reduce(phase, empty);
          break;
        case PhaseKind::Store:
          if (!empty) emit_store_phase(phase);
          break;
        case PhaseKind::Dot:
          // Phase 0 on the GEMM is the caller's: emit_gemm_call, before these loops or, with a
          // block epilogue, before each block's.
          if (!empty && !(p == 0 && gemm_)) emit_dot_loops(phase, p);
          break;
      }
    }
  }

  // Emits, before a phase's loops, every expression it needs that does not depend on its
  // inner indices, so that they dominate the loops and every later phase.
  void hoist_outer_level(const std::vector<ExprId>& roots) {
    std::vector<bool> needed(k_.exprs.size(), false);
    std::vector<ExprId> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      ExprId id = stack.back();
      stack.pop_back();
      if (needed[id]) continue;
      needed[id] = true;
      for (ExprId o : k_.exprs[id].operands)
        stack.push_back(o);
    }
    for (size_t i = 0; i < k_.exprs.size(); ++i)
      if (needed[i] && scope_[i] == Scope::Outer) expr(static_cast<ExprId>(i));
    for (size_t i = 0; i < k_.exprs.size(); ++i)
      if (needed[i] && divides_by_outer_value(static_cast<ExprId>(i)))
        hoist_reciprocal(k_.exprs[i].operands[1]);
  }

  // ---- division by a value fixed for the outer index --------------------------------------

  // A float division in a phase's loops whose divisor is the same for the whole outer index
  // (softmax's x / sum): computed as x * (1 / d), one division per outer index instead of one
  // per element. Where 1 / d would leave the normal range (|d| below the smallest normal or
  // above 2^(emax - 1)), d is first scaled by a power of two s that brings it back, and x / d
  // is (x * (1 / (d * s))) * s: d * s is exact, x * (1 / (d * s)) cannot underflow before the
  // quotient does (|x / d| is then at least |x| * 2^126 for f32) nor overflow when the quotient
  // does not, and the last multiply is exact or the quotient's one rounding into the subnormal
  // range. Special values come out as the division's (d = 0 gives inf or NaN, d = inf gives 0,
  // NaN stays NaN). Within 1.5 ulp of the quotient instead of 0.5: not bit for bit.
  struct Reciprocal {
    Value* inverse;  // 1 / (d * s)
    Value* scale;    // s
  };
  std::vector<std::optional<Reciprocal>> reciprocal_;  // per divisor expression, outer scope

  bool divides_by_outer_value(ExprId id) const {
    const Expr& e = k_.exprs[id];
    return e.kind == ExprKind::Op && e.op == OpKind::Div &&
           (e.dtype == DType::F32 || e.dtype == DType::F64) && scope_[id] != Scope::Outer &&
           scope_[e.operands[1]] == Scope::Outer;
  }

  void hoist_reciprocal(ExprId divisor) {
    if (reciprocal_[divisor]) return;
    Value* d = expr(divisor);
    llvm::Type* t = d->getType();
    const bool f32 = t->isFloatTy();
    const int smallest_normal = f32 ? -126 : -1022, largest_safe = f32 ? 126 : 1022;
    const int shift = f32 ? 64 : 512;
    auto power_of_two = [&](int e) { return llvm::ConstantFP::get(t, std::ldexp(1.0, e)); };
    Value* magnitude = b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d);
    Value* scale = b_.CreateSelect(
        b_.CreateFCmpOLT(magnitude, power_of_two(smallest_normal)), power_of_two(shift),
        b_.CreateSelect(b_.CreateFCmpOGT(magnitude, power_of_two(largest_safe)),
                        power_of_two(-shift), power_of_two(0)));
    Value* inverse = b_.CreateFDiv(llvm::ConstantFP::get(t, 1.0), b_.CreateFMul(d, scale));
    reciprocal_[divisor] = Reciprocal{inverse, scale};
  }

  void emit_store_phase(const Phase& phase) {
    std::vector<ExprId> roots;
    for (const Store& s : phase.stores) {
      roots.push_back(s.offset);
      roots.push_back(s.value);
    }
    hoist_outer_level(roots);
    loop_nest(
        phase.extents, 0, [&] { emit_stores(phase); }, store_loop_interleave(phase));
  }

  // The phase's stores for the current inner iteration (store phases, and reduce phases that
  // also write their operand out).
  void emit_stores(const Phase& phase) {
    for (const Store& s : phase.stores) {
      const DType dtype = k_.buffers[s.buffer].type.dtype;
      assert(k_.exprs[s.value].dtype == dtype && "a store writes the buffer's dtype");
      Value* address = element_address(s.buffer, expr(s.offset));
      b_.CreateStore(to_memory(b_, expr(s.value), dtype), address);
    }
  }

  Value* element_address(int32_t buffer, Value* offset) {
    llvm::Type* t = memory_type(ctx_, k_.buffers[buffer].type.dtype);
    return b_.CreateInBoundsGEP(t, buffers_[buffer], offset);
  }

  llvm::AllocaInst* entry_alloca(llvm::Type* t) {
    llvm::IRBuilder<> at(entry_, entry_->begin());
    return at.CreateAlloca(t);
  }

  Value* emit_reduce(const Phase& phase, bool empty);
  void emit_dot_loops(const Phase& phase, size_t p);
  Value* emit_arg_extreme(const Phase& phase, bool empty);

  // ---- expressions --------------------------------------------------------------------------

  // The LLVM value of expression `root`, emitting first the operands not emitted yet: a
  // post-order walk (operands in order, as a recursive one would emit them) on an explicit
  // stack, since a long fused chain is as deep as it is long.
  Value* expr(ExprId root) {
    std::vector<ExprId> stack{root};
    while (!stack.empty()) {
      const ExprId id = stack.back();
      if (cached(id)) {
        stack.pop_back();
        continue;
      }
      const std::vector<ExprId>& operands = k_.exprs[id].operands;
      auto pending =
          std::find_if(operands.begin(), operands.end(), [&](ExprId o) { return !cached(o); });
      if (pending != operands.end()) {
        stack.push_back(*pending);
        continue;
      }
      cached(id) = emit_expr(id);
      stack.pop_back();
    }
    return cached(root);
  }

  Value*& cached(ExprId id) {
    switch (scope_[id]) {
      case Scope::Outer:
        return outer_cache_[id];
      case Scope::Inner:
        return inner_cache_[id];
      case Scope::Contraction:
        return contraction_cache_[id];
    }
    return outer_cache_[id];
  }

  // The division of a quotient, remembered so that a product using it can divide once.
  Value* divide(const PendingQuotient& q) {
    Value* v = b_.CreateFDiv(q.parts.numerator, q.parts.denominator);
    quotients_[v] = q;
    return v;
  }

  // x * y when either is a pending quotient (logistic's, or such a product): the numerators
  // and denominators multiplied, then one division, where multiplying the quotients would
  // divide twice (W1's gelu(z) * logistic(x) is z * logistic(2u) * logistic(x)). Numerators
  // are at most 1 in magnitude beside one plain factor, so their product cannot overflow, and
  // denominators are bounded (at most 2^kMaxDenominatorLog2 here), so theirs cannot either; the
  // rounding steps are as many as in the separate form (within the 4-ulp bounds, not bit for
  // bit). Null when neither is a quotient or the denominator's bound would grow too far.
  Value* emit_product(Value* x, Value* y) {
    constexpr int kMaxDenominatorLog2 = 8;
    auto qx = quotients_.find(x), qy = quotients_.find(y);
    const bool x_pending = qx != quotients_.end(), y_pending = qy != quotients_.end();
    if (!x_pending && !y_pending) return nullptr;
    if (x_pending && y_pending) {
      const int bound = qx->second.denominator_log2_bound + qy->second.denominator_log2_bound;
      if (bound > kMaxDenominatorLog2) return nullptr;
      const Quotient a = qx->second.parts, c = qy->second.parts;
      return divide(
          {{b_.CreateFMul(a.numerator, c.numerator), b_.CreateFMul(a.denominator, c.denominator)},
           bound});
    }
    const PendingQuotient q = x_pending ? qx->second : qy->second;
    Value* plain = x_pending ? y : x;
    return divide(
        {{b_.CreateFMul(plain, q.parts.numerator), q.parts.denominator}, q.denominator_log2_bound});
  }

  // One expression whose operands are emitted.
  Value* emit_expr(ExprId id) {
    const Expr& e = k_.exprs[id];
    switch (e.kind) {
      case ExprKind::Index:
        switch (e.loop) {
          case LoopLevel::Outer:
            return outer_index_.at(e.axis);
          case LoopLevel::Inner:
            return inner_index_.at(e.axis);
          case LoopLevel::Contraction:
            return contraction_index_;
        }
        return nullptr;
      case ExprKind::Constant:
        return emit_constant(b_, e.dtype, e.float_value, e.int_value);
      case ExprKind::Load: {
        const DType dtype = k_.buffers[e.buffer].type.dtype;
        assert(e.dtype == dtype && "a load reads the buffer's dtype");
        Value* address = element_address(e.buffer, cached(e.operands[0]));
        const auto align = llvm::Align(ir::dtype_size(dtype));
        return from_memory(b_, b_.CreateAlignedLoad(memory_type(ctx_, dtype), address, align),
                           dtype);
      }
      case ExprKind::Op: {
        std::vector<Value*> args;
        std::vector<DType> dtypes;
        for (ExprId o : e.operands) {
          args.push_back(cached(o));
          dtypes.push_back(k_.exprs[o].dtype);
        }
        if (divides_by_outer_value(id) && reciprocal_[e.operands[1]]) {
          const Reciprocal& r = *reciprocal_[e.operands[1]];
          return b_.CreateFMul(b_.CreateFMul(args[0], r.inverse), r.scale);
        }
        if (e.dtype == DType::F32 && e.op == OpKind::Logistic)
          return divide({emit_logistic_quotient_f32(b_, args[0]), 1});
        if (e.dtype == DType::F32 && e.op == OpKind::Mul)
          if (Value* product = emit_product(args[0], args[1])) return product;
        return emit_scalar_op(b_, e.op, e.dtype, dtypes, args);
      }
      case ExprKind::PhaseResult: {
        Value* v = phase_results_.at(e.phase);
        assert(v && "a phase result is read after its phase");
        return v;
      }
    }
    assert(false && "unknown expression kind");
    return nullptr;
  }
};

}  // namespace kiln::codegen::cpu::detail
