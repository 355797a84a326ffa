#pragma once
// A Vulkan plan loaded on the process's device (runtime/vulkan/vulkan_context.h): Executable
// (runtime/executable.h) creates it for plans whose target starts with kVulkanTargetPrefix.
//
// Loading creates each kernel's compute pipeline, places every buffer (per-step buffer tables,
// constants, parameters, results, the arena) in a few large allocations, uploads the tables and
// constants, and records the whole schedule in one command buffer: dispatches with a memory
// barrier only between steps whose byte ranges conflict, plus the staging copies on devices
// without host-visible device memory. A run copies the arguments in, submits that command
// buffer once, waits on a timeline semaphore and copies the results out.
//
// The executable owns one set of device buffers, so concurrent runs take turns (a mutex per
// executable); results are the same whichever thread runs.

#include <memory>

#include "runtime/executable_backend.h"
#include "runtime/plan.h"

namespace kiln::runtime {

// Throws kiln::Error "[runtime] @NAME: compiled for Vulkan device '...', this device is '...'"
// for a plan made for another device, "[vulkan] @NAME: ..." for kernels that are not SPIR-V,
// grids the device cannot dispatch or memory it does not have, and "[vulkan] no Vulkan
// device found; ..." without a device. `plan` must outlive the result.
std::unique_ptr<ExecutableBackend> load_vulkan_executable(const Plan& plan);

// Whether a plan's target names a Vulkan device.
bool is_vulkan_target(std::string_view target);

}  // namespace kiln::runtime
