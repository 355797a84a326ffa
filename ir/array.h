#pragma once
// HostArray: a dense row-major tensor in host memory, the currency between the interpreter,
// the frontend and .npy files. Elements are stored in their dtype's own bit layout (f16 and
// bf16 as 16-bit patterns, bool as one byte 0 or 1).

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "ir/type.h"

namespace kiln::ir {

class HostArray {
 public:
  HostArray() = default;
  explicit HostArray(TensorType type)
      : type_(std::move(type)), bytes_(type_.size_bytes(), std::byte{0}) {}

  const TensorType& type() const { return type_; }
  DType dtype() const { return type_.dtype; }
  const Shape& shape() const { return type_.shape; }
  int64_t num_elements() const { return type_.num_elements(); }

  std::span<std::byte> bytes() { return bytes_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  std::byte* data() { return bytes_.data(); }
  const std::byte* data() const { return bytes_.data(); }

  // Element i (row-major) widened to double / int64; f16 and bf16 decode to their value,
  // bool reads as 0 or 1. Writes round to the dtype (floats to nearest even, integers wrap).
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;
  void set_f64(int64_t i, double value);
  void set_i64(int64_t i, int64_t value);

  bool operator==(const HostArray&) const = default;

 private:
  TensorType type_;
  std::vector<std::byte> bytes_;
};

}  // namespace kiln::ir
