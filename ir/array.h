#pragma once
// HostArray: a dense row-major tensor in host memory, the currency between the interpreter,
// the runtime, the frontend and .npy files. Elements are stored in their dtype's own bit layout
// (f16 and bf16 as 16-bit patterns, bool as one byte 0 or 1).
//
// Storage is one 64-byte aligned, reference-counted block from the process's BufferPool, so
// compiled kernels read arguments in place and write results straight into the arrays they
// return. Copies share the block; the non-const accessors copy it first while it is shared
// or read-only (an external block, Buffer::external), so a HostArray still behaves as a value. A
// pointer taken from data() stays valid while the array lives, but may stop being the array's
// storage once the array is copied and written again.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

#include "ir/buffer_pool.h"
#include "ir/type.h"

namespace kiln::ir {

using Storage = std::shared_ptr<Buffer>;

class HostArray {
 public:
  HostArray() = default;
  // Zero-filled.
  explicit HostArray(TensorType type);
  // Contents undefined: for arrays that are about to be overwritten whole (kernel results).
  static HostArray uninitialized(TensorType type);
  // Views `storage` (which holds at least type.size_bytes()) without copying it.
  HostArray(TensorType type, Storage storage);

  const TensorType& type() const { return type_; }
  DType dtype() const { return type_.dtype; }
  const Shape& shape() const { return type_.shape; }
  int64_t num_elements() const { return type_.num_elements(); }

  std::span<std::byte> bytes() { return {data(), size_bytes()}; }
  std::span<const std::byte> bytes() const { return {data(), size_bytes()}; }
  std::byte* data() {
    make_unique();
    return storage_ ? storage_->bytes() : nullptr;
  }
  const std::byte* data() const { return storage_ ? storage_->bytes() : nullptr; }
  size_t size_bytes() const { return type_.size_bytes(); }

  // The block under this array, shared with its copies.
  const Storage& storage() const { return storage_; }
  // True while another HostArray (or a runtime handle) shares this array's block.
  bool storage_shared() const { return storage_ && storage_.use_count() > 1; }

  // Element i (row-major) widened to double / int64; f16 and bf16 decode to their value,
  // bool reads as 0 or 1. Writes round to the dtype once (floats to nearest even, integers
  // wrap).
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;
  void set_f64(int64_t i, double value);
  void set_i64(int64_t i, int64_t value);

  // Equal types and equal bytes.
  bool operator==(const HostArray& other) const;

 private:
  void make_unique();

  TensorType type_;
  Storage storage_;
};

// A fresh, unshared, 64-byte aligned block of `bytes` (contents undefined).
Storage allocate_storage(size_t bytes);

}  // namespace kiln::ir
