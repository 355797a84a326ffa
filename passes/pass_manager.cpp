#include "passes/pass_manager.h"

#include <cassert>

#include "ir/error.h"
#include "ir/verifier.h"
#include "passes/inline.h"
#include "passes/rewriter.h"
#include "passes/simplify.h"
#include "passes/split_reductions.h"

namespace kiln::passes {

std::span<const Pass> registered_passes() {
  static const std::vector<Pass> passes = {
      {"simplify", "constant folding, algebraic identities and dead code removal to a fixed point",
       simplify},
      {"fold-constants", "evaluate ops whose operands are all constants", fold_constants},
      {"algebraic", "algebraic identities (x+0, x*1, neg(neg x), reshape of reshape, ...)",
       simplify_algebra},
      {"dce", "remove values the results do not use",
       [](const ir::Function& f) { return rewrite(f); }},
      {"inline", "replace every call by the callee's body",
       [](const ir::Module& m, const ir::Function& f) { return inline_calls(m, f); }},
      {"split-reductions",
       "split each large full reduction in two, so that its first stage runs on every core",
       [](const ir::Function& f) { return split_reductions(f); }},
  };
  return passes;
}

std::span<const Pipeline> registered_pipelines() {
  static const std::vector<Pipeline> pipelines = {
      {"cpu",
       "the rewrites the CPU compiler runs before fusion",
       {"inline", "simplify", "split-reductions"}},
  };
  return pipelines;
}

const Pipeline* find_pipeline(std::string_view name) {
  for (const Pipeline& p : registered_pipelines())
    if (p.name == name) return &p;
  return nullptr;
}

PassManager pipeline(std::string_view name) {
  const Pipeline* found = find_pipeline(name);
  assert(found && "an unregistered pipeline");
  PassManager manager;
  for (const std::string& pass : found->passes)
    manager.add(pass);
  return manager;
}

const Pass* find_pass(std::string_view name) {
  for (const Pass& pass : registered_passes())
    if (pass.name == name) return &pass;
  return nullptr;
}

std::string known_pass_names() {
  std::string names;
  for (const Pass& pass : registered_passes())
    names += (names.empty() ? "" : ", ") + pass.name;
  std::string pipelines;
  for (const Pipeline& p : registered_pipelines())
    pipelines += (pipelines.empty() ? "" : ", ") + p.name;
  return names + "; pipelines: " + pipelines;
}

void PassManager::add(std::string_view name) {
  if (const Pipeline* p = find_pipeline(name)) {
    for (const std::string& pass : p->passes)
      add(pass);
    return;
  }
  const Pass* pass = find_pass(name);
  if (!pass)
    throw Error("[opt] unknown pass '" + std::string(name) + "' (known: " + known_pass_names() +
                ")");
  passes_.push_back(*pass);
}

void PassManager::add_list(std::string_view names) {
  size_t begin = 0;
  while (true) {
    size_t end = names.find(',', begin);
    std::string_view name = names.substr(begin, end - begin);
    if (name.empty())
      throw Error("[opt] empty pass name in '" + std::string(names) +
                  "' (known: " + known_pass_names() + ")");
    add(name);
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
}

ir::Function PassManager::run_one(const Pass& pass, const ir::Module& module,
                                  const ir::Function& function) const {
  ir::Function out = pass.run(module, function);
  if (options_.verify_each) {
    try {
      ir::verify(out);
    } catch (const TypeError& e) {
      throw Error("[opt] pass '" + pass.name + "' produced invalid IR: " + e.what());
    }
  }
  return out;
}

ir::Module PassManager::run(ir::Module module) const {
  for (const Pass& pass : passes_) {
    // Every function sees the module as it was before this pass.
    const ir::Module before = module;
    for (ir::Function& f : module.functions)
      f = run_one(pass, before, f);
    if (dump_) dump_(pass.name, module);
  }
  return module;
}

ir::Function PassManager::run(const ir::Function& function) const {
  ir::Module module;
  module.functions.push_back(function);
  return std::move(run(std::move(module)).functions.front());
}

}  // namespace kiln::passes
