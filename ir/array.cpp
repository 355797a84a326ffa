#include "ir/array.h"

#include <cassert>
#include <cmath>

#include "ir/half.h"
#include "ir/scalar_semantics.h"

namespace kiln::ir {

Storage allocate_storage(size_t bytes) {
  return std::make_shared<Buffer>(BufferPool::instance().allocate(bytes));
}

HostArray::HostArray(TensorType type) : HostArray(uninitialized(std::move(type))) {
  if (storage_) std::memset(storage_->data(), 0, size_bytes());
}

HostArray HostArray::uninitialized(TensorType type) {
  const size_t bytes = type.size_bytes();
  return HostArray(std::move(type), allocate_storage(bytes));
}

HostArray::HostArray(TensorType type, Storage storage)
    : type_(std::move(type)), storage_(std::move(storage)) {
  assert(storage_ && storage_->size() >= size_bytes() && "storage smaller than the array");
}

void HostArray::make_unique() {
  if (!storage_ || (!storage_shared() && !storage_->read_only())) return;
  Storage copy = allocate_storage(size_bytes());
  if (size_bytes()) std::memcpy(copy->data(), storage_->data(), size_bytes());
  storage_ = std::move(copy);
}

bool HostArray::operator==(const HostArray& other) const {
  if (type_ != other.type_) return false;
  if (storage_ == other.storage_ || size_bytes() == 0) return true;
  return std::memcmp(data(), other.data(), size_bytes()) == 0;
}

namespace {
template <typename T>
T load(const std::byte* base, int64_t i) {
  T v;
  std::memcpy(&v, base + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
  return v;
}
template <typename T>
void store(std::byte* base, int64_t i, T v) {
  std::memcpy(base + i * static_cast<int64_t>(sizeof(T)), &v, sizeof(T));
}
}  // namespace

double HostArray::get_f64(int64_t i) const {
  assert(i >= 0 && i < num_elements());
  const std::byte* p = data();
  switch (dtype()) {
    case DType::F16:
      return f16_to_float(load<uint16_t>(p, i));
    case DType::BF16:
      return bf16_to_float(load<uint16_t>(p, i));
    case DType::F32:
      return load<float>(p, i);
    case DType::F64:
      return load<double>(p, i);
    case DType::U32:
      return static_cast<double>(load<uint32_t>(p, i));
    default:
      return static_cast<double>(get_i64(i));
  }
}

int64_t HostArray::get_i64(int64_t i) const {
  assert(i >= 0 && i < num_elements());
  const std::byte* p = data();
  switch (dtype()) {
    case DType::Bool:
      return load<uint8_t>(p, i) != 0;
    case DType::I8:
      return load<int8_t>(p, i);
    case DType::I16:
      return load<int16_t>(p, i);
    case DType::I32:
      return load<int32_t>(p, i);
    case DType::I64:
      return load<int64_t>(p, i);
    case DType::U8:
      return load<uint8_t>(p, i);
    case DType::U32:
      return load<uint32_t>(p, i);
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64: {
      // Float to integer truncates toward zero; NaN and out-of-range saturate so that this
      // is never undefined behaviour.
      double v = get_f64(i);
      if (std::isnan(v)) return 0;
      if (v >= 9.2233720368547758e18) return INT64_MAX;
      if (v <= -9.2233720368547758e18) return INT64_MIN;
      return static_cast<int64_t>(v);
    }
  }
  return 0;
}

void HostArray::set_f64(int64_t i, double value) {
  assert(i >= 0 && i < num_elements());
  std::byte* p = data();
  switch (dtype()) {
    case DType::F16:
      store<uint16_t>(p, i, scalar::to_f16_bits(value));
      return;
    case DType::BF16:
      store<uint16_t>(p, i, scalar::to_bf16_bits(value));
      return;
    case DType::F32:
      store<float>(p, i, static_cast<float>(value));
      return;
    case DType::F64:
      store<double>(p, i, value);
      return;
    case DType::Bool:
      store<uint8_t>(p, i, value != 0.0);
      return;
    default: {
      int64_t v = 0;
      if (std::isnan(value))
        v = 0;
      else if (value >= 9.2233720368547758e18)
        v = INT64_MAX;
      else if (value <= -9.2233720368547758e18)
        v = INT64_MIN;
      else
        v = static_cast<int64_t>(value);
      set_i64(i, v);
    }
  }
}

void HostArray::set_i64(int64_t i, int64_t value) {
  assert(i >= 0 && i < num_elements());
  std::byte* p = data();
  switch (dtype()) {
    case DType::Bool:
      store<uint8_t>(p, i, value != 0);
      return;
    case DType::I8:
      store<int8_t>(p, i, static_cast<int8_t>(value));
      return;
    case DType::I16:
      store<int16_t>(p, i, static_cast<int16_t>(value));
      return;
    case DType::I32:
      store<int32_t>(p, i, static_cast<int32_t>(value));
      return;
    case DType::I64:
      store<int64_t>(p, i, value);
      return;
    case DType::U8:
      store<uint8_t>(p, i, static_cast<uint8_t>(value));
      return;
    case DType::U32:
      store<uint32_t>(p, i, static_cast<uint32_t>(value));
      return;
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
      set_f64(i, static_cast<double>(value));
      return;
  }
}

}  // namespace kiln::ir
