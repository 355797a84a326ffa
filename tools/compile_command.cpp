// `kiln compile`: compiles functions of a .kir file, and transformed entries made from them,
// into an ahead-of-time bundle (compiler/bundle_writer.h) that the runtime alone runs:
// `kiln run B.kbundle`, or the C API (kiln/runtime.h).
//
//   --func F                   compile F as written (repeatable; default: the first function)
//   --entry NAME=MODE:F[:k=v]  add a transformed F under NAME, with `kiln transform`'s meaning:
//                              MODE is grad, value-and-grad, jvp, vjp (optional wrt=0,2) or vmap
//                              (batch=B, optional in-axes=0,none and out-axes=0)
//   --target T,T,...           CPU levels (x86-64-v2/v3/v4), host, vulkan
//   --bind P=FILE.npy          parameter %P becomes a weight stored in the bundle
//   --sign KEYFILE             sign with an Ed25519 secret key (`kiln bundle keygen`)

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "compiler/bundle_writer.h"
#include "io/npy.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/printer.h"
#include "passes/inline.h"
#include "tools/commands.h"
#include "tools/module_loader.h"
#include "tools/transform_spec.h"

namespace kiln::tools {

namespace {

struct CompileOptions {
  std::string file;
  std::string output;
  std::vector<std::string> funcs;
  std::vector<std::string> entries;
  std::string targets = "x86-64-v3,x86-64-v4";
  std::vector<std::string> binds;
  bool no_fuse = false;
  std::string sign;
};

[[noreturn]] void fail(const std::string& message) {
  throw Error("[compile] " + message);
}

// Runs a reader shared with other commands (load_module, load_npy, parse_secret_key, ...), whose
// messages start "[kiln] ", "[npy] ", "[bundle] " or "FILE: error: ", with its message put under
// [compile]: every failure of `kiln compile` is one [compile] line, so a script can tell which step
// failed.
template <class Read>
auto under_compile(const std::string& what, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.starts_with("[compile] ")) throw;
    if (message.starts_with("[") && message.find("] ") != std::string::npos)
      message.erase(0, message.find("] ") + 2);
    fail(what + message);
  }
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

struct ModeName {
  const char* name;
  Mode mode;
};
constexpr ModeName kEntryModes[] = {{"grad", Mode::Grad},
                                    {"value-and-grad", Mode::ValueAndGrad},
                                    {"jvp", Mode::Jvp},
                                    {"vjp", Mode::Vjp},
                                    {"vmap", Mode::Vmap}};

// NAME=MODE:F[:key=value]... as `kiln transform`'s options.
std::pair<std::string, TransformOptions> parse_entry(const std::string& entry,
                                                     const std::string& file) {
  const std::string where = "--entry " + entry + ": ";
  const size_t equals = entry.find('=');
  if (equals == std::string::npos || equals == 0)
    fail(where + "expected NAME=MODE:FUNCTION[:key=value...]");
  const std::string name = entry.substr(0, equals);
  const std::vector<std::string> parts = split(entry.substr(equals + 1), ':');
  if (parts.size() < 2 || parts[1].empty())
    fail(where + "expected NAME=MODE:FUNCTION[:key=value...] (a mode and a function)");
  TransformOptions options;
  options.file = file;
  options.func = parts[1];
  bool known = false;
  for (size_t i = 0; i < std::size(kEntryModes); ++i)
    if (parts[0] == kEntryModes[i].name) {
      for (size_t m = 0; m < std::size(kModeFlags); ++m)
        options.modes[m] = kModeFlags[m].mode == kEntryModes[i].mode;
      known = true;
    }
  if (!known)
    fail(where + "unknown mode '" + parts[0] + "' (grad, value-and-grad, jvp, vjp or vmap)");
  for (size_t i = 2; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
    if (eq == std::string::npos) fail(where + "'" + parts[i] + "' is not key=value");
    struct {
      const char* key;
      std::string* value;
      bool* given;
    } keys[] = {{"wrt", &options.wrt, &options.has_wrt},
                {"batch", &options.batch_size, &options.has_batch_size},
                {"in-axes", &options.in_axes, &options.has_in_axes},
                {"out-axes", &options.out_axes, &options.has_out_axes}};
    bool matched = false;
    for (auto& k : keys)
      if (key == k.key) {
        if (*k.given) fail(where + key + "= is given twice");
        *k.value = value;
        *k.given = matched = true;
      }
    if (!matched) fail(where + "unknown key '" + key + "' (wrt, batch, in-axes, out-axes)");
  }
  return {name, options};
}

// Runs `kiln transform`'s checks and rewrites, with its messages moved under [compile].
ir::Function transformed(const std::string& entry, const std::string& name,
                         const TransformOptions& options, const ir::Module& module) {
  ir::Module out;
  try {
    out = transform_module(options, module);
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.starts_with("[transform] ")) message.erase(0, 12);
    fail("--entry " + entry + ": " + message);
  }
  ir::Function flat = passes::inline_calls(out, out.functions.front());
  flat.set_name(name);
  return flat;
}

std::string read_key_file(const std::string& path) {
  return ir::InputFile(path, "[compile] --sign " + path).read_to_end(4096);
}

int run_compile(const CompileOptions& options) {
  compiler::BundleSpec spec;
  spec.targets = split(options.targets, ',');
  for (const std::string& t : spec.targets)
    if (t.empty()) fail("--target " + options.targets + ": an empty entry");
  spec.fuse = !options.no_fuse;
  std::vector<std::pair<std::string, TransformOptions>> entries;
  for (const std::string& e : options.entries)
    entries.push_back(parse_entry(e, options.file));
  for (const std::string& b : options.binds) {
    const size_t eq = b.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == b.size())
      fail("--bind " + b + ": expected PARAM=FILE.npy");
    for (const compiler::BundleWeight& w : spec.weights)
      if (w.param == b.substr(0, eq)) fail("--bind " + b + ": %" + w.param + " is bound twice");
    spec.weights.push_back(
        {b.substr(0, eq),
         under_compile("--bind " + b + ": ", [&] { return io::load_npy(b.substr(eq + 1)); }),
         b.substr(eq + 1)});
  }
  if (!options.sign.empty()) {
    const std::string key = read_key_file(options.sign);
    spec.signing_key = under_compile(
        "", [&] { return runtime::bundle::parse_secret_key(key, "--sign " + options.sign); });
  }
  const ir::Module module = under_compile("", [&] { return load_module(options.file); });
  spec.source_kir = ir::print(module);
  std::vector<std::string> funcs = options.funcs;
  if (funcs.empty() && entries.empty()) funcs.push_back("");  // the first function
  for (const std::string& f : funcs) {
    ir::Function flat = under_compile(f.empty() ? "" : "--func " + f + ": ",
                                      [&] { return pick_flat_function(module, f, options.file); });
    spec.functions.push_back({flat, flat.name()});
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string spec_text = options.entries[i].substr(options.entries[i].find('=') + 1);
    spec.functions.push_back(
        {transformed(options.entries[i], entries[i].first, entries[i].second, module), spec_text});
  }
  spec.options_text.push_back("targets=" + options.targets);
  spec.options_text.push_back(std::string("fuse=") + (spec.fuse ? "true" : "false"));
  const std::vector<std::byte> bundle = compiler::write_bundle(spec);
  ir::write_file_atomically(options.output, bundle, "[compile] -o " + options.output);
  std::cout << options.output << ": " << spec.functions.size() << " function"
            << (spec.functions.size() == 1 ? "" : "s") << ", targets " << options.targets << ", "
            << bundle.size() << " bytes\n";
  return 0;
}

}  // namespace

Action add_compile_command(CLI::App& app) {
  auto options = std::make_shared<CompileOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compile",
      "Compile functions of a .kir file ahead of time into a bundle (.kbundle) that runs "
      "without the compiler (kiln run B.kbundle, or the C API kiln/runtime.h)");
  cmd->add_option("file", options->file, "The .kir or .json file")->required();
  cmd->add_option("-o,--output", options->output, "The bundle to write")->required();
  cmd->add_option("--func", options->funcs,
                  "A function to compile as written (repeat for more; default: the first, "
                  "unless --entry is given)")
      ->allow_extra_args(false);
  cmd->add_option("--entry", options->entries,
                  "NAME=MODE:F[:key=value...]: a transformed F under NAME, as `kiln transform` "
                  "makes it; MODE grad, value-and-grad, jvp, vjp (key wrt=0,2) or vmap (keys "
                  "batch=B, in-axes=0,none, out-axes=0)")
      ->allow_extra_args(false);
  cmd->add_option("--target", options->targets,
                  "Comma-separated targets: x86-64-v2, x86-64-v3, x86-64-v4 (CPU levels), host "
                  "(this exact CPU), vulkan (kiln's portable Vulkan profile)")
      ->capture_default_str();
  cmd->add_option("--bind", options->binds,
                  "PARAM=FILE.npy: store the array in the bundle as parameter %PARAM, which "
                  "leaves the signature")
      ->allow_extra_args(false);
  cmd->add_flag("--no-fuse", options->no_fuse, "One kernel per op");
  cmd->add_option("--sign", options->sign,
                  "Sign with this Ed25519 secret key file (kiln bundle keygen)");
  return [cmd, options]() -> int { return cmd->parsed() ? run_compile(*options) : -1; };
}

}  // namespace kiln::tools
