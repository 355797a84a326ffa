// The `kiln` command-line program.

#include <iostream>

#include "ir/error.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"kiln: trace, inspect and run array programs in the .kir IR"};
  app.set_version_flag("--version", "kiln 0.1.0");
  app.require_subcommand(1);
  std::vector<kiln::tools::Action> actions = {
      kiln::tools::add_dump_command(app), kiln::tools::add_run_command(app),
      kiln::tools::add_opt_command(app), kiln::tools::add_bench_command(app),
      kiln::tools::add_transform_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every usage error exits 1, as every other bad input does.
    app.exit(e);
    return 1;
  }
  try {
    for (const auto& action : actions)
      if (int status = action(); status >= 0) return status;
  } catch (const kiln::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "[kiln] internal error: " << e.what() << "\n";
    return 2;
  }
  return 1;
}
