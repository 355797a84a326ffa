#pragma once
// Helpers shared by the frontend tests.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontend/kiln.h"
#include "ir/function.h"

namespace kiln::test {

inline std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}

inline void expect_near(const std::vector<double>& got, const std::vector<double>& want,
                        double tol = 1e-6) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

inline void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  expect_near(values(t), want, tol);
}

// Ops of a function's body (parameters excluded), in order.
inline std::vector<ir::OpKind> ops_of(const ir::Function& f) {
  std::vector<ir::OpKind> ops;
  for (const ir::Node& n : f.nodes())
    if (n.op != ir::OpKind::Parameter) ops.push_back(n.op);
  return ops;
}

inline int count_op(const ir::Function& f, ir::OpKind op) {
  int n = 0;
  for (ir::OpKind k : ops_of(f))
    n += k == op;
  return n;
}

inline ir::TensorType ty(DType d, Shape s) {
  return {d, std::move(s)};
}

// The message of the kiln::Error `fn` throws, or "" if it throws none.
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace kiln::test

// Asserts that `stmt` throws kiln::Error whose message contains `text`.
#define EXPECT_ERROR(stmt, text)                                                            \
  do {                                                                                      \
    std::string message_ = ::kiln::test::error_of([&] { (void)(stmt); });                   \
    EXPECT_NE(message_.find(text), std::string::npos)                                       \
        << "expected an error containing \"" << (text) << "\", got \"" << message_ << "\""; \
  } while (0)
