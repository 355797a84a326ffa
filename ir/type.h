#pragma once
// Tensor types: a dtype and a shape, printed as f32[2,3] (a scalar is f32[]).

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace kiln::ir {

using Shape = std::vector<int64_t>;

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int rank() const { return static_cast<int>(shape.size()); }
  int64_t num_elements() const;
  size_t size_bytes() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype); }
  std::string str() const;
  bool operator==(const TensorType&) const = default;
};

std::string shape_str(const Shape& shape);  // "[2,3]"
// Row-major strides in elements.
std::vector<int64_t> row_major_strides(const Shape& shape);

}  // namespace kiln::ir
