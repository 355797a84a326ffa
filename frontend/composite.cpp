#include "frontend/composite.h"

#include <cmath>
#include <numbers>

#include "frontend/ops.h"
#include "frontend/transforms.h"

namespace kiln {

namespace {

using detail::fail;

// Each composite checks its arguments on entry, so that an error names the function the user
// called and the argument at fault ("softmax: axis 2 is out of range for f32[2,3]"), never
// an op the composite happens to be made of ("max: axis 2 ...").
const Tensor& operand(std::string_view fn, const Tensor& x, std::string_view name = "x") {
  if (!x.valid()) fail(fn, std::string(name) + " is an empty (default-constructed) Tensor");
  return x;
}

Tensor as_float(const Tensor& x) {
  return ir::is_float(x.dtype()) ? x : astype(x, DType::F32);
}

// The axes a max-shifted reduction folds: in range, each once, and non-empty (the max of
// nothing has no value to shift by).
void check_shift_axes(std::string_view fn, const Tensor& x, const Axes& axes) {
  for (int64_t a : detail::reduced_axes(fn, x, axes))
    if (x.shape()[a] == 0)
      fail(fn, "axis " + std::to_string(a) + " of " + x.type().str() + " is empty");
}

// The normalizing composites work over the last axis, so x needs one.
void check_has_last_axis(std::string_view fn, const Tensor& x) {
  if (x.ndim() == 0) fail(fn, "x must have at least one axis, got " + x.type().str());
}

// An elementwise weight or bias must broadcast to x's shape without changing it.
void check_affine(std::string_view fn, const Tensor& x, const std::optional<Tensor>& p,
                  std::string_view name) {
  if (!p) return;
  operand(fn, *p, name);
  const Shape &ps = p->shape(), &xs = x.shape();
  bool fits = ps.size() <= xs.size();
  for (size_t i = 0; fits && i < ps.size(); ++i) {
    const int64_t want = xs[xs.size() - ps.size() + i];
    fits = ps[i] == 1 || ps[i] == want;
  }
  if (!fits)
    fail(fn, std::string(name) + " " + p->type().str() + " does not match x " + x.type().str() +
                 " (it must broadcast to x's shape, e.g. [" + std::to_string(xs.back()) + "])");
}

// The max over `axes` (kept as size-1 axes), replaced by 0 where it is not finite. It only
// keeps exp in range, the result does not depend on it: as JAX does, no gradient flows
// through it, so backward passes carry no tie-counting of the max.
Tensor stable_shift(const Tensor& x, const Axes& axes) {
  Tensor m = max(x, axes, true);
  return stop_gradient(where(isfinite(m), m, 0));
}

}  // namespace

Tensor relu(const Tensor& x) {
  operand("relu", x);
  // 0 first: at the tie x == 0, max passes its first operand's tangent (passes/autodiff.h),
  // so relu'(0) = 0 as in JAX and PyTorch; max still propagates NaN, as select(x > 0) would not.
  return maximum(0, x);
}

Tensor silu(const Tensor& x) {
  operand("silu", x);
  return x * sigmoid(x);
}

Tensor gelu(const Tensor& x, bool approximate) {
  Tensor xf = as_float(operand("gelu", x));
  if (!approximate) return 0.5 * xf * (1 + erf(xf * (1 / std::numbers::sqrt2)));
  // 0.5 * (1 + tanh(u)) is logistic(2u) exactly: one exp and one division, with no
  // cancellation near u = 0 and no blend of a small-argument and a large-argument tanh.
  // Below 2u = -80 the factor is under 2e-35, where the tanh form (in f32) is exactly 0;
  // clamping there keeps it a normal float, since subnormal activations send whatever reads
  // them (the next layer's matmul) down the CPU's slow subnormal path.
  const double two_k = 2 * std::sqrt(2 / std::numbers::pi);
  return xf * sigmoid(maximum(two_k * (xf + 0.044715 * xf * xf * xf), -80.0));
}

Tensor logsumexp(const Tensor& x, const Axes& axes, bool keepdims) {
  check_shift_axes("logsumexp", operand("logsumexp", x), axes);
  Tensor xf = as_float(x);
  Tensor shift = stable_shift(xf, axes);
  Tensor total = sum(exp(xf - shift), axes, keepdims);
  return log(total) + (keepdims ? shift : shift.reshape(total.shape()));
}

Tensor softmax(const Tensor& x, const Axes& axes) {
  check_shift_axes("softmax", operand("softmax", x), axes);
  Tensor xf = as_float(x);
  Tensor e = exp(xf - stable_shift(xf, axes));
  return e / sum(e, axes, true);
}

Tensor log_softmax(const Tensor& x, const Axes& axes) {
  check_shift_axes("log_softmax", operand("log_softmax", x), axes);
  Tensor xf = as_float(x);
  Tensor shifted = xf - stable_shift(xf, axes);
  return shifted - log(sum(exp(shifted), axes, true));
}

Tensor layer_norm(const Tensor& x, double eps, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias) {
  check_has_last_axis("layer_norm", operand("layer_norm", x));
  check_affine("layer_norm", x, weight, "weight");
  check_affine("layer_norm", x, bias, "bias");
  Tensor xf = as_float(x);
  Tensor centered = xf - mean(xf, -1, true);
  Tensor out = centered * rsqrt(mean(centered * centered, -1, true) + eps);
  if (weight) out = out * *weight;
  if (bias) out = out + *bias;
  return out;
}

Tensor rms_norm(const Tensor& x, double eps, const std::optional<Tensor>& weight) {
  check_has_last_axis("rms_norm", operand("rms_norm", x));
  check_affine("rms_norm", x, weight, "weight");
  Tensor xf = as_float(x);
  Tensor out = xf * rsqrt(mean(xf * xf, -1, true) + eps);
  return weight ? out * *weight : out;
}

}  // namespace kiln
