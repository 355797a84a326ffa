#pragma once
// Batching as a pass, after JAX: one batching rule per op. Values that do not depend on a
// batched parameter stay unbatched (computed once); a batched dot_general becomes a batch
// dimension of one dot_general, never a loop.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ir/function.h"

namespace kiln::passes {

// The batched function, named f.name() + "_vmap", with f's parameter names. in_axes[i]: where
// parameter i's batch axis is in the new function's parameter type (a dimension of size
// batch_size inserted into f's type there), or nullopt when parameter i is not batched (its
// type is unchanged). out_axes[j]: where result j's batch axis goes (every result gets one; an
// unbatched result is broadcast); a single entry applies to every result, as JAX's int
// out_axes does. Negative axes count from the end of the batched rank, as in numpy.
// f's parameter types carry no batch size, so batch_size is required (unbatched_signature
// reads it from argument types) and must be positive. Errors are "[vmap] ..." and name the
// parameter or result and the rule: an axis out of range, the wrong number of axes, a
// missing or non-positive batch size, a call on batched values (inline calls first).
ir::Function vmap(const ir::Function& f, std::span<const std::optional<int>> in_axes,
                  std::span<const int> out_axes, std::optional<int64_t> batch_size = std::nullopt);

// What to trace the unbatched function with, given the batched function's argument types.
struct UnbatchedSignature {
  std::vector<ir::TensorType> param_types;  // arg_types with each batch axis removed
  int64_t batch_size = 0;
};

// Reads the batch size from the batched arguments (arg_types[i] batched at in_axes[i]).
// Errors "[vmap] ..." name the argument: in_axes of the wrong length, an axis out of range,
// batch sizes that disagree with each other or with batch_size, no batched argument and no
// batch_size, a non-positive batch_size.
UnbatchedSignature unbatched_signature(std::span<const ir::TensorType> arg_types,
                                       std::span<const std::optional<int>> in_axes,
                                       std::optional<int64_t> batch_size = std::nullopt);

}  // namespace kiln::passes
