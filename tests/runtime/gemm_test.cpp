// runtime::gemm_f32 and gemm_f64 against their contract (runtime/gemm.h): every C[i, j] is the
// chain acc = +0; acc = fma(A[i, p], B[p, j], acc) for p = 0, 1, ..., k-1, so it must equal a
// naive loop of std::fma bit for bit (for NaN, NaN-ness only: payloads may differ) on every ISA
// path, for both transposes of both operands, leading dimensions past the row length, shapes
// that leave every kind of edge tile and span several cache blocks, and whatever rows or
// columns one call covers (threads split a product that way).

#include <gtest/gtest.h>

#include <algorithm>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/gemm.h"

namespace kiln::runtime {
namespace {

struct IsaPath {
  GemmIsa isa;
  const char* name;
};
constexpr IsaPath kIsaPaths[] = {
    {GemmIsa::kScalar, "scalar"}, {GemmIsa::kAvx2, "avx2"}, {GemmIsa::kAvx512, "avx512"}};

// Runs `body(name)` once on each ISA path the CPU has (the others are reported, not run), and
// leaves the GEMM on kAuto afterwards whatever happens: the choice is process-wide.
template <class Body>
void for_each_isa(Body body) {
  struct RestoreAuto {
    ~RestoreAuto() { EXPECT_TRUE(gemm_force_isa_for_testing(GemmIsa::kAuto)); }
  } restore;
  for (const IsaPath& path : kIsaPaths) {
    if (!gemm_force_isa_for_testing(path.isa)) {
      std::cout << "[ not run  ] the " << path.name << " path: this CPU lacks it\n";
      continue;
    }
    SCOPED_TRACE(path.name);
    body(path.name);
  }
}

void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool ta, const float* b,
          int64_t ldb, bool tb, float* c, int64_t ldc) {
  gemm_f32(m, n, k, a, lda, ta, b, ldb, tb, c, ldc);
}
void gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool ta, const double* b,
          int64_t ldb, bool tb, double* c, int64_t ldc) {
  gemm_f64(m, n, k, a, lda, ta, b, ldb, tb, c, ldc);
}

template <typename T>
using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <typename T>
bool same_bits(T got, T want) {
  if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
  return std::bit_cast<Bits<T>>(got) == std::bit_cast<Bits<T>>(want);
}

// A logical rows x cols matrix (row-major, no padding).
template <typename T>
struct Matrix {
  int64_t rows, cols;
  std::vector<T> v;
  T at(int64_t i, int64_t j) const { return v[i * cols + j]; }
};

template <typename T>
Matrix<T> random_matrix(int64_t rows, int64_t cols, std::mt19937& rng) {
  // Full-width mantissas, both signs: any other order of the additions, or a missing or extra
  // rounding, changes the bits of almost every element.
  std::uniform_real_distribution<T> dist(-1, 1);
  Matrix<T> x{rows, cols, std::vector<T>(static_cast<size_t>(rows * cols))};
  for (T& e : x.v)
    e = dist(rng);
  return x;
}

// The contract's chain, element by element, in the plainest code: the oracle.
template <typename T>
std::vector<T> fma_chain(const Matrix<T>& a, const Matrix<T>& b) {
  const int64_t m = a.rows, n = b.cols, k = a.cols;
  std::vector<T> c(static_cast<size_t>(m * n), T(0));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)  // p outermost per row: each c[i, j] still steps p in order
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] = std::fma(a.at(i, p), b.at(p, j), c[i * n + j]);
  return c;
}

// A matrix as the GEMM reads it: row-major or transposed, `pad` values past each stored line.
// The padding is NaN, so a read past a line shows up in the result.
template <typename T>
struct Stored {
  std::vector<T> data;
  int64_t ld;
  bool transposed;
};

template <typename T>
Stored<T> store(const Matrix<T>& x, bool transposed, int64_t pad) {
  const int64_t lines = transposed ? x.cols : x.rows, length = transposed ? x.rows : x.cols;
  Stored<T> s{std::vector<T>(static_cast<size_t>(lines * (length + pad)),
                             std::numeric_limits<T>::quiet_NaN()),
              length + pad, transposed};
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.cols; ++j)
      s.data[transposed ? j * s.ld + i : i * s.ld + j] = x.at(i, j);
  return s;
}

// What C holds before a call: a value no product of the inputs here gives, so that an element
// the call should write but does not, or padding it should leave but writes, shows.
template <typename T>
constexpr T kUnwritten = T(-777.25);

// C with `ldc - n` values of padding per row, every element unwritten.
template <typename T>
std::vector<T> unwritten_c(int64_t m, int64_t ldc) {
  return std::vector<T>(static_cast<size_t>(m * ldc), kUnwritten<T>);
}

template <typename T>
std::string show(T x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%a", static_cast<double>(x));
  return buffer;
}

// C (leading dimension ldc) holds `want` bit for bit and its padding is untouched; reports the
// first few differences.
template <typename T>
void expect_bits(const std::vector<T>& c, int64_t ldc, const std::vector<T>& want, int64_t m,
                 int64_t n, const std::string& what) {
  int failures = 0;
  for (int64_t i = 0; i < m && failures < 5; ++i)
    for (int64_t j = 0; j < ldc && failures < 5; ++j) {
      const T got = c[i * ldc + j];
      const T expected = j < n ? want[i * n + j] : kUnwritten<T>;
      if (same_bits(got, expected)) continue;
      ADD_FAILURE() << what << ": C[" << i << ", " << j << "]" << (j < n ? "" : " (padding)")
                    << " = " << show(got) << ", want " << show(expected);
      ++failures;
    }
}

struct Shape {
  int64_t m, n, k;
};

std::string describe(const char* isa, Shape s, bool ta, bool tb, int64_t pad) {
  return std::string(isa) + " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
         " k=" + std::to_string(s.k) + (ta ? " A^T" : " A") + (tb ? " B^T" : " B") +
         " pad=" + std::to_string(pad);
}

// Every m, n and k in {1, 3, 17, 255, 1023}: 1 and 3 are thinner than any vector or tile, 17
// leaves a ragged edge tile on every path, 255 spans several register tiles and is just past
// the size below which an operand is read in place instead of packed, 1023 spans several
// cache blocks in each dimension (kc <= 384, nc <= 512, mc = 960). All combinations of the
// first four, and 1023 in each dimension with the other two from them; the pair (255, 255)
// with 1023 is left out, as it alone would take two thirds of the time and adds no path the
// others miss (with 255 and 17 beside 1023 both operands are packed and every block boundary
// is crossed).
std::vector<Shape> shapes() {
  const int64_t small[] = {1, 3, 17, 255};
  std::vector<Shape> out;
  for (int64_t m : small)
    for (int64_t n : small)
      for (int64_t k : small)
        out.push_back({m, n, k});
  for (int64_t x : small)
    for (int64_t y : small) {
      if (x == 255 && y == 255) continue;
      out.push_back({1023, x, y});
      out.push_back({x, 1023, y});
      out.push_back({x, y, 1023});
    }
  return out;
}

template <typename T>
void check_every_path_layout_and_shape() {
  std::mt19937 rng(2024);
  const std::vector<Shape> all = shapes();
  for (size_t s = 0; s < all.size(); ++s) {
    const Shape shape = all[s];
    const Matrix<T> a = random_matrix<T>(shape.m, shape.k, rng);
    const Matrix<T> b = random_matrix<T>(shape.k, shape.n, rng);
    const std::vector<T> want = fma_chain(a, b);
    for (int layout = 0; layout < 4; ++layout) {
      const bool ta = layout & 1, tb = layout & 2;
      // Half the shapes of each layout padded, a different half for the next layout.
      const int64_t pad = (s + layout) % 2 ? 5 : 0;
      const Stored<T> sa = store(a, ta, pad), sb = store(b, tb, pad);
      const int64_t ldc = shape.n + pad;
      for_each_isa([&](const char* isa) {
        std::vector<T> c = unwritten_c<T>(shape.m, ldc);
        gemm(shape.m, shape.n, shape.k, sa.data.data(), sa.ld, ta, sb.data.data(), sb.ld, tb,
             c.data(), ldc);
        expect_bits(c, ldc, want, shape.m, shape.n, describe(isa, shape, ta, tb, pad));
      });
    }
  }
}

TEST(Gemm, F32IsTheFmaChainOnEveryPathLayoutAndShape) {
  check_every_path_layout_and_shape<float>();
}

TEST(Gemm, F64IsTheFmaChainOnEveryPathLayoutAndShape) {
  check_every_path_layout_and_shape<double>();
}

// Threads each compute a block of rows (the runtime's split) or could take columns; either way
// every element's chain is the same, so any split gives the one-call bits.
template <typename T>
void check_splits() {
  std::mt19937 rng(7);
  const Shape shape{29, 333, 401};  // k and n span cache blocks; ragged tiles everywhere
  const Matrix<T> a = random_matrix<T>(shape.m, shape.k, rng);
  const Matrix<T> b = random_matrix<T>(shape.k, shape.n, rng);
  const std::vector<T> want = fma_chain(a, b);
  // Pieces of one, of a few and of many rows or columns, starting on and off tile boundaries.
  const int64_t row_cuts[] = {0, 1, 13, 14, shape.m};
  const int64_t column_cuts[] = {0, 5, 300, 301, shape.n};
  for (int layout = 0; layout < 4; ++layout) {
    const bool ta = layout & 1, tb = layout & 2;
    const Stored<T> sa = store(a, ta, 3), sb = store(b, tb, 3);
    const int64_t ldc = shape.n + 3;
    for_each_isa([&](const char* isa) {
      const std::string what = describe(isa, shape, ta, tb, 3);
      std::vector<T> whole = unwritten_c<T>(shape.m, ldc);
      gemm(shape.m, shape.n, shape.k, sa.data.data(), sa.ld, ta, sb.data.data(), sb.ld, tb,
           whole.data(), ldc);
      expect_bits(whole, ldc, want, shape.m, shape.n, what);
      std::vector<T> by_rows = unwritten_c<T>(shape.m, ldc);
      for (size_t r = 0; r + 1 < std::size(row_cuts); ++r) {
        const int64_t first = row_cuts[r], rows = row_cuts[r + 1] - first;
        const T* a_rows = sa.data.data() + (ta ? first : first * sa.ld);
        gemm(rows, shape.n, shape.k, a_rows, sa.ld, ta, sb.data.data(), sb.ld, tb,
             by_rows.data() + first * ldc, ldc);
      }
      expect_bits(by_rows, ldc, want, shape.m, shape.n, what + ", rows in four calls");
      std::vector<T> by_columns = unwritten_c<T>(shape.m, ldc);
      for (size_t q = 0; q + 1 < std::size(column_cuts); ++q) {
        const int64_t first = column_cuts[q], cols = column_cuts[q + 1] - first;
        const T* b_columns = sb.data.data() + (tb ? first * sb.ld : first);
        gemm(shape.m, cols, shape.k, sa.data.data(), sa.ld, ta, b_columns, sb.ld, tb,
             by_columns.data() + first, ldc);
      }
      expect_bits(by_columns, ldc, want, shape.m, shape.n, what + ", columns in four calls");
    });
  }
}

TEST(Gemm, SplittingRowsOrColumnsOverCallsKeepsTheBits) {
  check_splits<float>();
  check_splits<double>();
}

template <typename T>
void check_empty() {
  const T a[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for_each_isa([&](const char* isa) {
    // k == 0: an empty sum, +0, in every element; the padding stays.
    const int64_t m = 3, n = 17, ldc = 20;
    std::vector<T> c = unwritten_c<T>(m, ldc);
    gemm(m, n, 0, a, 1, false, a, n, false, c.data(), ldc);
    expect_bits(c, ldc, std::vector<T>(m * n, T(0)), m, n, std::string(isa) + " k=0");
    // m == 0 or n == 0: nothing is written.
    std::vector<T> untouched = unwritten_c<T>(m, ldc);
    gemm(0, n, 4, a, 4, false, a, n, false, untouched.data(), ldc);
    gemm(m, 0, 4, a, 4, false, a, 1, false, untouched.data(), ldc);
    expect_bits(untouched, ldc, std::vector<T>(m * n, kUnwritten<T>), m, n,
                std::string(isa) + " m=0 or n=0");
  });
}

TEST(Gemm, EmptyContractionWritesZerosAndEmptyProductsWriteNothing) {
  check_empty<float>();
  check_empty<double>();
}

// Infinities and NaNs go through the chain like any value: inf - inf and 0 * inf give NaN,
// inf stays inf, a NaN poisons its row or column. Placed on both sides of k-block boundaries.
template <typename T>
void check_special_values() {
  std::mt19937 rng(99);
  const Shape shape{19, 40, 800};
  Matrix<T> a = random_matrix<T>(shape.m, shape.k, rng);
  Matrix<T> b = random_matrix<T>(shape.k, shape.n, rng);
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  auto set_a = [&](int64_t i, int64_t p, T v) { a.v[i * shape.k + p] = v; };
  auto set_b = [&](int64_t p, int64_t j, T v) { b.v[p * shape.n + j] = v; };
  set_a(2, 7, inf);     // row 2: +inf until ...
  set_a(2, 700, -inf);  // ... -inf meets it in another k block: NaN where B's signs agree
  set_a(5, 100, nan);   // row 5: NaN throughout
  set_a(8, 255, inf);   // row 8: inf times column 9's zero at p = 255 gives NaN there
  set_b(255, 9, 0);
  set_b(383, 3, -inf);  // column 3: -inf, at the last p of a k block (kc = 384) ...
  set_b(384, 20, nan);  // column 20: NaN, at the first p of the next block
  set_b(256, 21, inf);  // column 21: +inf, at the first p of a k block (kc = 256)
  set_a(11, 0, std::numeric_limits<T>::max());  // overflow to inf within the chain
  set_a(11, 1, std::numeric_limits<T>::max());
  set_b(0, 30, 2);
  set_b(1, 30, 2);
  const std::vector<T> want = fma_chain(a, b);
  for (int layout = 0; layout < 4; ++layout) {
    const bool ta = layout & 1, tb = layout & 2;
    const Stored<T> sa = store(a, ta, 0), sb = store(b, tb, 0);
    for_each_isa([&](const char* isa) {
      std::vector<T> c = unwritten_c<T>(shape.m, shape.n);
      gemm(shape.m, shape.n, shape.k, sa.data.data(), sa.ld, ta, sb.data.data(), sb.ld, tb,
           c.data(), shape.n);
      expect_bits(c, shape.n, want, shape.m, shape.n, describe(isa, shape, ta, tb, 0));
    });
  }
  // The oracle itself saw what the placements above intend.
  EXPECT_TRUE(std::isnan(want[5 * shape.n + 0]));
  EXPECT_TRUE(std::isnan(want[8 * shape.n + 9]));
  EXPECT_TRUE(std::isinf(want[11 * shape.n + 30]));
  EXPECT_TRUE(std::isnan(want[0 * shape.n + 20]));
}

TEST(Gemm, InfinitiesAndNaNsFollowTheChain) {
  check_special_values<float>();
  check_special_values<double>();
}

// With a BlockDone callback every element of C is handed over exactly once, already final (the
// bits a call without the callback gives), on every path, whatever the shape.
TEST(Gemm, BlockDoneHandsOverEveryElementOnceAndFinal) {
  struct Seen {
    const std::vector<float>* c;
    const std::vector<float>* want;
    int64_t n;
    std::vector<int> times;
    int64_t not_final = 0;
    static void call(const void* self, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      auto& s = *const_cast<Seen*>(static_cast<const Seen*>(self));
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = c0; j < c1; ++j) {
          ++s.times[i * s.n + j];
          s.not_final += !same_bits((*s.c)[i * s.n + j], (*s.want)[i * s.n + j]);
        }
    }
  };
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-1, 1);
  for (const auto [m, n, k] : {std::array<int64_t, 3>{1, 1, 1},
                               {17, 1023, 255},
                               {255, 17, 1023},
                               {1023, 3, 17},
                               {3, 700, 0}}) {
    for (int layout = 0; layout < 4; ++layout) {
      const bool ta = layout & 1, tb = layout & 2;
      std::vector<float> a(m * k), b(k * n);
      for (float& x : a)
        x = value(rng);
      for (float& x : b)
        x = value(rng);
      const int64_t lda = ta ? m : k, ldb = tb ? k : n;
      for_each_isa([&](const char* isa) {
        std::vector<float> want(m * n), c(m * n, NAN);
        gemm_f32(m, n, k, a.data(), lda, ta, b.data(), ldb, tb, want.data(), n);
        Seen seen{&c, &want, n, std::vector<int>(m * n, 0)};
        gemm_f32(m, n, k, a.data(), lda, ta, b.data(), ldb, tb, c.data(), n,
                 BlockDone{&Seen::call, &seen});
        const std::string what = std::string(isa) + " m=" + std::to_string(m) +
                                 " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                                 " layout " + std::to_string(layout);
        EXPECT_EQ(seen.not_final, 0) << what;
        EXPECT_EQ(std::count(seen.times.begin(), seen.times.end(), 1), m * n) << what;
      });
    }
  }
}

TEST(Gemm, EveryPathTheCpuHasCanBeForcedAndAutoRestored) {
  EXPECT_TRUE(gemm_force_isa_for_testing(GemmIsa::kScalar));  // every CPU has it
  EXPECT_TRUE(gemm_force_isa_for_testing(GemmIsa::kAuto));
}

}  // namespace
}  // namespace kiln::runtime
