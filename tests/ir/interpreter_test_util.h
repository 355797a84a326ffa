#pragma once
// Arrays from value lists and one-op functions on the interpreter: what the interpreter's
// hand-written tests (interpreter_test.cpp, bit_ops_test.cpp) build their cases from.

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "ir/function.h"
#include "ir/interpreter.h"

namespace kiln::ir::testing {

inline HostArray make(DType dtype, Shape shape, const std::vector<double>& values) {
  HostArray a(TensorType{dtype, std::move(shape)});
  EXPECT_EQ(static_cast<int64_t>(values.size()), a.num_elements());
  for (size_t i = 0; i < values.size(); ++i)
    a.set_f64(static_cast<int64_t>(i), values[i]);
  return a;
}

inline HostArray make_int(DType dtype, Shape shape, const std::vector<int64_t>& values) {
  HostArray a(TensorType{dtype, std::move(shape)});
  EXPECT_EQ(static_cast<int64_t>(values.size()), a.num_elements());
  for (size_t i = 0; i < values.size(); ++i)
    a.set_i64(static_cast<int64_t>(i), values[i]);
  return a;
}

inline std::vector<double> doubles(const HostArray& a) {
  std::vector<double> out;
  for (int64_t i = 0; i < a.num_elements(); ++i)
    out.push_back(a.get_f64(i));
  return out;
}

inline std::vector<int64_t> ints(const HostArray& a) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < a.num_elements(); ++i)
    out.push_back(a.get_i64(i));
  return out;
}

// Applies one op to parameters of the arguments' types and interprets it.
inline HostArray run_op(OpKind op, const std::vector<HostArray>& args, Attrs attrs = {},
                        std::optional<TensorType> declared = std::nullopt) {
  Function f("one");
  std::vector<Value> params;
  for (const HostArray& a : args)
    params.push_back(f.add_param("p" + std::to_string(params.size()), a.type()));
  f.set_results({f.add(op, params, std::move(attrs), std::move(declared))});
  std::vector<HostArray> out = interpret(f, args);
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? HostArray() : out[0];
}

// One-dimensional arrays of the values.
inline HostArray make(DType dtype, const std::vector<double>& values) {
  return make(dtype, {static_cast<int64_t>(values.size())}, values);
}
inline HostArray make_int(DType dtype, const std::vector<int64_t>& values) {
  return make_int(dtype, {static_cast<int64_t>(values.size())}, values);
}

}  // namespace kiln::ir::testing
