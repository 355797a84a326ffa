#pragma once
// Matrix products with numpy's matmul semantics, numpy's other products (tensordot, einsum,
// inner, outer, kron) and diagonals. Every contraction is one `dot_general`; a product that
// contracts nothing is a broadcasting multiply.

#include <string_view>
#include <utility>
#include <vector>

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

// numpy tensordot: sums the products over the last `axes` axes of a and the first `axes` of
// b, or over the axes the pair lists (a's, b's; negative from the end). The result has a's
// remaining axes, then b's. Operands are promoted to a common dtype.
Tensor tensordot(const Tensor& a, const Tensor& b, int axes = 2);
Tensor tensordot(const Tensor& a, const Tensor& b,
                 const std::pair<std::vector<int>, std::vector<int>>& axes);
// numpy inner: contracts the last axes of a and b (a scalar operand multiplies).
Tensor inner(const Tensor& a, const Tensor& b);
// numpy kron: the Kronecker product, block (i, j, ...) of the result being a[i, j, ...] * b.
// The operand of lower rank gets leading size-1 axes.
Tensor kron(const Tensor& a, const Tensor& b);

// numpy einsum over letter subscripts: "ij,jk->ik" (explicit output), "ij,jk" (implicit: the
// letters seen once, in alphabetical order, capitals first), "ii->i" (a letter repeated in
// one operand takes its diagonal), "ij->" (letters left out are summed). An index must have
// one size in every operand (size-1 axes do not broadcast), and "..." is not supported.
// Operands are promoted to a common dtype; the result keeps it, as in numpy (bool products
// are logical). Contractions run left to right, pairwise, each one dot_general.
Tensor einsum(std::string_view subscripts, const std::vector<Tensor>& operands);

// numpy diagonal: the elements x[..., i, ..., i + offset, ...] of axes axis1 and axis2, which
// leave the result; the diagonal becomes its last axis. A strided slice of the flattened
// pair of axes, not a gather.
Tensor diagonal(const Tensor& x, int64_t offset = 0, int axis1 = 0, int axis2 = 1);
// numpy diag: a 1-D x becomes the square matrix with x on diagonal k (above the main one for
// k > 0) and zeros elsewhere; a 2-D x gives its diagonal k.
Tensor diag(const Tensor& x, int64_t k = 0);
// numpy trace: the sums along diagonal `offset` of axes axis1 and axis2 (sum's dtype rules).
Tensor trace(const Tensor& x, int64_t offset = 0, int axis1 = 0, int axis2 = 1);

}  // namespace kiln
