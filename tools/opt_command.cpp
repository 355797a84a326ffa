// `kiln opt`: runs a list of passes over a .kir file and prints the result, and on request the
// IR after each pass, in the .kir syntax.

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "ir/error.h"
#include "ir/printer.h"
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
};

void check_print_after(const OptOptions& options, const passes::PassManager& manager) {
  for (const std::string& name : options.print_after) {
    const auto& list = manager.passes();
    bool listed = std::any_of(list.begin(), list.end(),
                              [&](const passes::Pass& pass) { return pass.name == name; });
    if (!listed)
      throw Error("[opt] --print-after=" + name + " names a pass that --passes does not run (" +
                  options.passes + ")");
  }
}

int run_opt(const OptOptions& options) {
  passes::PassManager manager;
  manager.add_list(options.passes);
  check_print_after(options, manager);
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
  // The final IR is the last dump when the last pass was dumped; it is not printed twice.
  if (!last_dumped) out << ir::print(module);
  std::cout << out.str();
  return 0;
}

}  // namespace

Action add_opt_command(CLI::App& app) {
  auto options = std::make_shared<OptOptions>();
  CLI::App* cmd = app.add_subcommand(
      "opt", "Run passes over a .kir (or .json) file and print the result as .kir");
  cmd->add_option("file", options->file, "The .kir or .json file")->required();
  cmd->add_option(
         "--passes", options->passes,
         "Comma-separated passes to run in order (known: " + passes::known_pass_names() + ")")
      ->required();
  auto* all = cmd->add_flag("--print-after-all", options->print_after_all,
                            "Print the IR after every pass, each under a '// ----- after NAME "
                            "-----' header");
  cmd->add_option("--print-after", options->print_after,
                  "Print the IR after each run of the named pass (repeatable)")
      ->excludes(all);
  cmd->add_option("--func", options->func,
                  "Run on and print only this function (default: every function)");
  return [cmd, options]() -> int {
    if (!cmd->parsed()) return -1;
    return run_opt(*options);
  };
}

}  // namespace kiln::tools
