#include "frontend/compile.h"

#include <atomic>
#include <cstdlib>
#include <list>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "frontend/graph_lowering.h"
#include "ir/interpreter.h"
#include "passes/inline.h"

namespace kiln {

namespace {

EvalDevice device_from_env() {
  const char* env = std::getenv("KILN_EVAL_DEVICE");
  return env && std::string(env) == "interp" ? EvalDevice::Interp : EvalDevice::Cpu;
}

std::atomic<EvalDevice>& device_setting() {
  static std::atomic<EvalDevice> device{device_from_env()};
  return device;
}

// Executables for evaluated graphs, most recently used first. The structural hash finds
// candidates; comparing the functions confirms a match, so a hash collision never runs the
// wrong code.
class EvalCache {
 public:
  runtime::Executable get(const ir::Function& function) {
    const size_t hash = function.structural_hash();
    {
      std::lock_guard lock(mutex_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->hash == hash && it->function == function) {
          entries_.splice(entries_.begin(), entries_, it);
          return it->executable;
        }
    }
    runtime::Executable executable = compiler::compile(function);
    compilations_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    entries_.push_front({hash, function, executable});
    if (entries_.size() > kCapacity) entries_.pop_back();
    return executable;
  }

  size_t compilations() const { return compilations_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kCapacity = 128;
  struct Entry {
    size_t hash;
    ir::Function function;
    runtime::Executable executable;
  };
  std::mutex mutex_;
  std::list<Entry> entries_;
  std::atomic<size_t> compilations_{0};
};

EvalCache& eval_cache() {
  static EvalCache cache;
  return cache;
}

// Whether `t`'s value depends on an input of a trace in progress (an enclosing grad, vmap, jvp,
// checkpoint or compile): such a tensor has no value to run compiled code on. Evaluated
// tensors stop the walk at once, so the common case costs one look per input.
bool depends_on_trace_input(const Tensor& t) {
  std::vector<const detail::Node*> stack{t.node().get()};
  std::unordered_set<const detail::Node*> seen;
  while (!stack.empty()) {
    const detail::Node* node = stack.back();
    stack.pop_back();
    if (node->data || !seen.insert(node).second) continue;
    if (node->op == ir::OpKind::Parameter) return true;
    for (const auto& input : node->inputs)
      stack.push_back(input.get());
  }
  return false;
}

}  // namespace

void set_eval_device(EvalDevice device) {
  device_setting().store(device);
}

EvalDevice eval_device() {
  return device_setting().load();
}

size_t num_eval_compilations() {
  return eval_cache().compilations();
}

namespace detail {

std::vector<ir::HostArray> run_for_eval(const ir::Function& function,
                                        std::span<const ir::HostArray> args) {
  if (eval_device() == EvalDevice::Interp) return ir::interpret(function, args);
  return eval_cache().get(function).run(args);
}

}  // namespace detail

Compiled::Compiled(TracedFn fn, size_t arity, CompileOptions options)
    : state_(std::make_shared<State>()) {
  state_->fn = std::move(fn);
  state_->arity = arity;
  state_->options = options;
}

Compiled::Entry Compiled::entry_for(const std::vector<ir::TensorType>& types) const {
  std::vector<std::pair<int, ir::Shape>> signature;
  for (const ir::TensorType& t : types)
    signature.emplace_back(static_cast<int>(t.dtype), t.shape);
  std::lock_guard lock(state_->mutex);
  auto it = state_->by_signature.find(signature);
  if (it != state_->by_signature.end()) return it->second;
  detail::TraceResult traced = detail::trace_lowered(state_->fn, types, {}, "compiled",
                                                     GraphLowering::Leaves::Captured, "compile");
  const ir::Module& module = traced.module;
  ir::Function function =
      passes::inline_calls(module, module.functions.front(), {.checkpoint_barriers = true});
  Entry entry{compiler::compile(function, state_->options), std::move(traced.captured)};
  state_->by_signature.emplace(std::move(signature), entry);
  return entry;
}

std::vector<Tensor> Compiled::operator()(const std::vector<Tensor>& inputs) const {
  if (state_->arity != 0 && inputs.size() != state_->arity)
    detail::fail("compile", "the function takes " + std::to_string(state_->arity) +
                                " tensors but was called with " + std::to_string(inputs.size()));
  std::vector<ir::TensorType> types;
  for (const Tensor& t : inputs) {
    if (!t.valid()) detail::fail("compile", "called with an empty Tensor");
    types.push_back(t.type());
  }
  // Inside another trace the call is traced through: the function's ops join the enclosing
  // graph, so every transform sees them (grad(compile(f)), vmap(compile(f)),
  // compile(compile(f))) and the enclosing compile compiles them with the rest, as jax.jit
  // inlines a jitted function into an enclosing jit.
  for (const Tensor& t : inputs)
    if (depends_on_trace_input(t)) return state_->fn(inputs);
  const Entry entry = entry_for(types);
  for (const Tensor& t : entry.captured)
    if (depends_on_trace_input(t)) return state_->fn(inputs);
  std::vector<Tensor> arguments = inputs;
  arguments.insert(arguments.end(), entry.captured.begin(), entry.captured.end());
  eval(arguments);
  std::vector<const ir::HostArray*> args;
  for (const Tensor& t : arguments)
    args.push_back(&t.data());
  std::vector<Tensor> out;
  for (ir::HostArray& result : entry.executable.run(args))
    out.emplace_back(std::move(result));
  return out;
}

size_t Compiled::num_compilations() const {
  std::lock_guard lock(state_->mutex);
  return state_->by_signature.size();
}

}  // namespace kiln
