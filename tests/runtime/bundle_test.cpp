// Ahead-of-time bundles (runtime/bundle/bundle.h) made in-process with compiler::write_bundle and
// opened by the runtime alone: each CPU level's code and the Vulkan plans against the
// interpreter, the target pick, bound weights, signatures, and bad bundles, each refused with
// its BundleError::Kind and a message naming the rule, before any of their code runs. Damage
// inside a section is planted and the container sealed again with write_container, so that the
// digests pass and the check meant for it (manifest, plan or ELF validation) must catch it.

#include "runtime/bundle/bundle.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/kernel_loader.h"
#include "tests/common/require_device.h"
#include "tests/runtime/bundle_test_util.h"
#include "tests/runtime/elf_test_util.h"

namespace kiln::runtime::bundle {
namespace {

using namespace testing;

const ir::Module& program() {
  static const ir::Module module = ir::parse_module(kProgram, "test");
  return module;
}

// The bundle most refusal tests damage: both functions for x86-64-v3 alone, so that its one
// code section is the one a v3-or-better machine loads. Compiled once per process.
const Bytes& v3_bundle() {
  static const Bytes bundle = compiler::write_bundle(spec_of(kProgram, {"x86-64-v3"}));
  return bundle;
}

// Refused by opening with `kind`, in a message naming the input and holding `rule`.
void expect_open_refused(const Bytes& bytes, Kind kind, const std::string& rule,
                         const BundleOptions& options = {}) {
  try {
    Bundle::open_memory(bytes, options, "test.kbundle");
    ADD_FAILURE() << "opened; expected a refusal for: " << rule;
  } catch (const BundleError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), kind) << message;
    EXPECT_NE(message.find("test.kbundle"), std::string::npos) << message;
    EXPECT_NE(message.find(rule), std::string::npos) << "expected '" << rule << "' in: " << message;
  }
}

// Refused alike by opening and by `kiln bundle verify`'s checks.
void expect_refused(const Bytes& bytes, Kind kind, const std::string& rule) {
  expect_open_refused(bytes, kind, rule);
  try {
    verify_bundle(bytes, "test.kbundle", {}, false);
    ADD_FAILURE() << "verified; expected a refusal for: " << rule;
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(rule), std::string::npos) << e.what();
  }
}

// ---- Whole bundles ---------------------------------------------------------------------------

TEST(Bundle, EachCpuLevelMatchesTheInterpreter) {
  KILN_REQUIRE_X86_64_V3();
  for (const std::string level : {"x86-64-v3", "x86-64-v4"}) {
    if (level == "x86-64-v4" && best_cpu_level() != level) continue;
    const Bundle b = Bundle::open_memory(compiler::write_bundle(spec_of(kProgram, {level})));
    EXPECT_EQ(b.target(), level);
    ASSERT_EQ(b.functions().size(), 2u);
    EXPECT_EQ(b.functions()[0].name(), "affine");
    EXPECT_EQ(b.functions()[1].params()[0].type.str(), "f64[100]");
    expect_matches_interpreter(b, program());
  }
}

TEST(Bundle, PicksTheBestLevelTheMachineRuns) {
  KILN_REQUIRE_X86_64_V3();
  const Bytes bytes = compiler::write_bundle(spec_of(kProgram, {"x86-64-v3", "x86-64-v4"}));
  const Bundle b = Bundle::open_memory(bytes);
  EXPECT_EQ(b.target(), best_cpu_level());
  const std::vector<TargetChoice> ranked = rank_cpu_targets(b.manifest());
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].name, best_cpu_level());
  EXPECT_TRUE(ranked[0].missing.empty());
  if (best_cpu_level() == "x86-64-v3") {
    EXPECT_FALSE(ranked[1].missing.empty());
  }
  expect_matches_interpreter(b, program());
}

TEST(Bundle, OpenFileReadsWhatWasWritten) {
  KILN_REQUIRE_X86_64_V3();
  const std::filesystem::path dir = runtime::testing::temp_dir("bundle");
  std::ofstream(dir / "b.kbundle", std::ios::binary)
      .write(reinterpret_cast<const char*>(v3_bundle().data()),
             static_cast<std::streamsize>(v3_bundle().size()));
  const Bundle b = Bundle::open_file(dir / "b.kbundle");
  expect_matches_interpreter(b, program());
  EXPECT_EQ(b.ir_text(b.manifest().source_ir_section), kProgram);
  try {
    Bundle::open_file(dir / "missing.kbundle");
    ADD_FAILURE() << "a missing file opened";
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), Kind::Io) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing.kbundle"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(Bundle, BoundWeightsLeaveTheSignatureAndFeedTheFunction) {
  KILN_REQUIRE_X86_64_V3();
  compiler::BundleSpec spec = spec_of(kProgram, {"x86-64-v3"});
  ir::HostArray w(ir::TensorType{ir::DType::F32, {3, 2}});
  for (int64_t i = 0; i < 6; ++i)
    w.set_f64(i, 0.25 * static_cast<double>(i) - 0.5);
  spec.weights.push_back({"w", w, "w.npy"});
  const Bundle b = Bundle::open_memory(compiler::write_bundle(spec));
  const BundleFunction& affine = *b.find("affine");
  ASSERT_EQ(affine.params().size(), 2u);
  EXPECT_EQ(affine.params()[0].name, "x");
  EXPECT_EQ(affine.params()[1].name, "b");
  ASSERT_EQ(b.manifest().weights.size(), 1u);
  EXPECT_EQ(b.manifest().weights[0].offset % 64, 0u);
  expect_matches_interpreter(b, program(), {{"w", w}});

  spec.weights[0].value = ir::HostArray(ir::TensorType{ir::DType::F32, {2, 3}});
  try {
    compiler::write_bundle(spec);
    ADD_FAILURE() << "a weight of the wrong shape was bound";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[compile] --bind w=w.npy"), std::string::npos)
        << e.what();
  }
}

TEST(Bundle, AResultThatIsABoundWeightOutlivesTheBundle) {
  KILN_REQUIRE_X86_64_V3();
  compiler::BundleSpec spec = spec_of(R"(func @same(%x: f32[2], %w: f32[3]) -> (f32[2], f32[3]) {
  return %x, %w
})",
                                      {"x86-64-v3"});
  ir::HostArray w(ir::TensorType{ir::DType::F32, {3}});
  for (int64_t i = 0; i < 3; ++i)
    w.set_f64(i, 1.5 + static_cast<double>(i));
  spec.weights.push_back({"w", w, "w.npy"});
  std::vector<ir::HostArray> results;
  {
    const Bundle b = Bundle::open_memory(compiler::write_bundle(spec));
    results = b.find("same")->run(std::vector{ir::HostArray(ir::TensorType{ir::DType::F32, {2}})});
  }
  // The bundle is closed; the result shares the weight's bytes, which must still be there
  // (AddressSanitizer builds check the read).
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1], w);
}

TEST(Bundle, VulkanPlansMatchTheInterpreter) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const Bytes bytes = compiler::write_bundle(spec_of(kProgram, {"x86-64-v3", "vulkan"}));
  const Bundle b = Bundle::open_memory(bytes, {.device = BundleOptions::Device::Vulkan});
  EXPECT_EQ(b.target(), "vulkan");
  expect_matches_interpreter(b, program());
}

TEST(Bundle, WithoutVulkanCodeVulkanIsRefused) {
  expect_open_refused(v3_bundle(), Kind::UnsupportedTarget, "it has no Vulkan code",
                      {.device = BundleOptions::Device::Vulkan});
}

TEST(Bundle, ArgumentsAreChecked) {
  KILN_REQUIRE_X86_64_V3();
  const Bundle b = Bundle::open_memory(v3_bundle());
  const std::vector<ir::HostArray> wrong = {ir::HostArray(ir::TensorType{ir::DType::F32, {100}})};
  try {
    b.find("expmul")->run(wrong);
    ADD_FAILURE() << "ran on an f32 argument";
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), Kind::Argument);
    EXPECT_NE(std::string(e.what()).find("argument 0 (%x)"), std::string::npos) << e.what();
  }
}

// ---- The container ---------------------------------------------------------------------------

struct Layout {
  size_t table_end;
  std::vector<std::pair<size_t, size_t>> sections;  // file offset and size, in table order
};

Layout layout(const Bytes& bundle) {
  const Container c = read_container(bundle, "test");
  Layout out{kHeaderBytes + c.sections.size() * kSectionEntryBytes, {}};
  for (const Section& s : c.sections)
    out.sections.emplace_back(static_cast<size_t>(s.bytes.data() - bundle.data()), s.bytes.size());
  return out;
}

TEST(BundleRefusals, TruncatedAtEverySectionBoundary) {
  const Bytes& good = v3_bundle();
  const Layout l = layout(good);
  std::vector<size_t> cuts = {
      0, 7, 8, kHeaderBytes - 1, kHeaderBytes, l.table_end - 1, l.table_end, good.size() - 1};
  for (auto [offset, size] : l.sections)
    for (size_t cut : {offset - 1, offset, offset + 1, offset + size - 1, offset + size})
      if (cut < good.size()) cuts.push_back(cut);
  for (size_t cut : cuts) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const Bytes bad(good.begin(), good.begin() + static_cast<ptrdiff_t>(cut));
    expect_refused(bad, Kind::Corrupt,
                   cut < 8 ? "not a kiln bundle (no KILNBNDL magic)"
                   : cut < kHeaderBytes
                       ? "the file ends inside the header"
                       : "the file has " + std::to_string(cut) + " (truncated or extended)");
    // With the header's size made to agree, the table and sections must be checked themselves.
    if (cut < kHeaderBytes) continue;
    Bytes agreed = bad;
    elf_testing::put<uint64_t>(agreed, 16, cut);
    expect_refused(
        agreed, Kind::Corrupt,
        cut < l.table_end ? "the section table lies outside the file" : "lies outside the file");
  }
}

TEST(BundleRefusals, AFlippedByteInEachSection) {
  const Bytes& good = v3_bundle();
  const Layout l = layout(good);
  const Container c = read_container(good, "test");
  for (size_t i = 0; i < l.sections.size(); ++i) {
    const auto [offset, size] = l.sections[i];
    const std::string name = "section " + std::to_string(i) + " (" +
                             std::string(section_kind_name(c.sections[i].kind)) + ")";
    for (size_t at : {offset, offset + size / 2, offset + size - 1}) {
      Bytes bad = good;
      bad[at] ^= std::byte{0x20};
      expect_refused(bad, Kind::Corrupt, name + ": its SHA-256 does not match");
    }
    // The digest itself, in the table.
    Bytes bad = good;
    bad[kHeaderBytes + i * kSectionEntryBytes + 40] ^= std::byte{1};
    expect_refused(bad, Kind::Corrupt, name + ": its SHA-256 does not match");
  }
}

TEST(BundleRefusals, AFlippedPaddingByte) {
  // Between sections, where no digest reaches: still refused, so no byte changes unnoticed.
  const Bytes& good = v3_bundle();
  const Layout l = layout(good);
  size_t padding = 0;  // sections are written in table order, each after the one before
  for (size_t i = 0; i + 1 < l.sections.size() && padding == 0; ++i)
    if (l.sections[i + 1].first > l.sections[i].first + l.sections[i].second)
      padding = l.sections[i].first + l.sections[i].second;
  ASSERT_NE(padding, 0u) << "the bundle has no padding between sections";
  Bytes bad = good;
  bad[padding] ^= std::byte{0x10};
  expect_refused(bad, Kind::Corrupt, "byte " + std::to_string(padding) + ", padding before");
}

TEST(BundleRefusals, HeaderAndTableFields) {
  const Bytes& good = v3_bundle();
  auto patched = [&](size_t at, auto value) {
    Bytes bad = good;
    elf_testing::put(bad, at, value);
    return bad;
  };
  expect_refused(patched(0, 'k'), Kind::Corrupt, "not a kiln bundle (no KILNBNDL magic)");
  expect_refused(patched(12, uint32_t{32}), Kind::Corrupt, "the header size is not 64");
  expect_refused(patched(36, uint32_t{1}), Kind::Corrupt, "unknown header flags");
  expect_refused(patched(48, uint8_t{1}), Kind::Corrupt, "reserved bytes are not zero");
  expect_refused(patched(32, uint32_t{1000000}), Kind::Corrupt,
                 "the section table lies outside the file");
  expect_refused(patched(24, uint64_t{8}), Kind::Corrupt, "the section table does not follow");
  expect_refused(patched(24, uint64_t{128}), Kind::Corrupt, "the section table does not follow");
  const size_t entry = kHeaderBytes + kSectionEntryBytes;  // section 1's
  expect_refused(patched(entry + 4, uint32_t{2}), Kind::Corrupt, "section 1: unknown flags");
  expect_refused(patched(entry + 24, uint32_t{3}), Kind::Corrupt,
                 "section 1: alignment 3 is not a power of two");
  expect_refused(patched(entry + 8, ~uint64_t{0} - 4), Kind::Corrupt, "lies outside the file");
  expect_refused(patched(entry + 16, ~uint64_t{0}), Kind::Corrupt, "lies outside the file");
  // Section 2 made to describe section 1's bytes, digest and all.
  Bytes overlap = good;
  std::memcpy(overlap.data() + entry + kSectionEntryBytes + 8, good.data() + entry + 8, 24);
  std::memcpy(overlap.data() + entry + kSectionEntryBytes + 32, good.data() + entry + 32, 32);
  expect_refused(overlap, Kind::Corrupt, "sections 1 and 2 overlap");
}

TEST(BundleRefusals, ANewerMajorVersion) {
  Bytes bad = v3_bundle();
  elf_testing::put<uint16_t>(bad, 8, kFormatMajor + 1);
  expect_refused(
      bad, Kind::Version,
      std::string("bundle format 2.0, this runtime reads format 1.0 to 1.0") + kRebuildAdvice);
}

TEST(BundleRefusals, AnUnknownRequiredSectionButNotAnOptionalOne) {
  for (uint32_t flags : {kSectionRequired, 0u}) {
    std::vector<SectionData> sections = sections_of(v3_bundle());
    sections.push_back({static_cast<SectionKind>(99), flags, 8, text_bytes("from a newer kiln")});
    const Bytes bytes = write_container(sections);
    if (flags) {
      expect_refused(bytes, Kind::Version,
                     "has kind 99, which this runtime does not know and the bundle requires");
      continue;
    }
    verify_bundle(bytes, "test", {}, false);
    KILN_REQUIRE_X86_64_V3();
    const Bundle b = Bundle::open_memory(bytes);
    EXPECT_EQ(b.container().skipped_kinds, std::vector<uint32_t>{99});
    expect_matches_interpreter(b, program());
  }
}

// ---- Damage inside sections, past the digests ------------------------------------------------

TEST(BundleRefusals, CodeWithAnInitializer) {
  KILN_REQUIRE_X86_64_V3();  // opening checks code and plans of the target it picks
  const Bytes bad = with_section(v3_bundle(), SectionKind::Code, [](Bytes& so) {
    // lld's -z now writes DT_FLAGS: its slot becomes a DT_INIT_ARRAY, code run on load.
    elf_testing::put(so, elf_testing::dynamic_entry(so, DT_FLAGS), Elf64_Sxword{DT_INIT_ARRAY});
  });
  expect_refused(bad, Kind::Corrupt, "[loader] test.kbundle (code for x86-64-v3): ");
  expect_refused(bad, Kind::Corrupt, "code that would run on load");
}

TEST(BundleRefusals, CodeWithAForbiddenImport) {
  KILN_REQUIRE_X86_64_V3();  // opening checks code and plans of the target it picks
  const Bytes bad = with_section(v3_bundle(), SectionKind::Code, [](Bytes& so) {
    elf_testing::rename_dynamic_string(so, "exp", "sys");
  });
  expect_refused(bad, Kind::Corrupt, "imports 'sys', which the runtime does not provide");
}

TEST(BundleRefusals, CodeForACpuLevelThisMachineLacks) {
  // A feature this machine lacks, named as LLVM names it in a target description.
  std::string lacking;
  for (const char* f : {"avx512fp16", "avx512bf16", "avx512vp2intersect", "avx512vbmi2",
                        "avx512bitalg", "avx512vpopcntdq", "gfni", "vaes", "avx512f"})
    if (!missing_cpu_features(std::string("x86_64 x86-64 +") + f).empty()) {
      lacking = f;
      break;
    }
  if (!lacking.empty()) {
    const Bytes bad = with_manifest(
        v3_bundle(), [&](Manifest& m) { m.cpu_targets.at(0).description += ",+" + lacking; });
    expect_open_refused(bad, Kind::UnsupportedTarget,
                        "no CPU code this machine can run; x86-64-v3 needs " + lacking);
  }
  // A level this runtime has never heard of, whatever the machine.
  const Bytes future = with_manifest(v3_bundle(), [](Manifest& m) {
    m.cpu_targets.at(0).name = "x86-64-v9";
    for (FunctionInfo& f : m.functions)
      f.variants.at(0).target = "x86-64-v9";
  });
  expect_open_refused(future, Kind::UnsupportedTarget,
                      "x86-64-v9 needs a target this runtime does not know");
  if (lacking.empty()) GTEST_SKIP() << "this machine has every feature the test knows to ask for";
}

TEST(BundleRefusals, APlanSectionThatIsNotAPlan) {
  KILN_REQUIRE_X86_64_V3();  // opening checks code and plans of the target it picks
  const Bytes bad = with_section(v3_bundle(), SectionKind::Plan,
                                 [](Bytes& plan) { plan = text_bytes("not a plan"); });
  expect_refused(bad, Kind::Corrupt, "@affine for x86-64-v3: [plan] ");
  expect_refused(bad, Kind::Corrupt, "not a kiln plan (bad magic)");
}

TEST(BundleRefusals, APlanNamingASymbolTheCodeLacks) {
  KILN_REQUIRE_X86_64_V3();
  const Bytes bad = with_section(v3_bundle(), SectionKind::Plan, [](Bytes& bytes) {
    runtime::Plan plan = runtime::load_plan(bytes, "plan");
    plan.kernels[0].symbol = "kiln_kernel_missing";
    bytes = runtime::save_plan(plan);
  });
  expect_refused(bad, Kind::Corrupt, "kiln_kernel_missing");
}

TEST(BundleRefusals, APlanOfAnotherFormatIsAVersionRefusal) {
  KILN_REQUIRE_X86_64_V3();
  const Bytes bad = with_section(v3_bundle(), SectionKind::Plan, [](Bytes& bytes) {
    elf_testing::put<uint32_t>(bytes, 8, runtime::kPlanFormatVersion + 1);
  });
  expect_refused(bad, Kind::Version,
                 "plan format " + std::to_string(runtime::kPlanFormatVersion + 1) +
                     ", this runtime reads format");
}

TEST(BundleRefusals, AManifestNamingAMissingSection) {
  expect_refused(with_manifest(v3_bundle(), [](Manifest& m) { m.functions[0].ir_section = 99; }),
                 Kind::Corrupt, "@affine names section 99, which is not a ir section");
  expect_refused(with_manifest(v3_bundle(),
                               [](Manifest& m) {
                                 m.functions[1].variants[0].plan_section = m.source_ir_section;
                               }),
                 Kind::Corrupt, "@expmul for x86-64-v3 names section 1, which is not a plan");
  expect_refused(with_manifest(v3_bundle(), [](Manifest& m) { m.cpu_targets[0].code_section = 0; }),
                 Kind::Corrupt,
                 "CPU target x86-64-v3 names section 0, which is not a code section");
  expect_refused(with_manifest(v3_bundle(),
                               [](Manifest& m) {
                                 m.weights.push_back({"w", {ir::DType::F32, {3, 2}}, 0});
                               }),
                 Kind::Corrupt, "the manifest lists weights but no weights section");
}

TEST(BundleRefusals, AManifestThatIsNotOne) {
  KILN_REQUIRE_X86_64_V3();  // opening checks code and plans of the target it picks
  const Bytes bad = with_section(v3_bundle(), SectionKind::Manifest,
                                 [](Bytes& json) { json.resize(json.size() / 2); });
  expect_refused(bad, Kind::Corrupt, "manifest: (top): not JSON");
  const Bytes newer = with_manifest(v3_bundle(), [](Manifest& m) { ++m.manifest_version; });
  expect_refused(newer, Kind::Version, "manifest version 2, this runtime reads version 1");
  const Bytes imports = with_manifest(v3_bundle(), [](Manifest& m) { ++m.kernel_imports_version; });
  expect_refused(imports, Kind::Version, "this runtime provides version");
  const Bytes shape = with_manifest(v3_bundle(), [](Manifest& m) {
    m.functions[0].params[0].type.shape = {4, 4};
  });
  expect_refused(shape, Kind::Corrupt,
                 "@affine for x86-64-v3: plan parameter 0 is f32[4,3], the manifest says f32[4,4]");
}

// ---- Signatures -------------------------------------------------------------------------------

TEST(BundleSignatures, TrustedKeysAndTampering) {
  const KeyPair a = generate_key_pair(), b = generate_key_pair();
  const Signer signer{a.secret_key};
  const Bytes signed_bundle = write_container(sections_of(v3_bundle()), &signer);
  auto options = [](std::vector<PublicKey> keys, bool required = false) {
    return BundleOptions{.trusted_keys = std::move(keys), .require_signature = required};
  };

  const Container c = read_container(signed_bundle, "test");
  EXPECT_TRUE(c.signature.present && c.signature.valid);
  EXPECT_EQ(c.signature.key, a.public_key);
  verify_bundle(signed_bundle, "test", {a.public_key}, true);
  if (__builtin_cpu_supports("x86-64-v3")) {
    const Bundle opened = Bundle::open_memory(signed_bundle, options({b.public_key, a.public_key}));
    EXPECT_EQ(opened.functions().size(), 2u);
  }

  expect_open_refused(
      signed_bundle, Kind::Signature,
      "it is signed by key " + hex(a.public_key) + ", which is not among the trusted keys",
      options({b.public_key}));
  expect_open_refused(v3_bundle(), Kind::Signature,
                      "it is not signed, and this runtime requires a signature", options({}, true));
  expect_open_refused(v3_bundle(), Kind::Signature, "it is not signed", options({a.public_key}));

  // A changed section with its digest made to agree: only the signature can tell.
  Bytes tampered = signed_bundle;
  const Layout l = layout(signed_bundle);
  const auto [offset, size] = l.sections[1];  // the source IR
  tampered[offset] = std::byte{'#'};
  const Digest digest = sha256(std::span(tampered).subspan(offset, size));
  std::memcpy(tampered.data() + kHeaderBytes + kSectionEntryBytes + 32, digest.data(), 32);
  for (const BundleOptions& o : {options({}), options({a.public_key})})
    expect_open_refused(tampered, Kind::Signature, "its signature does not verify", o);
  try {
    verify_bundle(tampered, "test", {}, false);
    ADD_FAILURE() << "a tampered bundle verified";
  } catch (const BundleError& e) {
    EXPECT_EQ(e.kind(), Kind::Signature) << e.what();
  }
}

TEST(BundleSignatures, WriteBundleSignsDeterministically) {
  const KeyPair a = generate_key_pair();
  compiler::BundleSpec spec = spec_of(kProgram, {"x86-64-v3"});
  spec.signing_key = a.secret_key;
  const Signer signer{a.secret_key};
  // The same bytes as signing the unsigned bundle: compiling is reproducible, and so is Ed25519.
  EXPECT_EQ(compiler::write_bundle(spec), write_container(sections_of(v3_bundle()), &signer));
}

}  // namespace
}  // namespace kiln::runtime::bundle
