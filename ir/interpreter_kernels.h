#pragma once
// Private to the reference interpreter (ir/interpreter*.cpp): the per-op kernels and the
// helpers they share. Not part of the IR's interface.
//
// Numeric model. Float dtypes load as double, compute in double and round once to the dtype
// on store (f16 and bf16 through a round-to-odd f32 so that double -> f32 -> half never
// double-rounds). For + - * / sqrt this is the correctly rounded result in every float dtype.
// Integer dtypes load as int64 (unsigned values are non-negative), compute with wrapping
// unsigned arithmetic and wrap to the dtype's width on store. bool loads as 0 or 1.

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ir/array.h"
#include "ir/attr.h"
#include "ir/ops.h"
#include "ir/scalar_semantics.h"

namespace kiln::ir::interp {

using namespace scalar;  // the scalar rules every evaluator shares

// ---- loading and storing elements -------------------------------------------------------

// Elements [begin, begin + out.size()) of `x`, widened.
void load_f64(const HostArray& x, int64_t begin, std::span<double> out);
void load_i64(const HostArray& x, int64_t begin, std::span<int64_t> out);
// Writes elements [begin, begin + in.size()) of `x`, rounding (floats) or wrapping (ints).
void store_f64(HostArray& x, int64_t begin, std::span<const double> in);
void store_i64(HostArray& x, int64_t begin, std::span<const int64_t> in);

std::vector<double> to_f64(const HostArray& x);
std::vector<int64_t> to_i64(const HostArray& x);
HostArray from_f64(const TensorType& type, std::span<const double> values);
HostArray from_i64(const TensorType& type, std::span<const int64_t> values);

// ---- elementwise maps ---------------------------------------------------------------------

inline void load(const HostArray& x, int64_t begin, std::span<double> out) {
  load_f64(x, begin, out);
}
inline void load(const HostArray& x, int64_t begin, std::span<int64_t> out) {
  load_i64(x, begin, out);
}
inline void store(HostArray& x, int64_t begin, std::span<const double> in) {
  store_f64(x, begin, in);
}
inline void store(HostArray& x, int64_t begin, std::span<const int64_t> in) {
  store_i64(x, begin, in);
}

// Elements go through small buffers so temporaries stay small whatever the array's size.
inline constexpr int64_t kChunk = 1024;

// out[i] = fn(x[i]), with x read as `In` (double or int64) and the result stored from `Out`.
template <typename In, typename Out, typename Fn>
void map_into(const HostArray& x, HostArray& out, Fn fn) {
  In in[kChunk];
  Out result[kChunk];
  const int64_t n = x.num_elements();
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const size_t m = static_cast<size_t>(std::min(kChunk, n - begin));
    load(x, begin, std::span<In>(in, m));
    for (size_t i = 0; i < m; ++i)
      result[i] = static_cast<Out>(fn(in[i]));
    store(out, begin, std::span<const Out>(result, m));
  }
}

// out[i] = fn(x[i], y[i]) for x and y of one type.
template <typename In, typename Out, typename Fn>
void map_into(const HostArray& x, const HostArray& y, HostArray& out, Fn fn) {
  In a[kChunk], b[kChunk];
  Out result[kChunk];
  const int64_t n = x.num_elements();
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const size_t m = static_cast<size_t>(std::min(kChunk, n - begin));
    load(x, begin, std::span<In>(a, m));
    load(y, begin, std::span<In>(b, m));
    for (size_t i = 0; i < m; ++i)
      result[i] = static_cast<Out>(fn(a[i], b[i]));
    store(out, begin, std::span<const Out>(result, m));
  }
}

// `float_fn` maps doubles for float dtypes; `int_fn` maps int64s for integer and bool dtypes.
template <typename FloatFn, typename IntFn>
HostArray map_unary(const HostArray& x, FloatFn float_fn, IntFn int_fn) {
  HostArray out(x.type());
  if (is_float(x.dtype()))
    map_into<double, double>(x, out, float_fn);
  else
    map_into<int64_t, int64_t>(x, out, int_fn);
  return out;
}

// Two operands of one type; the result has the operands' type or, for comparisons, bool.
template <typename FloatFn, typename IntFn>
HostArray map_binary(const HostArray& x, const HostArray& y, DType result_dtype, FloatFn float_fn,
                     IntFn int_fn) {
  HostArray out(TensorType{result_dtype, x.shape()});
  const bool float_in = is_float(x.dtype()), float_out = is_float(result_dtype);
  if (float_in && float_out)
    map_into<double, double>(x, y, out, float_fn);
  else if (float_in)
    map_into<double, int64_t>(x, y, out, float_fn);
  else
    map_into<int64_t, int64_t>(x, y, out, int_fn);
  return out;
}

// ---- index walks --------------------------------------------------------------------------

// Calls fn(i, offset) for every position of `shape` in row-major order, i counting from 0 and
// offset = base + sum over d of index[d] * strides[d]. Strides may be 0 (a broadcast or a
// reduced dimension) or scaled (a strided slice, interior padding). The odometer keeps this
// free of divisions and allocations per element.
template <typename Fn>
void for_each_strided(const Shape& shape, std::span<const int64_t> strides, int64_t base, Fn fn) {
  const int rank = static_cast<int>(shape.size());
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<int64_t> index(shape.size(), 0);
  int64_t offset = base;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, offset);
    for (int d = rank - 1; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

// ---- other kernels ------------------------------------------------------------------------

HostArray select(const HostArray& pred, const HostArray& on_true, const HostArray& on_false);
HostArray convert(const HostArray& x, DType to);
HostArray constant(const TensorType& type, const Attr& value);
HostArray iota(const TensorType& type, int64_t axis);
// One key per row of `key` (u32[..., 2]); each row's bits count from 0 (scalar::threefry2x32).
HostArray rng_bits(const HostArray& key, const TensorType& type);

HostArray broadcast(const HostArray& x, const Shape& shape, const std::vector<int64_t>& dims);
HostArray reshape(const HostArray& x, const Shape& shape);
HostArray transpose(const HostArray& x, const std::vector<int64_t>& perm);
HostArray slice(const HostArray& x, const std::vector<int64_t>& start,
                const std::vector<int64_t>& limit, const std::vector<int64_t>& stride);
HostArray pad(const HostArray& x, const HostArray& value, const std::vector<int64_t>& low,
              const std::vector<int64_t>& high, const std::vector<int64_t>& interior);
HostArray concatenate(std::span<const HostArray* const> parts, int64_t axis);
HostArray take(const HostArray& x, const HostArray& indices, int64_t axis);
HostArray scatter_add(const HostArray& x, const HostArray& indices, const HostArray& updates,
                      int64_t axis);
// Along one axis: the indices have x's rank; element (.., i, ..) of the result is x at
// (.., clamp(idx(.., i, ..)), ..). The scatter writes update (.., i, ..) there in row-major
// order of the indices, combined by mode (add, mul, max, min, set: the later update wins).
HostArray take_along_axis(const HostArray& x, const HostArray& indices, int64_t axis);
// An inclusive scan (cumsum ... cumlogsumexp) along `axis`, from its end when `reverse`. Floats
// carry the running value in double and round each result once (as reduce_sum rounds once).
HostArray scan(const HostArray& x, OpKind op, int64_t axis, bool reverse);
HostArray scatter_along_axis(const HostArray& x, const HostArray& indices, const HostArray& updates,
                             int64_t axis, const std::string& mode);

enum class Reduction { Sum, Max, Min, Prod };
HostArray reduce(const HostArray& x, const std::vector<int64_t>& axes, Reduction kind);
HostArray arg_extreme(const HostArray& x, int64_t axis, bool is_max);
HostArray dot_general(const HostArray& lhs, const HostArray& rhs,
                      const std::vector<int64_t>& lhs_batch, const std::vector<int64_t>& rhs_batch,
                      const std::vector<int64_t>& lhs_contract,
                      const std::vector<int64_t>& rhs_contract);

}  // namespace kiln::ir::interp
