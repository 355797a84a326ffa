#pragma once
// kiln::compile: a traced function compiled for the CPU, once per input signature.
//
//   auto f = kiln::compile([](Tensor x, Tensor b) { return kiln::gelu(x + b); });
//   std::vector<Tensor> y = f(x, b);   // traces and compiles for x's and b's types, then runs
//   y = f(x2, b2);                     // same dtypes and shapes: runs the compiled code again
//
// Tensors the function closes over (a model's weights) are passed to the compiled code as
// arguments at every call, by reference and never copied into it: after w.assign(new_value)
// the next call computes with the new value, without compiling again.
//
// Called inside another trace (grad, vjp, jvp, vmap, checkpoint or another compile), with
// inputs or closed-over tensors that are that trace's tracers, a compiled function is traced
// through: its ops join the enclosing graph, so grad(compile(f)), vmap(compile(f)) and
// compile(grad(compile(f))) all work, and the enclosing compile compiles the whole graph.
//
// Tensor::eval() takes the same road (an Executable per distinct evaluated graph, kept in a
// small cache). The reference interpreter stays available as the oracle: set_eval_device
// (EvalDevice::Interp) or KILN_EVAL_DEVICE=interp in the environment.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/pipeline.h"
#include "frontend/callable.h"
#include "frontend/tensor.h"
#include "frontend/trace.h"
#include "frontend/tree.h"
#include "ir/array.h"
#include "ir/function.h"

namespace kiln {

using compiler::CompileOptions;
// Where compiled code runs: Device::Cpu (this machine's cores) or Device::Vulkan (the device
// `kiln devices` marks; KILN_VULKAN_DEVICE picks another).
using compiler::Device;

// The device eval() and compile() (without CompileOptions::device) run on: KILN_DEVICE=cpu or
// vulkan from the environment (read once; another value is a kiln::Error "[frontend]
// KILN_DEVICE=...") until set_default_device says otherwise. Default: the CPU. Compiled
// functions keep the device they compiled for.
void set_default_device(Device device);
Device default_device();

enum class EvalDevice { Cpu, Interp };

// Whether eval() compiles (for default_device()) or runs the reference interpreter: compiled
// unless KILN_EVAL_DEVICE=interp (read once) or set_eval_device says otherwise.
void set_eval_device(EvalDevice device);
EvalDevice eval_device();

// How many graphs eval() has compiled in this process (a graph evaluated again, with any data
// and any C++ numbers in it, runs the code compiled for it before).
size_t num_eval_compilations();

// Drops the executables eval() keeps and the compiled kernels held in memory, as
// jax.clear_caches() does: the next eval() of any graph compiles again (from the disk cache
// where it has the kernels; `kiln cache clear` empties that). Functions made by compile() keep
// the code they compiled.
void clear_caches();

namespace detail {
// eval()'s back end: runs `function` on the eval device.
std::vector<ir::HostArray> run_for_eval(const ir::Function& function,
                                        std::span<const ir::HostArray> args);
}  // namespace detail

class Compiled {
 public:
  using takes_tensor_vector = void;  // for frontend/callable.h
  Compiled(TracedFn fn, size_t arity, CompileOptions options);

  // Traces and compiles on the first call with these inputs' dtypes and shapes; evaluates the
  // inputs, runs the compiled code and returns the results as evaluated Tensors (inside
  // another trace: the function's results on the tracers, see above). Throws
  // kiln::Error "[frontend] compile: ..." when the number of inputs is wrong.
  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs) const;
  template <class... T>
  requires(sizeof...(T) > 0 && (std::is_convertible_v<const T&, Tensor> && ...)) std::vector<Tensor>
  operator()(const T&... inputs) const { return (*this)(std::vector<Tensor>{Tensor(inputs)...}); }

  // How many signatures have been traced and compiled so far.
  size_t num_compilations() const;

 private:
  // What a call with one signature (the inputs' dtypes and shapes) runs: the Executable and
  // the tensors the function closed over, which follow the inputs as its last parameters.
  struct Entry {
    std::vector<ir::TensorType> types;
    runtime::Executable executable;
    std::vector<Tensor> captured;
  };
  // The entry for these inputs' types, traced and compiled if new. Entries are never removed,
  // so the reference stays valid; a hit allocates nothing.
  const Entry& entry_for(const std::vector<Tensor>& inputs) const;
  const Entry* find_entry(size_t hash, const std::vector<Tensor>& inputs) const;  // locked

  struct State {
    TracedFn fn;
    size_t arity = 0;  // 0: any number (a vector, or a variadic generic lambda)
    CompileOptions options;
    std::mutex mutex;
    std::vector<std::unique_ptr<Entry>> entries;
    std::unordered_multimap<size_t, const Entry*> by_signature_hash;
  };
  std::shared_ptr<State> state_;
};

namespace detail {
// A Compiled per structure of the arguments (vector lengths, map keys) a CompiledTree is called
// with: the structure is part of the cache key, so two maps with other keys but leaves of the
// same types never share an executable.
class CompiledByStructure {
 public:
  using Make = std::function<Compiled(const TreeDef& arguments)>;
  explicit CompiledByStructure(Make make);
  Compiled for_structure(const TreeDef& arguments) const;
  size_t num_compilations() const;

 private:
  struct State {
    Make make;
    std::mutex mutex;
    std::unordered_map<TreeDef, Compiled, TreeDefHash> by_structure;
  };
  std::shared_ptr<State> state_;
};
}  // namespace detail

// compile() of a function taking tensor trees (frontend/callable.h): called with the same
// parameters, it compiles once per structure of the arguments and per signature of their
// leaves, and returns the results flattened.
template <class... P>
class CompiledTree {
 public:
  explicit CompiledTree(detail::CompiledByStructure compiled) : compiled_(std::move(compiled)) {}

  std::vector<Tensor> operator()(const P&... args) const {
    std::vector<Tensor> leaves;
    const TreeDef arguments = detail::flatten_arguments(leaves, args...);
    return compiled_.for_structure(arguments)(leaves);
  }

  // How many structures and signatures have been traced and compiled so far.
  size_t num_compilations() const { return compiled_.num_compilations(); }

 private:
  detail::CompiledByStructure compiled_;
};

namespace detail {
template <class F, class... P>
CompiledTree<P...> compile_trees(F fn, CompileOptions options,
                                 std::type_identity<std::tuple<P...>>) {
  auto shared = std::make_shared<F>(std::move(fn));
  return CompiledTree<P...>(CompiledByStructure([shared, options](const TreeDef& arguments) {
    return Compiled(as_traced_tree_fn(shared, arguments), arguments.num_leaves(), options);
  }));
}
}  // namespace detail

// fn as in trace(): takes `const std::vector<Tensor>&` or one Tensor per input (a generic lambda
// too), returns a Tensor or a tuple, pair, array, vector or map of Tensors; the call returns
// the results flattened into a std::vector<Tensor>. A function taking tensor trees gives a
// CompiledTree, called with the same trees.
template <class F>
auto compile(F fn, CompileOptions options = {}) {
  if constexpr (detail::TakesTrees<F>) {
    return detail::compile_trees(std::move(fn), options,
                                 std::type_identity<detail::tree_parameters<F>>{});
  } else {
    constexpr size_t arity = detail::fixed_arity<F>().value_or(0);
    return Compiled(detail::as_traced_fn(std::move(fn)), arity, options);
  }
}

}  // namespace kiln
