#pragma once
// Neural-network building blocks made of primitive ops. Each is a handful of graph nodes that
// fusion later turns into one kernel per row block; none is an IR op of its own.

#include <optional>

#include "frontend/reductions.h"
#include "frontend/tensor.h"

namespace kiln {

Tensor relu(const Tensor& x);
Tensor silu(const Tensor& x);  // x * sigmoid(x)
// Exact: x/2 (1 + erf(x/sqrt 2)). Approximate: the tanh formula of Hendrycks and Gimpel.
Tensor gelu(const Tensor& x, bool approximate = false);
inline Tensor gelu_tanh(const Tensor& x) {
  return gelu(x, true);
}

// The max is subtracted first, so large inputs do not overflow; where the max is infinite
// it is not subtracted (all -inf stays -inf instead of becoming NaN).
Tensor logsumexp(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor softmax(const Tensor& x, const Axes& axes = -1);
Tensor log_softmax(const Tensor& x, const Axes& axes = -1);

// Normalizes over the last axis: (x - mean) / sqrt(var + eps), then * weight + bias.
Tensor layer_norm(const Tensor& x, double eps = 1e-5, const std::optional<Tensor>& weight = {},
                  const std::optional<Tensor>& bias = {});
// x / sqrt(mean(x^2) + eps) over the last axis, then * weight.
Tensor rms_norm(const Tensor& x, double eps = 1e-6, const std::optional<Tensor>& weight = {});

}  // namespace kiln
