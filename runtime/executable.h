#pragma once
// Executable: a Plan loaded for running. load() checks the plan's target against this machine
// and maps every kernel's code through the context's KernelLoader; run() executes the steps in
// order, each split over the thread pool along its outer iteration space. Nothing here compiles:
// plans come from compiler::compile_plan (in this process or another) or from a file.
//
// A plan whose target starts with kVulkanTargetPrefix (runtime/vulkan/vulkan_abi.h) runs on
// the Vulkan device (runtime/vulkan/vulkan_executable.h); everything here behaves the same.
//
// An Executable is immutable once loaded; copies share it, and run() may be called from any
// number of threads at once (a Vulkan executable owns one set of device buffers, so its runs
// take turns). Results are bit-identical across runs, thread counts and callers
// (see runtime/plan.h for why).

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "ir/array.h"
#include "runtime/context.h"
#include "runtime/plan.h"

namespace kiln::runtime {

class Executable {
 public:
  // Maps the plan's kernels with the context's loader; runs will use its thread pool. Throws
  // kiln::Error "[runtime] ..." for a plan this machine cannot run (another imports version or
  // target, CPU features it lacks) and "[loader] ..." for code that does not load.
  static Executable load(Plan plan, Context& context = Context::default_context());

  // Throws kiln::Error "[runtime] @name: ..." when the arguments do not match the parameters
  // in number or type. Arguments are read in place; each result gets storage of its own that
  // the kernels write directly (or shares an argument's or a constant's when it is one).
  std::vector<ir::HostArray> run(std::span<const ir::HostArray> args) const;
  std::vector<ir::HostArray> run(std::span<const ir::HostArray* const> args) const;
  // Donation: arguments handed over. A parameter the plan writes in place (compiled with
  // CompileOptions::donate) is updated in the argument's own storage when nothing else shares
  // it, and comes back as the result that took it over; no copy, no allocation. The const
  // overloads above copy such an argument first, so the caller's array never changes.
  std::vector<ir::HostArray> run(std::vector<ir::HostArray>&& args) const;

  // The fast path for callers that own their memory (benchmarks): params[i] holds parameter
  // i and results[k] receives result k, each 64-byte aligned and of its type's size; no
  // checks, no copies.
  void run_raw(std::span<const void* const> params, std::span<void* const> results) const;

  const Plan& plan() const;
  size_t num_kernels() const;  // kernel runs per call (steps)
  size_t peak_bytes() const;   // the arena plus the results
  size_t arena_bytes() const;
  double compile_ms() const;  // as the plan records it
  // Milliseconds the device spent between the first and the last kernel of the latest run,
  // from GPU timestamps: Vulkan plans on a queue that writes them; negative otherwise.
  double last_gpu_ms() const;

 private:
  struct State;
  explicit Executable(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace kiln::runtime
