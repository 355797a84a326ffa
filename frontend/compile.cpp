#include "frontend/compile.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "compiler/kernel_cache.h"
#include "compiler/vulkan_backend.h"
#include "frontend/graph_lowering.h"
#include "ir/error.h"
#include "ir/hash.h"
#include "ir/interpreter.h"
#include "ir/scratch.h"
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

Device default_device_from_env() {
  const char* env = std::getenv("KILN_DEVICE");
  if (!env || std::string_view(env) == "cpu" || std::string_view(env).empty()) return Device::Cpu;
  if (std::string_view(env) == "vulkan") return Device::Vulkan;
  throw Error("[frontend] KILN_DEVICE=" + std::string(env) + ": expected cpu or vulkan");
}

std::atomic<Device>& default_device_setting() {
  static std::atomic<Device> device{default_device_from_env()};
  return device;
}

// Executables for evaluated graphs, most recently used first. The structural hash finds
// candidates; comparing the functions confirms a match, so a hash collision never runs the
// wrong code.
class EvalCache {
 public:
  runtime::Executable get(const ir::Function& function, Device device) {
    const size_t hash = function.structural_hash();
    {
      std::lock_guard lock(mutex_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->hash == hash && it->device == device && it->function == function) {
          entries_.splice(entries_.begin(), entries_, it);
          return it->executable;
        }
    }
    runtime::Executable executable = compiler::compile(function, {.device = device});
    compilations_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    entries_.push_front({hash, device, function, executable});
    if (entries_.size() > kCapacity) entries_.pop_back();
    return executable;
  }

  size_t compilations() const { return compilations_.load(std::memory_order_relaxed); }
  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }

 private:
  static constexpr size_t kCapacity = 128;
  struct Entry {
    size_t hash;
    Device device;
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

}  // namespace

void set_default_device(Device device) {
  default_device_setting().store(device);
}

Device default_device() {
  return default_device_setting().load();
}

void set_eval_device(EvalDevice device) {
  device_setting().store(device);
}

EvalDevice eval_device() {
  return device_setting().load();
}

size_t num_eval_compilations() {
  return eval_cache().compilations();
}

void clear_caches() {
  eval_cache().clear();
  compiler::KernelCache::instance().clear_memory();
  compiler::clear_vulkan_kernel_caches_in_memory();
}

namespace detail {

std::vector<ir::HostArray> run_for_eval(const ir::Function& function,
                                        std::span<const ir::HostArray> args) {
  if (eval_device() == EvalDevice::Interp) return ir::interpret(function, args);
  return eval_cache().get(function, default_device()).run(args);
}

}  // namespace detail

Compiled::Compiled(TracedFn fn, size_t arity, CompileOptions options)
    : state_(std::make_shared<State>()) {
  state_->fn = std::move(fn);
  state_->arity = arity;
  state_->options = options;
}

namespace {

size_t signature_hash(const std::vector<Tensor>& inputs) {
  size_t h = inputs.size();
  auto mix = [&h](size_t v) { h = ir::hash_combine(h, v); };
  for (const Tensor& t : inputs) {
    const ir::TensorType& type = t.type();
    mix(static_cast<size_t>(type.dtype));
    for (int64_t d : type.shape)
      mix(static_cast<size_t>(d));
    mix(type.shape.size());
  }
  return h;
}

bool same_types(const std::vector<ir::TensorType>& types, const std::vector<Tensor>& inputs) {
  if (types.size() != inputs.size()) return false;
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i] != inputs[i].type()) return false;
  return true;
}

}  // namespace

const Compiled::Entry* Compiled::find_entry(size_t hash, const std::vector<Tensor>& inputs) const {
  auto [first, last] = state_->by_signature_hash.equal_range(hash);
  for (auto it = first; it != last; ++it)
    if (same_types(it->second->types, inputs)) return it->second;
  return nullptr;
}

const Compiled::Entry& Compiled::entry_for(const std::vector<Tensor>& inputs) const {
  const size_t hash = signature_hash(inputs);
  {
    std::lock_guard lock(state_->mutex);
    if (const Entry* entry = find_entry(hash, inputs)) return *entry;
  }
  // Traced and compiled without the lock, so calls with signatures compiled before never wait
  // for a new one; when two threads compile the same signature, the first stored wins.
  std::vector<ir::TensorType> types;
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  detail::TraceResult traced =
      detail::trace_lowered(state_->fn, types, {}, "compiled", GraphLowering::Leaves::Captured,
                            "compile", /*capture_lazy=*/true);
  const ir::Module& module = traced.module;
  ir::Function function =
      passes::inline_calls(module, module.functions.front(), {.checkpoint_barriers = true});
  CompileOptions options = state_->options;
  if (!options.device) options.device = default_device();
  runtime::Executable executable = compiler::compile(function, options);
  std::lock_guard lock(state_->mutex);
  if (const Entry* entry = find_entry(hash, inputs)) return *entry;
  const Entry& stored = *state_->entries.emplace_back(std::make_unique<Entry>(
      Entry{std::move(types), std::move(executable), std::move(traced.captured)}));
  state_->by_signature_hash.emplace(hash, &stored);
  return stored;
}

std::vector<Tensor> Compiled::operator()(const std::vector<Tensor>& inputs) const {
  if (state_->arity != 0 && inputs.size() != state_->arity)
    detail::fail("compile", "the function takes " + std::to_string(state_->arity) +
                                " tensors but was called with " + std::to_string(inputs.size()));
  for (const Tensor& t : inputs)
    if (!t.valid()) detail::fail("compile", "called with an empty Tensor");
  // Inside another trace the call is traced through: the function's ops join the enclosing
  // graph, so every transform sees them (grad(compile(f)), vmap(compile(f)),
  // compile(compile(f))) and the enclosing compile compiles them with the rest, as jax.jit
  // inlines a jitted function into an enclosing jit.
  for (const Tensor& t : inputs)
    if (detail::depends_on_trace_input(t)) return state_->fn(inputs);
  const Entry& entry = entry_for(inputs);
  for (const Tensor& t : entry.captured)
    if (detail::depends_on_trace_input(t)) return state_->fn(inputs);
  // The common call (evaluated inputs, nothing captured) allocates only for its results.
  std::vector<Tensor> with_captured;
  if (!entry.captured.empty()) {
    with_captured = inputs;
    with_captured.insert(with_captured.end(), entry.captured.begin(), entry.captured.end());
  }
  const std::vector<Tensor>& arguments = entry.captured.empty() ? inputs : with_captured;
  if (!std::all_of(arguments.begin(), arguments.end(),
                   [](const Tensor& t) { return t.has_data(); }))
    eval(arguments);
  ir::Scratch<const ir::HostArray*, 16> args(arguments.size());
  for (size_t i = 0; i < arguments.size(); ++i)
    args[i] = &arguments[i].data();
  std::vector<ir::HostArray> results =
      entry.executable.run(std::span<const ir::HostArray* const>(args.span()));
  std::vector<Tensor> out;
  out.reserve(results.size());
  for (ir::HostArray& result : results)
    out.emplace_back(std::move(result));
  return out;
}

size_t Compiled::num_compilations() const {
  std::lock_guard lock(state_->mutex);
  return state_->entries.size();
}

namespace detail {

CompiledByStructure::CompiledByStructure(Make make) : state_(std::make_shared<State>()) {
  state_->make = std::move(make);
}

Compiled CompiledByStructure::for_structure(const TreeDef& arguments) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->by_structure.find(arguments);
  if (it == state_->by_structure.end())
    it = state_->by_structure.emplace(arguments, state_->make(arguments)).first;
  return it->second;
}

size_t CompiledByStructure::num_compilations() const {
  std::lock_guard lock(state_->mutex);
  size_t total = 0;
  for (const auto& [structure, compiled] : state_->by_structure)
    total += compiled.num_compilations();
  return total;
}

}  // namespace detail

}  // namespace kiln
