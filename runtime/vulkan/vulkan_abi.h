#pragma once
// The contract between SPIR-V kernels (codegen/spirv) and the Vulkan runtime (runtime/vulkan),
// written once for both sides, as runtime/kernel_abi.h is for the CPU. Header only, free of
// Vulkan and SPIRV-Tools types.
//
// A kernel is one SPIR-V module (binary words, little endian) with one GLCompute entry point
// named PlanKernel::symbol and a fixed LocalSize (x, 1, 1). Buffers reach it by device address
// (VK_KHR_buffer_device_address, core in Vulkan 1.2), never by descriptor: no binding count or
// maxStorageBufferRange limit applies, and a tensor of several GiB is one pointer.
//
//   push constants, offset 0:  uint64_t buffer_table
//     the device address of an array of uint64_t device addresses, one per kernel buffer in
//     codegen::Kernel::buffers order (scratch buffers included); each address is a multiple
//     of kVulkanBufferAlignment.
//
//   workgroups: PlanKernel::workgroups in total. The runtime dispatches (x, y, 1) with
//     x = min(total, maxComputeWorkGroupCount[0]) and y = ceil(total / x) (refusing a plan
//     whose y exceeds maxComputeWorkGroupCount[1]); the kernel numbers its workgroup
//     g = WorkgroupId.y * NumWorkgroups.x + WorkgroupId.x and does nothing when g >= total
//     (the total is baked into the module). A plan with workgroups == 0 dispatches nothing.
//
// Every dispatch of an executable reads and writes memory the runtime owns for it; the runtime
// places a compute-to-compute memory barrier between two dispatches whose buffers overlap where
// one of them writes. Changing anything here changes kVulkanAbiVersion, which is part of every
// Vulkan kernel-cache key and every Vulkan plan's target.

#include <cstdint>

namespace kiln::runtime {

inline constexpr uint32_t kVulkanAbiVersion = 1;
inline constexpr uint32_t kVulkanPushConstantBytes = 8;
inline constexpr uint64_t kVulkanBufferAlignment = 64;
// Plans for Vulkan carry a target that starts with this word (then the device's capability
// description); Executable::load sends them to the Vulkan runtime.
inline constexpr const char* kVulkanTargetPrefix = "vulkan";

}  // namespace kiln::runtime
