#pragma once
// Links kernels' relocatable objects into one self-contained x86-64 shared object (ET_DYN), the
// code of an ahead-of-time bundle (runtime/bundle/FORMAT.md). lld runs as a library, inside
// this process: no linker program needs to exist where `kiln compile` runs.
//
// The output depends only on the objects and their order: no build id, no timestamps, no input
// paths, one linker thread. It imports nothing but the symbols the objects leave undefined
// (the runtime's kernel imports, runtime/kernel_imports.h), has no DT_NEEDED, no initializers,
// and is bound at load (-z now), so its only dynamic relocations are RELATIVE, GLOB_DAT and
// JUMP_SLOT: what the runtime's loader accepts (runtime/shared_object.h).

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace kiln::compiler {

struct LinkInput {
  std::string name;  // for messages
  std::span<const std::byte> object;
};

// Throws kiln::Error "[link] ..." with lld's own message when the link fails (duplicate
// symbols, a corrupt object). Links run one at a time: lld keeps global state.
std::vector<std::byte> link_shared_object(std::span<const LinkInput> objects);

}  // namespace kiln::compiler
