#pragma once
// Inlining: a function with its `call` nodes replaced by the callees' bodies, recursively, so
// that the interpreter's fast path, fusion and the transforms see one flat graph. Hash-consing
// merges what the inlined bodies share with the caller (and two calls of one function on the
// same arguments become one body).

#include "ir/function.h"

namespace kiln::passes {

struct InlineOptions {
  // Keep calls that carry a custom `vjp` or `checkpoint` (their callees inlined inside): the
  // autodiff passes give them their own rules. Everything else inlines them.
  bool keep_marked_calls = false;
  // For execution only, once no transform will run: the arguments of a `checkpoint=1` call
  // pass through stop_gradient (the identity here) before its body is inlined, so that
  // hash-consing cannot merge the recomputation in the backward pass with the forward pass
  // and the compiled code really recomputes instead of keeping activations. Each checkpointed
  // callee gets its own barrier (a chain of stop_gradients as long as its rank among the
  // checkpointed callees met), as @f(x) and its recomputation in @f_vjp(x, c) share arguments.
  bool checkpoint_barriers = false;
};

// `module` must pass verify(Module) (callees exist, types match, no recursion).
ir::Function inline_calls(const ir::Module& module, const ir::Function& f,
                          const InlineOptions& options = {});

// True when f has any call node.
bool has_calls(const ir::Function& f);

}  // namespace kiln::passes
