#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "compiler/pipeline.h"
#include "io/npy.h"
#include "ir/error.h"
#include "ir/interpreter.h"
#include "tools/commands.h"
#include "tools/module_loader.h"
#include "tools/run_inputs.h"
#include "tools/run_output.h"

namespace kiln::tools {

namespace {

struct RunOptions {
  std::string file;
  std::string func;
  std::string device = "interp";
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

// Runs `run_once` `repeat` times, keeping the last results.
template <class F>
Timed time_runs(int repeat, F run_once) {
  Timed timed;
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    timed.results = run_once();
    timed.run_ms.push_back(elapsed_ms(start));
  }
  return timed;
}

// Written next to its final name and renamed into place: a failed write leaves no half plan.
void save_plan_file(const std::filesystem::path& path, const runtime::Plan& plan) {
  const std::vector<std::byte> bytes = runtime::save_plan(plan);
  std::filesystem::path temp = path;
  temp += ".tmp-" + std::to_string(::getpid());
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  std::error_code ec;
  if (out) std::filesystem::rename(temp, path, ec);
  if (!out || ec) {
    std::filesystem::remove(temp, ec);
    throw Error("[run] " + path.string() + ": cannot write the plan");
  }
}

int run(const RunOptions& options) {
  if (options.device != "interp" && options.device != "cpu")
    throw Error("[run] unknown device '" + options.device + "' (available: cpu, interp)");
  if (options.repeat < 1)
    throw Error("[run] --repeat must be at least 1, got " + std::to_string(options.repeat));
  ir::Module module = load_module(options.file);
  const ir::Function function = pick_flat_function(module, options.func, options.file);
  std::vector<ir::HostArray> args = bind_inputs(signature_of(function), options.inputs);
  Timed timed;
  std::optional<runtime::Executable> executable;
  if (!options.save_plan.empty() && options.device != "cpu")
    throw Error("[run] --save-plan needs --device cpu (the interpreter makes no plan)");
  if (options.device == "cpu") {
    runtime::Plan plan = compiler::compile_plan(function, {.fuse = !options.no_fuse});
    if (!options.save_plan.empty()) save_plan_file(options.save_plan, plan);
    executable = runtime::Executable::load(std::move(plan));
    timed = time_runs(options.repeat, [&] { return executable->run(args); });
  } else {
    timed = time_runs(options.repeat, [&] { return ir::interpret(function, args); });
  }
  const std::vector<ir::HostArray>& results = timed.results;
  write_results(options.output_dir, results);
  print_results(options.output_dir, results);
  if (options.stats) {
    char line[64];
    if (executable) {
      std::cout << "kernels: " << executable->num_kernels() << "\n";
      std::snprintf(line, sizeof line, "compile_ms: %.3f\n", executable->compile_ms());
      std::cout << line;
    }
    std::snprintf(line, sizeof line, "run_ms: %.3f\n", median(timed.run_ms));
    std::cout << line;
    if (executable) std::cout << "peak_bytes: " << executable->peak_bytes() << "\n";
  }
  return 0;
}

}  // namespace

Action add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd =
      app.add_subcommand("run", "Run a function of a .kir file on inputs from .npy files");
  cmd->add_option("file", options->file, "The .kir or .json file")->required();
  cmd->add_option("--func", options->func, "The function to run (default: the first)");
  cmd->add_option("--device", options->device,
                  "Where to run it: interp (the reference interpreter) or cpu (compiled for this "
                  "machine)")
      ->capture_default_str();
  cmd->add_flag("--no-fuse", options->no_fuse, "With --device cpu: one kernel per op");
  cmd->add_flag("--stats", options->stats,
                "Print kernels:, compile_ms:, run_ms: (median over the repeats) and peak_bytes: "
                "lines after the results (interp prints run_ms: only)");
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
                  "With --device cpu: also write the compiled plan to this file (kiln-plan runs "
                  "it without the compiler)");
  return [cmd, options]() -> int { return cmd->parsed() ? run(*options) : -1; };
}

}  // namespace kiln::tools
