// `kiln-plan`: runs a plan that `kiln run --save-plan` wrote, on inputs from .npy files or seeded
// random data, and writes the results as .npy files. It links only the runtime (no LLVM, no
// passes, no compiler): what a deployment that ships compiled plans needs.

#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>

#include "ir/error.h"
#include "runtime/executable.h"
#include "runtime/plan.h"
#include "tools/run_inputs.h"
#include "tools/run_output.h"

namespace {

using namespace kiln;

runtime::Plan read_plan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("[plan] " + path + ": cannot open the file");
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("[plan] " + path + ": cannot read the file");
  const auto* bytes = reinterpret_cast<const std::byte*>(chars.data());
  return runtime::load_plan({bytes, chars.size()}, path);
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
  CLI::App app{"kiln-plan: run a compiled kiln plan (from `kiln run --save-plan`)"};
  std::string plan;
  tools::InputOptions inputs;
  std::string output_dir = ".";
  bool stats = false;
  app.add_option("plan", plan, "The plan file")->required();
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
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : 1;
  }
  try {
    return run(plan, inputs, output_dir, stats);
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
