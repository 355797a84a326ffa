#pragma once
// The Vulkan backend's code generator: kernel IR -> one SPIR-V compute module per kernel,
// following runtime/vulkan/vulkan_abi.h, validated by SPIRV-Tools before anyone sees it. Like
// the CPU backend it produces code and never runs it. No Vulkan or SPIRV-Tools type appears
// here.
//
// How a kernel maps onto workgroups (its dispatch plan) depends only on the kernel and the
// device's limits in SpirvTarget:
//   Flat   a kernel that is one Store phase: every element of outer x inner is one invocation
//          of a 1-D grid of workgroups (2-D past the per-dimension limit; see the ABI).
//   Tiled  a kernel whose first phase is a matrix product (codegen/dot_layout.h) and whose
//          later phases, if any, are an epilogue each element can run on its own
//          (dot_epilogue_fits): one workgroup per tile_m x tile_n tile of one batch's product,
//          each invocation holding a thread_m x thread_n register tile (rows ty + i * (tile_m /
//          thread_m), columns tx + j * (tile_n / thread_n)); blocks of tile_k contraction
//          indices of both operands are staged in shared memory (converted to the
//          accumulator), and every element sums its products in contraction order with fused
//          multiply-adds, the Rows chain exactly; the epilogue then runs on the register tile,
//          the product's loads replaced by the register (a scratch product is never stored).
//          Tile sizes come from the device's invocation and shared-memory limits.
//   Rows   anything else: one workgroup per outer index. Every phase maps inner index i to
//          invocation i mod W, in every phase alike, so a phase reloading what an earlier
//          phase stored at the same index reads its own invocation's write; reductions combine
//          the invocations' partial results in a fixed tree (pairs at strides 1, 2, 4, ...;
//          the strides below the subgroup size by subgroup shuffles where the device has them,
//          the rest through shared memory), so the bits depend on the kernel and W only; a
//          sequential phase runs on invocation 0; a Dot phase sums each inner index's products in
//          contraction order with fused multiply-adds (the chain the CPU's GEMM computes).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codegen/kernel.h"
#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::codegen::spirv {

// Changes whenever the code this backend generates for a kernel changes, so that no disk cache
// serves code from before the change.
inline constexpr int kSpirvCodegenVersion = 5;

// What code generation reads from the device (filled from runtime::vulkan's capabilities by
// the compiler). `description` names all of it and keys caches and plans.
struct SpirvTarget {
  std::string device_name;
  std::string description;
  uint32_t max_workgroup_invocations = 128;
  uint32_t max_shared_memory_bytes = 16384;
  bool float64 = false, int64 = false, int16 = false, int8 = false;
  bool storage8 = false, storage16 = false;
  bool signed_zero_inf_nan_preserve32 = false, signed_zero_inf_nan_preserve64 = false;
  // Subgroup shuffles in compute shaders (VK_SUBGROUP_FEATURE_SHUFFLE_BIT): reductions combine
  // their lowest tree levels with OpGroupNonUniformShuffleXor.
  bool subgroup_shuffle = false;
  runtime::DescriptorLimits descriptors;  // which buffers bind by descriptor (vulkan_abi.h)
};

struct DispatchPlan {
  enum class Strategy : uint8_t { Flat, Rows, Tiled };
  Strategy strategy = Strategy::Flat;
  uint32_t workgroup_size = 1;  // invocations per workgroup (LocalSize x)
  uint64_t workgroups = 0;      // in total; 0 when the kernel has nothing to do
  // Tiled only: the workgroup's tile of the product, each invocation's register tile, and the
  // contraction indices staged in shared memory at a time (all powers of two).
  uint32_t tile_m = 0, tile_n = 0, thread_m = 0, thread_n = 0, tile_k = 0;
};

DispatchPlan plan_dispatch(const Kernel& kernel, const SpirvTarget& target);

struct SpirvKernel {
  std::vector<uint32_t> words;  // the module
  std::string entry;            // its entry point
  DispatchPlan dispatch;
};

// The kernel's module, validated (Vulkan 1.3 environment); KILN_SPIRV_OPT=1 also runs
// SPIRV-Tools' performance passes. Throws kiln::Error "[vulkan] kernel NAME needs FEATURE,
// which DEVICE lacks" for a dtype the device cannot hold; a module that fails validation is an
// internal error naming the kernel and the validator's message.
SpirvKernel compile_kernel(const Kernel& kernel, const SpirvTarget& target,
                           const std::string& entry);

// SPIRV-Tools' disassembly with friendly names, for `kiln opt --emit=spirv`.
std::string disassemble(std::span<const uint32_t> words);
// Validation on its own (Vulkan 1.3 environment): "" when valid, else the validator's message.
std::string validate(std::span<const uint32_t> words);

}  // namespace kiln::codegen::spirv
