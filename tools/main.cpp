// The `kiln` command-line program.

#include <iostream>
#include <new>

#include "codegen/cpu/cpu_compiler.h"
#include "ir/error.h"
#include "tools/commands.h"
#include "tools/run_output.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif

namespace {

// kiln's version, the LLVM it generates code with, and the CPU it generates code for: what a
// bug report needs, and what decides whether cached kernels and plans fit this machine.
std::string version_text() {
  return std::string("kiln ") + KILN_VERSION + "\nLLVM " +
         kiln::codegen::CpuCompiler::llvm_version() +
         "\nhost code: " + kiln::codegen::CpuCompiler::instance().target_description();
}

// CLI11 checks required options before it reports words it did not recognize, so
// `kiln opt x.kir -p simplify` would say "--passes is required" about an option the user did
// not mean to leave out. The unknown option is the real mistake: it is named first.
std::string first_unknown_option(const CLI::App& app) {
  for (const std::string& word : app.remaining(true))
    if (word.size() > 1 && word[0] == '-') return word;
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  kiln::tools::watch_stdout();
  CLI::App app{"kiln: trace, inspect and run array programs in the .kir IR"};
  app.set_version_flag("--version", version_text,
                       "Print kiln's version, LLVM's and the host CPU code is generated for");
  app.require_subcommand(1);
  std::vector<kiln::tools::Action> actions = {
      kiln::tools::add_dump_command(app),      kiln::tools::add_run_command(app),
      kiln::tools::add_opt_command(app),       kiln::tools::add_bench_command(app),
      kiln::tools::add_transform_command(app), kiln::tools::add_cache_command(app),
      kiln::tools::add_devices_command(app),   kiln::tools::add_compile_command(app),
      kiln::tools::add_bundle_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    if (app.exit(e) != 0) return 1;
    return kiln::tools::check_stdout("kiln");
  } catch (const CLI::ParseError& e) {
    // Every usage error exits 1, as every other bad input does, on one line that names the
    // subcommand ("[compile] ...") when there is one.
    std::string component = "kiln";
    for (const CLI::App* sub : app.get_subcommands({}))
      if (argc > 1 && sub->get_name() == argv[1]) component = sub->get_name();
    if (std::string unknown = first_unknown_option(app); !unknown.empty()) {
      std::cerr << "[" << component << "] unknown option " << unknown
                << " (--help lists the options)\n";
      return 1;
    }
    // One line, as every other error is (CLI11's own exit adds a second about --help).
    std::cerr << "[" << component << "] " << e.what() << " (--help lists the options)\n";
    return 1;
  }
  try {
    for (const auto& action : actions)
      if (int status = action(); status >= 0)
        return status == 0 ? kiln::tools::check_stdout("kiln") : status;
  } catch (const kiln::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    // Sizes are checked against memory before allocating; this is what that cannot foresee
    // (other processes' use, a limit on this one).
    std::cerr << "[kiln] out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "[kiln] internal error: " << e.what() << "\n";
    return 2;
  }
  return 1;
}
