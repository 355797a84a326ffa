#include "frontend/random.h"

#include <cmath>
#include <mutex>
#include <numbers>
#include <string>

#include "frontend/ops.h"
#include "frontend/reductions.h"
#include "frontend/shape_ops.h"
#include "ir/scalar_semantics.h"

namespace kiln::random {

namespace {

using detail::fail;
using ir::OpKind;

// The global key: host words, advanced on the host with the same Threefry the graph uses.
struct GlobalKey {
  std::mutex mutex;
  uint32_t words[2] = {0, 0};
};

GlobalKey& global_key() {
  static GlobalKey key;
  return key;
}

Tensor key_of(uint32_t k0, uint32_t k1) {
  return Tensor(std::vector<uint32_t>{k0, k1});
}

// split(global)[1] for the caller; split(global)[0] becomes the global key.
Tensor next_key() {
  GlobalKey& g = global_key();
  std::lock_guard lock(g.mutex);
  auto word = [&](uint64_t i) { return ir::scalar::rng_bits_element(g.words[0], g.words[1], i); };
  const Tensor subkey = key_of(word(2), word(3));
  const uint32_t next[2] = {word(0), word(1)};
  g.words[0] = next[0];
  g.words[1] = next[1];
  return subkey;
}

Tensor resolve(const Tensor& key, std::string_view fn) {
  if (!key.valid()) return next_key();
  if (key.dtype() != DType::U32 || key.shape() != Shape{2})
    fail(fn, "expects a key of type u32[2], got " + key.type().str());
  return key;
}

Tensor raw_bits(const Tensor& key, const Shape& shape, std::string_view fn) {
  return detail::make(OpKind::RngBits, {key}, make_attrs(ir::RngBitsAttrs{shape}), std::nullopt,
                      fn);
}

void check_float(DType dtype, std::string_view fn) {
  if (!ir::is_float(dtype))
    fail(fn, "expects a float dtype, got " + std::string(ir::dtype_name(dtype)));
}

Shape with_leading(const Shape& shape, int64_t n) {
  Shape out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

// Uniform on the grid k * 2^-m, k in [0, 2^m), m the dtype's mantissa bits: the top m bits
// under the exponent of 1, read as a float in [1, 2), minus 1. f64 takes two words per
// element for its 52 bits. `offset` (0 or 1/2) shifts the grid by that many steps, so 1/2
// gives the open interval (0, 1).
Tensor unit_uniform(const Shape& shape, DType dtype, const Tensor& key, double offset,
                    std::string_view fn) {
  check_float(dtype, fn);
  Tensor grid;
  int mantissa = 0;
  switch (dtype) {
    case DType::F32: {
      mantissa = 23;
      const Tensor bits = raw_bits(key, shape, fn);
      grid = view(right_shift(bits, 9) | 0x3f800000, DType::F32);
      break;
    }
    case DType::F16:
    case DType::BF16: {
      mantissa = dtype == DType::F16 ? 10 : 7;
      const int64_t one = dtype == DType::F16 ? 0x3c00 : 0x3f80;
      const Tensor bits = raw_bits(key, shape, fn);
      grid = view(astype(right_shift(bits, 32 - mantissa) | one, DType::I16), dtype);
      break;
    }
    case DType::F64: {
      mantissa = 52;
      Shape two = shape;
      two.push_back(2);
      const Tensor words = astype(raw_bits(key, two, fn), DType::I64);
      const int last = static_cast<int>(two.size()) - 1;
      const Tensor wide = left_shift(index(words, 0, last), 32) | index(words, 1, last);
      grid = view(right_shift_logical(wide, 12) | int64_t{0x3ff0000000000000}, DType::F64);
      break;
    }
    default:
      fail(fn, "expects a float dtype, got " + std::string(ir::dtype_name(dtype)));
  }
  const double shift = 1.0 - offset * std::ldexp(1.0, -mantissa);
  return grid - shift;
}

// The dtype math runs in: f32 for the half-precision dtypes, else the dtype.
DType compute_dtype(DType dtype) {
  return dtype == DType::F16 || dtype == DType::BF16 ? DType::F32 : dtype;
}

}  // namespace

Tensor key(uint64_t seed) {
  return key_of(static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(seed));
}

void seed(uint64_t seed) {
  GlobalKey& g = global_key();
  std::lock_guard lock(g.mutex);
  g.words[0] = static_cast<uint32_t>(seed >> 32);
  g.words[1] = static_cast<uint32_t>(seed);
}

Tensor split(const Tensor& key, int num) {
  if (num < 1) fail("split", "num must be at least 1, got " + std::to_string(num));
  return raw_bits(resolve(key, "split"), {num, 2}, "split");
}

Tensor fold_in(const Tensor& key, uint32_t data) {
  const Tensor mixed = resolve(key, "fold_in") ^ key_of(0x6a09e667u, data);
  return raw_bits(mixed, {2}, "fold_in");
}

Tensor bits(const Shape& shape, const Tensor& key) {
  return raw_bits(resolve(key, "bits"), shape, "bits");
}

Tensor uniform(const Shape& shape, DType dtype, const Tensor& key) {
  return unit_uniform(shape, dtype, resolve(key, "uniform"), 0.0, "uniform");
}

Tensor uniform(const Tensor& low, const Tensor& high, const Shape& shape, DType dtype,
               const Tensor& key) {
  const Tensor u = unit_uniform(shape, dtype, resolve(key, "uniform"), 0.0, "uniform");
  const Tensor lo = astype(low, dtype), hi = astype(high, dtype);
  return maximum(lo, lo + u * (hi - lo));
}

Tensor normal(const Shape& shape, DType dtype, const Tensor& loc, const Tensor& scale,
              const Tensor& key) {
  check_float(dtype, "normal");
  const DType work = compute_dtype(dtype);
  const Tensor u =
      unit_uniform(with_leading(shape, 2), work, resolve(key, "normal"), 0.5, "normal");
  const Tensor radius = sqrt(log(index(u, 0)) * -2.0);
  const Tensor z = radius * cos(index(u, 1) * (2.0 * std::numbers::pi));
  return astype(astype(loc, work) + astype(scale, work) * z, dtype);
}

Tensor truncated_normal(const Tensor& lower, const Tensor& upper, const Shape& shape, DType dtype,
                        const Tensor& key) {
  check_float(dtype, "truncated_normal");
  const DType work = compute_dtype(dtype);
  const Tensor lo = astype(lower, work), hi = astype(upper, work);
  const double sqrt2 = std::numbers::sqrt2;
  const Tensor a = erf(lo / sqrt2), b = erf(hi / sqrt2);
  const Tensor u =
      unit_uniform(shape, work, resolve(key, "truncated_normal"), 0.5, "truncated_normal");
  const Tensor z = erfinv(a + u * (b - a)) * sqrt2;
  return astype(clip(z, lo, hi), dtype);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, const Tensor& key) {
  if (!ir::is_integer(dtype))
    fail("randint", "expects an integer dtype, got " + std::string(ir::dtype_name(dtype)));
  if (low >= high)
    fail("randint",
         "expects low < high, got " + std::to_string(low) + " and " + std::to_string(high));
  const auto [lo_limit, hi_limit] = ir::scalar::int_range(dtype);
  if (low < lo_limit || high - 1 > hi_limit)
    fail("randint", "[" + std::to_string(low) + ", " + std::to_string(high) + ") does not fit " +
                        std::string(ir::dtype_name(dtype)));
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  if (range > (uint64_t{1} << 32))
    fail("randint", "draws from at most 2^32 values, got a range of " + std::to_string(range));
  const Tensor bits = astype(raw_bits(resolve(key, "randint"), shape, "randint"), DType::I64);
  return astype(bits % static_cast<int64_t>(range) + low, dtype);
}

Tensor bernoulli(const Tensor& p, const Shape& shape, const Tensor& key) {
  const DType dtype = ir::is_float(p.dtype()) ? compute_dtype(p.dtype()) : DType::F32;
  return uniform(shape, dtype, resolve(key, "bernoulli")) < astype(p, dtype);
}

Tensor gumbel(const Shape& shape, DType dtype, const Tensor& key) {
  check_float(dtype, "gumbel");
  const DType work = compute_dtype(dtype);
  const Tensor u = unit_uniform(shape, work, resolve(key, "gumbel"), 0.5, "gumbel");
  return astype(-log(-log(u)), dtype);
}

Tensor laplace(const Shape& shape, DType dtype, const Tensor& loc, const Tensor& scale,
               const Tensor& key) {
  check_float(dtype, "laplace");
  const DType work = compute_dtype(dtype);
  // 2v - 1 is exact on the half-step grid and never 0: (-1, 1) without its middle.
  const Tensor u = unit_uniform(shape, work, resolve(key, "laplace"), 0.5, "laplace") * 2.0 - 1.0;
  const Tensor z = -sign(u) * log1p(-abs(u));
  return astype(astype(loc, work) + astype(scale, work) * z, dtype);
}

Tensor categorical(const Tensor& logits, int axis, std::optional<int64_t> num_samples,
                   const Tensor& key) {
  if (!ir::is_float(logits.dtype()))
    fail("categorical", "expects float logits, got " + logits.type().str());
  const int rank = static_cast<int>(logits.shape().size());
  if (rank == 0) fail("categorical", "expects logits with at least one axis, got a scalar");
  const int a = detail::normalize_axis("categorical", axis, logits.type());
  std::vector<int> perm;  // the categories last, the other axes in order
  for (int d = 0; d < rank; ++d)
    if (d != a) perm.push_back(d);
  perm.push_back(a);
  Tensor last = transpose(logits, perm);
  if (num_samples) {
    if (*num_samples < 0)
      fail("categorical", "num_samples must not be negative, got " + std::to_string(*num_samples));
    Shape shape = last.shape();
    shape.insert(shape.end() - 1, *num_samples);
    last = broadcast_to(expand_dims(last, rank - 1), shape);
  }
  const Tensor g = gumbel(last.shape(), logits.dtype(), resolve(key, "categorical"));
  return argmax(last + g, -1);
}

}  // namespace kiln::random
