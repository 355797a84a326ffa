#include "tools/transform_spec.h"

#include <cassert>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/error.h"
#include "passes/autodiff.h"
#include "passes/pass_manager.h"
#include "passes/vmap.h"
#include "tools/module_loader.h"

namespace kiln::tools {

namespace {

constexpr const char* kModeList = "--jvp, --vjp, --grad, --value-and-grad, --vmap";

[[noreturn]] void fail(const std::string& message) {
  throw Error("[transform] " + message);
}

std::string trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(" \t") - begin + 1));
}

std::optional<int64_t> parse_integer(const std::string& token) {
  int64_t value = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc() || ptr != end || token.empty()) return std::nullopt;
  return value;
}

// The comma-separated entries of `--option=value`, trimmed; an empty list or entry is an error.
std::vector<std::string> split_list(const std::string& option, const std::string& value) {
  if (trim(value).empty())
    fail(option + "= is empty: give a comma-separated list, or leave the option out");
  std::vector<std::string> entries;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    std::string entry = trim(std::string_view(value).substr(start, comma - start));
    if (entry.empty())
      fail(option + "=" + value + ": entry " + std::to_string(entries.size() + 1) + " is empty");
    entries.push_back(std::move(entry));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return entries;
}

// An int-sized integer, or the error naming the option and what the entry should be.
int parse_int_entry(const std::string& option, const std::string& value, const std::string& entry,
                    const std::string& expected) {
  const std::optional<int64_t> n = parse_integer(entry);
  if (!n || *n < INT32_MIN || *n > INT32_MAX)
    fail(option + "=" + value + ": '" + entry + "' is not " + expected);
  return static_cast<int>(*n);
}

Mode pick_mode(const TransformOptions& options) {
  std::vector<const ModeFlag*> given;
  for (size_t i = 0; i < std::size(kModeFlags); ++i)
    if (options.modes[i]) given.push_back(&kModeFlags[i]);
  if (given.empty()) fail("give one of " + std::string(kModeList));
  if (given.size() > 1) {
    std::string names;
    for (size_t i = 0; i < given.size(); ++i)
      names += std::string(i == 0 ? "" : i + 1 == given.size() ? " and " : ", ") + given[i]->flag;
    fail(names + " cannot be combined: give exactly one of " + kModeList);
  }
  return given.front()->mode;
}

const char* mode_flag(Mode mode) {
  for (const ModeFlag& m : kModeFlags)
    if (m.mode == mode) return m.flag;
  return "";
}

// Options that belong to the other family of modes are errors, not silently ignored.
void check_options_apply(Mode mode, const TransformOptions& options) {
  if (mode == Mode::Vmap) {
    if (options.has_wrt)
      fail(
          "--wrt does not apply to --vmap (it picks the parameters to differentiate with --jvp, "
          "--vjp, --grad, --value-and-grad)");
    if (!options.has_batch_size) fail("--vmap needs --batch-size=B (the size of the batch axis)");
    return;
  }
  const struct {
    bool given;
    const char* flag;
  } vmap_only[] = {{options.has_in_axes, "--in-axes"},
                   {options.has_out_axes, "--out-axes"},
                   {options.has_batch_size, "--batch-size"}};
  for (const auto& option : vmap_only)
    if (option.given)
      fail(std::string(option.flag) + " applies only to --vmap, not to " + mode_flag(mode));
}

std::vector<int> parse_wrt(const TransformOptions& options) {
  if (!options.has_wrt) return {};  // every float parameter
  std::vector<int> wrt;
  for (const std::string& entry : split_list("--wrt", options.wrt))
    wrt.push_back(
        parse_int_entry("--wrt", options.wrt, entry, "a parameter index (an integer from 0)"));
  return wrt;
}

// "1 entry", "2 entries", "1 parameter", "3 parameters".
std::string count_text(size_t n, std::string_view what) {
  std::string text = std::to_string(n) + " " + std::string(what);
  if (n == 1) return text;
  return text.ends_with("y") ? text.substr(0, text.size() - 1) + "ies" : text + "s";
}

// The vmap options as given; empty axes lists stand for the defaults.
struct VmapOptions {
  std::vector<std::optional<int>> in_axes;
  std::vector<int> out_axes;
  int64_t batch_size = 0;
};

std::vector<std::optional<int>> parse_in_axes(const TransformOptions& options) {
  std::vector<std::optional<int>> axes;
  if (!options.has_in_axes) return axes;
  for (const std::string& entry : split_list("--in-axes", options.in_axes))
    axes.push_back(entry == "none" ? std::nullopt
                                   : std::optional<int>(parse_int_entry(
                                         "--in-axes", options.in_axes, entry,
                                         "an axis (an integer, negative from the end, or none)")));
  return axes;
}

std::vector<int> parse_out_axes(const TransformOptions& options) {
  std::vector<int> axes;
  if (!options.has_out_axes) return axes;
  for (const std::string& entry : split_list("--out-axes", options.out_axes))
    axes.push_back(parse_int_entry("--out-axes", options.out_axes, entry,
                                   "an axis (an integer, negative from the end)"));
  return axes;
}

int64_t parse_batch_size(const TransformOptions& options) {
  const std::string value = trim(options.batch_size);
  const std::optional<int64_t> n = parse_integer(value);
  if (!n || *n <= 0) fail("--batch-size=" + options.batch_size + " is not a positive integer");
  return *n;
}

// With no --wrt the passes pick every float parameter; a function without one has nothing to
// differentiate, which would print a degenerate function (grad with no results) rather than
// say so.
void check_something_to_differentiate(const ir::Function& f, std::span<const int> wrt) {
  if (!wrt.empty()) return;
  for (ir::Value p : f.params())
    if (ir::is_float(f.type(p).dtype)) return;
  fail("@" + f.name() + " has no float parameter to differentiate");
}

// The counts are checked here rather than left to the pass, so that the message names the
// option as the user wrote it.
ir::Function batch(const TransformOptions& options, VmapOptions vmap, const ir::Function& f) {
  const size_t num_params = f.params().size(), num_results = f.results().size();
  if (!options.has_in_axes) vmap.in_axes.assign(num_params, 0);
  if (!options.has_out_axes) vmap.out_axes = {0};
  if (vmap.in_axes.size() != num_params)
    fail("--in-axes=" + options.in_axes + " has " + count_text(vmap.in_axes.size(), "entry") +
         " but @" + f.name() + " has " + count_text(num_params, "parameter") +
         " (give one per parameter: an axis, or none for an unbatched one)");
  if (vmap.out_axes.size() != 1 && vmap.out_axes.size() != num_results)
    fail("--out-axes=" + options.out_axes + " has " + count_text(vmap.out_axes.size(), "entry") +
         " but @" + f.name() + " has " + count_text(num_results, "result") +
         " (give one per result, or one for all)");
  return passes::vmap(f, vmap.in_axes, vmap.out_axes, vmap.batch_size);
}

// Differentiates over the module: calls with a custom `vjp` or `checkpoint=1` keep their own
// rules in reverse mode (every other call is inlined), so the result may call functions that
// follow it.
ir::Module differentiate(Mode mode, const ir::Module& module, const ir::Function& f,
                         std::span<const int> wrt) {
  check_something_to_differentiate(f, wrt);
  switch (mode) {
    case Mode::Jvp:
      return passes::jvp(module, f, wrt);
    case Mode::Vjp:
      return passes::vjp(module, f, wrt);
    case Mode::Grad:
      return passes::grad(module, f, wrt);
    case Mode::ValueAndGrad:
      return passes::value_and_grad(module, f, wrt);
    case Mode::Vmap:
      break;
  }
  assert(false && "vmap is not a derivative");
  return {};
}

}  // namespace

ir::Module transform_module(const TransformOptions& options, const ir::Module& module) {
  const Mode mode = pick_mode(options);
  check_options_apply(mode, options);
  // The options that need no function are read before the file, so that their errors do not
  // depend on its contents.
  VmapOptions vmap;
  std::vector<int> wrt;
  if (mode == Mode::Vmap) {
    vmap = {parse_in_axes(options), parse_out_axes(options), parse_batch_size(options)};
  } else {
    wrt = parse_wrt(options);
  }
  ir::Module out;
  if (mode == Mode::Vmap) {
    // vmap has no rule for calls: it batches the flat function.
    const ir::Function f = pick_flat_function(module, options.func, options.file);
    out.functions.push_back(batch(options, std::move(vmap), f));
  } else {
    out = differentiate(mode, module, pick_function(module, options.func, options.file), wrt);
  }
  passes::PassManager simplify;
  simplify.add("simplify");
  return simplify.run(std::move(out));
}

}  // namespace kiln::tools
