// `kiln bench`: one function compiled fused and unfused, run on the same seeded random inputs,
// timed side by side.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "compiler/pipeline.h"
#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "tools/commands.h"
#include "tools/module_loader.h"
#include "tools/run_inputs.h"
#include "tools/vulkan_device.h"

namespace kiln::tools {

namespace {

struct BenchOptions {
  std::string file;
  std::string func;
  int repeat = 10;
  uint64_t seed = 0;
  std::string device = "cpu";
};

struct Measurement {
  std::string variant;
  size_t kernels = 0;
  double compile_ms = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0;
  double gpu_ms = -1;  // median GPU time of the kernels (Vulkan), negative when not timed
};

// Inputs and results in the runtime's own aligned buffers, so that the timings are the
// kernels' alone, without argument copies.
struct BoundBuffers {
  std::vector<ir::Buffer> owned;
  std::vector<const void*> params;
  std::vector<void*> results;
};

BoundBuffers bind(const ir::Function& function, const std::vector<ir::HostArray>& args) {
  // The inputs were checked as they were made; the copies and results are checked here, before
  // anything is allocated.
  uint64_t bytes = 0;  // saturating: a sum past 64 bits is more than any machine has
  auto add = [&bytes](uint64_t more) {
    if (__builtin_add_overflow(bytes, more, &bytes)) bytes = UINT64_MAX;
  };
  for (const ir::HostArray& a : args)
    add(a.size_bytes());
  for (const ir::TensorType& t : function.result_types())
    add(t.size_bytes());
  if (std::optional<std::string> refusal = ir::exceeds_memory(bytes))
    throw Error("[bench] @" + function.name() + ": copies of the inputs and the results " +
                *refusal);
  BoundBuffers b;
  ir::BufferPool& pool = ir::BufferPool::instance();
  for (const ir::HostArray& a : args) {
    ir::Buffer& buffer = b.owned.emplace_back(pool.allocate(a.bytes().size()));
    if (!a.bytes().empty()) std::memcpy(buffer.data(), a.data(), a.bytes().size());
    b.params.push_back(buffer.data());
  }
  for (const ir::TensorType& t : function.result_types())
    b.results.push_back(b.owned.emplace_back(pool.allocate(t.size_bytes())).data());
  return b;
}

Measurement measure(const std::string& variant, const ir::Function& function,
                    const std::vector<ir::HostArray>& args, compiler::Device device, bool fuse,
                    int repeat) {
  runtime::Executable exe = compiler::compile(function, {.device = device, .fuse = fuse});
  BoundBuffers buffers = bind(function, args);
  exe.run_raw(buffers.params, buffers.results);  // warm-up: caches, page faults, the pool
  std::vector<double> times, gpu;
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    exe.run_raw(buffers.params, buffers.results);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    gpu.push_back(exe.last_gpu_ms());
  }
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  std::sort(times.begin(), times.end());
  return {variant,       exe.num_kernels(), exe.compile_ms(), median_of(times),
          times.front(), times.back(),      median_of(gpu)};
}

int bench(const BenchOptions& options) {
  if (options.repeat < 1)
    throw Error("[bench] --repeat must be at least 1, got " + std::to_string(options.repeat));
  if (options.device != "cpu" && options.device != "vulkan")
    throw Error("[bench] unknown device '" + options.device + "' (available: cpu, vulkan)");
  const compiler::Device device =
      options.device == "vulkan" ? compiler::Device::Vulkan : compiler::Device::Cpu;
  if (device == compiler::Device::Vulkan) require_vulkan("bench");
  ir::Module module = load_module(options.file);
  const ir::Function function = pick_flat_function(module, options.func, options.file);
  InputOptions inputs;
  inputs.component = "bench";
  inputs.random_inputs = true;
  inputs.seed = options.seed;
  std::vector<ir::HostArray> args = bind_inputs(signature_of(function), inputs);
  std::vector<Measurement> rows = {
      measure("fused", function, args, device, true, options.repeat),
      measure("unfused", function, args, device, false, options.repeat)};
  std::cout << "@" << function.name() << ": " << options.repeat << " runs each on "
            << device_label(options.device) << "\n";
  // Times under a millisecond print in microseconds, so that a small function's kernels do
  // not read 0.000.
  const bool micro =
      std::any_of(rows.begin(), rows.end(), [](const Measurement& m) { return m.min_ms < 1.0; });
  const double scale = micro ? 1000.0 : 1.0;
  const std::string unit = micro ? "_us" : "_ms";
  // On a device that times its kernels, their median GPU time follows the wall times.
  const bool timed = rows[0].gpu_ms >= 0;
  char line[200];
  std::snprintf(line, sizeof line, "%-8s %8s %12s %12s %12s %12s", "variant", "kernels",
                "compile_ms", ("median" + unit).c_str(), ("min" + unit).c_str(),
                ("max" + unit).c_str());
  std::cout << line << (timed ? "   gpu" + unit + "\n" : "\n");
  for (const Measurement& m : rows) {
    std::snprintf(line, sizeof line, "%-8s %8zu %12.3f %12.3f %12.3f %12.3f", m.variant.c_str(),
                  m.kernels, m.compile_ms, m.median_ms * scale, m.min_ms * scale, m.max_ms * scale);
    std::cout << line;
    if (timed) {
      std::snprintf(line, sizeof line, " %12.3f", m.gpu_ms * scale);
      std::cout << line;
    }
    std::cout << "\n";
  }
  double speedup = rows[0].median_ms > 0 ? rows[1].median_ms / rows[0].median_ms : 0;
  std::snprintf(line, sizeof line, "speedup: %.2fx\n", speedup);
  std::cout << line;
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time a function compiled fused and unfused on seeded random inputs");
  cmd->add_option("file", options->file, "The .kir or .json file (- reads .kir from stdin)")
      ->required();
  cmd->add_option("--func", options->func, "The function to time (default: the first)");
  cmd->add_option("--repeat", options->repeat, "Timed runs of each variant, after one warm-up")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the random inputs (as kiln run's)")
      ->capture_default_str();
  cmd->add_option("--device", options->device, "Where to run: cpu or vulkan")
      ->capture_default_str();
  return [cmd, options]() -> int { return cmd->parsed() ? bench(*options) : -1; };
}

}  // namespace kiln::tools
