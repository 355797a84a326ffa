#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "compiler/kernel_cache.h"
#include "compiler/pipeline.h"
#include "compiler/vulkan_backend.h"
#include "io/npy.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/interpreter.h"
#include "runtime/bundle/bundle.h"
#include "tools/commands.h"
#include "tools/module_loader.h"
#include "tools/run_inputs.h"
#include "tools/run_output.h"
#include "tools/vulkan_device.h"

namespace kiln::tools {

namespace {

struct RunOptions {
  std::string file;
  std::string func;
  std::string device = "cpu";
  bool no_fuse = false;
  bool stats = false;
  int repeat = 1;
  InputOptions inputs;
  std::string output_dir = ".";
  std::string save_plan;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

struct Timed {
  std::vector<ir::HostArray> results;
  std::vector<double> run_ms;
};

// Runs `run_once` `repeat` times, keeping the last results. Each run's results are let go
// before the next, as a program's loop body would, so the next run reuses their storage.
template <class F>
Timed time_runs(int repeat, F run_once) {
  Timed timed;
  for (int i = 0; i < repeat; ++i) {
    timed.results.clear();
    auto start = std::chrono::steady_clock::now();
    timed.results = run_once();
    timed.run_ms.push_back(elapsed_ms(start));
  }
  return timed;
}

// The kernels alone, as `kiln bench` times them: run_raw on the arguments' storage and result
// buffers allocated once, so that argument checks and result allocation are left out. Beside
// run_ms it shows what a call costs on top of its kernels.
std::vector<double> time_kernels(const runtime::Executable& executable,
                                 const std::vector<ir::HostArray>& args, int repeat) {
  std::vector<const void*> params;
  for (const ir::HostArray& a : args)
    params.push_back(a.data());
  std::vector<ir::HostArray> results;
  std::vector<void*> outputs;
  for (const ir::TensorType& t : executable.plan().result_types)
    outputs.push_back(results.emplace_back(ir::HostArray::uninitialized(t)).data());
  return time_runs(repeat,
                   [&] {
                     executable.run_raw(params, outputs);
                     return std::vector<ir::HostArray>();
                   })
      .run_ms;
}

// Which of the plan's distinct kernels were compiled, read from the disk cache or found in
// memory: what compile_ms means depends on it.
struct CacheCounts {
  int64_t compiled = 0, from_disk = 0, from_memory = 0;
};

CacheCounts counts_since(const compiler::KernelCache& cache,
                         const compiler::KernelCache::Stats& before) {
  const compiler::KernelCache::Stats now = cache.stats();
  return {now.compiles - before.compiles, now.disk_hits - before.disk_hits,
          now.memory_hits - before.memory_hits};
}

// A bundle runs through the runtime alone (runtime/bundle/bundle.h): the same inputs, output
// and --stats lines as the .kir it was compiled from, less what only a compile has.
int run_bundle(const RunOptions& options) {
  if (options.device != "cpu" && options.device != "vulkan")
    throw Error("[run] --device " + options.device +
                ": a bundle runs on cpu or vulkan (its .kir, from `kiln bundle extract-ir`, runs "
                "on the interpreter)");
  if (options.no_fuse) throw Error("[run] --no-fuse: a bundle's kernels are already compiled");
  if (!options.save_plan.empty())
    throw Error("[run] --save-plan: a bundle's plans are already saved in it");
  if (options.repeat < 1)
    throw Error("[run] --repeat must be at least 1, got " + std::to_string(options.repeat));
  if (options.device == "vulkan") require_vulkan("run");
  runtime::bundle::BundleOptions open_options;
  if (options.device == "vulkan")
    open_options.device = runtime::bundle::BundleOptions::Device::Vulkan;
  const auto start = std::chrono::steady_clock::now();
  const runtime::bundle::Bundle bundle =
      runtime::bundle::Bundle::open_file(options.file, open_options);
  const double open_ms = elapsed_ms(start);
  const runtime::bundle::BundleFunction* function = nullptr;
  if (options.func.empty()) {
    if (bundle.functions().empty())
      throw Error("[run] " + options.file + ": the bundle holds no function");
    function = &bundle.functions().front();
  } else if (!(function = bundle.find(options.func))) {
    std::string known;
    for (const auto& f : bundle.functions())
      known += (known.empty() ? "@" : ", @") + f.name();
    throw Error("[run] " + options.file + ": no function @" + options.func + " (the bundle has " +
                known + ")");
  }
  Signature signature{function->name(), {}};
  for (const runtime::bundle::TensorDesc& p : function->params())
    signature.params.emplace_back(p.name, p.type);
  std::vector<ir::HostArray> args = bind_inputs(signature, options.inputs);
  const Timed timed = time_runs(options.repeat, [&] { return function->run(args); });
  write_results(options.output_dir, timed.results);
  print_results(options.output_dir, timed.results);
  if (options.stats) {
    const runtime::Executable& exe = function->executable();
    std::vector<double> kernel_ms;
    if (exe.plan().params.size() == args.size())  // no bound weights: time the kernels alone
      kernel_ms = time_kernels(exe, args, options.repeat);
    char line[64];
    std::cout << "target: " << bundle.target() << "\n"
              << "kernels: " << exe.num_kernels() << "\n";
    std::snprintf(line, sizeof line, "open_ms: %.3f\n", open_ms);
    std::cout << line;
    std::snprintf(line, sizeof line, "run_ms: %.6f\n", median(timed.run_ms));
    std::cout << line;
    if (!kernel_ms.empty()) {
      std::snprintf(line, sizeof line, "kernel_ms: %.6f\n", median(kernel_ms));
      std::cout << line;
    }
    std::cout << "peak_bytes: " << exe.peak_bytes() << "\n";
  }
  return 0;
}

// A bundle by its name or its first bytes, so that a renamed one still runs as one.
bool is_bundle(const std::string& file) {
  if (file.ends_with(".kbundle")) return true;
  std::error_code error;  // only a regular file is peeked at: a FIFO would block
  if (file == "-" || !std::filesystem::is_regular_file(file, error)) return false;
  std::ifstream in(file, std::ios::binary);
  char magic[sizeof runtime::bundle::kMagic] = {};
  return in.read(magic, sizeof magic) &&
         std::memcmp(magic, runtime::bundle::kMagic, sizeof magic) == 0;
}

int run(const RunOptions& options) {
  if (is_bundle(options.file)) return run_bundle(options);
  if (options.device != "interp" && options.device != "cpu" && options.device != "vulkan")
    throw Error("[run] unknown device '" + options.device + "' (available: cpu, vulkan, interp)");
  const bool compiled_device = options.device != "interp";
  // Before any input is read: a missing device is the whole answer.
  if (options.device == "vulkan") require_vulkan("run");
  if (options.repeat < 1)
    throw Error("[run] --repeat must be at least 1, got " + std::to_string(options.repeat));
  ir::Module module = load_module(options.file);
  const ir::Function function = pick_flat_function(module, options.func, options.file);
  InputOptions inputs = options.inputs;
  inputs.program_from_stdin = options.file == "-";
  std::vector<ir::HostArray> args = bind_inputs(signature_of(function), inputs);
  Timed timed;
  std::optional<runtime::Executable> executable;
  if (!options.save_plan.empty() && !compiled_device)
    throw Error("[run] --save-plan needs --device cpu or vulkan (the interpreter makes no plan)");
  CacheCounts cache;
  std::vector<double> kernel_ms;
  if (compiled_device) {
    const compiler::Device device =
        options.device == "vulkan" ? compiler::Device::Vulkan : compiler::Device::Cpu;
    compiler::KernelCache& kernel_cache = device == compiler::Device::Vulkan
                                              ? compiler::vulkan_kernel_cache()
                                              : compiler::KernelCache::instance();
    const compiler::KernelCache::Stats before = kernel_cache.stats();
    runtime::Plan plan =
        compiler::compile_plan(function, {.device = device, .fuse = !options.no_fuse});
    cache = counts_since(kernel_cache, before);
    if (!options.save_plan.empty())
      ir::write_file_atomically(options.save_plan, runtime::save_plan(plan),
                                "[run] --save-plan " + options.save_plan);
    executable = runtime::Executable::load(std::move(plan));
    timed = time_runs(options.repeat, [&] { return executable->run(args); });
    if (options.stats) kernel_ms = time_kernels(*executable, args, options.repeat);
  } else {
    timed = time_runs(options.repeat, [&] { return ir::interpret(function, args); });
  }
  const std::vector<ir::HostArray>& results = timed.results;
  write_results(options.output_dir, results);
  print_results(options.output_dir, results);
  if (options.stats) {
    char line[64];
    if (executable) {
      std::cout << "kernels: " << executable->num_kernels() << "\n"
                << "kernels_compiled: " << cache.compiled << "\n"
                << "kernels_from_disk_cache: " << cache.from_disk << "\n"
                << "kernels_from_memory_cache: " << cache.from_memory << "\n";
      std::snprintf(line, sizeof line, "compile_ms: %.3f\n", executable->compile_ms());
      std::cout << line;
    }
    // Six decimals: a small function's call takes microseconds, which three would show as 0.
    std::snprintf(line, sizeof line, "run_ms: %.6f\n", median(timed.run_ms));
    std::cout << line;
    if (executable) {
      std::snprintf(line, sizeof line, "kernel_ms: %.6f\n", median(kernel_ms));
      std::cout << line << "peak_bytes: " << executable->peak_bytes() << "\n";
    }
  }
  return 0;
}

}  // namespace

Action add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd =
      app.add_subcommand("run",
                         "Run a function of a .kir file, or of a compiled bundle (.kbundle), on "
                         "inputs from .npy files");
  cmd->add_option("file", options->file, "The .kir or .json file (- reads .kir from stdin)")
      ->required();
  cmd->add_option("--func", options->func, "The function to run (default: the first)");
  cmd->add_option("--device", options->device,
                  "Where to run it: cpu (compiled for this machine, as eval() runs), vulkan "
                  "(compiled for the Vulkan device `kiln devices` marks) or interp (the reference "
                  "interpreter, the oracle compiled code is tested against)")
      ->capture_default_str();
  cmd->add_flag("--no-fuse", options->no_fuse, "With --device cpu or vulkan: one kernel per op");
  cmd->add_flag("--stats", options->stats,
                "Print kernels:, kernels_compiled:, kernels_from_disk_cache:, "
                "kernels_from_memory_cache: (distinct kernels), compile_ms:, run_ms: (a whole "
                "call), kernel_ms: (the kernels alone; medians over the repeats) and peak_bytes: "
                "after the results (interp prints run_ms: only)");
  cmd->add_option("--repeat", options->repeat, "Run the function N times (timing)")
      ->capture_default_str();
  cmd->add_option("--input", options->inputs.inputs,
                  "NAME=FILE.npy: the value of parameter %NAME (repeat for each)")
      ->allow_extra_args(false);  // one value per --input, so a file name after it stays positional
  cmd->add_flag("--random-inputs", options->inputs.random_inputs,
                "Fill parameters without --input with seeded random data (floats in [-1,1), "
                "signed ints in [-8,8], unsigned in [0,16])");
  cmd->add_option("--seed", options->inputs.seed, "Seed for --random-inputs")
      ->capture_default_str();
  cmd->add_option("--output-dir", options->output_dir, "Where result k is written as k.npy")
      ->capture_default_str();
  cmd->add_option("--save-plan", options->save_plan,
                  "With --device cpu or vulkan: also write the compiled plan to this file "
                  "(kiln-plan runs it without the compiler)");
  return [cmd, options]() -> int { return cmd->parsed() ? run(*options) : -1; };
}

}  // namespace kiln::tools
