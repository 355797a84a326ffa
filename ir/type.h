#pragma once
// Tensor types: a dtype and a shape, printed as f32[2,3] (a scalar is f32[]).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace kiln::ir {

using Shape = std::vector<int64_t>;

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int rank() const { return static_cast<int>(shape.size()); }
  // Both throw kiln::Error "[ir] ..." when the count does not fit in 64 bits (a shape such as
  // (2^40, 2^40)), so no caller computes with an overflowed size; a zero dimension gives 0.
  int64_t num_elements() const;
  size_t size_bytes() const;
  // The byte size, or nullopt where size_bytes() would throw: for checking input first.
  std::optional<size_t> checked_size_bytes() const;
  std::string str() const;
  bool operator==(const TensorType&) const = default;
};

std::string shape_str(const Shape& shape);  // "[2,3]"
// The element count, or nullopt when it overflows int64 or a dimension is negative.
std::optional<int64_t> checked_num_elements(const Shape& shape);
// Row-major strides in elements.
std::vector<int64_t> row_major_strides(const Shape& shape);

}  // namespace kiln::ir
