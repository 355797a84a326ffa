// `kiln transform`: applies one of the transforms (jvp, vjp, grad, value_and_grad, vmap) to a
// function of a .kir file, simplifies the result and prints it as .kir, so that it pipes into
// `kiln run` and `kiln opt`: the transformed function first, then any function it calls (the
// autodiff passes keep calls with a custom vjp or a checkpoint; everything else is inlined).
//
// Every list option is read as text and parsed here rather than by CLI11, so that a bad token
// gets a "[transform] ..." message naming the option, as every other bad input does. What the
// passes themselves check (a --wrt index out of range, repeated or naming an integer parameter,
// an axis out of range, grad of a non-scalar) keeps the pass's own message.

#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/printer.h"
#include "tools/commands.h"
#include "tools/module_loader.h"
#include "tools/transform_spec.h"

namespace kiln::tools {

namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error("[transform] " + message);
}

int run_transform(const TransformOptions& options) {
  std::cout << ir::print(transform_module(options, load_module(options.file)));
  return 0;
}

}  // namespace

Action add_transform_command(CLI::App& app) {
  auto options = std::make_shared<TransformOptions>();
  CLI::App* cmd = app.add_subcommand(
      "transform",
      "Differentiate or batch a function of a .kir (or .json) file and print the result, "
      "simplified, as .kir");
  cmd->add_option("file", options->file, "The .kir or .json file (- reads .kir from stdin)")
      ->required();
  cmd->add_option("--func", options->func, "The function to transform (default: the first)");
  const char* help[] = {
      "Forward mode: f_jvp(x..., t_w...) -> (y..., t_y...), one tangent per --wrt parameter "
      "and per float result",
      "Reverse mode: f_vjp(x..., c_y...) -> (y..., c_w...), one cotangent per float result and "
      "per --wrt parameter",
      "The gradient of a float scalar result: f_grad(x...) -> (g_w...), one per --wrt parameter",
      "f_value_and_grad(x...) -> (y, g_w...)",
      "Batching: f_vmap with a batch axis per --in-axes, placed in the results per --out-axes "
      "(needs --batch-size)"};
  for (size_t i = 0; i < std::size(kModeFlags); ++i)
    cmd->add_flag(kModeFlags[i].flag, options->modes[i], help[i]);
  // Each value option is read as a list so that `--wrt=` (empty) and a repeated option reach
  // the checks here instead of CLI11's usage errors. One value at most per occurrence, so that
  // the file name after `--wrt 0` stays positional.
  struct ValueOption {
    const char* flag;
    const char* help;
    std::string* value;
    bool* given;
    std::vector<std::string> raw = {};
  };
  auto values = std::make_shared<std::vector<ValueOption>>(std::vector<ValueOption>{
      {"--wrt",
       "Comma-separated parameter indices to differentiate, in the order of the tangent or "
       "gradient parameters and results (default: every float parameter)",
       &options->wrt, &options->has_wrt},
      {"--in-axes",
       "--vmap: one entry per parameter, the axis of its batch (negative counts from the end) "
       "or none (not batched); default 0 for every parameter",
       &options->in_axes, &options->has_in_axes},
      {"--out-axes",
       "--vmap: the axis of each result's batch, one per result or one for all (default 0)",
       &options->out_axes, &options->has_out_axes},
      {"--batch-size", "--vmap: the batch size (required)", &options->batch_size,
       &options->has_batch_size}});
  for (ValueOption& option : *values)
    cmd->add_option(option.flag, option.raw, option.help)
        ->expected(0, 1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return [cmd, options, values]() -> int {
    if (!cmd->parsed()) return -1;
    for (const ValueOption& option : *values) {
      if (option.raw.size() > 1)
        fail(std::string(option.flag) + " is given " + std::to_string(option.raw.size()) +
             " times; give it once");
      *option.given = !option.raw.empty();
      *option.value = option.raw.empty() ? "" : option.raw.front();
    }
    return run_transform(*options);
  };
}

}  // namespace kiln::tools
