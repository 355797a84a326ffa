// Packed, cache-blocked GEMM in the style of GotoBLAS/BLIS, with a register-blocked
// micro-kernel for AVX-512, one for AVX2+FMA and a scalar std::fma fallback, picked at run time.
//
// Determinism contract: every C[i, j] is computed as
//     acc = +0;  for p = 0, 1, ..., k-1:  acc = fma(A[i, p], B[p, j], acc);  C[i, j] = acc
// with one rounding per step, so its bits depend only on row i of A, column j of B and k: not
// on m, n, which rows or columns a call covers, alignment, the thread, or the ISA path.
// Why it holds:
//  - The k loop is split into KC-sized blocks, in increasing order. A micro-kernel starts each
//    element's accumulator from the value the previous block stored in C (or +0 for the first
//    block) and runs its FMAs in increasing p. Splitting the chain at block boundaries and
//    storing/reloading it in between is exact, so the blocking sizes do not affect the result.
//  - A SIMD lane holds one element of C; lanes never combine (no horizontal sums, no
//    k-splitting across accumulators), so register blocking does not affect it either.
//  - Edge tiles run the same chain: short row panels use a micro-kernel compiled for fewer rows,
//    narrow column panels run a kernel on a zero-padded B panel into a scratch tile. Tile shapes
//    and whether an operand is packed or read in place change where values sit, never the
//    per-element sequence; all blocking constants are compile-time constants anyway.
//  - Every path uses a fused multiply-add with round-to-nearest (vfmadd or std::fma), and the
//    code is compiled without fast-math, so nothing else reorders or contracts the arithmetic.
//    (NaN payloads may differ between paths; NaN-ness does not.)
//
// Thread safety: the packing buffers are thread_local; the only shared state is the ISA choice,
// an atomic that only gemm_force_isa_for_testing writes.

#include "runtime/gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "ir/half.h"

namespace kiln::runtime {
namespace {

// The library is built for baseline x86-64; only the functions marked with these use wider
// instructions, and only after run-time detection (best_supported_isa) has picked them.
#define KILN_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,fma")))
#define KILN_TARGET_AVX2 __attribute__((target("avx2,fma")))

// ---- SIMD vocabulary: one struct per (ISA, element type), used by the generic micro-kernel.

struct Avx512Float {
  using Scalar = float;
  using Vec = __m512;
  static constexpr int kLanes = 16;
  KILN_TARGET_AVX512 static Vec zero() { return _mm512_setzero_ps(); }
  KILN_TARGET_AVX512 static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  KILN_TARGET_AVX512 static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  KILN_TARGET_AVX512 static Vec broadcast(float x) { return _mm512_set1_ps(x); }
  KILN_TARGET_AVX512 static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
};

struct Avx512Double {
  using Scalar = double;
  using Vec = __m512d;
  static constexpr int kLanes = 8;
  KILN_TARGET_AVX512 static Vec zero() { return _mm512_setzero_pd(); }
  KILN_TARGET_AVX512 static Vec load(const double* p) { return _mm512_loadu_pd(p); }
  KILN_TARGET_AVX512 static void store(double* p, Vec v) { _mm512_storeu_pd(p, v); }
  KILN_TARGET_AVX512 static Vec broadcast(double x) { return _mm512_set1_pd(x); }
  KILN_TARGET_AVX512 static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_pd(a, b, c); }
};

struct Avx2Float {
  using Scalar = float;
  using Vec = __m256;
  static constexpr int kLanes = 8;
  KILN_TARGET_AVX2 static Vec zero() { return _mm256_setzero_ps(); }
  KILN_TARGET_AVX2 static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  KILN_TARGET_AVX2 static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  KILN_TARGET_AVX2 static Vec broadcast(float x) { return _mm256_set1_ps(x); }
  KILN_TARGET_AVX2 static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
};

struct Avx2Double {
  using Scalar = double;
  using Vec = __m256d;
  static constexpr int kLanes = 4;
  KILN_TARGET_AVX2 static Vec zero() { return _mm256_setzero_pd(); }
  KILN_TARGET_AVX2 static Vec load(const double* p) { return _mm256_loadu_pd(p); }
  KILN_TARGET_AVX2 static void store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
  KILN_TARGET_AVX2 static Vec broadcast(double x) { return _mm256_set1_pd(x); }
  KILN_TARGET_AVX2 static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_pd(a, b, c); }
};

// ---- Micro-kernel

// Signature shared by all micro-kernels: C tile (kRows x kCols, leading dimension ldc) +=
// A panel times B panel over kc steps. A's element (r, p) is at a[r * a_row_stride + p * a_step]
// (kernels for packed A ignore the strides: they are 1 and kMr). B's step p is kCols values at
// b + p * b_step. `accumulate` false starts from +0 instead of reading C.
template <typename T>
using MicroKernel = void (*)(int64_t kc, const T* a, int64_t a_row_stride, int64_t a_step,
                             const T* b, int64_t b_step, T* c, int64_t ldc, bool accumulate);

// The register-blocked tile update: kRows x kVecs accumulators stay in registers for all of
// kc. kPackedMr > 0: A is a packed panel of that many rows (constant strides, so each row is an
// immediate offset); 0: A is read in place through the run-time strides. Always inlined into a
// wrapper that carries the ISA's target attribute, so no vector ever crosses a call without
// that ISA; GCC's -Wpsabi warning about such calls is moot here. (Clang rejects this pattern.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
template <class Simd, int kPackedMr, int kRows, int kVecs>
[[gnu::always_inline]] inline void tile_update(int64_t kc, const typename Simd::Scalar* a,
                                               int64_t a_row_stride, int64_t a_step,
                                               const typename Simd::Scalar* b, int64_t b_step,
                                               typename Simd::Scalar* c, int64_t ldc,
                                               bool accumulate) {
  using Vec = typename Simd::Vec;
  constexpr int kLanes = Simd::kLanes;
  if constexpr (kPackedMr > 0) a_row_stride = 1, a_step = kPackedMr;
  Vec acc[kRows][kVecs];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v)
      acc[r][v] = accumulate ? Simd::load(c + r * ldc + v * kLanes) : Simd::zero();
  for (int64_t p = 0; p < kc; ++p) {
    Vec b_row[kVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      b_row[v] = Simd::load(b + v * kLanes);
      // Keeps the B vector in a register. Otherwise GCC folds the load into each row's FMA,
      // loading it kRows times, which costs ~30% on short tiles reading an unaligned B in place.
      __asm__("" : "+v"(b_row[v]));
    }
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const Vec a_broadcast = Simd::broadcast(a[r * a_row_stride]);
#pragma GCC unroll 4
      for (int v = 0; v < kVecs; ++v)
        acc[r][v] = Simd::fma(a_broadcast, b_row[v], acc[r][v]);
    }
    a += a_step;
    b += b_step;
  }
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v)
      Simd::store(c + r * ldc + v * kLanes, acc[r][v]);
}
#pragma GCC diagnostic pop

template <class Simd, int kPackedMr, int kRows, int kVecs>
KILN_TARGET_AVX512 void avx512_kernel(int64_t kc, const typename Simd::Scalar* a,
                                      int64_t a_row_stride, int64_t a_step,
                                      const typename Simd::Scalar* b, int64_t b_step,
                                      typename Simd::Scalar* c, int64_t ldc, bool accumulate) {
  tile_update<Simd, kPackedMr, kRows, kVecs>(kc, a, a_row_stride, a_step, b, b_step, c, ldc,
                                             accumulate);
}

template <class Simd, int kPackedMr, int kRows, int kVecs>
KILN_TARGET_AVX2 void avx2_kernel(int64_t kc, const typename Simd::Scalar* a, int64_t a_row_stride,
                                  int64_t a_step, const typename Simd::Scalar* b, int64_t b_step,
                                  typename Simd::Scalar* c, int64_t ldc, bool accumulate) {
  tile_update<Simd, kPackedMr, kRows, kVecs>(kc, a, a_row_stride, a_step, b, b_step, c, ldc,
                                             accumulate);
}

// ---- Blocking

// Tile widths a path has micro-kernels for, as multiples of half its kNr columns.
enum TileWidth { kHalfWidth, kFullWidth, kDoubleWidth, kTileWidths };
constexpr int kHalvesOf[kTileWidths] = {1, 2, 4};

// One ISA path for one element type: kMr x kNr tiles (kNr an even number of vectors), cache
// blocking, and micro-kernels by A layout, tile width and row count:
// kernels[a_packed][width][rows - 1]. Half-width tiles keep narrow right edges from wasting
// work on padding; double-width ones give short row panels enough accumulators to hide the FMA
// latency (they exist only for rows <= kMr / 2, so the accumulators still fit in registers).
//   kc: k per block; the kMr x kc A micro-panel stays in L1.
//   nc: columns per packed B block; kc x nc stays in L2.
//   mc: rows per packed A block; mc x kc stays in L3.
template <typename T, int kMr, int kNr>
struct Path {
  using Scalar = T;
  using RowKernels = std::array<MicroKernel<T>, kMr>;
  static constexpr int mr = kMr, nr = kNr;
  int64_t kc, nc, mc;
  std::array<std::array<RowKernels, kTileWidths>, 2> kernels;
};

// The micro-kernels for rows 1..kMr of one A layout and width; null where the accumulators would
// outnumber a full kMr x kVecs tile's.
template <class Simd, bool kAvx512, int kPackedMr, int kMr, int kVecs, int kTileVecs,
          size_t... kRowsMinus1>
constexpr std::array<MicroKernel<typename Simd::Scalar>, kMr> row_kernels(
    std::index_sequence<kRowsMinus1...>) {
  auto kernel = []<int kRows>() -> MicroKernel<typename Simd::Scalar> {
    if constexpr (kRows * kTileVecs > kMr * kVecs)
      return nullptr;
    else if constexpr (kAvx512)
      return &avx512_kernel<Simd, kPackedMr, kRows, kTileVecs>;
    else
      return &avx2_kernel<Simd, kPackedMr, kRows, kTileVecs>;
  };
  return {kernel.template operator()<kRowsMinus1 + 1>()...};
}

template <class Simd, int kMr, int kNr, bool kAvx512>
constexpr Path<typename Simd::Scalar, kMr, kNr> make_path(int64_t kc, int64_t nc, int64_t mc) {
  constexpr int kVecs = kNr / Simd::kLanes;
  static_assert(kVecs * Simd::kLanes == kNr && kVecs % 2 == 0);
  constexpr auto kRows = std::make_index_sequence<kMr>();
  auto by_width = [&]<int kPackedMr>() {
    return std::array{row_kernels<Simd, kAvx512, kPackedMr, kMr, kVecs, kVecs / 2>(kRows),
                      row_kernels<Simd, kAvx512, kPackedMr, kMr, kVecs, kVecs>(kRows),
                      row_kernels<Simd, kAvx512, kPackedMr, kMr, kVecs, 2 * kVecs>(kRows)};
  };
  return {kc, nc, mc, {by_width.template operator()<0>(), by_width.template operator()<kMr>()}};
}

// 12 x 2-vector tiles for AVX-512 (24 of its 32 registers accumulate), 6 x 2-vector for AVX2
// (12 of 16). Block sizes are tuned for 32 KiB L1d / 1 MiB L2 per core; they affect speed only.
constexpr auto kAvx512F32 = make_path<Avx512Float, 12, 32, true>(384, 320, 960);
constexpr auto kAvx512F64 = make_path<Avx512Double, 12, 16, true>(256, 256, 960);
constexpr auto kAvx2F32 = make_path<Avx2Float, 6, 16, false>(256, 512, 960);
constexpr auto kAvx2F64 = make_path<Avx2Double, 6, 8, false>(256, 256, 960);

// ---- Per-thread packing buffers

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Grows, never shrinks; 64-byte aligned so packed panels start on cache lines.
template <typename T>
class ScratchBuffer {
 public:
  T* get(size_t count) {
    if (count > capacity_) {
      const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
      storage_.reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
      if (!storage_) throw std::bad_alloc();
      capacity_ = count;
    }
    return storage_.get();
  }

 private:
  std::unique_ptr<T, FreeDeleter> storage_;
  size_t capacity_ = 0;
};

template <typename T>
struct Scratch {
  ScratchBuffer<T> a_packed, b_packed;
};

template <typename T>
Scratch<T>& thread_scratch() {
  thread_local Scratch<T> scratch;
  return scratch;
}

// ---- Packing

// A matrix given by strides: element (i, j) at data[i * row_stride + j * col_stride].
template <typename T>
struct StridedMatrix {
  const T* data;
  int64_t row_stride, col_stride;
  const T* at(int64_t i, int64_t j) const { return data + i * row_stride + j * col_stride; }
};

// Packs `lines` (<= kWidth) lines of kc values into dst[p * kWidth + line] = convert(src[line *
// line_stride + p * step]); lines past `lines` are zeroed if zero_padding. A panels are rows of
// A (lines = rows, step along k), B panels columns of B. One of the strides is 1, as A and B
// are each row-major or transposed. `convert` widens f16/bf16 bits to float exactly (and is
// the identity otherwise). kWidth is a constant so that the copies unroll into plain moves
// (the library is built for baseline x86-64, where -O2 does not vectorize run-time-length
// loops, and a memcpy call per short line would cost more than the copy).
template <int kWidth, typename T, typename S, class Convert>
void pack_panel(const S* src, int64_t line_stride, int64_t step, int64_t lines, int64_t kc,
                bool zero_padding, T* dst, Convert convert) {
  if (line_stride == 1) {
    for (int64_t p = 0; p < kc; ++p) {
      if (std::is_same_v<S, T> && lines == kWidth) {
        std::memcpy(dst + p * kWidth, src + p * step, sizeof(T) * kWidth);
      } else {
        for (int64_t line = 0; line < lines; ++line)
          dst[p * kWidth + line] = convert(src[p * step + line]);
      }
    }
  } else {
    // A transpose (step == 1) in blocks of kBlock steps: each line's values are read kBlock at a
    // time, and the kBlock x kWidth block written stays in L1.
    constexpr int64_t kBlock = 8;
    int64_t p0 = 0;
    for (; p0 + kBlock <= kc; p0 += kBlock) {
      for (int64_t line = 0; line < lines; ++line) {
        const S* from = src + line * line_stride + p0;
#pragma GCC unroll 8
        for (int64_t p = 0; p < kBlock; ++p)
          dst[(p0 + p) * kWidth + line] = convert(from[p]);
      }
    }
    for (int64_t line = 0; line < lines; ++line)
      for (int64_t p = p0; p < kc; ++p)
        dst[p * kWidth + line] = convert(src[line * line_stride + p]);
  }
  if (zero_padding && lines < kWidth)
    for (int64_t p = 0; p < kc; ++p)
      std::fill(dst + p * kWidth + lines, dst + (p + 1) * kWidth, T(0));
}

// Packs rows [i0, i0 + rows) x columns [p0, p0 + kc) of A into panels of kMr rows, kMr * kc
// values apart. A short last panel is not padded: the kernel for its row count reads only its
// rows.
template <int kMr, typename T, typename S, class Convert>
void pack_a(const StridedMatrix<S>& a, int64_t i0, int64_t rows, int64_t p0, int64_t kc, T* dst,
            Convert convert) {
  for (int64_t q = 0; q < rows; q += kMr, dst += kMr * kc)
    pack_panel<kMr>(a.at(i0 + q, p0), a.row_stride, a.col_stride, std::min<int64_t>(kMr, rows - q),
                    kc, false, dst, convert);
}

// Packs rows [p0, p0 + kc) x columns [j0, j0 + cols) of B into panels of kNr columns, kNr * kc
// values apart. Padding columns are zero, so the full-width kernel reads only finite values.
template <int kNr, typename T, typename S, class Convert>
void pack_b(const StridedMatrix<S>& b, int64_t p0, int64_t kc, int64_t j0, int64_t cols, T* dst,
            Convert convert) {
  if (b.col_stride == 1) {
    // Row by row of B: each row's columns are one contiguous run, which the hardware
    // prefetcher follows, where panel by panel would read short pieces of kc rows a page or
    // more apart (no prefetcher crosses a page).
    const int64_t full = cols / kNr * kNr;
    for (int64_t p = 0; p < kc; ++p) {
      const S* row = b.at(p0 + p, j0);
      for (int64_t q = 0; q < full; q += kNr) {
        T* to = dst + q * kc + p * kNr;
        if constexpr (std::is_same_v<S, T>)
          std::memcpy(to, row + q, sizeof(T) * kNr);
        else
          for (int64_t j = 0; j < kNr; ++j)
            to[j] = convert(row[q + j]);
      }
      if (full < cols) {
        T* to = dst + full * kc + p * kNr;
        for (int64_t j = 0; j < kNr; ++j)
          to[j] = full + j < cols ? convert(row[full + j]) : T(0);
      }
    }
    return;
  }
  for (int64_t q = 0; q < cols; q += kNr, dst += kNr * kc)
    pack_panel<kNr>(b.at(p0, j0 + q), b.col_stride, b.row_stride, std::min<int64_t>(kNr, cols - q),
                    kc, true, dst, convert);
}

// What packing does to each element: nothing for f32 and f64, the exact widening for f16 and
// bf16 bits.
struct Identity {
  template <typename T>
  T operator()(T x) const {
    return x;
  }
};
struct WidenF16 {
  float operator()(uint16_t bits) const { return ir::f16_to_float(bits); }
};
struct WidenBf16 {
  float operator()(uint16_t bits) const { return ir::bf16_to_float(bits); }
};

// ---- Driver

// Where a micro-kernel finds A: a packed panel, or the caller's A through its strides.
template <typename T>
struct APanel {
  const T* data;
  bool packed;
  int64_t row_stride, step;  // used when !packed
};

// Computes the `rows` x `cols` tile at c with the kernel of the given width, which must cover
// cols. A tile narrower than the kernel goes through a scratch tile, so that the kernel still
// runs its full width (the padding columns, zero in B, are discarded).
template <class P, typename T = typename P::Scalar>
void run_tile(const P& path, TileWidth width, int64_t kc, const APanel<T>& a, const T* b,
              int64_t b_step, T* c, int64_t ldc, int64_t rows, int64_t cols, bool accumulate) {
  const MicroKernel<T> kernel = path.kernels[a.packed][width][rows - 1];
  if (cols * 2 == kHalvesOf[width] * P::nr)
    return kernel(kc, a.data, a.row_stride, a.step, b, b_step, c, ldc, accumulate);
  alignas(64) T tile[P::mr * P::nr];
  const size_t row_bytes = cols * sizeof(T);
  if (accumulate)
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(tile + r * P::nr, c + r * ldc, row_bytes);
  kernel(kc, a.data, a.row_stride, a.step, b, b_step, tile, P::nr, accumulate);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(c + r * ldc, tile + r * P::nr, row_bytes);
}

// An operand this small stays in L2 as it is, so packing it would cost more than it saves.
constexpr int64_t kInPlaceBytes = 256 * 1024;

// Loop nest (outer to inner): A row blocks of mc, k blocks of kc (pack A), B column blocks of nc
// (pack B), row panels of mr (A micro-panel in L1), column panels of nr (B streamed from L2).
// In the last k block each rows x nc block of C becomes final as its column block is done, and
// goes to the BlockDone callback right then, while it is in L2. (Walking column blocks
// outermost instead, to finish each block earlier, measured 4-9% slower: the A block no
// longer stays in L2 across the column blocks.) Packing is skipped for an operand read in
// place, which needs it to be of the kernel's type already (f16/bf16 operands are always
// packed, which widens them).
template <class P, typename S, class Convert, typename T = typename P::Scalar>
void blocked_gemm(const P& path, int64_t m, int64_t n, int64_t k, const StridedMatrix<S>& a,
                  const StridedMatrix<S>& b, T* c, int64_t ldc, Convert convert,
                  const BlockDone& done) {
  constexpr int mr = P::mr, nr = P::nr;
  constexpr bool kSameType = std::is_same_v<S, T>;
  Scratch<T>& scratch = thread_scratch<T>();
  T* a_packed = scratch.a_packed.get((std::min(path.mc, m) + mr - 1) / mr * mr * path.kc);
  T* b_packed = scratch.b_packed.get((std::min(path.nc, n) + nr - 1) / nr * nr * path.kc);
  for (int64_t i0 = 0; i0 < m; i0 += path.mc) {
    const int64_t rows = std::min(path.mc, m - i0);
    // Operands are read in place (a row-major B but its narrow last panel, which needs zero
    // padding) when small, or when there is a single row panel, so nothing would reuse them.
    const bool single_panel = rows <= mr;
    const bool a_in_place =
        kSameType && (single_panel || rows * k * int64_t{sizeof(T)} <= kInPlaceBytes);
    const bool b_in_place = kSameType && b.col_stride == 1 &&
                            (single_panel || k * n * int64_t{sizeof(T)} <= kInPlaceBytes);
    // C[i0 .. i0 + rows, j0 .. j0 + cols] += A[.., p0 .. p0 + kc] B[p0 .. p0 + kc, ..].
    auto update = [&](int64_t p0, int64_t j0) {
      const int64_t kc = std::min(path.kc, k - p0);
      const bool accumulate = p0 > 0;
      const int64_t cols = std::min(path.nc, n - j0);
      const int64_t full_cols = b_in_place ? cols / nr * nr : 0;
      if (full_cols < cols)
        pack_b<nr>(b, p0, kc, j0 + full_cols, cols - full_cols, b_packed, convert);
      for (int64_t ir = 0; ir < rows; ir += mr) {
        const int64_t tile_rows = std::min<int64_t>(mr, rows - ir);
        APanel<T> a_panel{a_packed + ir * kc, true, 1, mr};
        if constexpr (kSameType)
          if (a_in_place) a_panel = {a.at(i0 + ir, p0), false, a.row_stride, a.col_stride};
        T* c_rows = c + (i0 + ir) * ldc + j0;
        for (int64_t jr = 0; jr < cols;) {
          const bool in_place = jr < full_cols;
          const T* b_panel = b_packed + (jr - full_cols) * kc;
          if constexpr (kSameType)
            if (in_place) b_panel = b.at(p0, j0 + jr);
          const int64_t b_step = in_place ? b.row_stride : nr;
          // Double width needs two adjacent panels in one row of B, so B in place.
          const TileWidth width = jr + 2 * nr <= full_cols && tile_rows <= mr / 2 ? kDoubleWidth
                                  : cols - jr <= nr / 2                           ? kHalfWidth
                                                                                  : kFullWidth;
          const int64_t tile_cols = std::min<int64_t>(kHalvesOf[width] * nr / 2, cols - jr);
          run_tile(path, width, kc, a_panel, b_panel, b_step, c_rows + jr, ldc, tile_rows,
                   tile_cols, accumulate);
          jr += tile_cols;
        }
      }
    };
    for (int64_t p0 = 0; p0 < k; p0 += path.kc) {
      if (!a_in_place) pack_a<mr>(a, i0, rows, p0, std::min(path.kc, k - p0), a_packed, convert);
      const bool last = p0 + path.kc >= k;
      for (int64_t j0 = 0; j0 < n; j0 += path.nc) {
        update(p0, j0);
        if (last) done(i0, i0 + rows, j0, std::min(n, j0 + path.nc));
      }
    }
  }
}

// The same per-element chain, one element at a time, for CPUs without FMA (std::fma is then a
// slow library routine, but the bits agree with the vector paths).
template <typename T, typename S, class Convert>
void scalar_gemm(int64_t m, int64_t n, int64_t k, const StridedMatrix<S>& a,
                 const StridedMatrix<S>& b, T* c, int64_t ldc, Convert convert,
                 const BlockDone& done) {
  for (int64_t i = 0; i < m; ++i) {
    T* c_row = c + i * ldc;
    std::fill(c_row, c_row + n, T(0));
    for (int64_t p = 0; p < k; ++p) {
      const T a_ip = convert(*a.at(i, p));
      for (int64_t j = 0; j < n; ++j)
        c_row[j] = std::fma(a_ip, convert(*b.at(p, j)), c_row[j]);
    }
  }
  done(0, m, 0, n);
}

// ---- Dispatch

GemmIsa best_supported_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("fma"))
    return GemmIsa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::kAvx2;
  return GemmIsa::kScalar;
}

GemmIsa detected_isa() {
  static const GemmIsa isa = best_supported_isa();  // thread-safe one-time initialisation
  return isa;
}

std::atomic<GemmIsa> forced_isa{GemmIsa::kAuto};

GemmIsa current_isa() {
  const GemmIsa forced = forced_isa.load(std::memory_order_relaxed);
  return forced == GemmIsa::kAuto ? detected_isa() : forced;
}

// S is the operands' element type, T (the paths' scalar) the accumulator's and C's.
template <typename T, typename S, class Convert, class Avx512Path, class Avx2Path>
void gemm(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda, bool transpose_a, const S* b,
          int64_t ldb, bool transpose_b, T* c, int64_t ldc, Convert convert, const BlockDone& done,
          const Avx512Path& avx512, const Avx2Path& avx2) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i)
      std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return done(0, m, 0, n);
  }
  const StridedMatrix<S> a_view =
      transpose_a ? StridedMatrix<S>{a, 1, lda} : StridedMatrix<S>{a, lda, 1};
  const StridedMatrix<S> b_view =
      transpose_b ? StridedMatrix<S>{b, 1, ldb} : StridedMatrix<S>{b, ldb, 1};
  switch (current_isa()) {
    case GemmIsa::kAvx512:
      return blocked_gemm(avx512, m, n, k, a_view, b_view, c, ldc, convert, done);
    case GemmIsa::kAvx2:
      return blocked_gemm(avx2, m, n, k, a_view, b_view, c, ldc, convert, done);
    default:
      return scalar_gemm(m, n, k, a_view, b_view, c, ldc, convert, done);
  }
}

}  // namespace

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transpose_a,
              const float* b, int64_t ldb, bool transpose_b, float* c, int64_t ldc,
              BlockDone done) {
  gemm(m, n, k, a, lda, transpose_a, b, ldb, transpose_b, c, ldc, Identity{}, done, kAvx512F32,
       kAvx2F32);
}

void gemm_f64(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool transpose_a,
              const double* b, int64_t ldb, bool transpose_b, double* c, int64_t ldc,
              BlockDone done) {
  gemm(m, n, k, a, lda, transpose_a, b, ldb, transpose_b, c, ldc, Identity{}, done, kAvx512F64,
       kAvx2F64);
}

void gemm_half(HalfType type, int64_t m, int64_t n, int64_t k, const uint16_t* a, int64_t lda,
               bool transpose_a, const uint16_t* b, int64_t ldb, bool transpose_b, float* c,
               int64_t ldc, BlockDone done) {
  if (type == HalfType::kBf16)
    gemm(m, n, k, a, lda, transpose_a, b, ldb, transpose_b, c, ldc, WidenBf16{}, done, kAvx512F32,
         kAvx2F32);
  else
    gemm(m, n, k, a, lda, transpose_a, b, ldb, transpose_b, c, ldc, WidenF16{}, done, kAvx512F32,
         kAvx2F32);
}

bool gemm_force_isa_for_testing(GemmIsa isa) {
  const GemmIsa best = detected_isa();
  if (isa != GemmIsa::kAuto && static_cast<int>(isa) > static_cast<int>(best)) return false;
  forced_isa.store(isa, std::memory_order_relaxed);
  return true;
}

}  // namespace kiln::runtime
