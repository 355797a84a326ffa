#include "tools/module_loader.h"

#include "ir/error.h"
#include "ir/json.h"
#include "ir/parser.h"
#include "ir/verifier.h"
#include "passes/inline.h"

namespace kiln::tools {

ir::Module load_module(const std::filesystem::path& path) {
  ir::Module module;
  if (path.extension() == ".json") {
    module = ir::parse_json(ir::read_program_text(path), path.string());
  } else {
    // Everything else is .kir text, stdin ("-") included.
    module = ir::parse_file(path);
  }
  ir::verify(module);
  return module;
}

const ir::Function& pick_function(const ir::Module& module, const std::string& name,
                                  const std::filesystem::path& path) {
  if (module.functions.empty())
    throw Error("[kiln] " + path.string() + ": the file holds no function");
  if (name.empty()) return module.functions.front();
  if (const ir::Function* f = module.find(name)) return *f;
  std::string known;
  for (const ir::Function& f : module.functions)
    known += (known.empty() ? "@" : ", @") + f.name();
  throw Error("[kiln] " + path.string() + ": no function @" + name + " (the file has " + known +
              ")");
}

ir::Function pick_flat_function(const ir::Module& module, const std::string& name,
                                const std::filesystem::path& path) {
  return passes::inline_calls(module, pick_function(module, name, path));
}

}  // namespace kiln::tools
