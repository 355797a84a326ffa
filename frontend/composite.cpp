#include "frontend/composite.h"

#include <cmath>
#include <numbers>

#include "frontend/ops.h"

namespace kiln {

namespace {

Tensor as_float(const Tensor& x) {
  if (!x.valid()) detail::fail("composite", "the operand is an empty (default-constructed) Tensor");
  return ir::is_float(x.dtype()) ? x : astype(x, DType::F32);
}

// The max over `axes` (kept as size-1 axes), replaced by 0 where it is not finite.
Tensor stable_shift(const Tensor& x, const Axes& axes) {
  Tensor m = max(x, axes, true);
  return where(isfinite(m), m, 0);
}

}  // namespace

Tensor relu(const Tensor& x) {
  return maximum(x, 0);
}

Tensor silu(const Tensor& x) {
  return x * sigmoid(x);
}

Tensor gelu(const Tensor& x, bool approximate) {
  Tensor xf = as_float(x);
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
  Tensor xf = as_float(x);
  Tensor shift = stable_shift(xf, axes);
  Tensor total = sum(exp(xf - shift), axes, keepdims);
  return log(total) + (keepdims ? shift : shift.reshape(total.shape()));
}

Tensor softmax(const Tensor& x, const Axes& axes) {
  Tensor xf = as_float(x);
  Tensor e = exp(xf - stable_shift(xf, axes));
  return e / sum(e, axes, true);
}

Tensor log_softmax(const Tensor& x, const Axes& axes) {
  Tensor xf = as_float(x);
  Tensor shifted = xf - stable_shift(xf, axes);
  return shifted - log(sum(exp(shifted), axes, true));
}

Tensor layer_norm(const Tensor& x, double eps, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias) {
  Tensor xf = as_float(x);
  Tensor centered = xf - mean(xf, -1, true);
  Tensor out = centered * rsqrt(mean(centered * centered, -1, true) + eps);
  if (weight) out = out * *weight;
  if (bias) out = out + *bias;
  return out;
}

Tensor rms_norm(const Tensor& x, double eps, const std::optional<Tensor>& weight) {
  Tensor xf = as_float(x);
  Tensor out = xf * rsqrt(mean(xf * xf, -1, true) + eps);
  return weight ? out * *weight : out;
}

}  // namespace kiln
