#pragma once
// The operands of the every-op-on-every-dtype tests (tests/codegen/llvm_elementwise_test.cpp
// for the CPU, tests/vulkan/vulkan_elementwise_test.cpp for Vulkan): value lists rich in
// special values (signed zeros, infinities, NaN, an f32 subnormal, values near the f16 and
// f32 limits, the integer extremes), laid out so that two operands cover every pair.

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ir/array.h"
#include "ir/ops.h"

namespace kiln::codegen::testing {

inline std::vector<double> float_values() {
  const double inf = std::numeric_limits<double>::infinity();
  return {0.0,   -0.0, 1.0,          -1.0,  0.5,   -0.5,  1.5,      2.5,  -2.5, 3.0,   7.25,
          -7.75, 100,  -1e4,         65504, 1e-3,  1e-8,  0.3,      -0.7, 12.5, 1e-40, 3.4e38,
          inf,   -inf, std::nan(""), 88.5,  -90.0, 0.927, -3.14159, 1e30, -1e-5};
}

inline std::vector<int64_t> int_values() {
  return {0,
          1,
          -1,
          2,
          -2,
          3,
          -3,
          7,
          -7,
          100,
          -128,
          127,
          255,
          65535,
          INT32_MIN,
          INT32_MAX,
          INT64_MIN,
          INT64_MAX,
          int64_t{1} << 40,
          63,
          64};
}

inline ir::HostArray values_of(ir::DType dtype, size_t count, size_t stride, size_t repeat) {
  // Element i takes value (i / stride) % count, so two operands built with strides 1 and
  // count together cover every pair.
  ir::HostArray a(ir::TensorType{dtype, {static_cast<int64_t>(count * repeat)}});
  const auto f = float_values();
  const auto n = int_values();
  for (size_t i = 0; i < count * repeat; ++i) {
    size_t v = (i / stride) % count;
    if (ir::is_float(dtype))
      a.set_f64(static_cast<int64_t>(i), f[v % f.size()]);
    else if (dtype == ir::DType::Bool)
      a.set_i64(static_cast<int64_t>(i), static_cast<int64_t>(v % 2));
    else
      a.set_i64(static_cast<int64_t>(i), n[v % n.size()]);
  }
  return a;
}

inline size_t value_count(ir::DType dtype) {
  if (dtype == ir::DType::Bool) return 2;
  return ir::is_float(dtype) ? float_values().size() : int_values().size();
}

inline bool is_transcendental(ir::OpKind op) {
  switch (op) {
    case ir::OpKind::Exp:
    case ir::OpKind::Log:
    case ir::OpKind::Log1p:
    case ir::OpKind::Expm1:
    case ir::OpKind::Sin:
    case ir::OpKind::Cos:
    case ir::OpKind::Tanh:
    case ir::OpKind::Logistic:
    case ir::OpKind::Erf:
      return true;
    default:
      return false;
  }
}

}  // namespace kiln::codegen::testing
