#include "compiler/pipeline.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <map>
#include <string>

#include "codegen/cpu/cpu_compiler.h"
#include "codegen/cpu/schedule.h"
#include "compiler/cache_file.h"
#include "compiler/kernel_cache.h"
#include "compiler/vulkan_backend.h"
#include "ir/interpreter.h"
#include "ir/verifier.h"
#include "ir/walk.h"
#include "passes/pass_manager.h"
#include "passes/split_reductions.h"
#include "runtime/kernel_abi.h"
#include "runtime/thread_pool.h"
#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::compiler {

namespace {

// The value `v` of `function`, which depends on no parameter, evaluated on the interpreter.
ir::HostArray evaluate_constant(const ir::Function& function, ir::Value v) {
  ir::Function closure(function.name());
  const std::vector<ir::Value> map = ir::map_values(
      function, std::vector<ir::Value>(function.params().size()),
      ir::reachable_nodes(function, std::span(&v, 1), /*with_params=*/false),
      [&](const ir::Node& node, std::span<const ir::Value> operands) {
        for (ir::Value operand : operands)
          assert(operand.valid() && "a kernel input that is neither parameter nor output");
        return closure.add(node.op, {operands.begin(), operands.end()}, node.attrs, node.type);
      });
  closure.set_results({map[v.id]});
  return std::move(ir::interpret(closure, {}).front());
}

// Each distinct kernel once, concurrently; `kernel_of[k]` is kernel k's index among them.
std::vector<std::shared_ptr<const runtime::PlanKernel>> object_code(
    KernelCache& cache, const std::vector<codegen::Kernel>& kernels,
    std::vector<uint32_t>& kernel_of) {
  std::map<std::string, uint32_t> first_of;
  std::vector<size_t> distinct;
  kernel_of.resize(kernels.size());
  for (size_t k = 0; k < kernels.size(); ++k) {
    auto [it, fresh] =
        first_of.emplace(encode_kernel(kernels[k]), static_cast<uint32_t>(distinct.size()));
    kernel_of[k] = it->second;
    if (fresh) distinct.push_back(k);
  }
  std::vector<std::shared_ptr<const runtime::PlanKernel>> code(distinct.size());
  runtime::parallel_for(static_cast<int64_t>(distinct.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      code[i] = cache.get(kernels[distinct[i]]);
  });
  return code;
}

}  // namespace

LoweredProgram lower_program(const ir::Function& function, const CompileOptions& options) {
  ir::verify(function);
  LoweredProgram program;
  program.function = passes::pipeline("cpu").run(function);
  // A GPU folds a full reduction in one workgroup unless it is split: the Vulkan backend's plan
  // splits from a smaller size than the CPU's (see passes/split_reductions.h).
  if (options.device == Device::Vulkan)
    program.function = passes::split_reductions(program.function, passes::kMinSplitElementsGpu);
  program.fusion = passes::plan_fusion(program.function, passes::FusionOptions{options.fuse});
  program.lowered = codegen::lower(program.function, program.fusion);
  program.layout = layout_buffers(program.function, program.lowered, options.donate);
  return program;
}

runtime::Plan compile_plan(const ir::Function& function, const CompileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LoweredProgram program = lower_program(function, options);
  const ir::Function& f = program.function;
  const std::vector<codegen::Kernel>& kernels = program.lowered.kernels;

  runtime::Plan plan;
  plan.name = f.name();
  for (ir::Value p : f.params())
    plan.params.push_back({f.node(p).param_name, f.type(p)});
  plan.result_types = f.result_types();
  plan.result_slots = program.layout.result_slots;
  const bool vulkan = options.device == Device::Vulkan;  // none: the CPU
  const bool portable = vulkan && options.portable;
  KernelCache& cache = portable ? portable_vulkan_kernel_cache()
                       : vulkan ? vulkan_kernel_cache()
                                : KernelCache::for_cpu_target(options.cpu_target);
  const codegen::spirv::SpirvTarget* spirv_target = nullptr;
  codegen::spirv::SpirvTarget portable_target;
  if (portable) {
    portable_target = portable_spirv_target();
    spirv_target = &portable_target;
  } else if (vulkan) {
    spirv_target = &vulkan_target();
  }
  std::vector<uint32_t> kernel_of;
  for (const auto& code : object_code(cache, kernels, kernel_of))
    plan.kernels.push_back(*code);
  for (size_t k = 0; k < kernels.size(); ++k) {
    runtime::PlanKernel& code = plan.kernels[kernel_of[k]];
    if (code.name.empty()) {
      code.name = kernels[k].name;
      code.outer_count = kernels[k].outer_count();
      for (size_t i = 0; i < kernels[k].buffers.size(); ++i) {
        const codegen::KernelBuffer& b = kernels[k].buffers[i];
        code.buffer_bytes.push_back(b.type.size_bytes());
        code.buffer_written.push_back(b.is_output ||
                                      kernels[k].is_scratch(static_cast<int32_t>(i)));
      }
    }
    if (vulkan) {
      code.workgroups = codegen::spirv::plan_dispatch(kernels[k], *spirv_target).workgroups;
      plan.steps.push_back({kernel_of[k], std::move(program.layout.kernel_slots[k])});
      continue;
    }
    const codegen::cpu::Schedule schedule = codegen::cpu::schedule(kernels[k]);
    plan.steps.push_back({kernel_of[k], std::move(program.layout.kernel_slots[k]), schedule.grain,
                          schedule.one_block_per_thread});
  }
  for (ir::Value v : program.layout.constants)
    plan.constants.push_back(evaluate_constant(f, v));
  // The donated parameters some kernel writes (their slots are where the results went).
  for (size_t k = 0; k < kernels.size(); ++k)
    for (size_t i = 0; i < kernels[k].buffers.size(); ++i) {
      const runtime::Slot& slot = plan.steps[k].slots[i];
      const auto p = static_cast<uint32_t>(slot.index);
      if (kernels[k].buffers[i].is_output && slot.kind == runtime::Slot::Kind::Param &&
          std::find(plan.written_params.begin(), plan.written_params.end(), p) ==
              plan.written_params.end())
        plan.written_params.push_back(p);
    }
  plan.arena_bytes = program.layout.plan.arena_bytes;
  plan.peak_bytes = program.layout.plan.peak_bytes;
  plan.target = vulkan ? runtime::vulkan_plan_target(spirv_target->description)
                       : codegen::CpuCompiler::instance().target_description(options.cpu_target);
  plan.imports_version = runtime::kKernelImportsVersion;
  plan.compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return plan;
}

runtime::Executable compile(const ir::Function& function, const CompileOptions& options) {
  return runtime::Executable::load(compile_plan(function, options));
}

}  // namespace kiln::compiler
