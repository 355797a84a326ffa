#pragma once
// Named passes, named pipelines of them, and the manager that runs a list over every function
// of a module, verifying after each pass (while assertions are on) and handing each intermediate
// module to a dump callback (`kiln opt --print-after-all`).
//
// Passes here are rewrites: each returns a new Function. Analyses that decide things about a
// function without rewriting it (fusion, memory planning) are not passes; `kiln opt` prints
// them through compiler/pipeline.h, the same code that compiles.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/function.h"

namespace kiln::passes {

// A pass maps a function to a new one with the same name, parameters and result types.
// `module` is the module the function belongs to, for passes that read callees (inline).
struct Pass {
  using Run = std::function<ir::Function(const ir::Module& module, const ir::Function&)>;
  Pass(std::string name, std::string summary, Run run)
      : name(std::move(name)), summary(std::move(summary)), run(std::move(run)) {}
  // A pass that needs nothing but the function.
  Pass(std::string name, std::string summary, std::function<ir::Function(const ir::Function&)> f)
      : Pass(std::move(name), std::move(summary),
             [f = std::move(f)](const ir::Module&, const ir::Function& fn) { return f(fn); }) {}

  std::string name;
  std::string summary;  // one line, for --help and error messages
  Run run;
};

// A named list of passes: what a backend runs before fusion.
struct Pipeline {
  std::string name;
  std::string summary;
  std::vector<std::string> passes;
};

// Every registered pass, in the order error messages list them.
std::span<const Pass> registered_passes();
// The registered pass called `name`, or nullptr.
const Pass* find_pass(std::string_view name);
// "simplify, fold-constants, algebraic, dce, ...; pipelines: cpu"
std::string known_pass_names();

// Every registered pipeline: `cpu` = inline, simplify, split-reductions.
std::span<const Pipeline> registered_pipelines();
const Pipeline* find_pipeline(std::string_view name);
class PassManager;
// A manager that runs the registered pipeline `name` (which must exist).
PassManager pipeline(std::string_view name);

#ifdef NDEBUG
inline constexpr bool kVerifyEachByDefault = false;
#else
inline constexpr bool kVerifyEachByDefault = true;
#endif

class PassManager {
 public:
  // Called after each pass with the pass's name and the whole module as it then stands.
  using DumpFn = std::function<void(std::string_view pass, const ir::Module& module)>;

  struct Options {
    // Runs the verifier after every pass; a pass that breaks an invariant is a compiler bug,
    // reported naming the pass.
    bool verify_each = kVerifyEachByDefault;
  };

  PassManager() = default;
  explicit PassManager(Options options) : options_(options) {}

  // Appends the registered pass `name`, or every pass of the pipeline `name`; throws Error
  // "[opt] unknown pass 'x' (known: ...)".
  void add(std::string_view name);
  void add(Pass pass) { passes_.push_back(std::move(pass)); }
  // Appends each name of a comma-separated list ("simplify,dce"); empty entries are errors.
  void add_list(std::string_view names);
  void set_dump(DumpFn dump) { dump_ = std::move(dump); }

  const std::vector<Pass>& passes() const { return passes_; }

  ir::Module run(ir::Module module) const;
  ir::Function run(const ir::Function& function) const;

 private:
  ir::Function run_one(const Pass& pass, const ir::Module& module,
                       const ir::Function& function) const;

  Options options_;
  std::vector<Pass> passes_;
  DumpFn dump_;
};

}  // namespace kiln::passes
