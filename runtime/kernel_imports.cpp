// The helpers behind runtime/kernel_abi.h and the table of every symbol kernels may import.
// Matrix rows: f32 and f64 through runtime/gemm.h (deterministic and safe from any number of
// threads at once); f16 and bf16 in f32 by the same FMA chain; integers in wrapping int64, like
// the interpreter.

#include "runtime/kernel_imports.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ir/dtype.h"
#include "ir/half.h"
#include "ir/scalar_semantics.h"
#include "runtime/gemm.h"
#include "runtime/kernel_abi.h"

namespace kiln::runtime {

namespace {

using ir::DType;

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

// Where this call's rows of A start, and both operands' leading dimensions, in the GEMM's terms.
template <typename T>
struct GemmOperands {
  const T* a;
  int64_t lda;
  const T* b;
  int64_t ldb;

  explicit GemmOperands(const Rows& r)
      : a(reinterpret_cast<const T*>(r.lhs) + (r.transpose_lhs ? r.first : r.first * r.k)),
        lda(r.transpose_lhs ? r.m : r.k),
        b(reinterpret_cast<const T*>(r.rhs)),
        ldb(r.transpose_rhs ? r.k : r.n) {}
};

// The kernel's epilogue for this call's rows: blocks in the call's own row indices become
// rows of the kernel's flattened [batch, m] space.
struct Epilogue {
  EpilogueEntry entry;
  void* const* buffers;
  int64_t first_row;  // the call's row 0 in the kernel's row space

  void operator()(int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    if (entry) entry(buffers, first_row + r0, first_row + r1, c0, c1);
  }
  static void call(const void* self, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    (*static_cast<const Epilogue*>(self))(r0, r1, c0, c1);
  }
  BlockDone as_block_done() const { return entry ? BlockDone{&Epilogue::call, this} : BlockDone{}; }
};

template <typename T, typename Gemm>
void gemm_rows(const Rows& r, Gemm gemm, const Epilogue& epilogue) {
  const GemmOperands<T> op(r);
  T* c = reinterpret_cast<T*>(r.out) + r.first * r.n;
  gemm(r.last - r.first, r.n, r.k, op.a, op.lda, r.transpose_lhs, op.b, op.ldb, r.transpose_rhs, c,
       r.n, epilogue.as_block_done());
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
void int_rows(const Rows& r, const Epilogue& epilogue) {
  loop_rows<uint64_t>(
      r,
      [](const std::byte* p, int64_t i) {
        return static_cast<uint64_t>(static_cast<int64_t>(read<T>(p, i)));
      },
      [](std::byte* p, int64_t i, uint64_t v) { write<T>(p, i, static_cast<T>(v)); });
  epilogue(0, r.last - r.first, 0, r.n);
}

// f16 and bf16 accumulate in f32, as a chain of fused multiply-adds in k order (the GEMM's
// contract, which widens the operands while packing them), and round once to the half type,
// block by block as the GEMM finishes them, before the epilogue sees the block.
void half_rows(const Rows& r, bool bf16, const Epilogue& epilogue) {
  const int64_t rows = r.last - r.first;
  thread_local std::vector<float> products;
  products.resize(static_cast<size_t>(rows * r.n));
  struct Rounding {
    const Rows& r;
    bool bf16;
    const Epilogue& epilogue;
    const float* products;
    static void call(const void* self, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      const Rounding& s = *static_cast<const Rounding*>(self);
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = c0; j < c1; ++j) {
          const double v = s.products[i * s.r.n + j];
          write<uint16_t>(s.r.out, (s.r.first + i) * s.r.n + j,
                          s.bf16 ? ir::scalar::to_bf16_bits(v) : ir::scalar::to_f16_bits(v));
        }
      s.epilogue(r0, r1, c0, c1);
    }
  } rounding{r, bf16, epilogue, products.data()};
  const GemmOperands<uint16_t> op(r);
  gemm_half(bf16 ? HalfType::kBf16 : HalfType::kF16, rows, r.n, r.k, op.a, op.lda, r.transpose_lhs,
            op.b, op.ldb, r.transpose_rhs, products.data(), r.n,
            BlockDone{&Rounding::call, &rounding});
}

void rows_of(DType dtype, const Rows& r, const Epilogue& epilogue) {
  switch (dtype) {
    case DType::F32:
      return gemm_rows<float>(r, gemm_f32, epilogue);
    case DType::F64:
      return gemm_rows<double>(r, gemm_f64, epilogue);
    case DType::F16:
      return half_rows(r, false, epilogue);
    case DType::BF16:
      return half_rows(r, true, epilogue);
    case DType::I8:
      return int_rows<int8_t>(r, epilogue);
    case DType::I16:
      return int_rows<int16_t>(r, epilogue);
    case DType::I32:
      return int_rows<int32_t>(r, epilogue);
    case DType::I64:
      return int_rows<int64_t>(r, epilogue);
    case DType::U8:
      return int_rows<uint8_t>(r, epilogue);
    case DType::U32:
      return int_rows<uint32_t>(r, epilogue);
    case DType::Bool:
      break;  // dot_general is numeric only
  }
}

void matmul_rows(int32_t dtype, const void* lhs, const void* rhs, void* out, int64_t batch,
                 int64_t m, int64_t n, int64_t k, int32_t flags, int64_t begin, int64_t end,
                 EpilogueEntry epilogue, void* const* buffers) {
  const auto d = static_cast<DType>(dtype);
  const auto size = static_cast<int64_t>(ir::dtype_size(d));
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
    rows_of(d, r, Epilogue{epilogue, buffers, b * m + r.first});
  }
}

int64_t ipow_i64(int64_t base, int64_t exponent) {
  return ir::scalar::int_pow(base, exponent);
}

// Taking the address of a C library function that has C++ overloads needs its exact type.
template <typename Signature>
const void* address(Signature* function) {
  return reinterpret_cast<const void*>(function);
}

}  // namespace

std::span<const ImportedSymbol> kernel_imports() {
  using D1 = double(double);
  using D2 = double(double, double);
  using F1 = float(float);
  using F2 = float(float, float);
  static const ImportedSymbol table[] = {
      {kMatmulRowsSymbol, address(&matmul_rows)},
      {kIntPowSymbol, address(&ipow_i64)},
      {"exp", address<D1>(&::exp)},
      {"expf", address<F1>(&::expf)},
      {"exp2", address<D1>(&::exp2)},
      {"exp2f", address<F1>(&::exp2f)},
      {"expm1", address<D1>(&::expm1)},
      {"expm1f", address<F1>(&::expm1f)},
      {"log", address<D1>(&::log)},
      {"logf", address<F1>(&::logf)},
      {"log2", address<D1>(&::log2)},
      {"log2f", address<F1>(&::log2f)},
      {"log10", address<D1>(&::log10)},
      {"log10f", address<F1>(&::log10f)},
      {"log1p", address<D1>(&::log1p)},
      {"log1pf", address<F1>(&::log1pf)},
      {"sin", address<D1>(&::sin)},
      {"sinf", address<F1>(&::sinf)},
      {"cos", address<D1>(&::cos)},
      {"cosf", address<F1>(&::cosf)},
      {"tan", address<D1>(&::tan)},
      {"tanf", address<F1>(&::tanf)},
      {"tanh", address<D1>(&::tanh)},
      {"tanhf", address<F1>(&::tanhf)},
      {"erf", address<D1>(&::erf)},
      {"erff", address<F1>(&::erff)},
      {"atan2", address<D2>(&::atan2)},
      {"atan2f", address<F2>(&::atan2f)},
      {"pow", address<D2>(&::pow)},
      {"powf", address<F2>(&::powf)},
      {"fmod", address<D2>(&::fmod)},
      {"fmodf", address<F2>(&::fmodf)},
      // What LLVM may turn rounding, min/max and fma intrinsics into on CPUs without the
      // instructions for them.
      {"floor", address<D1>(&::floor)},
      {"floorf", address<F1>(&::floorf)},
      {"ceil", address<D1>(&::ceil)},
      {"ceilf", address<F1>(&::ceilf)},
      {"trunc", address<D1>(&::trunc)},
      {"truncf", address<F1>(&::truncf)},
      {"round", address<D1>(&::round)},
      {"roundf", address<F1>(&::roundf)},
      {"roundeven", address<D1>(&::roundeven)},
      {"roundevenf", address<F1>(&::roundevenf)},
      {"rint", address<D1>(&::rint)},
      {"rintf", address<F1>(&::rintf)},
      {"nearbyint", address<D1>(&::nearbyint)},
      {"nearbyintf", address<F1>(&::nearbyintf)},
      {"sqrt", address<D1>(&::sqrt)},
      {"sqrtf", address<F1>(&::sqrtf)},
      {"fmin", address<D2>(&::fmin)},
      {"fminf", address<F2>(&::fminf)},
      {"fmax", address<D2>(&::fmax)},
      {"fmaxf", address<F2>(&::fmaxf)},
      {"fma", address<double(double, double, double)>(&::fma)},
      {"fmaf", address<float(float, float, float)>(&::fmaf)},
      {"memset", address(&::memset)},
      {"memcpy", address(&::memcpy)},
      {"memmove", address(&::memmove)},
  };
  return table;
}

}  // namespace kiln::runtime
