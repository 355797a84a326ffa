#include "frontend/linalg.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <optional>

#include "frontend/creation.h"
#include "frontend/ops.h"
#include "frontend/promotion.h"
#include "frontend/reductions.h"
#include "frontend/shape_ops.h"

namespace kiln {

namespace {

using detail::fail;

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::string pair_str(const Tensor& a, const Tensor& b) {
  return a.type().str() + " and " + b.type().str();
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<int64_t> complement(const std::vector<int64_t>& used, int rank) {
  std::vector<int64_t> rest;
  for (int64_t d = 0; d < rank; ++d)
    if (!contains(used, d)) rest.push_back(d);
  return rest;
}

std::vector<int> as_ints(const std::vector<int64_t>& v) {
  return std::vector<int>(v.begin(), v.end());
}

Tensor dot_general(const Tensor& a, const Tensor& b, std::vector<int64_t> lhs_batch,
                   std::vector<int64_t> rhs_batch, std::vector<int64_t> lhs_contract,
                   std::vector<int64_t> rhs_contract, std::string_view fn) {
  ir::DotGeneralAttrs dims{std::move(lhs_batch), std::move(rhs_batch), std::move(lhs_contract),
                           std::move(rhs_contract)};
  return detail::make(ir::OpKind::DotGeneral, {a, b}, make_attrs(std::move(dims)), std::nullopt,
                      fn);
}

// x in dtype again after a widening reduction: a nonzero count is true for bools.
Tensor restore(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  return dtype == DType::Bool ? not_equal(x, 0) : astype(x, dtype);
}

// The product of a and b (one dtype) summed over the paired contract axes, with the paired
// batch axes kept: dot_general's layout, batch axes first, then a's other axes, then b's.
// Without contract axes it is a broadcasting multiply, and bools (which dot_general does not
// take) contract as i32 counts made bool again, numpy's logical sum of products.
Tensor contract(const Tensor& a, const Tensor& b, const std::vector<int64_t>& a_batch,
                const std::vector<int64_t>& b_batch, const std::vector<int64_t>& a_contract,
                const std::vector<int64_t>& b_contract, std::string_view fn) {
  if (a_contract.empty()) {
    std::vector<int64_t> a_free = complement(a_batch, a.ndim());
    std::vector<int64_t> b_free = complement(b_batch, b.ndim());
    std::vector<int64_t> a_perm = a_batch, b_perm = b_batch;
    a_perm.insert(a_perm.end(), a_free.begin(), a_free.end());
    b_perm.insert(b_perm.end(), b_free.begin(), b_free.end());
    Shape a_shape, b_shape;
    for (int64_t d : a_batch) {
      a_shape.push_back(a.shape()[d]);
      b_shape.push_back(a.shape()[d]);
    }
    for (int64_t d : a_free) {
      a_shape.push_back(a.shape()[d]);
      b_shape.push_back(1);
    }
    for (int64_t d : b_free) {
      a_shape.push_back(1);
      b_shape.push_back(b.shape()[d]);
    }
    return multiply(reshape(transpose(a, as_ints(a_perm)), a_shape),
                    reshape(transpose(b, as_ints(b_perm)), b_shape));
  }
  if (a.dtype() == DType::Bool)
    return restore(contract(astype(a, DType::I32), astype(b, DType::I32), a_batch, b_batch,
                            a_contract, b_contract, fn),
                   DType::Bool);
  return dot_general(a, b, a_batch, b_batch, a_contract, b_contract, fn);
}

// tensordot's axis lists, normalized and checked: one length, no repeats, equal sizes.
std::pair<std::vector<int64_t>, std::vector<int64_t>> paired_axes(std::string_view fn,
                                                                  const Tensor& a, const Tensor& b,
                                                                  const std::vector<int>& a_axes,
                                                                  const std::vector<int>& b_axes) {
  if (a_axes.size() != b_axes.size())
    fail(fn, "axes name " + std::to_string(a_axes.size()) + " axes of a and " +
                 std::to_string(b_axes.size()) + " of b; they are contracted in pairs");
  std::vector<int64_t> as, bs;
  for (size_t i = 0; i < a_axes.size(); ++i) {
    int x = detail::normalize_axis(fn, a_axes[i], a.type());
    int y = detail::normalize_axis(fn, b_axes[i], b.type());
    if (contains(as, x) || contains(bs, y))
      fail(fn, "an axis is contracted twice (axis " + std::to_string(contains(as, x) ? x : y) +
                   " of " + (contains(as, x) ? a : b).type().str() + ")");
    if (a.shape()[x] != b.shape()[y])
      fail(fn, "axis " + std::to_string(x) + " of " + a.type().str() + " and axis " +
                   std::to_string(y) + " of " + b.type().str() + " differ in size");
    as.push_back(x);
    bs.push_back(y);
  }
  return {as, bs};
}

Tensor tensordot_impl(std::string_view fn, const Tensor& a, const Tensor& b,
                      const std::vector<int>& a_axes, const std::vector<int>& b_axes) {
  if (!a.valid() || !b.valid()) fail(fn, "an operand is an empty (default-constructed) Tensor");
  auto [as, bs] = paired_axes(fn, a, b, a_axes, b_axes);
  DType dtype = result_type(std::vector<Tensor>{a, b}).dtype;
  return contract(cast_operand(a, dtype, fn), cast_operand(b, dtype, fn), {}, {}, as, bs, fn);
}

// The diagonal of axes axis1 and axis2 as the last axis. Both axes go last and merge into
// one, in which the diagonal's elements lie m + 1 apart (m the length of axis2): a strided
// slice picks them.
Tensor diagonal_impl(std::string_view fn, const Tensor& x, int64_t offset, int axis1, int axis2) {
  if (!x.valid()) fail(fn, "x is an empty (default-constructed) Tensor");
  if (x.ndim() < 2) fail(fn, "x must have at least two axes, got " + x.type().str());
  int a1 = detail::normalize_axis(fn, axis1, x.type());
  int a2 = detail::normalize_axis(fn, axis2, x.type());
  if (a1 == a2)
    fail(fn, "axis1 and axis2 name one axis (" + std::to_string(a1) + ") of " + x.type().str());
  std::vector<int64_t> perm = complement({a1, a2}, x.ndim());
  Shape shape;
  for (int64_t d : perm)
    shape.push_back(x.shape()[d]);
  perm.insert(perm.end(), {a1, a2});
  const int64_t n = x.shape()[a1], m = x.shape()[a2];
  const int64_t length =
      std::max<int64_t>(0, offset >= 0 ? std::min(n, m - offset) : std::min(n + offset, m));
  shape.push_back(n * m);
  Tensor flat = reshape(transpose(x, as_ints(perm)), shape);
  if (length == 0) return slice(flat, -1, 0, 0);
  const int64_t first = offset >= 0 ? offset : -offset * m;
  return slice(flat, -1, first, first + (length - 1) * (m + 1) + 1, m + 1);
}

// einsum: one operand's letters, and the whole parsed specification.
struct EinsumSpec {
  std::vector<std::string> inputs;
  std::string output;
};

EinsumSpec parse_einsum(std::string_view subscripts, const std::vector<Tensor>& operands) {
  constexpr std::string_view fn = "einsum";
  const std::string quoted = "\"" + std::string(subscripts) + "\"";
  std::string spec;
  for (char c : subscripts)
    if (c != ' ') spec += c;
  if (spec.find('.') != std::string::npos)
    fail(fn, "subscripts " + quoted + ": ellipsis (...) is not supported");
  EinsumSpec out;
  size_t arrow = spec.find("->");
  std::string inputs = spec.substr(0, arrow);
  std::optional<std::string> output;
  if (arrow != std::string::npos) output = spec.substr(arrow + 2);
  size_t start = 0;
  while (true) {
    size_t comma = inputs.find(',', start);
    out.inputs.push_back(inputs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto check_letters = [&](const std::string& term) {
    for (char c : term)
      if (!std::isalpha(static_cast<unsigned char>(c)))
        fail(fn, "subscripts " + quoted + ": '" + std::string(1, c) +
                     "' is not a letter (indices are letters, \"->\" precedes the output)");
  };
  if (out.inputs.size() != operands.size())
    fail(fn, "subscripts " + quoted + " name " + std::to_string(out.inputs.size()) +
                 " operands, got " + std::to_string(operands.size()));
  std::map<char, int> count;
  for (size_t i = 0; i < operands.size(); ++i) {
    const std::string& term = out.inputs[i];
    check_letters(term);
    if (static_cast<int>(term.size()) != operands[i].ndim())
      fail(fn, "subscripts " + quoted + " give operand " + std::to_string(i) + " (" +
                   operands[i].type().str() + ") " + std::to_string(term.size()) +
                   " indices, one per axis needed");
    for (char c : term)
      ++count[c];
  }
  if (output) {
    check_letters(*output);
    for (size_t i = 0; i < output->size(); ++i) {
      char c = (*output)[i];
      if (output->find(c, i + 1) != std::string::npos)
        fail(fn,
             "subscripts " + quoted + ": output index '" + std::string(1, c) + "' appears twice");
      if (!count.contains(c))
        fail(fn, "subscripts " + quoted + ": output index '" + std::string(1, c) +
                     "' is in no operand");
    }
    out.output = *output;
  } else {
    for (auto [c, n] : count)  // std::map: in character order, capitals first, as numpy
      if (n == 1) out.output += c;
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (!a.valid() || !b.valid())
    fail("matmul", "an operand is an empty (default-constructed) Tensor");
  int ra = a.ndim(), rb = b.ndim();
  if (ra == 0 || rb == 0) fail("matmul", "operands must have rank >= 1, got " + pair_str(a, b));
  int64_t ka = a.shape(-1), kb = rb == 1 ? b.shape(0) : b.shape(-2);
  if (ka != kb) fail("matmul", "contraction dims differ: " + pair_str(a, b));
  DType dtype = result_type(std::vector<Tensor>{a, b}).dtype;
  Tensor x = cast_operand(a, dtype, "matmul"), y = cast_operand(b, dtype, "matmul");
  // The dot_general result lists lhs free axes, then rhs free axes: with a vector or a
  // matrix on one side that is already numpy's order, and no operand needs copying.
  if (rb == 1) return dot_general(x, y, {}, {}, {ra - 1}, {0}, "matmul");
  if (ra == 1) return dot_general(x, y, {}, {}, {0}, {rb - 2}, "matmul");
  if (rb == 2) return dot_general(x, y, {}, {}, {ra - 1}, {0}, "matmul");
  Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(batch_a, batch_b, "matmul");
  } catch (const Error&) {
    fail("matmul", "batch dims do not broadcast: " + pair_str(a, b));
  }
  Shape shape_a = batch, shape_b = batch;
  shape_a.insert(shape_a.end(), a.shape().end() - 2, a.shape().end());
  shape_b.insert(shape_b.end(), b.shape().end() - 2, b.shape().end());
  int64_t nb = static_cast<int64_t>(batch.size());
  return dot_general(broadcast_to(x, shape_a), broadcast_to(y, shape_b), range(nb), range(nb),
                     {nb + 1}, {nb}, "matmul");
}

Tensor outer(const Tensor& a, const Tensor& b) {
  if (!a.valid() || !b.valid())
    fail("outer", "an operand is an empty (default-constructed) Tensor");
  return multiply(reshape(a, {-1, 1}), reshape(b, {1, -1}));
}

Tensor tensordot(const Tensor& a, const Tensor& b, int axes) {
  if (!a.valid() || !b.valid())
    fail("tensordot", "an operand is an empty (default-constructed) Tensor");
  if (axes < 0 || axes > a.ndim() || axes > b.ndim())
    fail("tensordot", "axes " + std::to_string(axes) +
                          " must be between 0 and the smaller rank of " + pair_str(a, b));
  std::vector<int> a_axes(axes), b_axes(axes);
  std::iota(a_axes.begin(), a_axes.end(), a.ndim() - axes);
  std::iota(b_axes.begin(), b_axes.end(), 0);
  return tensordot_impl("tensordot", a, b, a_axes, b_axes);
}

Tensor tensordot(const Tensor& a, const Tensor& b,
                 const std::pair<std::vector<int>, std::vector<int>>& axes) {
  return tensordot_impl("tensordot", a, b, axes.first, axes.second);
}

Tensor inner(const Tensor& a, const Tensor& b) {
  if (!a.valid() || !b.valid())
    fail("inner", "an operand is an empty (default-constructed) Tensor");
  if (a.ndim() == 0 || b.ndim() == 0) return multiply(a, b);
  return tensordot_impl("inner", a, b, {-1}, {-1});
}

Tensor kron(const Tensor& a, const Tensor& b) {
  if (!a.valid() || !b.valid()) fail("kron", "an operand is an empty (default-constructed) Tensor");
  const int rank = std::max(a.ndim(), b.ndim());
  Shape sa(rank - a.ndim(), 1), sb(rank - b.ndim(), 1);
  sa.insert(sa.end(), a.shape().begin(), a.shape().end());
  sb.insert(sb.end(), b.shape().begin(), b.shape().end());
  // Axis d becomes the pair (a's d, b's d): a varies along the first of each pair, b along
  // the second, and merging the pairs lays the blocks out.
  Shape pa, pb, out;
  for (int d = 0; d < rank; ++d) {
    pa.insert(pa.end(), {sa[d], 1});
    pb.insert(pb.end(), {1, sb[d]});
    out.push_back(sa[d] * sb[d]);
  }
  return reshape(multiply(reshape(a, pa), reshape(b, pb)), out);
}

Tensor einsum(std::string_view subscripts, const std::vector<Tensor>& operands) {
  constexpr std::string_view fn = "einsum";
  if (operands.empty()) fail(fn, "needs at least one operand");
  for (const Tensor& x : operands)
    if (!x.valid()) fail(fn, "an operand is an empty (default-constructed) Tensor");
  EinsumSpec spec = parse_einsum(subscripts, operands);
  std::map<char, std::pair<int64_t, size_t>> sizes;  // size, and the operand that set it
  for (size_t i = 0; i < operands.size(); ++i)
    for (size_t d = 0; d < spec.inputs[i].size(); ++d) {
      char c = spec.inputs[i][d];
      int64_t n = operands[i].shape()[d];
      auto [it, fresh] = sizes.emplace(c, std::pair{n, i});
      if (!fresh && it->second.first != n)
        fail(fn, "index '" + std::string(1, c) + "' has size " + std::to_string(it->second.first) +
                     " in operand " + std::to_string(it->second.second) + " (" +
                     operands[it->second.second].type().str() + ") and " + std::to_string(n) +
                     " in operand " + std::to_string(i) + " (" + operands[i].type().str() + ")");
    }
  DType dtype = result_type(operands).dtype;
  std::vector<Tensor> xs;
  std::vector<std::string> labels = spec.inputs;
  for (size_t i = 0; i < operands.size(); ++i) {
    Tensor x = cast_operand(operands[i], dtype, fn);
    std::string& l = labels[i];
    // A repeated letter takes the diagonal, which diagonal_impl appends as the last axis;
    // the scan starts over, since the letters moved.
    for (size_t p = 0; p < l.size();) {
      size_t q = l.find(l[p], p + 1);
      if (q == std::string::npos) {
        ++p;
        continue;
      }
      x = diagonal_impl(fn, x, 0, static_cast<int>(p), static_cast<int>(q));
      char c = l[p];
      l.erase(q, 1);
      l.erase(p, 1);
      l += c;
      p = 0;
    }
    xs.push_back(x);
  }
  // Letters no longer needed once operand i is folded in: not in the output nor any later
  // operand. Summing them as early as possible keeps the intermediate products small.
  auto needed_after = [&](size_t i, char c) {
    if (spec.output.find(c) != std::string::npos) return true;
    for (size_t j = i + 1; j < labels.size(); ++j)
      if (labels[j].find(c) != std::string::npos) return true;
    return false;
  };
  auto sum_unneeded = [&](Tensor& x, std::string& l, size_t i, const std::string& keep) {
    std::vector<int> axes;
    std::string kept;
    for (size_t d = 0; d < l.size(); ++d) {
      if (needed_after(i, l[d]) || keep.find(l[d]) != std::string::npos)
        kept += l[d];
      else
        axes.push_back(static_cast<int>(d));
    }
    // sum widens small integers and bools; numpy's einsum keeps the operands' dtype, and
    // the next contraction needs it.
    if (!axes.empty()) x = restore(sum(x, axes), dtype);
    l = kept;
  };
  Tensor acc = xs[0];
  std::string acc_l = labels[0];
  sum_unneeded(acc, acc_l, 0, "");
  for (size_t i = 1; i < xs.size(); ++i) {
    Tensor x = xs[i];
    std::string l = labels[i];
    sum_unneeded(x, l, i, acc_l);
    std::vector<int64_t> a_batch, b_batch, a_contract, b_contract;
    std::string batch_l, a_free, b_free;
    for (size_t d = 0; d < acc_l.size(); ++d) {
      char c = acc_l[d];
      size_t e = l.find(c);
      if (e == std::string::npos) {
        a_free += c;
      } else if (needed_after(i, c)) {
        a_batch.push_back(static_cast<int64_t>(d));
        b_batch.push_back(static_cast<int64_t>(e));
        batch_l += c;
      } else {
        a_contract.push_back(static_cast<int64_t>(d));
        b_contract.push_back(static_cast<int64_t>(e));
      }
    }
    for (char c : l)
      if (acc_l.find(c) == std::string::npos) b_free += c;
    acc = contract(acc, x, a_batch, b_batch, a_contract, b_contract, fn);
    acc_l = batch_l + a_free + b_free;
  }
  std::vector<int> perm;
  for (char c : spec.output)
    perm.push_back(static_cast<int>(acc_l.find(c)));
  return transpose(acc, perm);
}

Tensor diagonal(const Tensor& x, int64_t offset, int axis1, int axis2) {
  return diagonal_impl("diagonal", x, offset, axis1, axis2);
}

Tensor diag(const Tensor& x, int64_t k) {
  if (!x.valid()) fail("diag", "x is an empty (default-constructed) Tensor");
  if (x.ndim() == 2) return diagonal_impl("diag", x, k, 0, 1);
  if (x.ndim() != 1) fail("diag", "x must be 1-D or 2-D, got " + x.type().str());
  const int64_t n = x.shape()[0], side = n + std::abs(k);
  if (n == 0) return zeros({side, side}, x.dtype());
  // The flattened matrix is x with `side` zeros between consecutive elements (interior
  // padding), shifted to the diagonal's first position: one pad, no mask.
  const int64_t low = k >= 0 ? k : -k * side;
  const int64_t used = low + (n - 1) * (side + 1) + 1;
  ir::PadAttrs amounts{{low}, {side * side - used}, {side}};
  Tensor flat = detail::make(ir::OpKind::Pad, {x, Tensor::scalar(int64_t{0}, x.dtype())},
                             make_attrs(std::move(amounts)), std::nullopt, "diag", x.is_weak());
  return reshape(flat, {side, side});
}

Tensor trace(const Tensor& x, int64_t offset, int axis1, int axis2) {
  return sum(diagonal_impl("trace", x, offset, axis1, axis2), -1);
}

}  // namespace kiln
