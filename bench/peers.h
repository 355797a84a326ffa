#pragma once
// The limits every workload is measured against, in the same run: memory bandwidth, the
// OpenBLAS sgemm rate, and a hand-written AVX-512 fused loop for W1.

#include <cstddef>
#include <cstdint>

namespace kiln::bench {

// out[i] = in[i] * 1.0001f over n floats on `threads` threads: the read+write stream that
// W1-W3 are bounded by.
void stream_scale(const float* in, float* out, int64_t n, int threads);
// The sum of n floats on `threads` threads: the read-only stream W5 is bounded by.
float stream_sum(const float* in, int64_t n, int threads);
// C[m,n] = A[m,k] * B[k,n] with OpenBLAS's serial sgemm, rows split over `threads` threads.
void openblas_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                    int threads);
// W1 written by hand with AVX-512 intrinsics (scalar fallback without AVX-512), rows split over
// `threads` threads.
void handwritten_w1(const float* x, float a, float b, float* y, int64_t n, int threads);

}  // namespace kiln::bench
