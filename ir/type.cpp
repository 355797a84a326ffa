#include "ir/type.h"

#include <algorithm>

#include "ir/error.h"

namespace kiln::ir {

std::optional<int64_t> checked_num_elements(const Shape& shape) {
  // A zero dimension empties the tensor whatever the others are, so (2^32, 2^32, 0) has 0
  // elements rather than an overflowed product.
  if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; })) return std::nullopt;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return std::nullopt;
  return n;
}

std::optional<size_t> TensorType::checked_size_bytes() const {
  std::optional<int64_t> n = checked_num_elements(shape);
  int64_t bytes = 0;
  if (!n || __builtin_mul_overflow(*n, static_cast<int64_t>(dtype_size(dtype)), &bytes))
    return std::nullopt;
  return static_cast<size_t>(bytes);
}

int64_t TensorType::num_elements() const {
  std::optional<int64_t> n = checked_num_elements(shape);
  if (!n) throw Error("[ir] " + str() + " has more elements than a 64-bit count holds");
  return *n;
}

size_t TensorType::size_bytes() const {
  std::optional<size_t> bytes = checked_size_bytes();
  if (!bytes) throw Error("[ir] " + str() + " has more bytes than a 64-bit size holds");
  return *bytes;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string TensorType::str() const {
  return std::string(dtype_name(dtype)) + shape_str(shape);
}

std::vector<int64_t> row_major_strides(const Shape& shape) {
  // Unsigned, so that the strides of an empty tensor whose other dimensions multiply past
  // 2^63, (0, 2^40, 2^40), wrap instead of overflowing: no element is ever addressed by them.
  std::vector<int64_t> strides(shape.size(), 1);
  uint64_t stride = 1;
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) {
    stride *= static_cast<uint64_t>(shape[i + 1]);
    strides[i] = static_cast<int64_t>(stride);
  }
  return strides;
}

}  // namespace kiln::ir
