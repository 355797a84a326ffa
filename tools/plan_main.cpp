// `kiln-plan`: runs a plan that `kiln run --save-plan` wrote, on inputs from .npy files or seeded
// random data, and writes the results as .npy files. It links only the runtime (no LLVM, no
// passes, no compiler): what a deployment that ships compiled plans needs.

#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <span>

#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "runtime/executable.h"
#include "runtime/plan.h"
#include "tools/run_inputs.h"
#include "tools/run_output.h"

namespace {

using namespace kiln;

runtime::Plan read_plan(const std::string& path) {
  const std::string name = path == "-" ? "<stdin>" : path;
  ir::InputFile file(path, "[plan] " + name);
  const std::string bytes = file.read_to_end(ir::physical_memory_bytes());
  return runtime::load_plan(std::as_bytes(std::span(bytes)), name);
}

int run(const std::string& path, const tools::InputOptions& inputs, const std::string& out_dir,
        bool stats) {
  runtime::Plan plan = read_plan(path);
  tools::Signature signature{plan.name, {}};
  for (const runtime::PlanParam& p : plan.params)
    signature.params.emplace_back(p.name, p.type);
  const std::vector<ir::HostArray> args = tools::bind_inputs(signature, inputs);
  const runtime::Executable executable = runtime::Executable::load(std::move(plan));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<ir::HostArray> results = executable.run(args);
  const double run_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  tools::write_results(out_dir, results);
  tools::print_results(out_dir, results);
  if (stats) std::cout << "kernels: " << executable.num_kernels() << "\nrun_ms: " << run_ms << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tools::watch_stdout();
  CLI::App app{"kiln-plan: run a compiled kiln plan (from `kiln run --save-plan`)"};
  std::string plan;
  tools::InputOptions inputs;
  inputs.component = "kiln-plan";
  std::string output_dir = ".";
  bool stats = false;
  app.add_option("plan", plan, "The plan file (- reads it from stdin)")->required();
  app.add_option("--input", inputs.inputs,
                 "NAME=FILE.npy: the value of parameter %NAME (repeat for each)")
      ->allow_extra_args(false);
  app.add_flag("--random-inputs", inputs.random_inputs,
               "Fill parameters without --input with seeded random data (as `kiln run` does)");
  app.add_option("--seed", inputs.seed, "Seed for --random-inputs")->capture_default_str();
  app.add_option("--output-dir", output_dir, "Where result k is written as k.npy")
      ->capture_default_str();
  app.add_flag("--stats", stats, "Print kernels: and run_ms: after the results");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "[kiln-plan] " << e.what() << " (--help lists the options)\n";
    return 1;
  }
  try {
    if (const int status = run(plan, inputs, output_dir, stats); status != 0) return status;
    return tools::check_stdout("kiln-plan");
  } catch (const Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "[kiln-plan] " << plan << ": the inputs need more memory than this machine has\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "[kiln-plan] internal error: " << e.what() << "\n";
    return 2;
  }
}
