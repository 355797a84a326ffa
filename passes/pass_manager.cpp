#include "passes/pass_manager.h"

#include "ir/error.h"
#include "ir/verifier.h"
#include "passes/rewriter.h"
#include "passes/simplify.h"

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
  };
  return passes;
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
  return names;
}

void PassManager::add(std::string_view name) {
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

ir::Function PassManager::run_one(const Pass& pass, const ir::Function& function) const {
  ir::Function out = pass.run(function);
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
    for (ir::Function& f : module.functions)
      f = run_one(pass, f);
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
