// The README's frontend example, compiled and run, so the documentation cannot rot.

#include <gtest/gtest.h>

#include "frontend/kiln.h"
#include "ir/printer.h"

namespace kiln {
namespace {

TEST(ReadmeExample, LazyEvalAndTraceWorkAsDocumented) {
  // --- as in README.md ---
  kiln::Tensor x = kiln::Tensor({1.0f, 2.0f, 3.0f});
  kiln::Tensor y = kiln::softmax(x * 2.0);  // lazy: builds a graph
  y.eval();                                 // runs it (on the interpreter for now)
  std::vector<float> values = y.to_vector<float>();

  ir::Function f = kiln::trace([](std::vector<kiln::Tensor> in) { return kiln::gelu(in[0]); },
                               {ir::TensorType{ir::DType::F32, {4, 8}}});
  // --- end ---
  ASSERT_EQ(values.size(), 3u);
  float sum = values[0] + values[1] + values[2];
  EXPECT_NEAR(sum, 1.0f, 1e-6f);
  EXPECT_GT(values[2], values[1]);
  EXPECT_EQ(f.result_types().front().str(), "f32[4,8]");
  EXPECT_NE(ir::print(f).find("erf"), std::string::npos);
}

}  // namespace
}  // namespace kiln
