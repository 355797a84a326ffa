#include "runtime/executable.h"

#include <cassert>
#include <cstring>
#include <string>

#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "ir/scratch.h"
#include "runtime/executable_backend.h"
#include "runtime/thread_pool.h"
#include "runtime/vulkan/vulkan_executable.h"

namespace kiln::runtime {

namespace {

// Plans for the host: each step split over the context's thread pool.
class CpuBackend final : public ExecutableBackend {
 public:
  CpuBackend(const Plan& plan, Context& context) : plan_(plan), context_(context) {
    KernelLoader& loader = context.loader();
    if (plan.imports_version != kKernelImportsVersion)
      throw Error("[runtime] @" + plan.name + ": compiled against kernel imports version " +
                  std::to_string(plan.imports_version) + ", this runtime provides version " +
                  std::to_string(kKernelImportsVersion));
    loader.check_target(plan.name, plan.target);
    for (const PlanKernel& kernel : plan.kernels)
      kernels_.push_back(loader.load(kernel));
    for (const PlanStep& step : plan.steps)
      max_step_slots_ = std::max(max_step_slots_, step.slots.size());
  }
  void execute(std::span<const void* const> params, std::span<void* const> results) const override;
  uint64_t host_scratch_bytes() const override { return plan_.arena_bytes; }

 private:
  const Plan& plan_;
  Context& context_;
  std::vector<LoadedKernel> kernels_;  // by Plan::kernels index
  size_t max_step_slots_ = 0;          // the most pointers one kernel takes
};

}  // namespace

struct Executable::State {
  Plan plan;
  std::unique_ptr<ExecutableBackend> backend;
  uint64_t needed_bytes = 0;  // host memory: the CPU arena plus the results

  void check_arguments(std::span<const ir::HostArray* const> args) const;
  void check_fits_in_memory() const;
  // Runs arguments that check_arguments accepted.
  std::vector<ir::HostArray> run(std::span<const ir::HostArray* const> args) const;
  [[noreturn]] void fail(const std::string& message) const {
    throw Error("[runtime] @" + plan.name + ": " + message);
  }
};

Executable Executable::load(Plan plan, Context& context) {
  auto state = std::make_shared<State>();
  // The backend keeps a reference to the plan: it is moved into its final place first.
  state->plan = std::move(plan);
  if (is_vulkan_target(state->plan.target))
    state->backend = load_vulkan_executable(state->plan);
  else
    state->backend = std::make_unique<CpuBackend>(state->plan, context);
  // Saturating: sizes that overflow 64 bits are simply more than any machine has.
  state->needed_bytes = state->backend->host_scratch_bytes();
  for (const ir::TensorType& t : state->plan.result_types)
    if (__builtin_add_overflow(state->needed_bytes, t.size_bytes(), &state->needed_bytes))
      state->needed_bytes = UINT64_MAX;
  return Executable(std::move(state));
}

void Executable::State::check_arguments(std::span<const ir::HostArray* const> args) const {
  if (args.size() != plan.params.size())
    fail("expected " + std::to_string(plan.params.size()) + " argument" +
         (plan.params.size() == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    const PlanParam& param = plan.params[i];
    if (args[i]->type() != param.type)
      fail("argument " + std::to_string(i) + " (%" + param.name + ") has type " +
           args[i]->type().str() + " but the parameter is " + param.type.str());
  }
}

// Refuses to run what cannot fit before allocating: with overcommit an allocation larger than
// memory may succeed and get the process killed while it fills (the interpreter does the same).
void Executable::State::check_fits_in_memory() const {
  if (std::optional<std::string> refusal = ir::exceeds_memory(needed_bytes)) fail(*refusal);
}

void CpuBackend::execute(std::span<const void* const> params,
                         std::span<void* const> results) const {
  const Plan& plan = plan_;
  // Most small functions need no arena; the pool's lock is then not taken at all.
  ir::Buffer arena =
      plan.arena_bytes ? ir::BufferPool::instance().allocate(plan.arena_bytes) : ir::Buffer();
  auto resolve = [&](const Slot& slot) -> void* {
    switch (slot.kind) {
      case Slot::Kind::Param:
        return const_cast<void*>(params[slot.index]);  // kernels only read their inputs
      case Slot::Kind::Result:
        return results[slot.index];
      case Slot::Kind::Arena:
        return arena.bytes() + slot.index;
      case Slot::Kind::Constant:
        return const_cast<std::byte*>(plan.constants[slot.index].data());  // read only
    }
    return nullptr;
  };
  ThreadPool& pool = context_.threads();
  ir::Scratch<void*, 16> pointers(max_step_slots_);
  for (const PlanStep& step : plan.steps) {
    const int64_t outer_count = plan.kernels[step.kernel].outer_count;
    if (outer_count == 0) continue;
    for (size_t i = 0; i < step.slots.size(); ++i)
      pointers[i] = resolve(step.slots[i]);
    KernelEntry entry = kernels_[step.kernel].entry;
    void* const* args = pointers.data();
    int64_t grain = step.grain;
    if (step.one_block_per_thread)
      grain = std::max(grain, (outer_count + pool.num_threads() - 1) / pool.num_threads());
    pool.parallel_for(outer_count, grain,
                      [entry, args](int64_t begin, int64_t end) { entry(args, begin, end); });
  }
}

std::vector<ir::HostArray> Executable::run(std::span<const ir::HostArray> args) const {
  ir::Scratch<const ir::HostArray*, 16> pointers(args.size());
  for (size_t i = 0; i < args.size(); ++i)
    pointers[i] = &args[i];
  return run(std::span<const ir::HostArray* const>(pointers.span()));
}

std::vector<ir::HostArray> Executable::run(std::span<const ir::HostArray* const> args) const {
  if (!state_->plan.written_params.empty()) {
    // Copies share the caller's storage; run(&&) then gives each written parameter storage of
    // its own (copy on write), so the caller's arrays never change.
    std::vector<ir::HostArray> copies;
    for (const ir::HostArray* arg : args)
      copies.push_back(*arg);
    return run(std::move(copies));
  }
  state_->check_arguments(args);
  return state_->run(args);
}

std::vector<ir::HostArray> Executable::run(std::vector<ir::HostArray>&& args) const {
  std::vector<const ir::HostArray*> pointers;
  for (ir::HostArray& a : args)
    pointers.push_back(&a);
  state_->check_arguments(pointers);
  // Written parameters get storage of their own (a copy only if someone else shares it).
  for (uint32_t p : state_->plan.written_params)
    args[p].data();
  return state_->run(pointers);
}

std::vector<ir::HostArray> Executable::State::run(
    std::span<const ir::HostArray* const> args) const {
  const State& s = *this;
  s.check_fits_in_memory();
  // Arguments are read in place: every HostArray's storage is 64-byte aligned.
  ir::Scratch<const void*, 16> params(args.size());
  for (size_t i = 0; i < args.size(); ++i)
    params[i] = args[i]->data();
  // Results that a kernel writes get fresh storage, handed out as is; the others share the
  // argument's, the constant's or the earlier result's storage.
  std::vector<ir::HostArray> out(plan.result_types.size());
  ir::Scratch<void*, 16> results(plan.result_types.size());
  for (size_t r = 0; r < results.size(); ++r) {
    const Slot& slot = plan.result_slots[r];
    if (slot.kind == Slot::Kind::Result && slot.index == r) {
      out[r] = ir::HostArray::uninitialized(plan.result_types[r]);
      results[r] = out[r].data();
    }
  }
  try {
    s.backend->execute(params.span(), results.span());
  } catch (const std::bad_alloc&) {
    s.fail("needs more memory than this machine has");
  }
  for (size_t r = 0; r < results.size(); ++r) {
    const Slot& slot = plan.result_slots[r];
    switch (slot.kind) {
      case Slot::Kind::Param:
        out[r] = *args[slot.index];
        break;
      case Slot::Kind::Constant:
        out[r] = plan.constants[slot.index];
        break;
      case Slot::Kind::Result:
        if (slot.index != r) out[r] = out[slot.index];
        break;
      case Slot::Kind::Arena:
        assert(false && "a result planned into the arena");
    }
  }
  return out;
}

void Executable::run_raw(std::span<const void* const> params,
                         std::span<void* const> results) const {
  const Plan& plan = state_->plan;
  state_->backend->execute(params, results);
  // Results that no kernel writes (a parameter or constant returned as is, a repeated result).
  for (size_t r = 0; r < results.size(); ++r) {
    const Slot& slot = plan.result_slots[r];
    const size_t bytes = plan.result_types[r].size_bytes();
    if (slot.kind == Slot::Kind::Result && slot.index == r) continue;
    const void* source = slot.kind == Slot::Kind::Param ? params[slot.index]
                         : slot.kind == Slot::Kind::Constant
                             ? static_cast<const void*>(plan.constants[slot.index].data())
                             : results[slot.index];
    if (bytes) std::memmove(results[r], source, bytes);
  }
}

const Plan& Executable::plan() const {
  return state_->plan;
}
size_t Executable::num_kernels() const {
  return state_->plan.steps.size();
}
size_t Executable::peak_bytes() const {
  return state_->plan.peak_bytes;
}
size_t Executable::arena_bytes() const {
  return state_->plan.arena_bytes;
}
double Executable::compile_ms() const {
  return state_->plan.compile_ms;
}
double Executable::last_gpu_ms() const {
  return state_->backend->last_gpu_ms();
}

}  // namespace kiln::runtime
