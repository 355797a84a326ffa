// The f32 transcendentals as inline IR. Range reductions and polynomials follow Cephes
// (exp, log, tanh, sin, cos) and N. Juffa's erff; log1p and expm1 use Goldberg's and Kahan's
// compensations on top of log and exp. Special values come out of the arithmetic where
// they can and out of a final select where they cannot.

#include "codegen/cpu/math_approx.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/ModRef.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

namespace kiln::codegen::cpu {

namespace {

using llvm::IRBuilderBase;
using llvm::Value;
using llvm::Intrinsic::ID;

Value* f(IRBuilderBase& b, double v) {
  return llvm::ConstantFP::get(b.getFloatTy(), v);
}

Value* i32(IRBuilderBase& b, uint32_t v) {
  return b.getInt32(v);
}

Value* unary(IRBuilderBase& b, ID id, Value* x) {
  return b.CreateUnaryIntrinsic(id, x);
}

Value* binary(IRBuilderBase& b, ID id, Value* x, Value* y) {
  return b.CreateBinaryIntrinsic(id, x, y);
}

// a * x + c, fused where the target can.
Value* fma(IRBuilderBase& b, Value* a, Value* x, Value* c) {
  return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {a->getType()}, {a, x, c});
}

// Horner: ((c0 * x + c1) * x + c2) ...
Value* horner(IRBuilderBase& b, Value* x, std::initializer_list<double> coeffs) {
  auto it = coeffs.begin();
  Value* p = f(b, *it++);
  for (; it != coeffs.end(); ++it)
    p = fma(b, p, x, f(b, *it));
  return p;
}

Value* as_int(IRBuilderBase& b, Value* x) {
  return b.CreateBitCast(x, b.getInt32Ty());
}

Value* as_float(IRBuilderBase& b, Value* x) {
  return b.CreateBitCast(x, b.getFloatTy());
}

Value* infinity(IRBuilderBase& b) {
  return llvm::ConstantFP::getInfinity(b.getFloatTy());
}

}  // namespace

namespace {

// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln2 / 2 (ln 2 split in two so n * hi
// is exact). n comes from adding a shifter: t = x * log2(e) + 1.5 * 2^23 + bias rounds x *
// log2(e) to an integer n held in t's low mantissa bits, so t minus the shifter is n as a
// float, and t's bits shifted left by 23 are (n + bias) << 23 modulo 2^32, the bit pattern of
// the float 2^(n + bias - 127) when that is normal: no float-to-int conversion, no clamp of n,
// and NaN still reaches the result through the multiply by that float. The argument must be
// clamped so that |n| < 2^21. The variants below differ only in how they apply 2^n, which is
// where the special cases live.
struct ExpParts {
  Value* scale;  // 2^(n + bias - 127), for the bias the caller asked for
  Value* y;      // e^r, in [0.7, 1.42]; NaN when x is
  Value* n;      // n as a float
};

ExpParts exp_parts(IRBuilderBase& b, Value* x, int bias) {
  const double shifter = 0x1.8p23 + bias;
  Value* t = fma(b, x, f(b, 1.44269504088896341), f(b, shifter));
  Value* n = b.CreateFSub(t, f(b, shifter));
  Value* r = fma(b, n, f(b, -0.693359375), x);
  r = fma(b, n, f(b, 2.12194440e-4), r);
  Value* p = horner(b, r,
                    {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2,
                     1.6666665459E-1, 5.0000001201E-1});
  return {as_float(b, b.CreateShl(as_int(b, t), 23)),
          b.CreateFAdd(fma(b, p, b.CreateFMul(r, r), r), f(b, 1.0)), n};
}

// ---- hardware scaling

// Whether the function being emitted has target feature `name` ("avx512f"): the last "+name"
// or "-name" in its feature list decides, as in LLVM's own parsing.
bool has_feature(IRBuilderBase& b, llvm::StringRef name) {
  llvm::StringRef rest =
      b.GetInsertBlock()->getParent()->getFnAttribute("target-features").getValueAsString();
  bool enabled = false;
  while (!rest.empty()) {
    auto [token, tail] = rest.split(',');
    if (token.size() > 1 && token.drop_front() == name) enabled = token.front() == '+';
    rest = tail;
  }
  return enabled;
}

// The module's helper `kVectorHelperPrefix` + name, y * 2^n for y and n of `type` (a float,
// then lane 0 of the 128-bit intrinsic, or a vector of floats) through the vscalef intrinsic
// `id`, made the first time it is asked for: internal, no memory effects, and noinline until
// prepare_vector_helpers_for_inlining (see math_approx.h).
llvm::Function* scalef_helper(llvm::Module& m, const std::string& name, llvm::Type* type,
                              const llvm::Function& like, llvm::Intrinsic::ID id) {
  const std::string full = std::string(kVectorHelperPrefix) + name;
  if (llvm::Function* existing = m.getFunction(full)) return existing;
  auto* fn = llvm::Function::Create(llvm::FunctionType::get(type, {type, type}, false),
                                    llvm::Function::InternalLinkage, full, m);
  for (const char* attr : {"target-cpu", "target-features", "prefer-vector-width"})
    if (like.hasFnAttribute(attr)) fn->addFnAttr(like.getFnAttribute(attr));
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  fn->addFnAttr(llvm::Attribute::WillReturn);
  fn->addFnAttr(llvm::Attribute::NoInline);
  fn->setMemoryEffects(llvm::MemoryEffects::none());

  const bool scalar = !type->isVectorTy();
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(fn->getContext(), "entry", fn));
  llvm::Function* intrinsic = llvm::Intrinsic::getDeclaration(fn->getParent(), id);
  llvm::FunctionType* it = intrinsic->getFunctionType();
  Value* y = fn->getArg(0);
  Value* n = fn->getArg(1);
  if (scalar) {
    Value* lanes = llvm::PoisonValue::get(it->getParamType(0));
    y = b.CreateInsertElement(lanes, y, uint64_t{0});
    n = b.CreateInsertElement(lanes, n, uint64_t{0});
  }
  std::vector<Value*> args{y, n, y, llvm::Constant::getAllOnesValue(it->getParamType(3))};
  if (it->getNumParams() == 5) args.push_back(b.getInt32(4));  // the current rounding mode
  Value* r = b.CreateCall(intrinsic, args);
  b.CreateRet(scalar ? b.CreateExtractElement(r, uint64_t{0}) : r);
  return fn;
}

// y * 2^n (n an integral float) as one vscalefps per vector: a call of a scalar helper that
// names vector variants of 4, 8 (with AVX-512VL) and 16 lanes, so that LLVM's loop vectorizer
// calls the variant for its vector width; every helper is inlined after vectorization.
// Null when the target lacks AVX-512F.
Value* hardware_scale(IRBuilderBase& b, Value* y, Value* n) {
  if (!has_feature(b, "avx512f")) return nullptr;
  llvm::Function& caller = *b.GetInsertBlock()->getParent();
  llvm::Module& m = *caller.getParent();
  llvm::Type* t = b.getFloatTy();
  llvm::Function* scalar =
      scalef_helper(m, "scalef_f32", t, caller, llvm::Intrinsic::x86_avx512_mask_scalef_ss);
  std::vector<std::string> variants;
  struct Width {
    unsigned lanes;
    llvm::Intrinsic::ID id;
    bool needs_vl;
  };
  for (const Width& w : {Width{4, llvm::Intrinsic::x86_avx512_mask_scalef_ps_128, true},
                         Width{8, llvm::Intrinsic::x86_avx512_mask_scalef_ps_256, true},
                         Width{16, llvm::Intrinsic::x86_avx512_mask_scalef_ps_512, false}}) {
    if (w.needs_vl && !has_feature(b, "avx512vl")) continue;
    llvm::Function* vector = scalef_helper(m, "scalef_f32_v" + std::to_string(w.lanes),
                                           llvm::FixedVectorType::get(t, w.lanes), caller, w.id);
    variants.push_back("_ZGV_LLVM_N" + std::to_string(w.lanes) + "vv_" + scalar->getName().str() +
                       "(" + vector->getName().str() + ")");
  }
  llvm::CallInst* call = b.CreateCall(scalar, {y, n});
  llvm::VFABI::setVectorVariantNames(call, variants);
  return call;
}

// For x <= 0 (or NaN), as logistic needs it. Clamped at -110 (where the result is 0 already,
// and -inf stays out of r), n is in [-159, 0], so 2^(n + 64) is a normal float and y * 2^(n +
// 64) is exact; the one rounding happens in the final multiply by 2^-64, which is right for
// subnormal results too.
Value* exp_nonpositive(IRBuilderBase& b, Value* x) {
  x = b.CreateSelect(b.CreateFCmpOLT(x, f(b, -110.0)), f(b, -110.0), x);
  auto [scale, y, n] = exp_parts(b, x, 127 + 64);
  if (Value* scaled = hardware_scale(b, y, n)) return scaled;
  return b.CreateFMul(b.CreateFMul(y, scale), f(b, 0x1p-64));
}

// For a >= 0 (or NaN), as tanh needs it. Past a = 88 tanh is 1 whatever e^a is, so a is
// clamped there; then n <= 127 and 2^n is a normal float.
Value* exp_nonnegative_for_tanh(IRBuilderBase& b, Value* a) {
  a = b.CreateSelect(b.CreateFCmpOGT(a, f(b, 88.0)), f(b, 88.0), a);
  auto [scale, y, n] = exp_parts(b, a, 127);
  if (Value* scaled = hardware_scale(b, y, n)) return scaled;
  return b.CreateFMul(y, scale);
}

}  // namespace

// x is clamped to [-110, 89] (exp is 0 and inf there already; the compare-and-select form keeps
// NaN and becomes one max and one min on x86), so n is in [-159, 128]. 2^n is applied as an
// exact scale into the normal range and one rounding multiply by a power of two: 2^(n + 64)
// then 2^-64 below 0 (subnormal results round once), 2^(n - 1) then 2 from 0 up (overflow
// to inf happens in that multiply). The offset's exponent-field increment is 127 minus the
// factor's exponent field.
bool prepare_vector_helpers_for_inlining(llvm::Module& module) {
  bool any = false;
  for (llvm::Function& fn : module)
    if (fn.getName().starts_with(kVectorHelperPrefix)) {
      fn.removeFnAttr(llvm::Attribute::NoInline);
      fn.addFnAttr(llvm::Attribute::AlwaysInline);
      any = true;
    }
  return any;
}

bool is_inline_transcendental(ir::OpKind op) {
  using ir::OpKind;
  for (OpKind inline_op : {OpKind::Exp, OpKind::Log, OpKind::Log1p, OpKind::Expm1, OpKind::Tanh,
                           OpKind::Logistic, OpKind::Erf, OpKind::Sin, OpKind::Cos})
    if (op == inline_op) return true;
  return false;
}

Value* emit_exp_f32(IRBuilderBase& b, Value* x) {
  x = b.CreateSelect(b.CreateFCmpOLT(x, f(b, -110.0)), f(b, -110.0), x);
  x = b.CreateSelect(b.CreateFCmpOGT(x, f(b, 89.0)), f(b, 89.0), x);
  auto [scale, y, n] = exp_parts(b, x, 127);
  if (Value* scaled = hardware_scale(b, y, n)) return scaled;
  Value* factor = b.CreateSelect(b.CreateFCmpOLT(x, f(b, 0.0)), f(b, 0x1p-64), f(b, 2.0));
  Value* offset = b.CreateSub(i32(b, 127u << 23), as_int(b, factor));
  Value* offset_scale = as_float(b, b.CreateAdd(as_int(b, scale), offset));
  return b.CreateFMul(b.CreateFMul(y, offset_scale), factor);
}

// log(x) = e * ln 2 + log(1 + m) with 1 + m in [sqrt(1/2), sqrt(2)); subnormals are scaled
// up by 2^23 first.
Value* emit_log_f32(IRBuilderBase& b, Value* x) {
  Value* subnormal = b.CreateFCmpOLT(x, f(b, 1.17549435e-38));
  Value* scaled = b.CreateSelect(subnormal, b.CreateFMul(x, f(b, 8388608.0)), x);
  Value* bits = as_int(b, scaled);
  Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, 23), i32(b, 0xff)),
                         b.CreateSelect(subnormal, i32(b, 126 + 23), i32(b, 126)));
  Value* m = as_float(b, b.CreateOr(b.CreateAnd(bits, i32(b, 0x807fffff)), i32(b, 0x3f000000)));
  Value* low = b.CreateFCmpOLT(m, f(b, 0.707106781186547524));
  e = b.CreateSub(e, b.CreateZExt(low, b.getInt32Ty()));
  m = b.CreateFSub(b.CreateSelect(low, b.CreateFAdd(m, m), m), f(b, 1.0));
  Value* z = b.CreateFMul(m, m);
  Value* p =
      horner(b, m,
             {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
              -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1});
  Value* fe = b.CreateSIToFP(e, b.getFloatTy());
  Value* y = b.CreateFMul(b.CreateFMul(p, m), z);
  y = fma(b, fe, f(b, -2.12194440e-4), y);
  y = fma(b, z, f(b, -0.5), y);
  Value* result = fma(b, fe, f(b, 0.693359375), b.CreateFAdd(m, y));
  result = b.CreateSelect(b.CreateFCmpOEQ(x, infinity(b)), infinity(b), result);
  result = b.CreateSelect(b.CreateFCmpOEQ(x, f(b, 0.0)),
                          llvm::ConstantFP::getInfinity(b.getFloatTy(), true), result);
  Value* nan = llvm::ConstantFP::getNaN(b.getFloatTy());
  result = b.CreateSelect(b.CreateFCmpOLT(x, f(b, 0.0)), nan, result);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, result);
}

// log1p(x) = log(u) * x / (u - 1) with u = 1 + x (Goldberg): the rounding error of u cancels.
Value* emit_log1p_f32(IRBuilderBase& b, Value* x) {
  Value* u = b.CreateFAdd(x, f(b, 1.0));
  Value* ratio = b.CreateFDiv(x, b.CreateFSub(u, f(b, 1.0)));
  Value* result = b.CreateFMul(emit_log_f32(b, u), ratio);
  result = b.CreateSelect(b.CreateFCmpOEQ(u, f(b, 1.0)), x, result);
  return b.CreateSelect(b.CreateFCmpOEQ(x, infinity(b)), x, result);
}

// expm1(x) = (u - 1) * x / log(u) with u = exp(x) (Kahan): the error of u cancels.
Value* emit_expm1_f32(IRBuilderBase& b, Value* x) {
  Value* u = emit_exp_f32(b, x);
  Value* um1 = b.CreateFSub(u, f(b, 1.0));
  Value* result = b.CreateFMul(um1, b.CreateFDiv(x, emit_log_f32(b, u)));
  result = b.CreateSelect(b.CreateFCmpOEQ(u, infinity(b)), u, result);
  result = b.CreateSelect(b.CreateFCmpOEQ(um1, f(b, -1.0)), um1, result);
  result = b.CreateSelect(b.CreateFCmpOEQ(u, f(b, 1.0)), x, result);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, result);
}

// An odd polynomial below 0.625, 1 - 2 / (e^2|x| + 1) above (which saturates to 1 by itself).
Value* emit_tanh_f32(IRBuilderBase& b, Value* x) {
  Value* ax = unary(b, llvm::Intrinsic::fabs, x);
  Value* s = b.CreateFMul(x, x);
  Value* p = horner(b, s,
                    {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2, 1.33314422036E-1,
                     -3.33332819422E-1});
  // copysign keeps tanh(-0) = -0 (the polynomial's -0 + +0 would give +0).
  Value* small = binary(b, llvm::Intrinsic::copysign, fma(b, b.CreateFMul(p, s), x, x), x);
  Value* e = exp_nonnegative_for_tanh(b, b.CreateFAdd(ax, ax));
  Value* large = b.CreateFSub(f(b, 1.0), b.CreateFDiv(f(b, 2.0), b.CreateFAdd(e, f(b, 1.0))));
  large = binary(b, llvm::Intrinsic::copysign, large, x);
  return b.CreateSelect(b.CreateFCmpOLT(ax, f(b, 0.625)), small, large);
}

// 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so e never overflows and tiny
// results keep their precision. Choosing the numerator before dividing keeps one division
// per element (the same result as dividing both ways and choosing after).
Quotient emit_logistic_quotient_f32(IRBuilderBase& b, Value* x) {
  Value* e = exp_nonpositive(b, b.CreateFNeg(unary(b, llvm::Intrinsic::fabs, x)));
  Value* numerator = b.CreateSelect(b.CreateFCmpOGE(x, f(b, 0.0)), f(b, 1.0), e);
  return {numerator, b.CreateFAdd(e, f(b, 1.0))};
}

Value* emit_logistic_f32(IRBuilderBase& b, Value* x) {
  const Quotient q = emit_logistic_quotient_f32(b, x);
  return b.CreateFDiv(q.numerator, q.denominator);
}

// Juffa's erff: x * P(x^2) below 0.9277, 1 - exp(Q(|x|)) above.
Value* emit_erf_f32(IRBuilderBase& b, Value* x) {
  Value* t = unary(b, llvm::Intrinsic::fabs, x);
  Value* s = b.CreateFMul(x, x);
  Value* r = fma(b, f(b, -1.72853470e-5), t, f(b, 3.83197126e-4));
  Value* u = fma(b, f(b, -3.88396438e-3), t, f(b, 2.42546219e-2));
  r = fma(b, r, s, u);
  r = fma(b, r, t, f(b, -1.06777877e-1));
  r = fma(b, r, t, f(b, -6.34846687e-1));
  r = fma(b, r, t, f(b, -1.28717512e-1));
  r = fma(b, r, t, b.CreateFNeg(t));
  Value* large = b.CreateFSub(f(b, 1.0), emit_exp_f32(b, r));
  large = binary(b, llvm::Intrinsic::copysign, large, x);
  Value* p = horner(b, s,
                    {-5.96761703e-4, 4.99119423e-3, -2.67681349e-2, 1.12819925e-1, -3.76125336e-1,
                     1.28379166e-1});
  Value* small = fma(b, p, x, x);
  return b.CreateSelect(b.CreateFCmpOGT(t, f(b, 0.927734375)), large, small);
}

namespace {

// x = j * pi/2 + r with |r| <= pi/4; pi/2 is split into four 24-bit pieces (96 bits), so
// with fused multiply-adds r keeps its precision for |x| up to about 1e5 (used up to 8192).
struct Reduced {
  Value* r;
  Value* quadrant;  // j mod 4, i32
};

Reduced reduce_half_pi(IRBuilderBase& b, Value* x) {
  Value* j = unary(b, llvm::Intrinsic::roundeven, b.CreateFMul(x, f(b, 0.636619772367581343)));
  Value* r = x;
  for (double piece : {0x1.921FB4p0, 0x1.4442D0p-24, 0x1.846988p-48, 0x1.8CC516p-72})
    r = fma(b, j, f(b, -piece), r);
  // Below pi/4 r is x itself (this also keeps the sign of -0, which -0 * -c + -0 loses).
  r = b.CreateSelect(b.CreateFCmpOEQ(j, f(b, 0.0)), x, r);
  Value* ji = b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {b.getInt32Ty(), b.getFloatTy()}, {j});
  return {r, b.CreateAnd(ji, i32(b, 3))};
}

// The bits of 2/pi after the binary point, behind 32 zero bits that stand for the bits at and
// above 2^0 (there are none): word i holds bits 32i-31 .. 32i (bit 1 is 2^-1) of 2/pi.
constexpr uint32_t kTwoOverPiBits[] = {0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1,
                                       0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab};

Value* i64(IRBuilderBase& b, uint64_t v) {
  return b.getInt64(v);
}

// Payne-Hanek reduction, exact for every finite f32: |x| = m * 2^e with an integer m < 2^24,
// and x * 2/pi mod 4 depends only on the bits of 2/pi from 2^(1-e) down (higher ones add
// multiples of 4); 96 of them, taken from the table at an offset set by e, leave an error
// below 2^-70 in the reduced argument, far under the closest an f32 comes to a multiple of
// pi/2. m times that window is summed in 32-bit limbs of 64-bit integers (vector multiplies
// and adds, no 128-bit arithmetic), and the fraction becomes r = f * pi/2 in double.
Reduced reduce_half_pi_exact(IRBuilderBase& b, Value* x) {
  llvm::Type* i64_type = b.getInt64Ty();
  Value* bits = as_int(b, x);
  Value* biased = b.CreateAnd(b.CreateLShr(bits, 23), i32(b, 0xff));
  Value* m =
      b.CreateZExt(b.CreateOr(b.CreateAnd(bits, i32(b, 0x7fffff)), i32(b, 0x800000)), i64_type);
  // The window starts at bit e - 1 of 2/pi, table bit e + 30 = biased - 120, clamped so that
  // inputs that take the other path (small, infinite, NaN) still read inside the table.
  Value* offset = binary(
      b, llvm::Intrinsic::smin,
      binary(b, llvm::Intrinsic::smax, b.CreateSub(biased, i32(b, 120)), i32(b, 0)), i32(b, 135));
  Value* word = b.CreateLShr(offset, 5);
  Value* shift = b.CreateZExt(b.CreateAnd(offset, i32(b, 31)), i64_type);
  // Word `word + i` of the table, picked by selects among the five starts the exact path
  // uses (word <= 4): vector blends, where a table load would be a gather per word.
  auto load_word = [&](uint32_t i) {
    Value* picked = i64(b, kTwoOverPiBits[i]);
    for (uint32_t start = 1; start <= 4; ++start)
      picked = b.CreateSelect(b.CreateICmpEQ(word, i32(b, start)),
                              i64(b, kTwoOverPiBits[start + i]), picked);
    return picked;
  };
  Value* t[4] = {load_word(0), load_word(1), load_word(2), load_word(3)};
  // The window's three 32-bit limbs, most significant first.
  Value* limb[3];
  for (int i = 0; i < 3; ++i) {
    Value* pair = b.CreateOr(b.CreateShl(t[i], 32), t[i + 1]);
    limb[i] = b.CreateLShr(b.CreateShl(pair, shift), 32);
  }
  Value* p0 = b.CreateMul(m, limb[0]);
  Value* p1 = b.CreateMul(m, limb[1]);
  Value* p2 = b.CreateMul(m, limb[2]);
  // m * window mod 2^96 = high * 2^64 + low; its top two bits are the quadrant, the other 94
  // the fraction of a quarter turn.
  Value* low = b.CreateAdd(p2, b.CreateShl(b.CreateAnd(p1, i64(b, 0xffffffff)), 32));
  Value* carry = b.CreateZExt(b.CreateICmpULT(low, p2), i64_type);
  Value* high =
      b.CreateAnd(b.CreateAdd(b.CreateAdd(p0, b.CreateLShr(p1, 32)), carry), i64(b, 0xffffffff));
  Value* quadrant = b.CreateAnd(b.CreateLShr(high, 30), i64(b, 3));
  // A fraction of a half or more rounds up to the next quadrant, leaving |fraction| <= 1/2:
  // 2^94 - fraction, in limbs.
  Value* round_up = b.CreateAnd(b.CreateLShr(high, 29), i64(b, 1));
  Value* up = b.CreateICmpNE(round_up, i64(b, 0));
  Value* fraction_high = b.CreateAnd(high, i64(b, 0x3fffffff));
  Value* borrow = b.CreateZExt(b.CreateICmpNE(low, i64(b, 0)), i64_type);
  Value* magnitude_high =
      b.CreateSelect(up, b.CreateSub(b.CreateSub(i64(b, uint64_t{1} << 30), fraction_high), borrow),
                     fraction_high);
  Value* magnitude_low = b.CreateSelect(up, b.CreateNeg(low), low);
  llvm::Type* f64 = b.getDoubleTy();
  auto d = [&](double v) { return llvm::ConstantFP::get(f64, v); };
  Value* fraction = fma(b, b.CreateUIToFP(magnitude_high, f64), d(0x1p-30),
                        b.CreateFMul(b.CreateUIToFP(magnitude_low, f64), d(0x1p-94)));
  Value* r = b.CreateFMul(fraction, d(1.5707963267948966));
  r = b.CreateSelect(up, b.CreateFNeg(r), r);
  Value* q = b.CreateTrunc(b.CreateAnd(b.CreateAdd(quadrant, round_up), i64(b, 3)), b.getInt32Ty());
  // sin and cos of -|x|: the quadrant and r change sign.
  Value* negative = b.CreateICmpSLT(bits, i32(b, 0));
  r = b.CreateSelect(negative, b.CreateFNeg(r), r);
  q = b.CreateSelect(negative, b.CreateAnd(b.CreateSub(i32(b, 4), q), i32(b, 3)), q);
  return {b.CreateFPTrunc(r, b.getFloatTy()), q};
}

// The four-piece reduction where it is exact enough (|x| <= 8192, also inf and NaN, which it
// turns into NaN), the exact one beyond.
Reduced reduce_for_sin_cos(IRBuilderBase& b, Value* x) {
  const Reduced fast = reduce_half_pi(b, x);
  const Reduced exact = reduce_half_pi_exact(b, x);
  Value* magnitude = unary(b, llvm::Intrinsic::fabs, x);
  Value* large = b.CreateAnd(b.CreateFCmpOGT(magnitude, f(b, 8192.0)),
                             b.CreateFCmpOLT(magnitude, f(b, INFINITY)));
  return {b.CreateSelect(large, exact.r, fast.r),
          b.CreateSelect(large, exact.quadrant, fast.quadrant)};
}

Value* sin_poly(IRBuilderBase& b, Value* r) {
  Value* z = b.CreateFMul(r, r);
  Value* p = horner(b, z, {-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1});
  // sin r has r's sign on [-pi/4, pi/4]; copysign keeps sin(-0) = -0.
  return binary(b, llvm::Intrinsic::copysign, fma(b, b.CreateFMul(p, z), r, r), r);
}

Value* cos_poly(IRBuilderBase& b, Value* r) {
  Value* z = b.CreateFMul(r, r);
  Value* p = horner(b, z, {2.443315711809948E-5, -1.388731625493765E-3, 4.166664568298827E-2});
  return fma(b, b.CreateFMul(p, z), z, fma(b, f(b, -0.5), z, f(b, 1.0)));
}

// Picks sin or cos of r and its sign by quadrant; `shift` is 0 for sin and 1 for cos.
Value* sin_cos(IRBuilderBase& b, Value* x, uint32_t shift) {
  Reduced red = reduce_for_sin_cos(b, x);
  Value* q = b.CreateAnd(b.CreateAdd(red.quadrant, i32(b, shift)), i32(b, 3));
  Value* s = sin_poly(b, red.r);
  Value* c = cos_poly(b, red.r);
  Value* odd = b.CreateICmpNE(b.CreateAnd(q, i32(b, 1)), i32(b, 0));
  Value* value = b.CreateSelect(odd, c, s);
  Value* negate = b.CreateICmpUGE(q, i32(b, 2));
  return b.CreateSelect(negate, b.CreateFNeg(value), value);
}

}  // namespace

Value* emit_sin_f32(IRBuilderBase& b, Value* x) {
  return sin_cos(b, x, 0);
}

Value* emit_cos_f32(IRBuilderBase& b, Value* x) {
  return sin_cos(b, x, 1);
}

}  // namespace kiln::codegen::cpu
