#pragma once
// The transforms of `kiln transform` (jvp, vjp, grad, value_and_grad, vmap) with their options,
// written once for the two commands that apply them: `kiln transform` prints the result, and
// `kiln compile --entry` compiles it into a bundle under a new name.

#include <cstddef>
#include <iterator>
#include <string>

#include "ir/function.h"

namespace kiln::tools {

enum class Mode { Jvp, Vjp, Grad, ValueAndGrad, Vmap };

struct ModeFlag {
  Mode mode;
  const char* flag;
};

inline constexpr ModeFlag kModeFlags[] = {{Mode::Jvp, "--jvp"},
                                          {Mode::Vjp, "--vjp"},
                                          {Mode::Grad, "--grad"},
                                          {Mode::ValueAndGrad, "--value-and-grad"},
                                          {Mode::Vmap, "--vmap"}};

struct TransformOptions {
  std::string file;
  std::string func;
  bool modes[std::size(kModeFlags)] = {};
  std::string wrt;
  std::string in_axes;
  std::string out_axes;
  std::string batch_size;
  // Set once the command line has parsed: which of the value options were given at all (an
  // empty value, as in `--wrt=`, counts as given).
  bool has_wrt = false, has_in_axes = false, has_out_axes = false, has_batch_size = false;
};

// Checks the options, transforms `options.func` of `module` (read from `options.file`) and
// simplifies: the transformed function first, then any function it calls. Throws kiln::Error
// "[transform] ..." naming the option at fault.
ir::Module transform_module(const TransformOptions& options, const ir::Module& module);

}  // namespace kiln::tools
