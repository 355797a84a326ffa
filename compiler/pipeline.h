#pragma once
// The compile pipeline, written once: `kiln opt` prints what it decides, and the frontend,
// `kiln run` and the benchmarks run what it produces, so the two never disagree.
//
//   inline calls · simplify · split-reductions       rewrites (passes/)
//   fuse · lower · plan memory                       analyses and lowering (passes/, codegen/)
//   schedule (chunking) · code generation            the CPU backend (codegen/cpu/)
//   -> runtime::Plan                                 plain data the runtime loads and runs
//
// The named pipeline `cpu` (passes::find_pipeline) is the rewrite half, for `kiln opt`.

#include <optional>
#include <string>
#include <vector>

#include "codegen/lower.h"
#include "compiler/buffer_layout.h"
#include "ir/function.h"
#include "passes/fusion.h"
#include "runtime/executable.h"
#include "runtime/plan.h"

namespace kiln::compiler {

// Where compiled code runs: the host's cores (LLVM object code) or the Vulkan device the
// runtime picked (SPIR-V). Both run the same pipeline up to the kernels.
enum class Device : uint8_t { Cpu, Vulkan };

struct CompileOptions {
  // None: the CPU here; kiln::compile reads it as "the frontend's default device".
  std::optional<Device> device = std::nullopt;
  // With Device::Vulkan: code for kiln's portable Vulkan profile (runtime/vulkan/vulkan_abi.h)
  // instead of the device here, which need not exist; the plan runs on any device meeting it.
  bool portable = false;
  bool fuse = true;  // false: every op is its own kernel (the unfused side of a benchmark)
  // On the CPU: "host" (this machine, every feature it has) or an x86-64 level such as
  // "x86-64-v3" (codegen/cpu/target.h), for code that runs on other machines (bundles).
  std::string cpu_target = "host";
  // Parameters (by index) whose storage a result of the same type may take over, so that the
  // update is done in place (see compiler/buffer_layout.h and Executable::run).
  std::vector<size_t> donate = {};
};

// Everything the pipeline decides about one function before code generation.
struct LoweredProgram {
  ir::Function function;  // after the rewrites: what the kernels compute
  passes::FusionPlan fusion;
  codegen::LoweredFunction lowered;
  BufferLayout layout;
};

// Runs the rewrites, fusion, lowering and memory planning. `function` must be flat (no calls;
// passes::inline_calls first). Throws kiln::Error for a function the verifier rejects.
LoweredProgram lower_program(const ir::Function& function, const CompileOptions& options = {});

// The whole pipeline: a plan with every kernel's code for options.device (object code or
// SPIR-V), from that device's kernel cache (memory, then disk) where it has them. Distinct
// kernels compile concurrently. For Vulkan, throws kiln::Error "[vulkan] ..." when there is
// no device or the device lacks a feature a kernel needs.
runtime::Plan compile_plan(const ir::Function& function, const CompileOptions& options = {});

// compile_plan, loaded into the default runtime context.
runtime::Executable compile(const ir::Function& function, const CompileOptions& options = {});

}  // namespace kiln::compiler
