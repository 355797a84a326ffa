// The interpreter's element access (widening loads, rounding and wrapping stores) and the
// kernels that are about dtypes rather than indices: convert, constant, iota, select.

#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "ir/half.h"
#include "ir/interpreter_kernels.h"

namespace kiln::ir::interp {

namespace {

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

// out[i] = decode(element begin + i) for elements stored as T.
template <typename T, typename Out, typename Decode>
void load_as(const HostArray& x, int64_t begin, std::span<Out> out, Decode decode) {
  const std::byte* p = x.data();
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<Out>(decode(read<T>(p, begin + static_cast<int64_t>(i))));
}

template <typename T, typename In, typename Encode>
void store_as(HostArray& x, int64_t begin, std::span<const In> in, Encode encode) {
  std::byte* p = x.data();
  for (size_t i = 0; i < in.size(); ++i)
    write<T>(p, begin + static_cast<int64_t>(i), encode(in[i]));
}

constexpr auto kSame = [](auto v) { return v; };

double attr_f64(const Attr& a) {
  if (a.is_float()) return a.as_float();
  if (a.is_bool()) return a.as_bool() ? 1.0 : 0.0;
  return static_cast<double>(a.as_int());
}

int64_t attr_i64(const Attr& a) {
  return a.is_bool() ? int64_t{a.as_bool()} : a.as_int();
}

}  // namespace

void load_f64(const HostArray& x, int64_t begin, std::span<double> out) {
  switch (x.dtype()) {
    case DType::F16:
      return load_as<uint16_t>(x, begin, out, f16_to_float);
    case DType::BF16:
      return load_as<uint16_t>(x, begin, out, bf16_to_float);
    case DType::F32:
      return load_as<float>(x, begin, out, kSame);
    case DType::F64:
      return load_as<double>(x, begin, out, kSame);
    case DType::Bool:
      return load_as<uint8_t>(x, begin, out, [](uint8_t b) { return b != 0; });
    case DType::I8:
      return load_as<int8_t>(x, begin, out, kSame);
    case DType::I16:
      return load_as<int16_t>(x, begin, out, kSame);
    case DType::I32:
      return load_as<int32_t>(x, begin, out, kSame);
    case DType::I64:
      return load_as<int64_t>(x, begin, out, kSame);
    case DType::U8:
      return load_as<uint8_t>(x, begin, out, kSame);
    case DType::U32:
      return load_as<uint32_t>(x, begin, out, kSame);
  }
}

void load_i64(const HostArray& x, int64_t begin, std::span<int64_t> out) {
  switch (x.dtype()) {
    case DType::Bool:
      return load_as<uint8_t>(x, begin, out, [](uint8_t b) { return b != 0; });
    case DType::I8:
      return load_as<int8_t>(x, begin, out, kSame);
    case DType::I16:
      return load_as<int16_t>(x, begin, out, kSame);
    case DType::I32:
      return load_as<int32_t>(x, begin, out, kSame);
    case DType::I64:
      return load_as<int64_t>(x, begin, out, kSame);
    case DType::U8:
      return load_as<uint8_t>(x, begin, out, kSame);
    case DType::U32:
      return load_as<uint32_t>(x, begin, out, kSame);
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
      break;
  }
  assert(false && "float elements are loaded as doubles");
}

void store_f64(HostArray& x, int64_t begin, std::span<const double> in) {
  switch (x.dtype()) {
    case DType::F16:
      return store_as<uint16_t>(x, begin, in, [](double v) { return to_f16_bits(v); });
    case DType::BF16:
      return store_as<uint16_t>(x, begin, in, [](double v) { return to_bf16_bits(v); });
    case DType::F32:
      return store_as<float>(x, begin, in, [](double v) { return static_cast<float>(v); });
    case DType::F64:
      return store_as<double>(x, begin, in, kSame);
    case DType::Bool:
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::U8:
    case DType::U32:
      break;
  }
  assert(false && "integer elements are stored from int64");
}

void store_i64(HostArray& x, int64_t begin, std::span<const int64_t> in) {
  // Narrowing integer casts wrap (defined since C++20).
  auto narrow = [](auto tag) { return [](int64_t v) { return static_cast<decltype(tag)>(v); }; };
  switch (x.dtype()) {
    case DType::Bool:
      return store_as<uint8_t>(x, begin, in,
                               [](int64_t v) { return static_cast<uint8_t>(v != 0); });
    case DType::I8:
      return store_as<int8_t>(x, begin, in, narrow(int8_t{}));
    case DType::I16:
      return store_as<int16_t>(x, begin, in, narrow(int16_t{}));
    case DType::I32:
      return store_as<int32_t>(x, begin, in, narrow(int32_t{}));
    case DType::I64:
      return store_as<int64_t>(x, begin, in, kSame);
    case DType::U8:
      return store_as<uint8_t>(x, begin, in, narrow(uint8_t{}));
    case DType::U32:
      return store_as<uint32_t>(x, begin, in, narrow(uint32_t{}));
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
      break;
  }
  assert(false && "float elements are stored from double");
}

std::vector<double> to_f64(const HostArray& x) {
  std::vector<double> out(static_cast<size_t>(x.num_elements()));
  load_f64(x, 0, out);
  return out;
}

std::vector<int64_t> to_i64(const HostArray& x) {
  std::vector<int64_t> out(static_cast<size_t>(x.num_elements()));
  load_i64(x, 0, out);
  return out;
}

HostArray from_f64(const TensorType& type, std::span<const double> values) {
  HostArray out(type);
  store_f64(out, 0, values);
  return out;
}

HostArray from_i64(const TensorType& type, std::span<const int64_t> values) {
  HostArray out(type);
  store_i64(out, 0, values);
  return out;
}

HostArray convert(const HostArray& x, DType to) {
  HostArray out(TensorType{to, x.shape()});
  const DType from = x.dtype();
  if (is_float(from) && is_float(to)) {
    map_into<double, double>(x, out, kSame);
  } else if (is_float(from) && to == DType::Bool) {
    map_into<double, int64_t>(x, out, [](double v) { return v != 0.0; });  // NaN is true
  } else if (is_float(from)) {
    auto [lo, hi] = int_range(to);
    map_into<double, int64_t>(x, out, [lo, hi](double v) { return saturating_trunc(v, lo, hi); });
  } else if (to == DType::F64) {
    map_into<int64_t, double>(x, out, [](int64_t v) { return static_cast<double>(v); });
  } else if (is_float(to)) {
    map_into<int64_t, double>(x, out, round_to_odd_f64);
  } else {
    map_into<int64_t, int64_t>(x, out, kSame);  // wraps; to bool is != 0
  }
  return out;
}

HostArray constant(const TensorType& type, const Attr& value) {
  // Dense elements are the array itself (the shape rule checked its type): shared, not copied.
  if (value.is_dense()) return value.as_dense();
  const std::vector<Attr> flat = flat_elements(value);
  const size_t n = static_cast<size_t>(type.num_elements());
  // A scalar fills the shape; a nested list gives every element (checked by the shape rule).
  auto element = [&](size_t i) -> const Attr& { return flat.size() == 1 ? flat[0] : flat[i]; };
  if (is_float(type.dtype)) {
    std::vector<double> values(n);
    for (size_t i = 0; i < n; ++i)
      values[i] = attr_f64(element(i));
    return from_f64(type, values);
  }
  std::vector<int64_t> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = attr_i64(element(i));
  return from_i64(type, values);
}

HostArray iota(const TensorType& type, int64_t axis) {
  const int64_t n = type.shape[axis];
  const int64_t inner = row_major_strides(type.shape)[axis];
  const size_t total = static_cast<size_t>(type.num_elements());
  std::vector<int64_t> values(total);
  for (size_t i = 0; i < total; ++i)
    values[i] = (static_cast<int64_t>(i) / inner) % n;
  if (!is_float(type.dtype)) return from_i64(type, values);
  std::vector<double> as_float(values.begin(), values.end());
  return from_f64(type, as_float);
}

HostArray rng_bits(const HostArray& key, const TensorType& type) {
  HostArray out(type);
  const int64_t keys = key.num_elements() / 2;
  const int64_t per_key = keys == 0 ? 0 : type.num_elements() / keys;
  for (int64_t k = 0; k < keys; ++k) {
    const auto k0 = static_cast<uint32_t>(key.get_i64(2 * k));
    const auto k1 = static_cast<uint32_t>(key.get_i64(2 * k + 1));
    for (int64_t i = 0; i < per_key; ++i)
      out.set_i64(k * per_key + i, rng_bits_element(k0, k1, static_cast<uint64_t>(i)));
  }
  return out;
}

HostArray select(const HostArray& pred, const HostArray& on_true, const HostArray& on_false) {
  HostArray out(on_true.type());
  const size_t size = dtype_size(out.dtype());
  const int64_t n = out.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    const HostArray& chosen = pred.get_i64(i) ? on_true : on_false;
    std::memcpy(out.data() + i * size, chosen.data() + i * size, size);
  }
  return out;
}

}  // namespace kiln::ir::interp
