#pragma once
// The float transcendentals as straight-line SPIR-V (arithmetic, bitcasts and selects, no
// branches), since GLSL.std.450's Exp, Log, Sin, ... have no precision Vulkan guarantees and
// take no f64. The f32 versions are ports of the CPU backend's (codegen/cpu/math_approx.cpp,
// its generic path: exp's 2^n through the exponent field), with the same reductions (except
// sin and cos, below), constants and special values, so the two backends agree within their
// ulp bounds; the f64
// versions follow fdlibm. Each takes and returns a value of type b.type_float(32) or
// b.type_float(64), and emits into the current block.
//
// "lvp" bounds are the worst errors measured on lavapipe (llvmpipe, LLVM 15, x86-64; its GLSL
// Fma is not fused, f32 subnormals are flushed) against long-double glibc libm: f32 over
// every 997th bit pattern plus special values (results that would be f32 subnormals only
// checked to flush), f64 over 1M random bit patterns and 1M uniform points of each central
// range plus special values, pow over 1M (x, y) pairs of each width including |x| near 1
// with |y| up to 6e5; special values (signed zeros, infinities, NaN, overflow, underflow)
// matched exactly. "CPU" is the CPU backend's own bound (tests/codegen/llvm_math_test.cpp).
// The code assumes correctly rounded add, sub, mul, div (Vulkan guarantees the first three for
// f32; lavapipe rounds all correctly) and does not rely on Fma being fused.
// Functions using Int64 or Float64 declare those capabilities.

#include "codegen/spirv/builder.h"

namespace kiln::codegen::spirv {

// ---- f32, ports of the CPU approximations (CPU bounds: tests/codegen/llvm_math_test.cpp)

// Cephes exp; 2^n applied exactly into the normal range, then one rounding multiply.
// lvp 0.94 ulp, CPU 1.01.
Id emit_exp_f32(Builder& b, Id x);
// Cephes log, subnormals scaled by 2^23. lvp 0.76 ulp, CPU 0.83.
Id emit_log_f32(Builder& b, Id x);
// Goldberg: log(1 + x) * x / ((1 + x) - 1). lvp 2.37 ulp, CPU 2.47.
Id emit_log1p_f32(Builder& b, Id x);
// Kahan: (e^x - 1) * x / log(e^x). lvp 2.38 ulp, CPU 2.46.
Id emit_expm1_f32(Builder& b, Id x);
// Odd polynomial below 0.625, 1 - 2 / (e^2|x| + 1) above. lvp 1.25 ulp, CPU 1.33.
Id emit_tanh_f32(Builder& b, Id x);
// 1 / (1 + e^-x), e^x / (1 + e^x) for x < 0. lvp 2.18 ulp, CPU 2.40.
Id emit_logistic_f32(Builder& b, Id x);
// Juffa's erff. lvp 1.10 ulp, CPU 1.03.
Id emit_erf_f32(Builder& b, Id x);
// Cephes polynomials after an exact Payne-Hanek reduction (Int64, Float64) for every |x| from
// 0.78125 up: the CPU's four-piece pi/2 below 8192 needs a fused Fma, which Vulkan does not
// promise (on lavapipe it was off by up to 2e5 ulp). lvp 1.54 ulp, CPU 1.58.
Id emit_sin_f32(Builder& b, Id x);
Id emit_cos_f32(Builder& b, Id x);
// C99 Annex F pow: exp(y * log|x|) in f64 (Float64, Int64) rounded once to f32, whose error
// (about 2^-42 relative) leaves the result within 0.5 ulp + 2^-18 of the exact one.
// lvp 0.50 ulp.
Id emit_pow_f32(Builder& b, Id x, Id y);

// ---- f64 (Float64, Int64), fdlibm-style reductions and polynomials

// 2^n * e^r, Taylor to r^13 on |r| <= ln2/2, 2^n as two exact factors. lvp 0.95 ulp.
Id emit_exp_f64(Builder& b, Id x);
// fdlibm log: s = f / (2 + f), Lg1..Lg7. lvp 0.79 ulp.
Id emit_log_f64(Builder& b, Id x);
// The f32 compensations (Goldberg, Kahan) over the f64 exp and log. lvp 2.31 and 2.39 ulp.
Id emit_log1p_f64(Builder& b, Id x);
Id emit_expm1_f64(Builder& b, Id x);
// fdlibm tanh through expm1 (whose 2.4 ulp dominate). lvp 3.98 ulp.
Id emit_tanh_f64(Builder& b, Id x);
// As the f32 version, over the f64 exp. lvp 2.18 ulp.
Id emit_logistic_f64(Builder& b, Id x);
// fdlibm erf: four rational approximations, the two erfc ones sharing one evaluation.
// lvp 0.88 ulp.
Id emit_erf_f64(Builder& b, Id x);
// fdlibm's kernels after Cody-Waite with three 33-bit pieces of pi/2 (exact products, summed
// in double-double) below 2^20 and an exact Payne-Hanek reduction (Int64) from there, both
// computed and selected: every finite x. inf and NaN give NaN. lvp 0.77 ulp.
Id emit_sin_f64(Builder& b, Id x);
Id emit_cos_f64(Builder& b, Id x);
// C99 Annex F pow: log|x| in double-double (atanh series), y * log|x| by Dekker products (no
// reliance on a fused Fma), e^(hi + lo). lvp 0.94 ulp.
Id emit_pow_f64(Builder& b, Id x, Id y);

}  // namespace kiln::codegen::spirv
