// Matrix rows for Matmul kernels: f32 and f64 through the serial OpenBLAS (so only the
// runtime's threads ever run), the other dtypes through a plain loop that accumulates like
// the interpreter (floats in double in k order, integers in wrapping int64).

#include "codegen/llvm/matmul_support.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <cblas.h>

#include "ir/dtype.h"
#include "ir/half.h"

namespace {

using kiln::ir::DType;
using namespace kiln::codegen::cpu;

struct Rows {
  const std::byte* lhs;  // this batch's lhs
  const std::byte* rhs;  // this batch's rhs
  std::byte* out;        // this batch's out
  int64_t m, n, k;
  int64_t first, last;  // rows [first, last)
  bool transpose_lhs, transpose_rhs;

  int64_t lhs_index(int64_t i, int64_t p) const { return transpose_lhs ? p * m + i : i * k + p; }
  int64_t rhs_index(int64_t p, int64_t j) const { return transpose_rhs ? j * k + p : p * n + j; }
};

template <typename T>
void blas_rows(const Rows& r) {
  const T* a = reinterpret_cast<const T*>(r.lhs);
  const T* b = reinterpret_cast<const T*>(r.rhs);
  T* c = reinterpret_cast<T*>(r.out) + r.first * r.n;
  const int64_t rows = r.last - r.first;
  if (r.k == 0) {
    std::fill(c, c + rows * r.n, T(0));
    return;
  }
  const auto ta = r.transpose_lhs ? CblasTrans : CblasNoTrans;
  const auto tb = r.transpose_rhs ? CblasTrans : CblasNoTrans;
  const T* a_rows = r.transpose_lhs ? a + r.first : a + r.first * r.k;
  const auto lda = static_cast<blasint>(r.transpose_lhs ? r.m : r.k);
  const auto ldb = static_cast<blasint>(r.transpose_rhs ? r.k : r.n);
  const auto M = static_cast<blasint>(rows), N = static_cast<blasint>(r.n),
             K = static_cast<blasint>(r.k);
  if constexpr (sizeof(T) == 4)
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, a_rows, lda, b, ldb, 0.0f, c, N);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, a_rows, lda, b, ldb, 0.0, c, N);
}

template <typename T>
T read(const std::byte* base, int64_t i) {
  T v;
  std::memcpy(&v, base + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}

template <typename T>
void write(std::byte* base, int64_t i, T v) {
  std::memcpy(base + i * static_cast<int64_t>(sizeof(T)), &v, sizeof(T));
}

template <typename Acc, typename Load, typename Store>
void loop_rows(const Rows& r, Load load, Store store) {
  for (int64_t i = r.first; i < r.last; ++i)
    for (int64_t j = 0; j < r.n; ++j) {
      Acc acc = 0;
      for (int64_t p = 0; p < r.k; ++p)
        acc = Acc(acc + load(r.lhs, r.lhs_index(i, p)) * load(r.rhs, r.rhs_index(p, j)));
      store(r.out, i * r.n + j, acc);
    }
}

// Integers in uint64 so that overflow wraps (the interpreter's wrap_add/wrap_mul).
template <typename T>
void int_rows(const Rows& r) {
  loop_rows<uint64_t>(
      r,
      [](const std::byte* p, int64_t i) {
        return static_cast<uint64_t>(static_cast<int64_t>(read<T>(p, i)));
      },
      [](std::byte* p, int64_t i, uint64_t v) { write<T>(p, i, static_cast<T>(v)); });
}

// double -> f32 rounding to odd, so the rounding to a half type that follows rounds once (as
// in the interpreter).
float round_to_odd(double value) {
  float f = static_cast<float>(value);
  if (std::isnan(value) || static_cast<double>(f) == value) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(value)) f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

void half_rows(const Rows& r, bool bf16) {
  auto load = [bf16](const std::byte* p, int64_t i) {
    const uint16_t bits = read<uint16_t>(p, i);
    return static_cast<double>(bf16 ? kiln::ir::bf16_to_float(bits) : kiln::ir::f16_to_float(bits));
  };
  auto store = [bf16](std::byte* p, int64_t i, double v) {
    const float f = round_to_odd(v);
    write<uint16_t>(p, i, bf16 ? kiln::ir::float_to_bf16(f) : kiln::ir::float_to_f16(f));
  };
  loop_rows<double>(r, load, store);
}

void rows_of(DType dtype, const Rows& r) {
  switch (dtype) {
    case DType::F32:
      return blas_rows<float>(r);
    case DType::F64:
      return blas_rows<double>(r);
    case DType::F16:
      return half_rows(r, false);
    case DType::BF16:
      return half_rows(r, true);
    case DType::I8:
      return int_rows<int8_t>(r);
    case DType::I16:
      return int_rows<int16_t>(r);
    case DType::I32:
      return int_rows<int32_t>(r);
    case DType::I64:
      return int_rows<int64_t>(r);
    case DType::U8:
      return int_rows<uint8_t>(r);
    case DType::U32:
      return int_rows<uint32_t>(r);
    case DType::Bool:
      break;  // dot_general is numeric only
  }
}

}  // namespace

extern "C" void kiln_matmul_rows(int32_t dtype, const void* lhs, const void* rhs, void* out,
                                 int64_t batch, int64_t m, int64_t n, int64_t k, int32_t flags,
                                 int64_t begin, int64_t end) {
  const auto d = static_cast<DType>(dtype);
  const auto size = static_cast<int64_t>(kiln::ir::dtype_size(d));
  for (int64_t b = begin / m; b < batch && b * m < end; ++b) {
    Rows r;
    r.lhs = static_cast<const std::byte*>(lhs) + ((flags & kLhsBatched) ? b * m * k * size : 0);
    r.rhs = static_cast<const std::byte*>(rhs) + ((flags & kRhsBatched) ? b * k * n * size : 0);
    r.out = static_cast<std::byte*>(out) + b * m * n * size;
    r.m = m;
    r.n = n;
    r.k = k;
    r.first = std::max(begin, b * m) - b * m;
    r.last = std::min(end, (b + 1) * m) - b * m;
    r.transpose_lhs = (flags & kTransposeLhs) != 0;
    r.transpose_rhs = (flags & kTransposeRhs) != 0;
    rows_of(d, r);
  }
}

extern "C" int64_t kiln_ipow_i64(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent & 1) ? -1 : 1;
    return 0;
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  for (; exponent > 0; exponent >>= 1) {
    if (exponent & 1) result *= b;
    b *= b;
  }
  return static_cast<int64_t>(result);
}
