// `kiln bundle`: look inside ahead-of-time bundles without running them.
//
//   kiln bundle inspect B [--dot [--func F]]   manifest, sections, targets, this machine's pick
//   kiln bundle verify B [--public-key K]...   every check opening makes, on every target
//   kiln bundle extract-ir B [--func F]        the .kir source (or one function as compiled)
//   kiln bundle keygen NAME                    an Ed25519 key pair: NAME.key and NAME.pub

#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "compiler/graphviz.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/parser.h"
#include "runtime/bundle/bundle.h"
#include "runtime/plan.h"
#include "tools/commands.h"

namespace kiln::tools {

namespace {

namespace rb = runtime::bundle;

struct BundleOptions {
  std::string file;
  std::string func;
  bool dot = false;
  std::vector<std::string> public_keys;
  bool require_signature = false;
  std::string name;
};

std::vector<std::byte> read_bytes(const std::string& path, const std::string& context) {
  try {
    ir::InputFile file(path, context + " " + path);
    const std::string text = file.read_to_end(uint64_t{64} << 30);
    const auto* data = reinterpret_cast<const std::byte*>(text.data());
    return {data, data + text.size()};
  } catch (const rb::BundleError&) {
    throw;
  } catch (const Error& e) {
    throw rb::BundleError(rb::BundleError::Kind::Io, e.what());
  }
}

// The container (sizes, digests, signature validity) and its one manifest, read but not
// cross-checked: what `inspect` shows, even of a bundle this machine could not open.
struct Inspected {
  rb::Container container;
  rb::Manifest manifest;
  const rb::Section* section(uint32_t index) const {
    for (const rb::Section& s : container.sections)
      if (s.index == index) return &s;
    return nullptr;
  }
};

Inspected inspect_bytes(std::span<const std::byte> bytes, const std::string& where) {
  Inspected out;
  out.container = rb::read_container(bytes, where);
  int manifests = 0;
  for (const rb::Section& s : out.container.sections)
    if (s.kind == static_cast<uint32_t>(rb::SectionKind::Manifest)) {
      out.manifest = rb::read_manifest(s.bytes, where);
      ++manifests;
    }
  if (manifests != 1)
    throw rb::BundleError(rb::BundleError::Kind::Corrupt, "[bundle] " + where + ": " +
                                                              std::to_string(manifests) +
                                                              " manifest sections (one expected)");
  return out;
}

std::string signature_text(const std::vector<rb::TensorDesc>& params) {
  std::string out;
  for (const rb::TensorDesc& p : params)
    out += (out.empty() ? "" : ", ") + p.name + ": " + p.type.str();
  return "(" + out + ")";
}

const rb::FunctionInfo& pick(const rb::Manifest& m, const std::string& name,
                             const std::string& where) {
  if (m.functions.empty())
    throw rb::BundleError(rb::BundleError::Kind::NotFound, "[bundle] " + where + ": no functions");
  if (name.empty()) return m.functions.front();
  for (const rb::FunctionInfo& f : m.functions)
    if (f.name == name) return f;
  std::string known;
  for (const rb::FunctionInfo& f : m.functions)
    known += (known.empty() ? "@" : ", @") + f.name;
  throw rb::BundleError(rb::BundleError::Kind::NotFound,
                        "[bundle] " + where + ": no function @" + name + " (it has " + known + ")");
}

std::string ir_of(const Inspected& in, uint32_t section) {
  const rb::Section* s = in.section(section);
  if (!s || s->kind != static_cast<uint32_t>(rb::SectionKind::Ir))
    throw rb::BundleError(rb::BundleError::Kind::Corrupt,
                          "[bundle] section " + std::to_string(section) + " is not IR");
  return {reinterpret_cast<const char*>(s->bytes.data()), s->bytes.size()};
}

int inspect(const BundleOptions& o) {
  const std::vector<std::byte> bytes = read_bytes(o.file, "[bundle]");
  const Inspected in = inspect_bytes(bytes, o.file);
  const rb::Manifest& m = in.manifest;
  if (o.dot) {
    const rb::FunctionInfo& f = pick(m, o.func, o.file);
    const ir::Module module = ir::parse_module(ir_of(in, f.ir_section), o.file + " @" + f.name);
    std::cout << compiler::graphviz(module.functions.front());
    return 0;
  }
  std::cout << o.file << ": kiln bundle format " << in.container.major << "." << in.container.minor
            << ", " << bytes.size() << " bytes, made by kiln " << m.kiln_version << "\n";
  std::cout << "kernel imports: version " << m.kernel_imports_version
            << "; Vulkan: " << (m.vulkan_profile.empty() ? "none" : m.vulkan_profile) << " (ABI "
            << m.vulkan_abi_version << ")\n";
  std::string options;
  for (const std::string& opt : m.options)
    options += (options.empty() ? "" : ", ") + opt;
  std::cout << "options: " << options << "\n";
  const rb::SignatureInfo& sig = in.container.signature;
  std::cout << "signature: "
            << (!sig.present
                    ? std::string("none")
                    : "Ed25519 by " + rb::hex(sig.key) + (sig.valid ? " (valid)" : " (INVALID)"))
            << "\n";
  std::cout << "sections:\n";
  for (const rb::Section& s : in.container.sections) {
    char line[160];
    std::snprintf(line, sizeof line, "  %2u %-9s %10zu bytes  align %-5u sha256 %s\n", s.index,
                  std::string(rb::section_kind_name(s.kind)).c_str(), s.bytes.size(), s.alignment,
                  rb::hex(s.digest).substr(0, 16).c_str());
    std::cout << line;
  }
  for (uint32_t kind : in.container.skipped_kinds)
    std::cout << "  (an optional section of unknown kind " << kind << ", skipped)\n";
  std::cout << "CPU targets (this machine's pick first):\n";
  const std::vector<rb::TargetChoice> ranked = rb::rank_cpu_targets(m);
  for (size_t i = 0; i < ranked.size(); ++i) {
    std::string missing;
    for (const std::string& f : ranked[i].missing)
      missing += (missing.empty() ? "" : ", ") + f;
    std::cout << "  " << ranked[i].name << ": "
              << (missing.empty() ? (i == 0 ? "runs here (picked)" : "runs here")
                                  : "cannot run here, lacks " + missing)
              << "\n";
  }
  std::cout << "functions:\n";
  for (const rb::FunctionInfo& f : m.functions) {
    std::cout << "  @" << f.name << signature_text(f.params) << " -> " << signature_text(f.results);
    if (f.origin != f.name) std::cout << "  [" << f.origin << "]";
    std::cout << "\n";
    for (const rb::BoundWeight& b : f.bound)
      std::cout << "    weight " << m.weights[b.weight].name << ": "
                << m.weights[b.weight].type.str() << " (bound)\n";
    for (const rb::Variant& v : f.variants) {
      const rb::Section* s = in.section(v.plan_section);
      if (!s) continue;
      const runtime::Plan plan = runtime::load_plan(s->bytes, o.file);
      std::cout << "    " << v.target << ": " << plan.steps.size() << " kernel runs, "
                << plan.kernels.size() << " distinct kernels, arena " << plan.arena_bytes
                << " bytes\n";
      for (const runtime::PlanKernel& k : plan.kernels)
        std::cout << "      " << k.name << " (" << k.symbol << ", " << k.outer_count << " outer)\n";
    }
  }
  return 0;
}

std::vector<rb::PublicKey> read_public_keys(const std::vector<std::string>& paths) {
  std::vector<rb::PublicKey> keys;
  for (const std::string& path : paths) {
    const std::vector<std::byte> text = read_bytes(path, "[bundle] --public-key");
    keys.push_back(rb::parse_public_key({reinterpret_cast<const char*>(text.data()), text.size()},
                                        "--public-key " + path));
  }
  return keys;
}

int verify(const BundleOptions& o) {
  const std::vector<std::byte> bytes = read_bytes(o.file, "[bundle]");
  rb::verify_bundle(bytes, o.file, read_public_keys(o.public_keys),
                    o.require_signature || !o.public_keys.empty());
  const Inspected in = inspect_bytes(bytes, o.file);
  std::cout << o.file << ": ok (" << in.manifest.functions.size() << " functions; "
            << (in.container.signature.present
                    ? "signed by " + rb::hex(in.container.signature.key) +
                          (o.public_keys.empty() ? ", a key not checked against any" : ", trusted")
                    : std::string("not signed"))
            << ")\n";
  return 0;
}

int extract_ir(const BundleOptions& o) {
  const std::vector<std::byte> bytes = read_bytes(o.file, "[bundle]");
  const Inspected in = inspect_bytes(bytes, o.file);
  std::cout << (o.func.empty() ? ir_of(in, in.manifest.source_ir_section)
                               : ir_of(in, pick(in.manifest, o.func, o.file).ir_section));
  return 0;
}

int keygen(const BundleOptions& o) {
  const rb::KeyPair pair = rb::generate_key_pair();
  auto write = [](const std::string& path, const std::string& text, mode_t mode) {
    ir::write_file_atomically(path, std::as_bytes(std::span(text)), "[bundle] keygen " + path,
                              mode);
  };
  write(o.name + ".key", rb::hex(pair.secret_key) + "\n", 0600);
  write(o.name + ".pub", rb::hex(pair.public_key) + "\n", 0644);
  std::cout << o.name << ".key (secret: keep it private), " << o.name << ".pub (public)\n";
  return 0;
}

}  // namespace

Action add_bundle_command(CLI::App& app) {
  auto options = std::make_shared<BundleOptions>();
  CLI::App* cmd = app.add_subcommand("bundle", "Inspect, verify or take apart a .kbundle");
  cmd->require_subcommand(1);
  CLI::App* inspect_cmd =
      cmd->add_subcommand("inspect", "Print a bundle's manifest, sections and targets");
  inspect_cmd->add_option("file", options->file, "The bundle")->required();
  inspect_cmd->add_flag("--dot", options->dot,
                        "Print a function as a Graphviz graph, each fused kernel a cluster");
  inspect_cmd->add_option("--func", options->func, "With --dot: the function (default: first)");
  CLI::App* verify_cmd =
      cmd->add_subcommand("verify", "Check everything opening checks, for every target");
  verify_cmd->add_option("file", options->file, "The bundle")->required();
  verify_cmd
      ->add_option("--public-key", options->public_keys,
                   "A trusted Ed25519 public key file: the bundle must be signed by one")
      ->allow_extra_args(false);
  verify_cmd->add_flag("--require-signature", options->require_signature,
                       "Refuse a bundle without a valid signature");
  CLI::App* extract_cmd =
      cmd->add_subcommand("extract-ir", "Print the bundle's .kir source (kiln accepts it again)");
  extract_cmd->add_option("file", options->file, "The bundle")->required();
  extract_cmd->add_option("--func", options->func,
                          "Print this function as it was compiled (after its transform)");
  CLI::App* keygen_cmd =
      cmd->add_subcommand("keygen", "Make an Ed25519 key pair for kiln compile --sign");
  keygen_cmd->add_option("name", options->name, "Writes NAME.key and NAME.pub")->required();
  return [=]() -> int {
    if (!cmd->parsed()) return -1;
    if (inspect_cmd->parsed()) return inspect(*options);
    if (verify_cmd->parsed()) return verify(*options);
    if (extract_cmd->parsed()) return extract_ir(*options);
    return keygen(*options);
  };
}

}  // namespace kiln::tools
