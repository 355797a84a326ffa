// `kiln opt`: runs a list of passes over a .kir file and prints the result, and on request the
// IR after each pass, in the .kir syntax. `fuse`, which may only come last, is an analysis: it
// prints the IR with each kernel of the fusion plan marked by a comment. `--emit=kernel|llvm|asm`
// prints each kernel of the lowered functions instead of the IR.

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "codegen/llvm/cpu_compiler.h"
#include "codegen/lower.h"
#include "ir/error.h"
#include "ir/printer.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "tools/commands.h"
#include "tools/module_loader.h"

namespace kiln::tools {

namespace {

struct OptOptions {
  std::string file;
  std::string passes;
  bool print_after_all = false;
  std::vector<std::string> print_after;
  std::string func;
  std::string emit = "kir";
  bool no_fuse = false;
};

// Takes a trailing `fuse` off the pass list (it is not a rewrite); true if it was there.
bool take_fuse(std::string& passes) {
  std::vector<std::string> names;
  std::stringstream list(passes);
  for (std::string name; std::getline(list, name, ',');)
    names.push_back(name);
  const auto it = std::find(names.begin(), names.end(), "fuse");
  if (it == names.end()) return false;
  if (it + 1 != names.end())
    throw Error("[opt] fuse must be the last pass in --passes (got " + passes + ")");
  names.pop_back();
  passes.clear();
  for (const std::string& name : names)
    passes += (passes.empty() ? "" : ",") + name;
  return true;
}

// Every kernel of every function, lowered from the fusion plan, in the form --emit asks for.
std::string emit_kernels(const ir::Module& module, const OptOptions& options) {
  std::ostringstream out;
  bool first = true;
  for (const ir::Function& f : module.functions) {
    const passes::FusionPlan plan = passes::plan_fusion(f, {.fuse = !options.no_fuse});
    const codegen::LoweredFunction lowered = codegen::lower(f, plan);
    for (const codegen::Kernel& kernel : lowered.kernels) {
      if (!first) out << "\n";
      first = false;
      if (options.emit == "kernel")
        out << codegen::print_kernel(kernel);
      else if (options.emit == "llvm")
        out << codegen::CpuCompiler::instance().emit_llvm_ir(kernel);
      else
        out << codegen::CpuCompiler::instance().emit_asm(kernel);
    }
  }
  return out.str();
}

std::string print_fused(const ir::Module& module, const OptOptions& options) {
  std::string out;
  for (size_t i = 0; i < module.functions.size(); ++i) {
    const ir::Function& f = module.functions[i];
    if (i) out += "\n";
    out += passes::print_with_fusion(f, passes::plan_fusion(f, {.fuse = !options.no_fuse}));
  }
  return out;
}

void check_print_after(const OptOptions& options, const passes::PassManager& manager, bool fuse) {
  for (const std::string& name : options.print_after) {
    if (fuse && name == "fuse") continue;
    const auto& list = manager.passes();
    bool listed = std::any_of(list.begin(), list.end(),
                              [&](const passes::Pass& pass) { return pass.name == name; });
    if (!listed)
      throw Error("[opt] --print-after=" + name + " names a pass that --passes does not run (" +
                  options.passes + ")");
  }
}

int run_opt(const OptOptions& options) {
  if (options.emit != "kir" && options.emit != "kernel" && options.emit != "llvm" &&
      options.emit != "asm")
    throw Error("[opt] --emit=" + options.emit + " is not one of kir, kernel, llvm, asm");
  std::string pass_list = options.passes;
  const bool fuse = take_fuse(pass_list);
  passes::PassManager manager;
  if (!pass_list.empty() || !fuse) manager.add_list(pass_list);
  check_print_after(options, manager, fuse);
  ir::Module module = load_module(options.file);
  if (!options.func.empty()) {
    ir::Function chosen = pick_function(module, options.func, options.file);
    module.functions = {std::move(chosen)};
  }
  // Everything is written at the end, so that an error leaves no partial output behind.
  std::ostringstream out;
  bool last_dumped = false;
  manager.set_dump([&](std::string_view pass, const ir::Module& now) {
    last_dumped = options.print_after_all ||
                  std::find(options.print_after.begin(), options.print_after.end(), pass) !=
                      options.print_after.end();
    if (last_dumped) out << "// ----- after " << pass << " -----\n" << ir::print(now);
  });
  module = manager.run(std::move(module));
  if (options.emit != "kir") {
    out << emit_kernels(module, options);
  } else if (fuse) {
    const bool dump_fuse =
        options.print_after_all || std::find(options.print_after.begin(), options.print_after.end(),
                                             "fuse") != options.print_after.end();
    if (dump_fuse) out << "// ----- after fuse -----\n";
    out << print_fused(module, options);
  } else if (!last_dumped) {
    // The final IR is the last dump when the last pass was dumped; it is not printed twice.
    out << ir::print(module);
  }
  std::cout << out.str();
  return 0;
}

}  // namespace

Action add_opt_command(CLI::App& app) {
  auto options = std::make_shared<OptOptions>();
  CLI::App* cmd = app.add_subcommand(
      "opt", "Run passes over a .kir (or .json) file and print the result as .kir");
  cmd->add_option("file", options->file, "The .kir or .json file")->required();
  cmd->add_option("--passes", options->passes,
                  "Comma-separated passes to run in order (known: " + passes::known_pass_names() +
                      "; and last, fuse: print the IR with each kernel of the fusion plan marked)")
      ->required();
  auto* all = cmd->add_flag("--print-after-all", options->print_after_all,
                            "Print the IR after every pass, each under a '// ----- after NAME "
                            "-----' header");
  cmd->add_option("--print-after", options->print_after,
                  "Print the IR after each run of the named pass (repeatable)")
      ->excludes(all);
  cmd->add_option("--func", options->func,
                  "Run on and print only this function (default: every function)");
  cmd->add_option("--emit", options->emit,
                  "What to print: kir (the IR, default), kernel (the kernel IR of each fused "
                  "kernel), llvm (each kernel's optimized LLVM IR), asm (its host assembly)");
  cmd->add_flag("--no-fuse", options->no_fuse,
                "Plan one kernel per op (for fuse and --emit), as `kiln run --no-fuse` does");
  return [cmd, options]() -> int {
    if (!cmd->parsed()) return -1;
    return run_opt(*options);
  };
}

}  // namespace kiln::tools
