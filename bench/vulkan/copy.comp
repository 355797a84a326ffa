// The copy bandwidth the Vulkan workloads are measured against: dst = src, 16 bytes per
// invocation, kiln's kernel ABI (bindings 0 and 1 of set 0, a 2-D grid of workgroups).
// Compiled by glslc at build time.
#version 450
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uvec4 dst[]; };

void main() {
  const uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  const uint i = group * 256u + gl_LocalInvocationID.x;
  if (i < uint(src.length())) dst[i] = src[i];
}
