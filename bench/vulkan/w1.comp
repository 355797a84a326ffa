// W1, y = gelu_tanh(x*a + b) * logistic(x), written by hand as a user would, with the GLSL
// built-ins (exp, one division) and kiln's kernel ABI (runtime/vulkan/vulkan_abi.h): kernel
// buffer i is the storage buffer at set 0, binding i, here x, a, b, y as kiln's W1 kernel
// has them; workgroups numbered over a 2-D grid. Compiled by glslc at build time.
#version 450
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer A { float a; };
layout(std430, set = 0, binding = 2) readonly buffer B { float b; };
layout(std430, set = 0, binding = 3) writeonly buffer Y { float y[]; };

void main() {
  const uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  const uint i = group * 256u + gl_LocalInvocationID.x;
  if (i >= uint(x.length())) return;
  const float v = x[i];
  const float u = v * a + b;
  const float z = max(1.5957691216057308 * (u + 0.044715 * u * u * u), -80.0);
  y[i] = u / ((1.0 + exp(-z)) * (1.0 + exp(-v)));
}
