#pragma once
// Loads a module from a .kir file (stdin for "-"), or from its JSON form when the name ends in
// ".json", and verifies it.

#include <filesystem>

#include "ir/function.h"

namespace kiln::tools {

ir::Module load_module(const std::filesystem::path& path);
// The function named `name`, or the first one when `name` is empty; throws "[kiln] ..." if
// there is no such function.
const ir::Function& pick_function(const ir::Module& module, const std::string& name,
                                  const std::filesystem::path& path);
// pick_function with every call inlined: what `kiln run`, `opt`, `bench` and `transform`
// work on.
ir::Function pick_flat_function(const ir::Module& module, const std::string& name,
                                const std::filesystem::path& path);

}  // namespace kiln::tools
