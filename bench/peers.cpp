#include "bench/peers.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "runtime/gemm.h"
#include "runtime/thread_pool.h"

#if KILN_BENCH_HAVE_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <cstdio>
#include <cstdlib>
#endif

namespace kiln::bench {

namespace {

// Runs fn(begin, end) over [0, n) split into `threads` contiguous parts, one per std::thread
// (the caller takes the first).
template <class Fn>
void split(int64_t n, int threads, Fn fn) {
  std::vector<std::jthread> workers;
  int64_t chunk = (n + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    int64_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
    workers.emplace_back([=] { fn(begin, end); });
  }
  fn(0, std::min(n, chunk));
}

// C[m,n] = A[m,k] * B[k,n] (row-major) with the rows of C split over `threads` threads, each
// part computed by gemm(rows, a_rows, c_rows).
template <class RowGemm>
void split_rows(const float* a, float* c, int64_t m, int64_t n, int64_t k, int threads,
                RowGemm gemm) {
  split(m, threads, [=](int64_t begin, int64_t end) {
    if (end > begin) gemm(end - begin, a + begin * k, c + begin * n);
  });
}

// The scalar W1 in its definition's form, for the tails of the tanh form and machines without
// AVX-512.
float w1_scalar(float x, float a, float b) {
  float z = x * a + b;
  return 0.5f * z * (1 + std::tanh(0.7978845608028654f * (z + 0.044715f * z * z * z))) /
         (1 + std::exp(-x));
}

#if defined(__AVX512F__)
// exp(v) for float lanes with v in [-88, 88] (callers clamp; beyond that the reduction below
// loses its argument): 2^(v*log2 e) split into an integer n and a remainder r = v - n ln 2
// (Cody-Waite, ln 2 in two parts), e^r by a degree-6 polynomial (Cephes' expf coefficients),
// and 2^n applied exactly by scalef.
__m512 exp512_reduced(__m512 v) {
  __m512 t = _mm512_mul_ps(v, _mm512_set1_ps(1.44269504088896341f));
  __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), v);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// exp(v) for any v: clamped to [-87.3, 88.3], where it neither overflows nor goes subnormal.
__m512 exp512(__m512 v) {
  return exp512_reduced(
      _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f)));
}

void w1_tanh_block(const float* x, float a, float b, float* y, int64_t begin, int64_t end) {
  const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b), one = _mm512_set1_ps(1.0f),
               half = _mm512_set1_ps(0.5f), c = _mm512_set1_ps(0.7978845608028654f),
               k = _mm512_set1_ps(0.044715f), two = _mm512_set1_ps(2.0f);
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    __m512 xv = _mm512_loadu_ps(x + i);
    __m512 z = _mm512_fmadd_ps(xv, va, vb);
    __m512 inner = _mm512_mul_ps(c, _mm512_fmadd_ps(_mm512_mul_ps(k, z), _mm512_mul_ps(z, z), z));
    // tanh(u) = 1 - 2 / (exp(2u) + 1)
    __m512 tanh_u = _mm512_sub_ps(
        one, _mm512_div_ps(two, _mm512_add_ps(exp512(_mm512_mul_ps(two, inner)), one)));
    __m512 gelu = _mm512_mul_ps(_mm512_mul_ps(half, z), _mm512_add_ps(one, tanh_u));
    __m512 logistic =
        _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), xv))));
    _mm512_storeu_ps(y + i, _mm512_mul_ps(gelu, logistic));
  }
  for (; i < end; ++i)
    y[i] = w1_scalar(x[i], a, b);
}

// W1 in its fastest form, with every constant hoisted out of the loop.
struct W1Lanes {
  explicit W1Lanes(float a, float b) : a(_mm512_set1_ps(a)), b(_mm512_set1_ps(b)) {}

  // y = z / ((1 + exp(-2u)) * (1 + exp(-x))), with -2u = z * (c0 + c1 z^2).
  __m512 operator()(__m512 x) const {
    __m512 z = _mm512_fmadd_ps(x, a, b);
    __m512 minus_2u = _mm512_mul_ps(z, _mm512_fmadd_ps(_mm512_mul_ps(z, z), c1, c0));
    // Clamped to [-88, 88], each exp is finite. Below -88, 1 + exp(v) rounds to 1 anyway;
    // above 88 the true y is below |z| e^-88 (about 6e-39 |z|) and this one is too, down to
    // 0 through an infinite denominator where both clamps bind: never a NaN while z is finite.
    __m512 e2u = exp512_reduced(_mm512_min_ps(_mm512_max_ps(minus_2u, lo), hi));
    __m512 ex = exp512_reduced(_mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(zero, x), lo), hi));
    __m512 one_ex = _mm512_add_ps(one, ex);
    return _mm512_div_ps(z, _mm512_fmadd_ps(e2u, one_ex, one_ex));
  }

  const __m512 a, b;
  const __m512 c0 = _mm512_set1_ps(-2 * 0.7978845608028654f);
  const __m512 c1 = _mm512_set1_ps(-2 * 0.7978845608028654f * 0.044715f);
  const __m512 lo = _mm512_set1_ps(-88.0f), hi = _mm512_set1_ps(88.0f);
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
};

template <bool kNonTemporal>
void w1_block(const float* x, float a, float b, float* y, int64_t begin, int64_t end) {
  const W1Lanes w1(a, b);
  int64_t i = begin;
  // Non-temporal stores need 64-byte aligned addresses: masked ordinary stores up to the
  // first one (kiln's pool aligns every buffer, so normally none), and for the tail. The
  // masked loads read nothing outside [begin, end).
  const auto masked = [&](int64_t at, int64_t lanes) {
    const auto m = static_cast<__mmask16>((1u << lanes) - 1);
    _mm512_mask_storeu_ps(y + at, m, w1(_mm512_maskz_loadu_ps(m, x + at)));
  };
  const int64_t misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(y + i) % 64) / 4;
  if (int64_t head = std::min<int64_t>((16 - misaligned) % 16, end - i); head > 0) {
    masked(i, head);
    i += head;
  }
  for (; i + 16 <= end; i += 16) {
    if constexpr (kNonTemporal)
      _mm512_stream_ps(y + i, w1(_mm512_loadu_ps(x + i)));
    else
      _mm512_store_ps(y + i, w1(_mm512_loadu_ps(x + i)));
  }
  if (i < end) masked(i, end - i);
  // Non-temporal stores are weakly ordered: make them visible before the caller joins.
  _mm_sfence();
}
#else
void w1_tanh_block(const float* x, float a, float b, float* y, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    y[i] = w1_scalar(x[i], a, b);
}

template <bool kNonTemporal>
void w1_block(const float* x, float a, float b, float* y, int64_t begin, int64_t end) {
  const float c0 = -2 * 0.7978845608028654f, c1 = c0 * 0.044715f;
  for (int64_t i = begin; i < end; ++i) {
    float z = x[i] * a + b;
    float minus_2u = std::clamp(z * (c0 + c1 * z * z), -88.0f, 88.0f);
    y[i] = z / ((1 + std::exp(minus_2u)) * (1 + std::exp(std::clamp(-x[i], -88.0f, 88.0f))));
  }
}
#endif

}  // namespace

void stream_scale(const float* in, float* out, int64_t n, int threads) {
  split(n, threads, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = in[i] * 1.0001f;
  });
}

// The sum of in[begin, end) with enough independent accumulators that the loads, not the
// adds' latency, bound it.
float sum_block(const float* in, int64_t begin, int64_t end) {
  int64_t i = begin;
  float total = 0;
#if defined(__AVX512F__)
  __m512 acc[8];
  for (__m512& a : acc)
    a = _mm512_setzero_ps();
  for (; i + 128 <= end; i += 128)
    for (int j = 0; j < 8; ++j)
      acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(in + i + 16 * j));
  for (int j = 1; j < 8; ++j)
    acc[0] = _mm512_add_ps(acc[0], acc[j]);
  total = _mm512_reduce_add_ps(acc[0]);
#endif
  for (; i < end; ++i)
    total += in[i];
  return total;
}

float stream_sum(const float* in, int64_t n, int threads) {
  std::vector<float> partial(threads, 0.0f);
  int64_t chunk = (n + threads - 1) / threads;
  split(n, threads, [&](int64_t begin, int64_t end) {
    partial[begin / std::max<int64_t>(chunk, 1)] = sum_block(in, begin, end);
  });
  float total = 0;
  for (float p : partial)
    total += p;
  return total;
}

void openblas_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                    int threads) {
  split_rows(a, c, m, n, k, threads, [=](int64_t rows, const float* a_rows, float* c_rows) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
                static_cast<int>(n), static_cast<int>(k), 1.0f, a_rows, static_cast<int>(k), b,
                static_cast<int>(n), 0.0f, c_rows, static_cast<int>(n));
  });
}

const char* openblas_core() {
  return openblas_get_corename();
}

void kiln_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  // On the pool's threads, which outlive the call: the GEMM keeps its packing buffers per
  // thread, and fresh std::threads would allocate and first touch them on every call (a third
  // of the rate here).
  runtime::ThreadPool& pool = runtime::ThreadPool::instance();
  const int64_t rows = (m + pool.num_threads() - 1) / pool.num_threads();
  pool.parallel_for(m, rows, [=](int64_t begin, int64_t end) {
    runtime::gemm_f32(end - begin, n, k, a + begin * k, k, false, b, n, false, c + begin * n, n);
  });
}

int kiln_threads() {
  return runtime::ThreadPool::instance().num_threads();
}

#if KILN_BENCH_HAVE_ONEDNN
namespace {
void dnnl_rows(int64_t rows, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  if (dnnl_sgemm('N', 'N', rows, n, k, 1.0f, a, k, b, n, 0.0f, c, n) != dnnl_success) {
    std::fputs("dnnl_sgemm failed\n", stderr);
    std::abort();
  }
}
}  // namespace

void onednn_sgemm_split(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                        int threads) {
  split_rows(a, c, m, n, k, threads, [=](int64_t rows, const float* a_rows, float* c_rows) {
    // An OpenMP setting of the calling thread: without it each part would start a team of
    // omp_get_max_threads() threads of its own.
    omp_set_num_threads(1);
    dnnl_rows(rows, n, k, a_rows, b, c_rows);
  });
}

void onednn_sgemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                  int omp_threads) {
  omp_set_num_threads(omp_threads);
  dnnl_rows(m, n, k, a, b, c);
}
#endif

void handwritten_w1(const float* x, float a, float b, float* y, int64_t n, int threads) {
  split(n, threads, [=](int64_t begin, int64_t end) { w1_block<true>(x, a, b, y, begin, end); });
}

void handwritten_w1_cached(const float* x, float a, float b, float* y, int64_t n, int threads) {
  split(n, threads, [=](int64_t begin, int64_t end) { w1_block<false>(x, a, b, y, begin, end); });
}

void handwritten_w1_tanh(const float* x, float a, float b, float* y, int64_t n, int threads) {
  split(n, threads, [=](int64_t begin, int64_t end) { w1_tanh_block(x, a, b, y, begin, end); });
}

}  // namespace kiln::bench
