#pragma once
// The limits every workload is measured against, in the same run: memory bandwidth, the
// fastest sgemm at hand (OpenBLAS, oneDNN, kiln's own GEMM), and hand-written AVX-512 fused
// loops for W1.

#include <cstddef>
#include <cstdint>

namespace kiln::bench {

// out[i] = in[i] * 1.0001f over n floats on `threads` threads: the read+write stream that
// W1-W3 are bounded by.
void stream_scale(const float* in, float* out, int64_t n, int threads);
// The sum of n floats on `threads` threads: the read-only stream W5 is bounded by.
float stream_sum(const float* in, int64_t n, int threads);

// C[m,n] = A[m,k] * B[k,n], all row-major, the rows of C split over `threads` std::threads.
// With OpenBLAS's serial sgemm (its kernels are the ones OPENBLAS_CORETYPE names, read when
// the library loads):
void openblas_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                    int threads);
// The core OpenBLAS picked its kernels for ("Zen", "SkylakeX", ...).
const char* openblas_core();
// With kiln's own GEMM (runtime/gemm.h) on kiln's thread pool, as W4's kernels run it (not
// `threads`: the pool's, KILN_NUM_THREADS or one per hardware thread):
void kiln_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
// The threads kiln_sgemm runs on.
int kiln_threads();
#if KILN_BENCH_HAVE_ONEDNN
// With oneDNN's dnnl_sgemm, each std::thread's call limited to one OpenMP thread:
void onednn_sgemm_split(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                        int threads);
// With one dnnl_sgemm call on `omp_threads` of oneDNN's own OpenMP threads. libgomp's idle
// threads spin after each call unless OMP_WAIT_POLICY=passive, so run this in a process of its
// own (bench/report.py does).
void onednn_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                  int omp_threads);
#endif

// W1, y = gelu_tanh(x*a + b) * logistic(x), written by hand with AVX-512 intrinsics (scalar
// fallback without AVX-512), split over `threads` threads. The fastest form: gelu_tanh(z) =
// z * logistic(2u), so y = z / ((1 + exp(-2u)) * (1 + exp(-x))), two exps and one division,
// with non-temporal stores (the output does not fit the last-level cache, and they save
// reading it in before writing). Finite for every finite x while z = x*a + b is finite.
void handwritten_w1(const float* x, float a, float b, float* y, int64_t n, int threads);
// The same with ordinary stores: on the 2-core Zen 4 VM, beside other builds, one thread ran it
// about 10% faster than the non-temporal form, so the limit takes whichever is faster there.
void handwritten_w1_cached(const float* x, float a, float b, float* y, int64_t n, int threads);
// The first form: gelu through tanh(u) = 1 - 2 / (exp(2u) + 1), two exps and two divisions,
// ordinary stores. Less accurate where gelu is tiny (1 + tanh(u) cancels).
void handwritten_w1_tanh(const float* x, float a, float b, float* y, int64_t n, int threads);

}  // namespace kiln::bench
