#pragma once
// Hand-made Vulkan plans for the runtime tests: SPIR-V kernels assembled from text with
// SPIRV-Tools (the SPIR-V emitter is tested elsewhere), following runtime/vulkan/vulkan_abi.h.

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <spirv-tools/libspirv.hpp>
#include <string>
#include <vector>

#include "runtime/plan.h"
#include "runtime/vulkan/vulkan_abi.h"
#include "runtime/vulkan/vulkan_context.h"
#include "tests/common/require_device.h"

namespace kiln::runtime::testing {

// What an assembled kernel computes, over f32: with `reads_input`, buffer 1 [i] = buffer 0 [i]
// * scale + offset, else buffer 0 [i] = offset; for i = g * local_size + local id, g the
// workgroup number, only where g < workgroups and i < elements.
struct AffineKernel {
  uint64_t elements = 0;
  uint64_t workgroups = 0;
  uint32_t local_size = 64;
  float scale = 2;
  float offset = 1;
  bool reads_input = true;
};

inline std::vector<std::byte> assemble(const std::string& text) {
  spvtools::SpirvTools tools(SPV_ENV_VULKAN_1_3);
  std::string errors;
  tools.SetMessageConsumer(
      [&](spv_message_level_t, const char*, const spv_position_t& at, const char* message) {
        errors += std::to_string(at.index) + ": " + message + "\n";
      });
  std::vector<uint32_t> words;
  if (!tools.Assemble(text, &words) || !tools.Validate(words)) {
    ADD_FAILURE() << "SPIR-V does not assemble or validate:\n" << errors << text;
    return {};
  }
  std::vector<std::byte> bytes(words.size() * 4);
  std::memcpy(bytes.data(), words.data(), bytes.size());
  return bytes;
}

inline std::string affine_spirv(const AffineKernel& k) {
  std::string s = R"(
OpCapability Shader
OpCapability Int64
OpCapability PhysicalStorageBufferAddresses
OpMemoryModel PhysicalStorageBuffer64 GLSL450
OpEntryPoint GLCompute %main "main" %pc %wgid %nwg %lid
OpExecutionMode %main LocalSize LOCAL 1 1
OpDecorate %wgid BuiltIn WorkgroupId
OpDecorate %nwg BuiltIn NumWorkgroups
OpDecorate %lid BuiltIn LocalInvocationId
OpDecorate %PC Block
OpMemberDecorate %PC 0 Offset 0
%void = OpTypeVoid
%fn = OpTypeFunction %void
%u32 = OpTypeInt 32 0
%u64 = OpTypeInt 64 0
%f32 = OpTypeFloat 32
%bool = OpTypeBool
%v3u32 = OpTypeVector %u32 3
%PC = OpTypeStruct %u64
%ptr_pc = OpTypePointer PushConstant %PC
%ptr_pc_u64 = OpTypePointer PushConstant %u64
%ptr_in_v3 = OpTypePointer Input %v3u32
%ptr_u64 = OpTypePointer PhysicalStorageBuffer %u64
%ptr_f32 = OpTypePointer PhysicalStorageBuffer %f32
%pc = OpVariable %ptr_pc PushConstant
%wgid = OpVariable %ptr_in_v3 Input
%nwg = OpVariable %ptr_in_v3 Input
%lid = OpVariable %ptr_in_v3 Input
%c0 = OpConstant %u32 0
%c4 = OpConstant %u64 4
%c8 = OpConstant %u64 8
%local = OpConstant %u64 LOCAL
%total = OpConstant %u64 TOTAL
%n = OpConstant %u64 ELEMENTS
%scale = OpConstant %f32 SCALE
%offset = OpConstant %f32 OFFSET
%main = OpFunction %void None %fn
%entry = OpLabel
%wg = OpLoad %v3u32 %wgid
%nw = OpLoad %v3u32 %nwg
%lv = OpLoad %v3u32 %lid
%wx = OpCompositeExtract %u32 %wg 0
%wy = OpCompositeExtract %u32 %wg 1
%nx = OpCompositeExtract %u32 %nw 0
%lx = OpCompositeExtract %u32 %lv 0
%wx64 = OpUConvert %u64 %wx
%wy64 = OpUConvert %u64 %wy
%nx64 = OpUConvert %u64 %nx
%lx64 = OpUConvert %u64 %lx
%row = OpIMul %u64 %wy64 %nx64
%g = OpIAdd %u64 %row %wx64
%first = OpIMul %u64 %g %local
%i = OpIAdd %u64 %first %lx64
%in_grid = OpULessThan %bool %g %total
%in_range = OpULessThan %bool %i %n
%ok = OpLogicalAnd %bool %in_grid %in_range
OpSelectionMerge %end None
OpBranchConditional %ok %body %end
%body = OpLabel
%tp = OpAccessChain %ptr_pc_u64 %pc %c0
%table = OpLoad %u64 %tp
%byte = OpIMul %u64 %i %c4
BODY
OpBranch %end
%end = OpLabel
OpReturn
OpFunctionEnd
)";
  const std::string body_read = R"(
%t0 = OpConvertUToPtr %ptr_u64 %table
%xa = OpLoad %u64 %t0 Aligned 8
%t1a = OpIAdd %u64 %table %c8
%t1 = OpConvertUToPtr %ptr_u64 %t1a
%ya = OpLoad %u64 %t1 Aligned 8
%xpa = OpIAdd %u64 %xa %byte
%xp = OpConvertUToPtr %ptr_f32 %xpa
%x = OpLoad %f32 %xp Aligned 4
%xs = OpFMul %f32 %x %scale
%y = OpFAdd %f32 %xs %offset
%ypa = OpIAdd %u64 %ya %byte
%yp = OpConvertUToPtr %ptr_f32 %ypa
OpStore %yp %y Aligned 4
)";
  const std::string body_fill = R"(
%t0 = OpConvertUToPtr %ptr_u64 %table
%ya = OpLoad %u64 %t0 Aligned 8
%ypa = OpIAdd %u64 %ya %byte
%yp = OpConvertUToPtr %ptr_f32 %ypa
OpStore %yp %offset Aligned 4
)";
  auto replace = [&](const std::string& key, const std::string& value) {
    for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
      s.replace(at, key.size(), value);
  };
  replace("LOCAL", std::to_string(k.local_size));
  replace("TOTAL", std::to_string(k.workgroups));
  replace("ELEMENTS", std::to_string(k.elements));
  replace("SCALE", std::to_string(k.scale));
  replace("OFFSET", std::to_string(k.offset));
  replace("BODY", k.reads_input ? body_read : body_fill);
  return s;
}

inline PlanKernel affine_plan_kernel(const std::string& name, const AffineKernel& k) {
  PlanKernel pk;
  pk.name = name;
  pk.symbol = "main";
  pk.object = assemble(affine_spirv(k));
  pk.outer_count = static_cast<int64_t>(k.elements);
  pk.workgroups = k.workgroups;
  if (k.reads_input) {
    pk.buffer_bytes = {k.elements * 4, k.elements * 4};
    pk.buffer_written = {0, 1};
  } else {
    pk.buffer_bytes = {k.elements * 4};
    pk.buffer_written = {1};
  }
  return pk;
}

inline std::string this_device_target() {
  return vulkan_plan_target(VulkanContext::instance().capabilities().description());
}

// y = x * scale + offset over f32[n], in one step.
inline Plan affine_plan(uint64_t n, float scale = 2, float offset = 1) {
  Plan plan;
  plan.name = "affine";
  plan.target = this_device_target();
  const ir::TensorType t{ir::DType::F32, {static_cast<int64_t>(n)}};
  plan.params = {{"x", t}};
  plan.result_types = {t};
  plan.result_slots = {{Slot::Kind::Result, 0, 0}};
  plan.kernels = {affine_plan_kernel("affine", {n, (n + 63) / 64, 64, scale, offset, true})};
  plan.steps = {{0, {{Slot::Kind::Param, 0, n * 4}, {Slot::Kind::Result, 0, n * 4}}}};
  plan.peak_bytes = n * 4;
  return plan;
}

}  // namespace kiln::runtime::testing
