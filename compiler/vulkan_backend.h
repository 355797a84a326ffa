#pragma once
// The Vulkan code generator (codegen/spirv) behind KernelBackend, for the device the runtime
// picked (runtime/vulkan/vulkan_context.h), and its kernel cache: SPIR-V modules in memory
// and on disk beside the CPU's objects, keyed by the kernel, kiln's version, the SPIR-V
// codegen and ABI versions and the device's capability description, and validated again when
// read back.

#include "codegen/spirv/spirv_compiler.h"
#include "compiler/kernel_cache.h"
#include "runtime/vulkan/vulkan_context.h"

namespace kiln::compiler {

// What code generation needs from a device.
codegen::spirv::SpirvTarget spirv_target(const runtime::DeviceCapabilities& device);

// kiln's portable Vulkan profile (runtime/vulkan/vulkan_abi.h) as a code generation target:
// what CompileOptions::portable compiles for, and what `kiln opt --emit=spirv` shows on a
// machine without a Vulkan device.
codegen::spirv::SpirvTarget portable_spirv_target();

// The process's Vulkan kernel cache, for VulkanContext::instance()'s device. Throws
// kiln::Error "[vulkan] ..." when there is no device.
KernelCache& vulkan_kernel_cache();
const codegen::spirv::SpirvTarget& vulkan_target();
// The same for the portable profile; needs no device.
KernelCache& portable_vulkan_kernel_cache();
// Forgets the Vulkan kernels held in memory, in whichever of the two caches exist (never
// creating a cache, or a device, to do so).
void clear_vulkan_kernel_caches_in_memory();

}  // namespace kiln::compiler
