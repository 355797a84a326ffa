// kiln-vulkan-bench: the Vulkan workloads and their limits, timed on the GPU, with the runtime
// alone (no LLVM, no compiler), so that it runs on a GPU machine that has neither
// (bench/gpu/run.sh). It reads a folder made by `kiln_bench_write_workloads DIR --vulkan`:
//
//   w1.kplan ... w5.kplan   W1-W5 compiled for kiln's portable Vulkan profile (fused)
//   w1.spv, copy.spv        the hand-written GLSL W1 and a plain copy kernel (bench/vulkan/)
//
// and prints, per workload, kiln's GPU and wall times next to its limit measured in the same
// run on the same device: the copy kernel over the workload's own footprint (bytes read plus
// bytes written), the hand-written W1, and for W4 the f32 rate. GPU times come from
// timestamps around each run's command buffer; each figure is a median over the repeats,
// runs of the candidates interleaved.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "ir/error.h"
#include "runtime/executable.h"
#include "runtime/plan.h"
#include "runtime/vulkan/vulkan_context.h"
#include "tools/run_inputs.h"

namespace {

using namespace kiln;

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("[bench] cannot read " + path);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
  const auto* bytes = reinterpret_cast<const std::byte*>(chars.data());
  return {bytes, bytes + chars.size()};
}

// A plan running one hand-written SPIR-V kernel (entry "main") over the given parameters and
// one result, each a buffer of the kernel in that order.
runtime::Plan spirv_plan(const std::string& name, std::vector<std::byte> spirv,
                         const std::vector<ir::TensorType>& params, const ir::TensorType& result,
                         uint64_t workgroups) {
  runtime::Plan plan;
  plan.name = name;
  runtime::PlanKernel kernel;
  kernel.name = name;
  kernel.symbol = "main";
  kernel.object = std::move(spirv);
  kernel.outer_count = 1;
  kernel.workgroups = workgroups;
  runtime::PlanStep step;
  for (size_t i = 0; i < params.size(); ++i) {
    plan.params.push_back({"p" + std::to_string(i), params[i]});
    kernel.buffer_bytes.push_back(params[i].size_bytes());
    kernel.buffer_written.push_back(0);
    step.slots.push_back({runtime::Slot::Kind::Param, i, params[i].size_bytes()});
  }
  plan.result_types = {result};
  plan.result_slots = {{runtime::Slot::Kind::Result, 0, 0}};
  kernel.buffer_bytes.push_back(result.size_bytes());
  kernel.buffer_written.push_back(1);
  step.slots.push_back({runtime::Slot::Kind::Result, 0, result.size_bytes()});
  plan.kernels = {std::move(kernel)};
  plan.steps = {std::move(step)};
  plan.target = runtime::vulkan_plan_target(runtime::kVulkanPortableProfile);
  plan.imports_version = runtime::kKernelImportsVersion;
  return plan;
}

// An executable with its inputs and result buffers bound, timed run by run.
struct Candidate {
  std::string label;
  runtime::Executable executable;
  std::vector<ir::HostArray> inputs, outputs;
  std::vector<const void*> params;
  std::vector<void*> results;
  std::vector<double> gpu_ms, wall_ms;

  Candidate(std::string name, runtime::Plan plan)
      : label(std::move(name)), executable(runtime::Executable::load(std::move(plan))) {
    const runtime::Plan& p = executable.plan();
    for (size_t i = 0; i < p.params.size(); ++i)
      inputs.push_back(tools::random_array(p.params[i].type, 1000 + i));
    for (const ir::TensorType& t : p.result_types)
      outputs.push_back(ir::HostArray::uninitialized(t));
    for (const ir::HostArray& a : inputs)
      params.push_back(a.data());
    for (ir::HostArray& a : outputs)
      results.push_back(a.data());
    run();  // warm-up: pipelines, first touches
    gpu_ms.clear();
    wall_ms.clear();
  }
  void run() {
    const auto start = std::chrono::steady_clock::now();
    executable.run_raw(params, results);
    wall_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    gpu_ms.push_back(executable.last_gpu_ms());
  }
  uint64_t bytes() const {
    uint64_t total = 0;
    for (const runtime::PlanParam& p : executable.plan().params)
      total += p.type.size_bytes();
    for (const ir::TensorType& t : executable.plan().result_types)
      total += t.size_bytes();
    return total;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// A copy of `bytes` in total (half read, half written).
Candidate copy_limit(const std::string& dir, uint64_t bytes) {
  const int64_t words = static_cast<int64_t>(bytes / 2 / 16 * 4);  // u32 elements, 16 B groups
  const ir::TensorType t{ir::DType::U32, {words}};
  return Candidate("copy", spirv_plan("copy", read_file(dir + "/copy.spv"), {t}, t,
                                      static_cast<uint64_t>(words / 4 + 255) / 256));
}

int run(const std::string& dir, int repeat) {
  const runtime::DeviceCapabilities& device = runtime::VulkanContext::instance().capabilities();
  std::printf("device: %s (%s, driver %s %s)\n", device.name.c_str(), device.type.c_str(),
              device.driver_name.c_str(), device.driver_info.c_str());
  std::printf("%-5s %-12s %10s %10s %10s %8s  %s\n", "work", "candidate", "gpu_ms", "wall_ms",
              "GB/s", "share", "of");
  for (int w = 1; w <= 5; ++w) {
    const std::string name = "w" + std::to_string(w);
    std::vector<Candidate> candidates;
    candidates.emplace_back("kiln",
                            runtime::load_plan(read_file(dir + "/" + name + ".kplan"), name));
    const uint64_t bytes = candidates[0].bytes();
    candidates.push_back(copy_limit(dir, bytes));
    if (w == 1) {
      const runtime::Plan& p = candidates[0].executable.plan();
      std::vector<ir::TensorType> params;
      for (const runtime::PlanParam& param : p.params)
        params.push_back(param.type);
      const uint64_t n = static_cast<uint64_t>(p.result_types[0].num_elements());
      candidates.emplace_back("glsl", spirv_plan("w1_glsl", read_file(dir + "/w1.spv"), params,
                                                 p.result_types[0], (n + 255) / 256));
    }
    for (int r = 0; r < repeat; ++r)
      for (Candidate& c : candidates)
        c.run();
    const double copy_gpu = median(candidates[1].gpu_ms);
    for (const Candidate& c : candidates) {
      const double gpu = median(c.gpu_ms);
      const double gbs = gpu > 0 ? static_cast<double>(c.bytes()) / gpu / 1e6 : 0;
      char share[64] = "";
      if (c.label == "kiln")
        std::snprintf(share, sizeof share, "%7.0f%%  copy", 100 * copy_gpu / gpu);
      if (c.label == "glsl")
        std::snprintf(share, sizeof share, "%7.2fx  kiln/glsl", median(candidates[0].gpu_ms) / gpu);
      std::printf("%-5s %-12s %10.3f %10.3f %10.1f %s\n", name.c_str(), c.label.c_str(), gpu,
                  median(c.wall_ms), gbs, share);
    }
    if (w == 4) {
      const double flops = 2.0 * 256 * 1024 * 4096 * 2;
      std::printf("%-5s %-12s %10s %10s %10.1f GFLOP/s\n", name.c_str(), "kiln", "", "",
                  flops / median(candidates[0].gpu_ms) / 1e6);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4 || (argc == 4 && std::string(argv[2]) != "--repeat")) {
    std::cerr << "usage: kiln-vulkan-bench DIR [--repeat N]\n";
    return 1;
  }
  try {
    const int repeat = argc == 4 ? std::max(1, std::atoi(argv[3])) : 20;
    return run(argv[1], repeat);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
