#include "bench/peers.h"

#include <cblas.h>
#include <immintrin.h>

#include <cmath>
#include <thread>
#include <vector>

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

#if defined(__AVX512F__)
// exp(v) for float lanes: 2^(x*log2 e) split into integer and fraction, the fraction by a
// degree-6 polynomial (Cephes' expf coefficients).
__m512 exp512(__m512 v) {
  v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
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

void w1_block(const float* x, float a, float b, float* y, int64_t begin, int64_t end) {
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
  for (; i < end; ++i) {
    float z = x[i] * a + b;
    y[i] = 0.5f * z * (1 + std::tanh(0.7978845608028654f * (z + 0.044715f * z * z * z))) /
           (1 + std::exp(-x[i]));
  }
}
#else
void w1_block(const float* x, float a, float b, float* y, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    float z = x[i] * a + b;
    y[i] = 0.5f * z * (1 + std::tanh(0.7978845608028654f * (z + 0.044715f * z * z * z))) /
           (1 + std::exp(-x[i]));
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
  split(m, threads, [=](int64_t begin, int64_t end) {
    if (end > begin)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(end - begin),
                  static_cast<int>(n), static_cast<int>(k), 1.0f, a + begin * k,
                  static_cast<int>(k), b, static_cast<int>(n), 0.0f, c + begin * n,
                  static_cast<int>(n));
  });
}

void handwritten_w1(const float* x, float a, float b, float* y, int64_t n, int threads) {
  split(n, threads, [=](int64_t begin, int64_t end) { w1_block(x, a, b, y, begin, end); });
}

}  // namespace kiln::bench
