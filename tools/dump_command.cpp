#include <iostream>
#include <memory>

#include "ir/json.h"
#include "ir/printer.h"
#include "tools/commands.h"
#include "tools/module_loader.h"

namespace kiln::tools {

Action add_dump_command(CLI::App& app) {
  struct Options {
    std::string file;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "dump", "Parse and verify a .kir (or .json) file and print it canonically");
  cmd->add_option("file", options->file, "The .kir or .json file (- reads .kir from stdin)")
      ->required();
  cmd->add_flag("--json", options->json, "Print the JSON form instead of .kir text");
  return [cmd, options]() -> int {
    if (!cmd->parsed()) return -1;
    ir::Module module = load_module(options->file);
    std::cout << (options->json ? ir::to_json(module).dump(2) + "\n" : ir::print(module));
    return 0;
  };
}

}  // namespace kiln::tools
