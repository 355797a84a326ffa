#pragma once
// Matrix products with numpy's matmul semantics.

#include "frontend/tensor.h"

namespace kiln {

// 1-D operands are promoted (a vector on the left is a row, on the right a column, and the
// added axis is removed from the result); higher ranks are stacks of matrices whose batch
// axes broadcast. Always one `dot_general`: a 1-D or 2-D operand against a stack contracts
// directly (no copies of the smaller operand); two stacks broadcast their batch axes and
// become dot_general batch dimensions.
Tensor matmul(const Tensor& a, const Tensor& b);
// The outer product of two vectors (inputs of higher rank are flattened, as in numpy).
Tensor outer(const Tensor& a, const Tensor& b);

}  // namespace kiln
