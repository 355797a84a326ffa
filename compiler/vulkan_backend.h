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

// A target for `kiln opt --emit=spirv` on a machine without a Vulkan device: a Vulkan 1.3
// device with every dtype feature and the limits every such device has.
codegen::spirv::SpirvTarget generic_spirv_target();

// The process's Vulkan kernel cache, for VulkanContext::instance()'s device. Throws
// kiln::Error "[vulkan] ..." when there is no device.
KernelCache& vulkan_kernel_cache();
const codegen::spirv::SpirvTarget& vulkan_target();

}  // namespace kiln::compiler
