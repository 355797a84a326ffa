#include "runtime/executable.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <map>
#include <string>

#include "codegen/lower.h"
#include "ir/error.h"
#include "ir/interpreter.h"
#include "passes/fusion.h"
#include "passes/simplify.h"
#include "passes/split_reductions.h"
#include "runtime/buffer_plan.h"
#include "runtime/buffer_pool.h"
#include "runtime/cache_file.h"
#include "runtime/kernel_cache.h"
#include "runtime/thread_pool.h"

namespace kiln::runtime {

namespace {

// About this many scalar operations per chunk of a parallel loop: below it, handing work to
// another thread costs more than it saves.
constexpr int64_t kMinWorkPerChunk = int64_t{1} << 15;

struct Step {
  KernelEntry entry = nullptr;
  std::vector<Slot> slots;
  int64_t outer_count = 0;
  int64_t grain = 1;
};

int64_t work_per_outer_index(const codegen::Kernel& kernel) {
  int64_t work = 0;
  for (const codegen::Phase& phase : kernel.phases) {
    int64_t p = 1;
    for (int64_t e : phase.extents)
      p *= e;
    work += p;
  }
  if (kernel.matmul) work += 2 * kernel.matmul->n * kernel.matmul->k;
  return std::max<int64_t>(1, work);
}

// The value `v` of `function`, which depends on no parameter, evaluated on the interpreter.
ir::HostArray evaluate_constant(const ir::Function& function, ir::Value v) {
  std::vector<bool> needed(function.num_nodes(), false);
  needed[v.id] = true;
  for (size_t i = function.num_nodes(); i-- > 0;)
    if (needed[i])
      for (ir::Value operand : function.nodes()[i].operands)
        needed[operand.id] = true;
  ir::Function closure(function.name());
  std::vector<ir::Value> mapped(function.num_nodes());
  for (size_t i = 0; i < function.num_nodes(); ++i) {
    if (!needed[i]) continue;
    const ir::Node& node = function.nodes()[i];
    assert(node.op != ir::OpKind::Parameter && "a kernel input that is neither param nor output");
    std::vector<ir::Value> operands;
    for (ir::Value operand : node.operands)
      operands.push_back(mapped[operand.id]);
    mapped[i] = closure.add(node.op, std::move(operands), node.attrs, node.type);
  }
  closure.set_results({mapped[v.id]});
  return std::move(ir::interpret(closure, {}).front());
}

// Distinct kernels compile concurrently; equal kernels once.
std::vector<KernelEntry> compile_kernels(const std::vector<codegen::Kernel>& kernels) {
  std::map<std::string, size_t> first_of;
  std::vector<size_t> representative(kernels.size());
  std::vector<size_t> distinct;
  for (size_t k = 0; k < kernels.size(); ++k) {
    auto [it, fresh] = first_of.emplace(encode_kernel(kernels[k]), k);
    representative[k] = it->second;
    if (fresh) distinct.push_back(k);
  }
  std::vector<KernelEntry> entries(kernels.size(), nullptr);
  parallel_for(static_cast<int64_t>(distinct.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      entries[distinct[i]] = KernelCache::instance().get(kernels[distinct[i]]);
  });
  for (size_t k = 0; k < kernels.size(); ++k)
    entries[k] = entries[representative[k]];
  return entries;
}

}  // namespace

struct Executable::State {
  ir::Function function;
  std::vector<Step> steps;
  std::vector<Slot> result_slots;
  std::vector<Buffer> constants;  // 64-byte aligned copies of the materialized constants
  std::vector<ir::TensorType> result_types;
  size_t arena_bytes = 0;
  size_t peak_bytes = 0;
  double compile_ms = 0;

  void check_arguments(std::span<const ir::HostArray* const> args) const;
  void check_fits_in_memory() const;
  void execute(std::span<const void* const> params, std::span<void* const> results) const;
};

Executable Executable::compile(const ir::Function& function, CompileOptions options) {
  auto start = std::chrono::steady_clock::now();
  auto state = std::make_shared<State>();
  state->function = passes::split_reductions(passes::simplify(function));
  const ir::Function& f = state->function;
  passes::FusionPlan plan = passes::plan_fusion(f, passes::FusionOptions{options.fuse});
  codegen::LoweredFunction lowered = codegen::lower(f, plan);
  BufferLayout layout = layout_buffers(f, lowered);
  std::vector<KernelEntry> entries = compile_kernels(lowered.kernels);

  for (size_t k = 0; k < lowered.kernels.size(); ++k) {
    const codegen::Kernel& kernel = lowered.kernels[k];
    Step step{entries[k], std::move(layout.kernel_slots[k]), kernel.outer_count(), 1};
    step.grain = std::max<int64_t>(1, kMinWorkPerChunk / work_per_outer_index(kernel));
    // A matrix kernel's rows go one block per thread: every BLAS call packs the whole right
    // operand again, so more, smaller calls cost more than uneven blocks ever would.
    if (kernel.matmul) {
      const int64_t threads = ThreadPool::instance().num_threads();
      step.grain = std::max(step.grain, (step.outer_count + threads - 1) / threads);
    }
    state->steps.push_back(std::move(step));
  }
  for (ir::Value v : layout.constants) {
    ir::HostArray value = evaluate_constant(f, v);
    Buffer& b =
        state->constants.emplace_back(BufferPool::instance().allocate(value.bytes().size()));
    if (!value.bytes().empty()) std::memcpy(b.data(), value.data(), value.bytes().size());
  }
  state->result_slots = std::move(layout.result_slots);
  state->result_types = f.result_types();
  state->arena_bytes = layout.plan.arena_bytes;
  state->peak_bytes = layout.plan.peak_bytes;
  state->compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return Executable(std::move(state));
}

void Executable::State::check_arguments(std::span<const ir::HostArray* const> args) const {
  const std::string where = "[runtime] @" + function.name() + ": ";
  const auto& params = function.params();
  if (args.size() != params.size())
    throw Error(where + "expected " + std::to_string(params.size()) + " argument" +
                (params.size() == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    const ir::Node& param = function.node(params[i]);
    if (args[i]->type() != param.type)
      throw Error(where + "argument " + std::to_string(i) + " (%" + param.param_name +
                  ") has type " + args[i]->type().str() + " but the parameter is " +
                  param.type.str());
  }
}

// Refuses to run what cannot fit before allocating: with overcommit an allocation larger than
// memory may succeed and get the process killed while it fills (the interpreter does the same).
void Executable::State::check_fits_in_memory() const {
  static const uint64_t physical_bytes =
      static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  size_t results = 0;
  for (const ir::TensorType& t : result_types)
    results += t.size_bytes();
  if (arena_bytes + results > physical_bytes)
    throw Error("[runtime] @" + function.name() + ": needs " +
                std::to_string(arena_bytes + results) +
                " bytes, more than this machine can allocate");
}

void Executable::State::execute(std::span<const void* const> params,
                                std::span<void* const> results) const {
  Buffer arena = BufferPool::instance().allocate(arena_bytes);
  auto resolve = [&](const Slot& slot) -> void* {
    switch (slot.kind) {
      case Slot::Kind::Param:
        return const_cast<void*>(params[slot.index]);  // kernels only read their inputs
      case Slot::Kind::Result:
        return results[slot.index];
      case Slot::Kind::Arena:
        return arena.bytes() + slot.index;
      case Slot::Kind::Constant:
        return constants[slot.index].data();
    }
    return nullptr;
  };
  std::vector<void*> pointers;
  for (const Step& step : steps) {
    if (step.outer_count == 0) continue;
    pointers.clear();
    for (const Slot& slot : step.slots)
      pointers.push_back(resolve(slot));
    KernelEntry entry = step.entry;
    void* const* args = pointers.data();
    parallel_for(step.outer_count, step.grain,
                 [entry, args](int64_t begin, int64_t end) { entry(args, begin, end); });
  }
}

std::vector<ir::HostArray> Executable::run(std::span<const ir::HostArray> args) const {
  std::vector<const ir::HostArray*> pointers;
  for (const ir::HostArray& a : args)
    pointers.push_back(&a);
  return run(std::span<const ir::HostArray* const>(pointers));
}

std::vector<ir::HostArray> Executable::run(std::span<const ir::HostArray* const> args) const {
  const State& s = *state_;
  s.check_arguments(args);
  s.check_fits_in_memory();
  BufferPool& pool = BufferPool::instance();
  std::vector<Buffer> owned;  // aligned copies of misaligned arguments, and result buffers
  std::vector<const void*> params;
  for (const ir::HostArray* arg : args) {
    const ir::HostArray& a = *arg;
    if (reinterpret_cast<uintptr_t>(a.data()) % kBufferAlignment == 0 && a.data() != nullptr) {
      params.push_back(a.data());
      continue;
    }
    Buffer& copy = owned.emplace_back(pool.allocate(a.bytes().size()));
    if (!a.bytes().empty()) std::memcpy(copy.data(), a.data(), a.bytes().size());
    params.push_back(copy.data());
  }
  std::vector<void*> results(s.result_types.size(), nullptr);
  for (size_t r = 0; r < results.size(); ++r) {
    const Slot& slot = s.result_slots[r];
    if (slot.kind == Slot::Kind::Result && slot.index == r)
      results[r] = owned.emplace_back(pool.allocate(s.result_types[r].size_bytes())).data();
  }
  try {
    s.execute(params, results);
  } catch (const std::bad_alloc&) {
    throw Error("[runtime] @" + s.function.name() + ": needs more memory than this machine has");
  }
  std::vector<ir::HostArray> out;
  out.reserve(results.size());
  for (size_t r = 0; r < results.size(); ++r) {
    const Slot& slot = s.result_slots[r];
    const void* source = slot.kind == Slot::Kind::Param      ? params[slot.index]
                         : slot.kind == Slot::Kind::Constant ? s.constants[slot.index].data()
                                                             : results[slot.index];
    ir::HostArray& array = out.emplace_back(s.result_types[r]);
    if (!array.bytes().empty()) std::memcpy(array.data(), source, array.bytes().size());
  }
  return out;
}

void Executable::run_raw(std::span<const void* const> params,
                         std::span<void* const> results) const {
  state_->execute(params, results);
  // Results that no kernel writes (a parameter or constant returned as is, a repeated result).
  for (size_t r = 0; r < results.size(); ++r) {
    const Slot& slot = state_->result_slots[r];
    const size_t bytes = state_->result_types[r].size_bytes();
    if (slot.kind == Slot::Kind::Result && slot.index == r) continue;
    const void* source = slot.kind == Slot::Kind::Param      ? params[slot.index]
                         : slot.kind == Slot::Kind::Constant ? state_->constants[slot.index].data()
                                                             : results[slot.index];
    if (bytes) std::memmove(results[r], source, bytes);
  }
}

const ir::Function& Executable::function() const {
  return state_->function;
}
size_t Executable::num_kernels() const {
  return state_->steps.size();
}
double Executable::compile_ms() const {
  return state_->compile_ms;
}
size_t Executable::peak_bytes() const {
  return state_->peak_bytes;
}
size_t Executable::arena_bytes() const {
  return state_->arena_bytes;
}

}  // namespace kiln::runtime
