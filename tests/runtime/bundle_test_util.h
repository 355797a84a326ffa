#pragma once
// Shared pieces of the bundle tests: bundles made in-process with compiler::write_bundle, taken
// apart into their sections and sealed again with write_container (so that damage planted
// inside a section gets past the digests and reaches the reader that must catch it), and
// results checked against the interpreter.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compiler/bundle_writer.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "runtime/bundle/bundle.h"
#include "tests/codegen/random_graph.h"
#include "tests/common/require_device.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime::bundle::testing {

using Bytes = std::vector<std::byte>;
using Kind = BundleError::Kind;

// The functions most bundle tests compile: a dot with a broadcast, and an f64 exp (which calls
// the C library's exp: the import the forbidden-import test renames) with two results.
inline constexpr const char* kProgram =
    R"(func @affine(%x: f32[4,3], %w: f32[3,2], %b: f32[2]) -> f32[4,2] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[4,2]
  %1 = broadcast %b {shape=[4,2], dims=[1]} : f32[4,2]
  %2 = add %0, %1 : f32[4,2]
  return %2
}
func @expmul(%x: f64[100]) -> (f64[100], f64[]) {
  %0 = exp %x : f64[100]
  %1 = mul %0, %x : f64[100]
  %2 = reduce_sum %x {axes=[0]} : f64[]
  return %1, %2
}
)";

// The best level this machine runs, so that a test compiles for one target only.
inline std::string best_cpu_level() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v4") ? "x86-64-v4" : "x86-64-v3";
}

// Every function of `kir`, as written, for `targets`.
inline compiler::BundleSpec spec_of(const std::string& kir, std::vector<std::string> targets) {
  compiler::BundleSpec spec;
  spec.source_kir = kir;
  for (const ir::Function& f : ir::parse_module(kir, "test").functions)
    spec.functions.push_back({f, f.name()});
  spec.targets = std::move(targets);
  return spec;
}

inline Bytes text_bytes(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

// A bundle's sections as write_container takes them, in table order. Unsigned bundles without
// unknown sections only: then every section keeps its table index when sealed again.
inline std::vector<SectionData> sections_of(const Bytes& bundle) {
  const Container c = read_container(bundle, "test");
  EXPECT_FALSE(c.signature.present);
  EXPECT_TRUE(c.skipped_kinds.empty());
  std::vector<SectionData> out;
  for (const Section& s : c.sections)
    out.push_back({static_cast<SectionKind>(s.kind), s.flags, s.alignment,
                   Bytes(s.bytes.begin(), s.bytes.end())});
  return out;
}

inline size_t first_section(const std::vector<SectionData>& sections, SectionKind kind) {
  for (size_t i = 0; i < sections.size(); ++i)
    if (sections[i].kind == kind) return i;
  ADD_FAILURE() << "no section of kind " << section_kind_name(static_cast<uint32_t>(kind));
  return 0;
}

// `bundle` with its manifest edited, sealed again.
inline Bytes with_manifest(const Bytes& bundle, const std::function<void(Manifest&)>& edit) {
  std::vector<SectionData> sections = sections_of(bundle);
  SectionData& json = sections[first_section(sections, SectionKind::Manifest)];
  Manifest m = read_manifest(json.bytes, "test");
  edit(m);
  json.bytes = text_bytes(write_manifest(m));
  return write_container(sections);
}

// `bundle` with the bytes of its first section of `kind` edited, sealed again.
inline Bytes with_section(const Bytes& bundle, SectionKind kind,
                          const std::function<void(Bytes&)>& edit) {
  std::vector<SectionData> sections = sections_of(bundle);
  edit(sections[first_section(sections, kind)].bytes);
  return write_container(sections);
}

// Each function of the bundle, on seeded random arguments, against the interpreter running the
// function of `module` that has its name (bound weights: `weights` by parameter name).
inline void expect_matches_interpreter(const Bundle& bundle, const ir::Module& module,
                                       const std::map<std::string, ir::HostArray>& weights = {}) {
  ASSERT_FALSE(bundle.functions().empty());
  for (const BundleFunction& bf : bundle.functions()) {
    const ir::Function* f = module.find(bf.name());
    ASSERT_NE(f, nullptr) << bf.name();
    std::vector<ir::HostArray> all = codegen::testing::random_args(*f, 7), args;
    for (size_t i = 0; i < f->params().size(); ++i) {
      auto w = weights.find(f->node(f->params()[i]).param_name);
      if (w == weights.end())
        args.push_back(all[i]);
      else
        all[i] = w->second;
    }
    const std::vector<ir::HostArray> want = ir::interpret(*f, all), got = bf.run(args);
    ASSERT_EQ(got.size(), want.size()) << bf.name();
    for (size_t r = 0; r < want.size(); ++r)
      EXPECT_EQ(codegen::testing::compare_compiled(want[r], got[r]), "")
          << "@" << bf.name() << " on " << bundle.target() << ", result " << r << ", in\n"
          << ir::print(*f);
  }
}

}  // namespace kiln::runtime::bundle::testing
