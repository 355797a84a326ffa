// `kiln opt`: runs a list of passes over a .kir file and prints the result, and on request the
// IR after each pass, in the .kir syntax. Two analyses may end the list: `fuse` prints the IR
// as the CPU compiler partitions it (after its pipeline `cpu`), each kernel marked by a
// comment, and `plan-memory` (which implies fuse) adds the arena plan as comments, so the output
// still parses. `--stats` writes the kernel count and peak bytes to stderr. `--emit=kernel|
// llvm|asm` prints each kernel instead of the IR (without --passes: as `kiln run` compiles it,
// after the default pipeline `cpu`). Every analysis, --stats and --emit go through
// compiler::lower_program, the code that `kiln run` compiles with, so they report exactly the
// kernels that run.

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "codegen/cpu/cpu_compiler.h"
#include "compiler/graphviz.h"
#include "compiler/pipeline.h"
#include "compiler/vulkan_backend.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/printer.h"
#include "ir/syntax.h"
#include "passes/fusion.h"
#include "passes/inline.h"
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
  bool stats = false;
  std::string output_dir;
};

// The analyses that may end --passes, in this order: `fuse`, then `plan-memory`.
struct Analyses {
  bool fuse = false;
  bool plan_memory = false;
};

// Takes the trailing analyses off the pass list (they are not rewrites).
Analyses take_analyses(std::string& passes) {
  std::vector<std::string> names;
  std::stringstream list(passes);
  for (std::string name; std::getline(list, name, ',');)
    names.push_back(name);
  Analyses found;
  if (!names.empty() && names.back() == "plan-memory") {
    found.plan_memory = true;
    names.pop_back();
  }
  if (!names.empty() && names.back() == "fuse") {
    found.fuse = true;
    names.pop_back();
  }
  for (const char* analysis : {"fuse", "plan-memory"})
    if (std::find(names.begin(), names.end(), analysis) != names.end())
      throw Error("[opt] " + std::string(analysis) +
                  " must come last in --passes (after it only plan-memory; got " + passes + ")");
  found.fuse = found.fuse || found.plan_memory;
  passes.clear();
  for (const std::string& name : names)
    passes += (passes.empty() ? "" : ",") + name;
  return found;
}

// The arena plan of one function as comments: each value that lives in the arena, its bytes
// and offset (values at one offset share the memory in turn), then the totals.
std::string memory_plan_comments(const compiler::LoweredProgram& program) {
  const ir::Function& f = program.function;
  const codegen::LoweredFunction& lowered = program.lowered;
  const compiler::BufferLayout& layout = program.layout;
  const std::vector<std::string> names = ir::value_names(f);
  std::map<std::pair<size_t, uint32_t>, size_t> by_offset;  // (offset, value id) -> bytes
  size_t scratch = 0;
  for (size_t k = 0; k < lowered.kernels.size(); ++k)
    for (size_t i = 0; i < lowered.kernels[k].buffers.size(); ++i) {
      const runtime::Slot& slot = layout.kernel_slots[k][i];
      if (slot.kind != runtime::Slot::Kind::Arena) continue;
      const ir::Value v = lowered.kernel_values[k][i];
      if (v.valid())
        by_offset[{slot.index, v.id}] = f.type(v).size_bytes();
      else
        scratch += lowered.kernels[k].buffers[i].type.size_bytes();
    }
  std::ostringstream out;
  const passes::MemoryPlan& plan = layout.plan;
  out << "// memory plan @" << f.name() << ": arena " << plan.arena_bytes << " bytes ("
      << plan.unshared_bytes << " without sharing), peak " << plan.peak_bytes << " bytes\n";
  for (const auto& [key, bytes] : by_offset)
    out << "//   %" << names[key.second] << ": " << bytes << " bytes at offset " << key.first
        << "\n";
  if (scratch) out << "//   kernel scratch: " << scratch << " bytes\n";
  return out.str();
}

// The SPIR-V target --emit=spirv generates for: the Vulkan device kiln would run on, or kiln's
// portable Vulkan profile where there is none.
const codegen::spirv::SpirvTarget& spirv_target_for_emit() {
  static const codegen::spirv::SpirvTarget target =
      runtime::vulkan_available() ? compiler::vulkan_target() : compiler::portable_spirv_target();
  return target;
}

// Every kernel of every function, lowered from the fusion plan, in the form --emit asks for.
// SPIR-V modules are also collected in `modules` (file name, bytes) for --output-dir.
std::string emit_kernels(const ir::Module& module, const OptOptions& options,
                         std::vector<std::pair<std::string, std::vector<std::byte>>>& modules) {
  std::ostringstream out;
  bool first = true;
  for (const ir::Function& f : module.functions) {
    const compiler::LoweredProgram program = compiler::lower_program(
        f,
        {.device = options.emit == "spirv" ? std::optional(compiler::Device::Vulkan) : std::nullopt,
         .fuse = !options.no_fuse});
    for (size_t n = 0; n < program.lowered.kernels.size(); ++n) {
      const codegen::Kernel& kernel = program.lowered.kernels[n];
      if (!first) out << "\n";
      first = false;
      if (options.emit == "spirv") {
        const codegen::spirv::SpirvKernel code =
            codegen::spirv::compile_kernel(kernel, spirv_target_for_emit(), kernel.name);
        out << "; kernel " << n << ": " << kernel.name << "\n"
            << codegen::spirv::disassemble(code.words);
        const auto* bytes = reinterpret_cast<const std::byte*>(code.words.data());
        modules.emplace_back(f.name() + "." + std::to_string(n) + ".spv",
                             std::vector<std::byte>(bytes, bytes + code.words.size() * 4));
      } else if (options.emit == "kernel")
        out << codegen::print_kernel(kernel);
      else if (options.emit == "llvm")
        out << codegen::CpuCompiler::instance().emit_llvm_ir(kernel);
      else
        out << codegen::CpuCompiler::instance().emit_asm(kernel);
    }
  }
  return out.str();
}

std::string print_fused(const ir::Module& module, const OptOptions& options, bool plan_memory) {
  std::string out;
  for (size_t i = 0; i < module.functions.size(); ++i) {
    const compiler::LoweredProgram program =
        compiler::lower_program(module.functions[i], {.fuse = !options.no_fuse});
    if (i) out += "\n";
    out += passes::print_with_fusion(program.function, program.fusion);
    if (plan_memory) out += memory_plan_comments(program);
  }
  return out;
}

// --stats: each function's kernel count and planned peak bytes as `kiln run` would compile it,
// to stderr so that stdout stays .kir (a heading per function when there are several).
std::string stats_lines(const ir::Module& module, const OptOptions& options) {
  std::ostringstream out;
  for (const ir::Function& f : module.functions) {
    const compiler::LoweredProgram program = compiler::lower_program(f, {.fuse = !options.no_fuse});
    if (module.functions.size() > 1) out << "@" << f.name() << "\n";
    out << "kernels: " << program.lowered.kernels.size() << "\n"
        << "peak_bytes: " << program.layout.plan.peak_bytes << "\n";
  }
  return out.str();
}

void check_print_after(const OptOptions& options, const passes::PassManager& manager,
                       const Analyses& analyses) {
  for (const std::string& name : options.print_after) {
    if (analyses.fuse && name == "fuse") continue;
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
      options.emit != "asm" && options.emit != "spirv" && options.emit != "dot")
    throw Error("[opt] --emit=" + options.emit +
                " is not one of kir, kernel, llvm, asm, spirv, dot");
  if (!options.output_dir.empty() && options.emit != "spirv")
    throw Error("[opt] --output-dir needs --emit=spirv (it writes each kernel's module)");
  // --emit alone means "the kernels `kiln run` compiles", which lower_program plans after its
  // own pipeline; without --passes there is nothing else to run first. Any other use needs a
  // pass list to mean something.
  if (options.passes.empty() && options.emit == "kir")
    throw Error("[opt] --passes is required unless --emit names kernels (known passes: " +
                passes::known_pass_names() + ")");
  std::string pass_list = options.passes;
  const Analyses analyses = take_analyses(pass_list);
  passes::PassManager manager;
  if (!pass_list.empty()) manager.add_list(pass_list);
  check_print_after(options, manager, analyses);
  ir::Module module = load_module(options.file);
  if (!options.func.empty()) {
    ir::Function chosen = pick_flat_function(module, options.func, options.file);
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
  // Kernels are planned over flat graphs: calls are inlined first.
  ir::Module flat;
  if (options.emit != "kir" || analyses.fuse || options.stats)
    for (const ir::Function& f : module.functions)
      flat.functions.push_back(passes::inline_calls(module, f));
  std::vector<std::pair<std::string, std::vector<std::byte>>> modules;
  if (options.emit == "dot") {
    for (const ir::Function& f : flat.functions)
      out << compiler::graphviz(f, {.fuse = !options.no_fuse});
  } else if (options.emit != "kir") {
    out << emit_kernels(flat, options, modules);
  } else if (analyses.fuse) {
    const bool dump_fuse =
        options.print_after_all || std::find(options.print_after.begin(), options.print_after.end(),
                                             "fuse") != options.print_after.end();
    if (dump_fuse) out << "// ----- after fuse -----\n";
    out << print_fused(flat, options, analyses.plan_memory);
  } else if (!last_dumped) {
    // The final IR is the last dump when the last pass was dumped; it is not printed twice.
    out << ir::print(module);
  }
  const std::string stats = options.stats ? stats_lines(flat, options) : "";
  if (!options.output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.output_dir, error);
    if (error) throw Error("[opt] --output-dir " + options.output_dir + ": " + error.message());
    for (const auto& [name, bytes] : modules) {
      const std::string path = (std::filesystem::path(options.output_dir) / name).string();
      ir::write_file_atomically(path, bytes, "[opt] --output-dir " + path);
    }
  }
  std::cout << out.str();
  std::cerr << stats;
  return 0;
}

}  // namespace

Action add_opt_command(CLI::App& app) {
  auto options = std::make_shared<OptOptions>();
  CLI::App* cmd = app.add_subcommand(
      "opt", "Run passes over a .kir (or .json) file and print the result as .kir");
  cmd->add_option("file", options->file, "The .kir or .json file (- reads .kir from stdin)")
      ->required();
  cmd->add_option("--passes", options->passes,
                  "Comma-separated passes to run in order (known: " + passes::known_pass_names() +
                      "; and last, the analyses fuse: print the IR with each kernel of the fusion "
                      "plan marked, and plan-memory: add the arena plan as comments). Required "
                      "unless --emit names kernels");
  auto* all = cmd->add_flag("--print-after-all", options->print_after_all,
                            "Print the IR after every pass, each under a '// ----- after NAME "
                            "-----' header");
  cmd->add_option("--print-after", options->print_after,
                  "Print the IR after each run of the named pass (repeatable)")
      ->excludes(all);
  cmd->add_option("--func", options->func,
                  "Run on and print only this function (default: every function)");
  cmd->add_option(
      "--emit", options->emit,
      "What to print: kir (the IR, default), kernel (the kernel IR of each fused "
      "kernel), llvm (each kernel's optimized LLVM IR), asm (its host assembly), spirv "
      "(each kernel's SPIR-V for the Vulkan device, disassembled), dot (a Graphviz graph of "
      "each function, each fused kernel a cluster)");
  cmd->add_option("--output-dir", options->output_dir,
                  "With --emit=spirv: also write kernel N of function F as DIR/F.N.spv");
  cmd->add_flag(
      "--stats", options->stats,
      "Write 'kernels: N' and 'peak_bytes: N' (the planned arena plus results) to stderr");
  cmd->add_flag("--no-fuse", options->no_fuse,
                "Plan one kernel per op (for fuse and --emit), as `kiln run --no-fuse` does");
  return [cmd, options]() -> int {
    if (!cmd->parsed()) return -1;
    return run_opt(*options);
  };
}

}  // namespace kiln::tools
