// Every elementwise op as LLVM IR, one case per OpKind and no default. Integer corner cases
// (division by zero, INT_MIN / -1, negative powers) and float ones (NaN-propagating max/min
// with -0 < +0, saturating float -> int, half-to-even rounding) follow the interpreter.

#include "codegen/cpu/scalar_ops.h"

#include <bit>
#include <cassert>
#include <cmath>
#include <string>
#include <utility>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include "codegen/cpu/math_approx.h"
#include "codegen/kernel.h"
#include "ir/half.h"
#include "ir/scalar_semantics.h"
#include "runtime/kernel_abi.h"

namespace kiln::codegen::cpu {

namespace {

using ir::DType;
using ir::OpKind;
using llvm::IRBuilderBase;
using llvm::Value;

// Bool and the unsigned integers compare, divide and extend as unsigned.
bool is_unsigned_like(DType d) {
  return d == DType::Bool || ir::is_unsigned(d);
}

unsigned bit_width(DType d) {
  return static_cast<unsigned>(ir::dtype_size(d) * 8);
}

unsigned bit_width_of(llvm::Type* t) {
  return t->getIntegerBitWidth();
}

Value* bool_from(IRBuilderBase& b, Value* i1) {
  return b.CreateZExt(i1, b.getInt8Ty());
}

llvm::Function* libm(IRBuilderBase& b, const std::string& name, llvm::Type* type, int arity) {
  llvm::Module* m = b.GetInsertBlock()->getModule();
  std::vector<llvm::Type*> params(static_cast<size_t>(arity), type);
  auto callee = m->getOrInsertFunction(name, llvm::FunctionType::get(type, params, false));
  return llvm::cast<llvm::Function>(callee.getCallee());
}

// A double-precision libm call; f32-class values go through double, like the interpreter.
Value* call_libm(IRBuilderBase& b, const char* name, std::span<Value* const> args) {
  llvm::Type* dbl = b.getDoubleTy();
  std::vector<Value*> wide;
  for (Value* a : args)
    wide.push_back(a->getType()->isDoubleTy() ? a : b.CreateFPExt(a, dbl));
  Value* r = b.CreateCall(libm(b, name, dbl, static_cast<int>(args.size())), wide);
  return args[0]->getType()->isDoubleTy() ? r : b.CreateFPTrunc(r, b.getFloatTy());
}

Value* fconst(IRBuilderBase&, llvm::Type* t, double v) {
  return llvm::ConstantFP::get(t, v);
}

// IEEE maximum/minimum: NaN if either is NaN; equal operands differ only as -0 and +0, where
// and-ing the bits gives +0 (max) and or-ing gives -0 (min).
Value* float_max_min(IRBuilderBase& b, Value* x, Value* y, bool is_max) {
  if (llvm::isa<llvm::ConstantFP>(x)) std::swap(x, y);  // max and min commute
  if (auto* c = llvm::dyn_cast<llvm::ConstantFP>(y)) {
    // Against a constant that is not NaN and not the zero that loses the signed-zero tie
    // (-0 for max, +0 for min), one unordered compare gives the same bits: a NaN x picks x,
    // and x == c means x has c's bits. relu's max(x, 0) is the common case.
    const bool losing_zero = c->isZero() && c->isNegative() == is_max;
    if (!c->isNaN() && !losing_zero)
      return b.CreateSelect(is_max ? b.CreateFCmpUGT(x, y) : b.CreateFCmpULT(x, y), x, y);
  }
  llvm::Type* t = x->getType();
  llvm::Type* it = b.getIntNTy(t->getPrimitiveSizeInBits());
  Value* pick = is_max ? b.CreateFCmpOGT(x, y) : b.CreateFCmpOLT(x, y);
  Value* r = b.CreateSelect(pick, x, y);
  Value* xi = b.CreateBitCast(x, it);
  Value* yi = b.CreateBitCast(y, it);
  Value* tie = b.CreateBitCast(is_max ? b.CreateAnd(xi, yi) : b.CreateOr(xi, yi), t);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, y), tie, r);
  return b.CreateSelect(b.CreateFCmpUNO(x, y), b.CreateFAdd(x, y), r);
}

Value* int_div_rem(IRBuilderBase& b, Value* x, Value* y, DType d, bool is_div) {
  llvm::Type* t = x->getType();
  Value* zero = b.CreateICmpEQ(y, llvm::ConstantInt::get(t, 0));
  if (is_unsigned_like(d)) {
    Value* safe = b.CreateSelect(zero, llvm::ConstantInt::get(t, 1), y);
    Value* r = is_div ? b.CreateUDiv(x, safe) : b.CreateURem(x, safe);
    return b.CreateSelect(zero, is_div ? llvm::Constant::getAllOnesValue(t) : x, r);
  }
  Value* minus_one = b.CreateICmpEQ(y, llvm::Constant::getAllOnesValue(t));
  Value* safe = b.CreateSelect(b.CreateOr(zero, minus_one), llvm::ConstantInt::get(t, 1), y);
  Value* r = is_div ? b.CreateSDiv(x, safe) : b.CreateSRem(x, safe);
  r = b.CreateSelect(minus_one, is_div ? b.CreateNeg(x) : llvm::ConstantInt::get(t, 0), r);
  return b.CreateSelect(zero, is_div ? llvm::Constant::getAllOnesValue(t) : x, r);
}

Value* int_pow(IRBuilderBase& b, Value* x, Value* y, DType d) {
  llvm::Type* i64 = b.getInt64Ty();
  auto widen = [&](Value* v) {
    return is_unsigned_like(d) ? b.CreateZExtOrTrunc(v, i64) : b.CreateSExtOrTrunc(v, i64);
  };
  llvm::Module* m = b.GetInsertBlock()->getModule();
  auto callee = m->getOrInsertFunction(runtime::kIntPowSymbol,
                                       llvm::FunctionType::get(i64, {i64, i64}, false));
  Value* r = b.CreateCall(callee, {widen(x), widen(y)});
  return b.CreateTrunc(r, x->getType());
}

// Integer shifts (ir::scalar::shift_left and the right shifts): LLVM's shifts are poison from
// the width on, so the amount is clamped and the out-of-range result selected.
Value* int_shift(IRBuilderBase& b, OpKind op, Value* x, Value* amount) {
  llvm::Type* t = x->getType();
  Value* width_minus_one = llvm::ConstantInt::get(t, bit_width_of(t) - 1);
  Value* too_far = b.CreateICmpUGT(amount, width_minus_one);
  Value* n = b.CreateSelect(too_far, width_minus_one, amount);
  if (op == OpKind::ShiftRightArithmetic) return b.CreateAShr(x, n);
  Value* shifted = op == OpKind::ShiftLeft ? b.CreateShl(x, n) : b.CreateLShr(x, n);
  return b.CreateSelect(too_far, llvm::ConstantInt::get(t, 0), shifted);
}

// An element's bits read as another dtype of the same width. f16 and bf16 live in float
// registers, so their bits are their memory form.
Value* bitcast_convert(IRBuilderBase& b, Value* x, DType from, DType to) {
  Value* bits = to_memory(b, x, from);
  llvm::Type* int_type = b.getIntNTy(bit_width(from));
  if (!bits->getType()->isIntegerTy()) bits = b.CreateBitCast(bits, int_type);
  llvm::Type* memory = memory_type(b.getContext(), to);
  return from_memory(b, memory->isIntegerTy() ? bits : b.CreateBitCast(bits, memory), to);
}

// The transcendental and rounding unary ops on floats.
Value* float_unary(IRBuilderBase& b, OpKind op, Value* x) {
  const bool f64 = x->getType()->isDoubleTy();
  llvm::Type* t = x->getType();
  auto math = [&](Value* (*inline_f32)(IRBuilderBase&, Value*), const char* name) -> Value* {
    if (!f64) return inline_f32(b, x);
    Value* args[] = {x};
    return call_libm(b, name, args);
  };
  switch (op) {
    case OpKind::Exp:
      return math(emit_exp_f32, "exp");
    case OpKind::Log:
      return math(emit_log_f32, "log");
    case OpKind::Log1p:
      return math(emit_log1p_f32, "log1p");
    case OpKind::Expm1:
      return math(emit_expm1_f32, "expm1");
    case OpKind::Sin:
      return math(emit_sin_f32, "sin");
    case OpKind::Cos:
      return math(emit_cos_f32, "cos");
    case OpKind::Tanh:
      return math(emit_tanh_f32, "tanh");
    case OpKind::Erf:
      return math(emit_erf_f32, "erf");
    case OpKind::Logistic: {
      if (!f64) return emit_logistic_f32(b, x);
      Value* args[] = {b.CreateFNeg(x)};
      Value* e = call_libm(b, "exp", args);
      return b.CreateFDiv(fconst(b, t, 1.0), b.CreateFAdd(fconst(b, t, 1.0), e));
    }
    case OpKind::Sqrt:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
    case OpKind::Rsqrt:
      return b.CreateFDiv(fconst(b, t, 1.0), b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x));
    case OpKind::Floor:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x);
    case OpKind::Ceil:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, x);
    case OpKind::Round:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, x);
    default:
      break;
  }
  assert(false && "not a float unary op");
  return nullptr;
}

Value* compare(IRBuilderBase& b, OpKind op, Value* x, Value* y, DType d) {
  using P = llvm::CmpInst::Predicate;
  const bool fp = ir::is_float(d), u = is_unsigned_like(d);
  P p = P::ICMP_EQ;
  switch (op) {
    case OpKind::Eq:
      p = fp ? P::FCMP_OEQ : P::ICMP_EQ;
      break;
    case OpKind::Ne:
      p = fp ? P::FCMP_UNE : P::ICMP_NE;
      break;
    case OpKind::Lt:
      p = fp ? P::FCMP_OLT : u ? P::ICMP_ULT : P::ICMP_SLT;
      break;
    case OpKind::Le:
      p = fp ? P::FCMP_OLE : u ? P::ICMP_ULE : P::ICMP_SLE;
      break;
    case OpKind::Gt:
      p = fp ? P::FCMP_OGT : u ? P::ICMP_UGT : P::ICMP_SGT;
      break;
    case OpKind::Ge:
      p = fp ? P::FCMP_OGE : u ? P::ICMP_UGE : P::ICMP_SGE;
      break;
    default:
      assert(false && "not a comparison");
  }
  return bool_from(b, fp ? b.CreateFCmp(p, x, y) : b.CreateICmp(p, x, y));
}

Value* emit_op_unrounded(IRBuilderBase& b, OpKind op, DType result, DType d,
                         std::span<Value* const> a) {
  const bool fp = ir::is_float(d);
  auto x = [&] { return a[0]; };
  auto y = [&] { return a[1]; };
  switch (op) {
    case OpKind::Neg:
      return fp ? b.CreateFNeg(x()) : b.CreateNeg(x());
    case OpKind::Abs:
      if (fp) return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x());
      if (is_unsigned_like(d)) return x();
      return b.CreateSelect(b.CreateICmpSLT(x(), llvm::ConstantInt::get(x()->getType(), 0)),
                            b.CreateNeg(x()), x());
    case OpKind::Sign: {
      llvm::Type* t = x()->getType();
      if (fp) {
        Value* one = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, fconst(b, t, 1.0), x());
        return b.CreateSelect(b.CreateFCmpUEQ(x(), fconst(b, t, 0.0)), x(), one);
      }
      Value* zero = llvm::ConstantInt::get(t, 0);
      Value* pos = b.CreateZExt(b.CreateICmpNE(x(), zero), t);
      if (is_unsigned_like(d)) return pos;
      return b.CreateSelect(b.CreateICmpSLT(x(), zero), llvm::Constant::getAllOnesValue(t), pos);
    }
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
      return float_unary(b, op, x());
    case OpKind::Not:
      if (d == DType::Bool) return b.CreateXor(x(), b.getInt8(1));
      return b.CreateNot(x());
    case OpKind::Popcount:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, x());
    case OpKind::Clz:  // defined at 0: the width
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::ctlz, x(), b.getFalse());
    case OpKind::IsFinite:
      return bool_from(b, b.CreateFCmpOLT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x()),
                                          fconst(b, x()->getType(), INFINITY)));

    case OpKind::Add:
      return fp ? b.CreateFAdd(x(), y()) : b.CreateAdd(x(), y());
    case OpKind::Sub:
      return fp ? b.CreateFSub(x(), y()) : b.CreateSub(x(), y());
    case OpKind::Mul:
      return fp ? b.CreateFMul(x(), y()) : b.CreateMul(x(), y());
    case OpKind::Div:
      return fp ? b.CreateFDiv(x(), y()) : int_div_rem(b, x(), y(), d, true);
    case OpKind::Rem:
      return fp ? b.CreateFRem(x(), y()) : int_div_rem(b, x(), y(), d, false);
    case OpKind::Pow:
      return fp ? call_libm(b, "pow", a) : int_pow(b, x(), y(), d);
    case OpKind::Max:
    case OpKind::Min: {
      const bool is_max = op == OpKind::Max;
      if (fp) return float_max_min(b, x(), y(), is_max);
      const bool u = is_unsigned_like(d);
      auto id = is_max ? (u ? llvm::Intrinsic::umax : llvm::Intrinsic::smax)
                       : (u ? llvm::Intrinsic::umin : llvm::Intrinsic::smin);
      return b.CreateBinaryIntrinsic(id, x(), y());
    }
    case OpKind::And:
      return b.CreateAnd(x(), y());
    case OpKind::Or:
      return b.CreateOr(x(), y());
    case OpKind::Xor:
      return b.CreateXor(x(), y());
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
      return int_shift(b, op, x(), y());

    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
      return compare(b, op, x(), y(), d);
    case OpKind::Select:
      return b.CreateSelect(b.CreateICmpNE(a[0], b.getInt8(0)), a[1], a[2]);
    case OpKind::Convert:
      return emit_convert(b, x(), d, result);
    case OpKind::BitcastConvert:
      return bitcast_convert(b, x(), d, result);

    // Not scalar ops: lowering turns these into indices, loads, phases or a Matmul.
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Iota:
    case OpKind::RngBits:
    case OpKind::Broadcast:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::Pad:
    case OpKind::Concatenate:
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::DotGeneral:
    case OpKind::Take:
    case OpKind::ScatterAdd:
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
    case OpKind::TakeAlongAxis:
    case OpKind::ScatterAlongAxis:
    case OpKind::StopGradient:
    case OpKind::Call:
    // Written out by lowering in the ops above (codegen/math_expand.h), never kernel ops.
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
    case OpKind::Atan2:
      break;
  }
  assert(false && "not an elementwise op");
  return nullptr;
}

// double -> f32 rounding to odd (see ir/interpreter_elements.cpp): a later rounding to f16 or
// bf16 then rounds once.
Value* round_to_odd_f32(IRBuilderBase& b, Value* d) {
  Value* f = b.CreateFPTrunc(d, b.getFloatTy());
  Value* back = b.CreateFPExt(f, b.getDoubleTy());
  Value* inexact = b.CreateFCmpONE(back, d);
  Value* away = b.CreateFCmpOGT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, back),
                                b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d));
  Value* bits = b.CreateBitCast(f, b.getInt32Ty());
  bits = b.CreateSelect(b.CreateAnd(inexact, away), b.CreateSub(bits, b.getInt32(1)), bits);
  bits = b.CreateSelect(inexact, b.CreateOr(bits, b.getInt32(1)), bits);
  return b.CreateBitCast(bits, b.getFloatTy());
}

// f32 -> bf16 bits (i16), nearest-even, NaN made quiet: ir::float_to_bf16.
Value* bf16_bits(IRBuilderBase& b, Value* x) {
  Value* bits = b.CreateBitCast(x, b.getInt32Ty());
  Value* lsb = b.CreateAnd(b.CreateLShr(bits, 16), b.getInt32(1));
  Value* rounded = b.CreateAdd(bits, b.CreateAdd(lsb, b.getInt32(0x7fff)));
  Value* nan = b.CreateOr(bits, b.getInt32(0x400000));
  Value* out = b.CreateSelect(b.CreateFCmpUNO(x, x), nan, rounded);
  return b.CreateTrunc(b.CreateLShr(out, 16), b.getInt16Ty());
}

Value* bf16_to_float(IRBuilderBase& b, Value* bits16) {
  Value* wide = b.CreateShl(b.CreateZExt(bits16, b.getInt32Ty()), 16);
  return b.CreateBitCast(wide, b.getFloatTy());
}

}  // namespace

llvm::Type* register_type(llvm::LLVMContext& c, DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::I8:
    case DType::U8:
      return llvm::Type::getInt8Ty(c);
    case DType::I16:
      return llvm::Type::getInt16Ty(c);
    case DType::I32:
    case DType::U32:
      return llvm::Type::getInt32Ty(c);
    case DType::I64:
      return llvm::Type::getInt64Ty(c);
    case DType::F16:
    case DType::BF16:
    case DType::F32:
      return llvm::Type::getFloatTy(c);
    case DType::F64:
      return llvm::Type::getDoubleTy(c);
  }
  return nullptr;
}

llvm::Type* memory_type(llvm::LLVMContext& c, DType dtype) {
  if (dtype == DType::F16) return llvm::Type::getHalfTy(c);
  if (dtype == DType::BF16) return llvm::Type::getInt16Ty(c);
  return register_type(c, dtype);
}

Value* from_memory(IRBuilderBase& b, Value* loaded, DType dtype) {
  if (dtype == DType::F16) return b.CreateFPExt(loaded, b.getFloatTy());
  if (dtype == DType::BF16) return bf16_to_float(b, loaded);
  if (dtype == DType::Bool) return bool_from(b, b.CreateICmpNE(loaded, b.getInt8(0)));
  return loaded;
}

Value* to_memory(IRBuilderBase& b, Value* value, DType dtype) {
  if (dtype == DType::F16) return b.CreateFPTrunc(value, b.getHalfTy());
  if (dtype == DType::BF16) return bf16_bits(b, value);
  return value;
}

Value* round_to_dtype(IRBuilderBase& b, Value* x, DType dtype) {
  if (dtype == DType::F16) return b.CreateFPExt(b.CreateFPTrunc(x, b.getHalfTy()), b.getFloatTy());
  if (dtype == DType::BF16) return bf16_to_float(b, bf16_bits(b, x));
  return x;
}

Value* emit_constant(IRBuilderBase& b, DType dtype, double float_value, int64_t int_value) {
  switch (dtype) {
    case DType::F64:
      return fconst(b, b.getDoubleTy(), float_value);
    case DType::F32:
      return fconst(b, b.getFloatTy(), static_cast<float>(float_value));
    case DType::F16:
    case DType::BF16:
      // Constants round in C++ exactly as the interpreter stores them.
      return fconst(b, b.getFloatTy(), ir::scalar::round_to_float_dtype(float_value, dtype));
    case DType::Bool:
      return b.getInt8(int_value != 0);
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::U8:
    case DType::U32:
      return llvm::ConstantInt::get(register_type(b.getContext(), dtype),
                                    static_cast<uint64_t>(int_value), /*isSigned=*/false);
  }
  return nullptr;
}

Value* emit_convert(IRBuilderBase& b, Value* x, DType from, DType to) {
  if (from == to) return x;
  llvm::Type* target = register_type(b.getContext(), to);
  if (ir::is_float(from) && ir::is_float(to)) {
    if (to == DType::F64) return b.CreateFPExt(x, target);  // f32-class registers are floats
    if (from == DType::F64)
      return to == DType::F32 ? b.CreateFPTrunc(x, target)
                              : round_to_dtype(b, round_to_odd_f32(b, x), to);
    return round_to_dtype(b, x, to);  // f32-class to f32-class: one rounding
  }
  if (ir::is_float(from)) {
    if (to == DType::Bool) return bool_from(b, b.CreateFCmpUNE(x, fconst(b, x->getType(), 0.0)));
    auto id = ir::is_unsigned(to) ? llvm::Intrinsic::fptoui_sat : llvm::Intrinsic::fptosi_sat;
    return b.CreateIntrinsic(id, {target, x->getType()}, {x});
  }
  const bool u = is_unsigned_like(from);
  if (ir::is_float(to)) {
    auto cvt = [&](llvm::Type* t) { return u ? b.CreateUIToFP(x, t) : b.CreateSIToFP(x, t); };
    if (to == DType::F64 || to == DType::F32) return cvt(target);
    // Up to 16 bits converts exactly to f32; wider integers go through double and round to odd
    // so the value rounds once (exact for 32 bits; i64 beyond 2^53 may round twice).
    if (bit_width(from) <= 16) return round_to_dtype(b, cvt(b.getFloatTy()), to);
    return round_to_dtype(b, round_to_odd_f32(b, cvt(b.getDoubleTy())), to);
  }
  if (to == DType::Bool)
    return bool_from(b, b.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0)));
  return u ? b.CreateZExtOrTrunc(x, target) : b.CreateSExtOrTrunc(x, target);
}

Value* emit_scalar_op(IRBuilderBase& b, OpKind op, DType result,
                      std::span<const DType> operand_dtypes, std::span<Value* const> args) {
  // Select's dtype is its branches'; every other op's operands share one dtype.
  const DType d = op == OpKind::Select ? operand_dtypes[1] : operand_dtypes[0];
  Value* v = emit_op_unrounded(b, op, result, d, args);
  if (op == OpKind::Convert || exact_in_rounded_dtype(op)) return v;
  return round_to_dtype(b, v, result);
}

}  // namespace kiln::codegen::cpu
