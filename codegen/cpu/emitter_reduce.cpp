// The KernelEmitter's reductions (sums blocked over long axes, max/min over ordered integer
// keys, arg max/min, products in f64) and the Dot phases the runtime's GEMM does not run.

#include "codegen/cpu/kernel_emitter.h"

namespace kiln::codegen::cpu::detail {

namespace {

// The dtype a reduction accumulates in: f16 and bf16 sums in f32, float products in f64 as the
// interpreter computes them (an f32 partial product of 1e-30 and 1e-30 underflows to 0, and
// then a factor -inf gives NaN where the interpreter's product is -inf).
DType accumulator_dtype(OpKind reduce, DType value) {
  if (reduce == OpKind::ReduceProd && ir::is_float(value)) return DType::F64;
  return reduce == OpKind::ReduceSum ? dot_accumulator(value) : value;
}

// Elements per block of a blocked float sum or product (see emit_reduce).
constexpr int64_t kReduceBlock = 1024;

}  // namespace

// ---- Dot phases the GEMM does not run -----------------------------------------------------

// Per inner index, the products summed in contraction order in the accumulator (no FMA
// contraction, no reassociation: the interpreter's order), rounded once to the result dtype.
void KernelEmitter::emit_dot_loops(const Phase& phase, size_t p) {
  const DType dtype = phase.result_dtype;
  const DType acc_dtype = phase.accumulator;
  llvm::Type* acc_type = register_type(ctx_, acc_dtype);
  const bool fp = ir::is_float(acc_dtype);
  llvm::AllocaInst* acc = entry_alloca(acc_type);
  hoist_outer_level(phase_roots(phase));
  loop_nest(phase.extents, 0, [&] {
    // The -0 identity of a non-empty float sum, as in emit_reduce.
    b_.CreateStore(fp ? llvm::ConstantFP::get(acc_type, phase.contraction > 0 ? -0.0 : 0.0)
                      : llvm::ConstantInt::get(acc_type, 0),
                   acc);
    for (const Store& s : phase.stores)
      expr(s.offset);  // before the contraction loop, so it dominates the store after it
    if (phase.contraction > 0)
      loop(c64(phase.contraction), [&](Value* k) {
        contraction_index_ = k;
        contraction_cache_.assign(k_.exprs.size(), nullptr);
        Value* l = emit_convert(b_, expr(phase.dot_lhs), dtype, acc_dtype);
        Value* r = emit_convert(b_, expr(phase.dot_rhs), dtype, acc_dtype);
        Value* a = b_.CreateLoad(acc_type, acc);
        b_.CreateStore(
            fp ? b_.CreateFAdd(a, b_.CreateFMul(l, r)) : b_.CreateAdd(a, b_.CreateMul(l, r)), acc);
      });
    phase_results_[p] = emit_convert(b_, b_.CreateLoad(acc_type, acc), acc_dtype, dtype);
    emit_stores(phase);
  });
}

// ---- reductions ---------------------------------------------------------------------------

namespace {

// Float max/min reduce over integer keys that order like the floats (-0 < +0), which the
// vectorizer handles as an integer min/max, plus a separate "saw NaN" or-reduction.
Value* float_key(llvm::IRBuilderBase& b, Value* x) {
  const unsigned bits = x->getType()->getPrimitiveSizeInBits();
  llvm::Type* it = b.getIntNTy(bits);
  Value* i = b.CreateBitCast(x, it);
  Value* mask = b.CreateLShr(b.CreateAShr(i, bits - 1), 1);
  return b.CreateXor(i, mask);
}

Value* key_to_float(llvm::IRBuilderBase& b, Value* key, llvm::Type* float_type) {
  return b.CreateBitCast(float_key(b, b.CreateBitCast(key, float_type)), float_type);
}

}  // namespace

Value* KernelEmitter::emit_reduce(const Phase& phase, bool empty) {
  const OpKind op = phase.reduce_op;
  if (ir::has_trait(op, ir::OpTrait::ArgReduction)) return emit_arg_extreme(phase, empty);
  const DType value_dtype = k_.exprs[phase.value].dtype;
  const DType acc_dtype = accumulator_dtype(op, value_dtype);
  const bool fp = ir::is_float(value_dtype);
  const bool is_sum = op == OpKind::ReduceSum, is_prod = op == OpKind::ReduceProd;
  const bool is_max = op == OpKind::ReduceMax;
  assert((is_sum || is_prod || is_max || op == OpKind::ReduceMin) && "a reduction op");
  llvm::Type* acc_type = register_type(ctx_, acc_dtype);

  // The interpreter's identities: -0 for a non-empty float sum, -inf/+inf or the dtype's
  // extremes for max/min.
  Value* init = nullptr;
  if (is_sum) {
    init = fp ? llvm::ConstantFP::get(acc_type, empty ? 0.0 : -0.0)
              : llvm::ConstantInt::get(acc_type, 0);
  } else if (is_prod) {
    init = fp ? llvm::ConstantFP::get(acc_type, 1.0) : llvm::ConstantInt::get(acc_type, 1);
  } else if (fp) {
    init = float_key(b_, llvm::ConstantFP::getInfinity(acc_type, is_max));
  } else {
    const unsigned w = acc_type->getIntegerBitWidth();
    const bool u = value_dtype == DType::Bool || ir::is_unsigned(value_dtype);
    llvm::APInt v = is_max ? (u ? llvm::APInt::getMinValue(w) : llvm::APInt::getSignedMinValue(w))
                           : (u ? llvm::APInt::getMaxValue(w) : llvm::APInt::getSignedMaxValue(w));
    if (value_dtype == DType::Bool) v = llvm::APInt(w, is_max ? 0 : 1);
    init = llvm::ConstantInt::get(acc_type, v);
  }
  const bool keyed = fp && !is_sum && !is_prod;
  llvm::Type* slot_type = init->getType();
  llvm::AllocaInst* acc = entry_alloca(slot_type);
  llvm::AllocaInst* saw_nan = keyed ? entry_alloca(b_.getInt8Ty()) : nullptr;
  b_.CreateStore(init, acc);
  if (saw_nan) b_.CreateStore(b_.getInt8(0), saw_nan);

  if (!empty) {
    hoist_outer_level(phase_roots(phase));
    // A float sum over a long innermost axis is blocked: each block of kReduceBlock elements
    // gets an accumulator of its own, which the vectorizer splits into its lanes' partial
    // sums, and the blocks' results are combined in order. The longest chain of roundings an
    // element goes through is then about kReduceBlock / lanes + log2 lanes + extent /
    // kReduceBlock additions instead of extent / lanes: 65,536 equal f32 values sum to within
    // a few ulp (130 before), for one horizontal add per block. (A product's error is one
    // rounding per factor whatever the order, so products are not blocked.) The order depends
    // on the kernel only, never on threads.
    const bool blocked =
        fp && is_sum && !phase.extents.empty() && phase.extents.back() > 2 * kReduceBlock;
    llvm::AllocaInst* block_acc = blocked ? entry_alloca(slot_type) : nullptr;
    auto combine = [&](Value* a, Value* v, bool reassociate) {
      Value* r = is_sum ? b_.CreateFAdd(a, v) : b_.CreateFMul(a, v);
      if (reassociate) {
        // reassoc lets the vectorizer keep several partial sums.
        llvm::FastMathFlags fmf;
        fmf.setAllowReassoc();
        llvm::cast<llvm::Instruction>(r)->setFastMathFlags(fmf);
      }
      return r;
    };
    if (blocked) {
      const int64_t extent = phase.extents.back();
      std::vector<int64_t> leading(phase.extents.begin(), phase.extents.end() - 1);
      loop_nest(leading, 0, [&] {
        loop(c64((extent + kReduceBlock - 1) / kReduceBlock), [&](Value* block) {
          Value* first = b_.CreateMul(block, c64(kReduceBlock), "", true, true);
          Value* count = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, c64(kReduceBlock),
                                                  b_.CreateSub(c64(extent), first));
          b_.CreateStore(init, block_acc);
          loop(count, [&](Value* j) {
            inner_index_.back() = b_.CreateAdd(first, j, "", true, true);
            Value* v = expr(phase.value);
            emit_stores(phase);
            b_.CreateStore(combine(b_.CreateLoad(slot_type, block_acc), v, true), block_acc);
          });
          b_.CreateStore(
              combine(b_.CreateLoad(slot_type, acc), b_.CreateLoad(slot_type, block_acc), false),
              acc);
        });
      });
    } else {
      loop_nest(phase.extents, 0, [&] {
        Value* v = expr(phase.value);
        emit_stores(phase);
        if (fp && v->getType() != acc_type) v = b_.CreateFPExt(v, acc_type);
        Value* a = b_.CreateLoad(slot_type, acc);
        Value* r = nullptr;
        if (keyed) {
          r = b_.CreateBinaryIntrinsic(is_max ? llvm::Intrinsic::smax : llvm::Intrinsic::smin, a,
                                       float_key(b_, v));
          Value* nan = b_.CreateZExt(b_.CreateFCmpUNO(v, v), b_.getInt8Ty());
          b_.CreateStore(b_.CreateOr(b_.CreateLoad(b_.getInt8Ty(), saw_nan), nan), saw_nan);
        } else if (fp) {
          r = combine(a, v, true);
        } else if (is_sum || is_prod) {
          r = is_sum ? b_.CreateAdd(a, v) : b_.CreateMul(a, v);
        } else {
          const bool u = value_dtype == DType::Bool || ir::is_unsigned(value_dtype);
          auto id = is_max ? (u ? llvm::Intrinsic::umax : llvm::Intrinsic::smax)
                           : (u ? llvm::Intrinsic::umin : llvm::Intrinsic::smin);
          r = b_.CreateBinaryIntrinsic(id, a, v);
        }
        b_.CreateStore(r, acc);
      });
    }
  }
  Value* result = b_.CreateLoad(slot_type, acc);
  if (keyed) {
    result = key_to_float(b_, result, acc_type);
    Value* nan = b_.CreateICmpNE(b_.CreateLoad(b_.getInt8Ty(), saw_nan), b_.getInt8(0));
    result = b_.CreateSelect(nan, llvm::ConstantFP::getNaN(acc_type), result);
  }
  return emit_convert(b_, result, acc_dtype, phase.result_dtype);
}

// The first position of the extreme, NaN counting as the extreme (so the first NaN wins).
Value* KernelEmitter::emit_arg_extreme(const Phase& phase, bool empty) {
  const bool is_max = phase.reduce_op == OpKind::Argmax;
  const DType dtype = k_.exprs[phase.value].dtype;
  llvm::Type* vt = register_type(ctx_, dtype);
  llvm::AllocaInst* best = entry_alloca(vt);
  llvm::AllocaInst* best_pos = entry_alloca(i64());
  b_.CreateStore(llvm::Constant::getNullValue(vt), best);
  b_.CreateStore(c64(-1), best_pos);
  if (!empty) {
    hoist_outer_level({phase.value});
    loop_nest(phase.extents, 0, [&] {
      Value* pos = c64(0);
      for (size_t d = 0; d < phase.extents.size(); ++d)
        pos = b_.CreateAdd(b_.CreateMul(pos, c64(phase.extents[d])), inner_index_[d]);
      Value* v = expr(phase.value);
      Value* cur = b_.CreateLoad(vt, best);
      Value* cur_pos = b_.CreateLoad(i64(), best_pos);
      Value* better = nullptr;
      if (ir::is_float(dtype)) {
        Value* beats = is_max ? b_.CreateFCmpOGT(v, cur) : b_.CreateFCmpOLT(v, cur);
        better =
            b_.CreateAnd(b_.CreateFCmpORD(cur, cur), b_.CreateOr(b_.CreateFCmpUNO(v, v), beats));
      } else {
        const bool u = dtype == DType::Bool || ir::is_unsigned(dtype);
        better = is_max ? (u ? b_.CreateICmpUGT(v, cur) : b_.CreateICmpSGT(v, cur))
                        : (u ? b_.CreateICmpULT(v, cur) : b_.CreateICmpSLT(v, cur));
      }
      Value* take = b_.CreateOr(b_.CreateICmpSLT(cur_pos, c64(0)), better);
      b_.CreateStore(b_.CreateSelect(take, v, cur), best);
      b_.CreateStore(b_.CreateSelect(take, pos, cur_pos), best_pos);
    });
  }
  Value* pos = b_.CreateLoad(i64(), best_pos);
  pos = b_.CreateSelect(b_.CreateICmpSLT(pos, c64(0)), c64(0), pos);
  return emit_convert(b_, pos, DType::I64, phase.result_dtype);
}

}  // namespace kiln::codegen::cpu::detail
