#pragma once
// How the runtime turns a plan's kernels into code it can call: an interface the runtime owns,
// so that it never needs the compiler. The host loader maps x86-64 object code with
// runtime/object_loader.h against the runtime's imports (runtime/kernel_imports.h); a backend
// for another device brings a loader of its own.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/kernel_abi.h"
#include "runtime/plan.h"

namespace kiln::runtime {

// A kernel ready to run; keeps its code mapped while any copy lives (a LoadedObject, or a
// bundle's LoadedSharedObject).
struct LoadedKernel {
  std::shared_ptr<const void> code;
  KernelEntry entry = nullptr;
};

class KernelLoader {
 public:
  virtual ~KernelLoader() = default;
  // Throws kiln::Error "[runtime] ..." when this loader cannot run code compiled for `target`
  // (another architecture, or CPU features this machine lacks), naming what is missing.
  virtual void check_target(std::string_view plan_name, std::string_view target) const = 0;
  // Throws kiln::Error "[loader] ..." for object code that does not load.
  virtual LoadedKernel load(const PlanKernel& kernel) = 0;
};

// The host CPU's loader. Objects with the same bytes share one mapping while any executable
// uses it. Thread-safe.
KernelLoader& host_kernel_loader();

// The CPU features a target description ("x86_64 <cpu> +f1,+f2,...") enables that this machine
// lacks, among those the runtime can test; empty when the code can run here.
std::vector<std::string> missing_cpu_features(std::string_view target);

}  // namespace kiln::runtime
