#pragma once
// The subcommands of the `kiln` program. Each registers its options on the CLI11 app and
// returns the action to run once the command line has parsed.

#include <CLI/CLI.hpp>
#include <functional>

namespace kiln::tools {

using Action = std::function<int()>;

Action add_dump_command(CLI::App& app);
Action add_run_command(CLI::App& app);
Action add_opt_command(CLI::App& app);
Action add_bench_command(CLI::App& app);
Action add_transform_command(CLI::App& app);
Action add_cache_command(CLI::App& app);
Action add_devices_command(CLI::App& app);
Action add_compile_command(CLI::App& app);
Action add_bundle_command(CLI::App& app);

}  // namespace kiln::tools
