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

namespace kiln::tools {

namespace {

struct BenchOptions {
  std::string file;
  std::string func;
  int repeat = 10;
  uint64_t seed = 0;
};

struct Measurement {
  std::string variant;
  size_t kernels = 0;
  double compile_ms = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0;
};

// Inputs and results in the runtime's own aligned buffers, so that the timings are the
// kernels' alone, without argument copies.
struct BoundBuffers {
  std::vector<ir::Buffer> owned;
  std::vector<const void*> params;
  std::vector<void*> results;
};

BoundBuffers bind(const ir::Function& function, const std::vector<ir::HostArray>& args) {
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
                    const std::vector<ir::HostArray>& args, bool fuse, int repeat) {
  runtime::Executable exe = compiler::compile(function, {.fuse = fuse});
  BoundBuffers buffers = bind(function, args);
  exe.run_raw(buffers.params, buffers.results);  // warm-up: caches, page faults, the pool
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    exe.run_raw(buffers.params, buffers.results);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  double median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  return {variant, exe.num_kernels(), exe.compile_ms(), median, times.front(), times.back()};
}

int bench(const BenchOptions& options) {
  if (options.repeat < 1)
    throw Error("[bench] --repeat must be at least 1, got " + std::to_string(options.repeat));
  ir::Module module = load_module(options.file);
  const ir::Function function = pick_flat_function(module, options.func, options.file);
  InputOptions inputs;
  inputs.random_inputs = true;
  inputs.seed = options.seed;
  std::vector<ir::HostArray> args = bind_inputs(signature_of(function), inputs);
  std::vector<Measurement> rows = {measure("fused", function, args, true, options.repeat),
                                   measure("unfused", function, args, false, options.repeat)};
  std::cout << "@" << function.name() << ": " << options.repeat << " runs each\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-8s %8s %12s %12s %12s %12s\n", "variant", "kernels",
                "compile_ms", "median_ms", "min_ms", "max_ms");
  std::cout << line;
  for (const Measurement& m : rows) {
    std::snprintf(line, sizeof line, "%-8s %8zu %12.3f %12.3f %12.3f %12.3f\n", m.variant.c_str(),
                  m.kernels, m.compile_ms, m.median_ms, m.min_ms, m.max_ms);
    std::cout << line;
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
  cmd->add_option("file", options->file, "The .kir or .json file")->required();
  cmd->add_option("--func", options->func, "The function to time (default: the first)");
  cmd->add_option("--repeat", options->repeat, "Timed runs of each variant, after one warm-up")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the random inputs (as kiln run's)")
      ->capture_default_str();
  return [cmd, options]() -> int { return cmd->parsed() ? bench(*options) : -1; };
}

}  // namespace kiln::tools
