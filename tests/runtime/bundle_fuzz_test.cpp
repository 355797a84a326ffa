// A seeded mutation fuzzer over the bundle reader, bounded for CI: damaged bundles either open
// (and then their functions run on random arguments without crashing) or are refused with a
// BundleError; any other exception, or a crash, fails. Besides flipped, cut and inserted bytes
// and rewritten header fields, a share of the cases damages the inside of one section and seals
// the container again (write_container recomputes the digests), so that the manifest reader,
// the plan reader and the ELF validator see damage the digests would otherwise hide.
//
// A failure names its seed and case; KILN_BUNDLE_FUZZ_SEED=S KILN_BUNDLE_FUZZ_CASE=N runs that
// case alone, KILN_BUNDLE_FUZZ_CASES=N runs more cases (tests/fuzz/bundle_fuzzer.cpp is the
// libFuzzer target for long runs).
//
// Code whose machine instructions were changed is opened but not run: checks catch malformed
// objects, not malicious ones (opening a bundle is running code; signatures are the answer).

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include "tests/runtime/bundle_test_util.h"

namespace kiln::runtime::bundle {
namespace {

using namespace testing;

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text ? std::strtoull(text, nullptr, 10) : fallback;
}

// The case running, for the crash handler: a crash cannot be caught, only reported.
volatile std::sig_atomic_t g_seed = 0, g_case = -1;

void write_number(long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 24);
  while (n > 0) {
    const ssize_t ignored = ::write(2, &digits[--n], 1);
    (void)ignored;
  }
}

extern "C" void report_crash(int signal) {
  const char head[] = "\nbundle fuzzer: crashed on KILN_BUNDLE_FUZZ_SEED=";
  const char mid[] = " KILN_BUNDLE_FUZZ_CASE=";
  ssize_t ignored = ::write(2, head, sizeof head - 1);
  write_number(g_seed);
  ignored = ::write(2, mid, sizeof mid - 1);
  write_number(g_case);
  ignored = ::write(2, "\n", 1);
  (void)ignored;
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

struct Mutant {
  Bytes bytes;
  bool code_changed = false;  // machine code may differ: open only, never run
  std::string what;
};

class Mutator {
 public:
  Mutator(const Bytes& good, uint64_t seed)
      : good_(good), sections_(sections_of(good)), rng_(seed) {}

  Mutant next() {
    Mutant m{good_, false, ""};
    switch (rng_() % 8) {
      case 0:
      case 1:
        m.what = "flipped bytes";
        flip(m.bytes, 0, m.bytes.size());
        break;
      case 2:
        m.what = "truncated";
        m.bytes.resize(rng_() % m.bytes.size());
        break;
      case 3:
        m.what = "inserted bytes";
        insert(m.bytes);
        break;
      case 4:
        m.what = "a header or table field";
        overwrite(m.bytes, 0, kHeaderBytes + sections_.size() * kSectionEntryBytes);
        break;
      default:
        reseal(m);
    }
    return m;
  }

 private:
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  void flip(Bytes& b, size_t from, size_t to) {
    if (from >= to) return;
    for (size_t n = 1 + below(4); n > 0; --n)
      b[from + below(to - from)] ^= static_cast<std::byte>(1 + below(255));
  }

  void insert(Bytes& b) {
    Bytes extra(1 + below(16));
    for (std::byte& x : extra)
      x = static_cast<std::byte>(rng_());
    b.insert(b.begin() + static_cast<ptrdiff_t>(below(b.size() + 1)), extra.begin(), extra.end());
  }

  // A value that breaks size and offset arithmetic, written over 1, 2, 4 or 8 bytes.
  void overwrite(Bytes& b, size_t from, size_t to) {
    const uint64_t values[] = {0,          1,          63,           64,
                               4096,       b.size(),   b.size() - 1, b.size() + 1,
                               0x7fffffff, 0xffffffff, ~uint64_t{0}, ~uint64_t{0} - 63,
                               rng_()};
    const uint64_t value = values[below(std::size(values))];
    const size_t width = size_t{1} << below(4);
    if (to - from < width) return;
    std::memcpy(b.data() + from + below(to - from - width + 1), &value, width);
  }

  // Damage inside one section, digests recomputed.
  void reseal(Mutant& m) {
    std::vector<SectionData> sections = sections_;
    const size_t i = below(sections.size());
    SectionData& s = sections[i];
    m.code_changed = s.kind == SectionKind::Code;
    m.what = "section " + std::to_string(i) + " (" +
             std::string(section_kind_name(static_cast<uint32_t>(s.kind))) + ") resealed: ";
    if (s.kind == SectionKind::Manifest && rng_() % 2) {
      m.what += "manifest fields";
      s.bytes = text_bytes(edit_manifest(read_manifest(s.bytes, "fuzz")));
    } else {
      switch (rng_() % 4) {
        case 0:
          m.what += "flipped bytes";
          flip(s.bytes, 0, s.bytes.size());
          break;
        case 1:
          m.what += "truncated";
          s.bytes.resize(below(s.bytes.size()));
          break;
        case 2:
          m.what += "inserted bytes";
          insert(s.bytes);
          break;
        default:
          m.what += "a field";
          overwrite(s.bytes, 0, s.bytes.size());
      }
    }
    m.bytes = write_container(sections);
  }

  // The manifest's numbers and names, each of which the reader or the checks after it must
  // hold to the container and the plans.
  std::string edit_manifest(Manifest m) {
    const uint32_t section = static_cast<uint32_t>(below(sections_.size() + 2));
    switch (rng_() % 9) {
      case 0:
        m.source_ir_section = section;
        break;
      case 1:
        m.functions[below(m.functions.size())].ir_section = section;
        break;
      case 2:
        m.functions[below(m.functions.size())].variants[0].plan_section = section;
        break;
      case 3:
        m.cpu_targets[0].code_section = section;
        break;
      case 4:
        m.weights_section = section;
        break;
      case 5: {
        FunctionInfo& f = m.functions[below(m.functions.size())];
        std::vector<TensorDesc>& list = rng_() % 2 ? f.params : f.results;
        if (list.empty()) break;
        ir::TensorType& t = list[below(list.size())].type;
        if (rng_() % 2 && !t.shape.empty())
          t.shape[below(t.shape.size())] += 1;
        else
          t.dtype = rng_() % 2 ? ir::DType::F64 : ir::DType::I32;
        break;
      }
      case 6:
        m.functions[below(m.functions.size())].bound.push_back(
            {static_cast<uint32_t>(below(4)), 0});
        m.weights.push_back({"w", {ir::DType::F32, {3, 2}}, 64 * below(3)});
        break;
      case 7:
        m.functions[below(m.functions.size())].variants[0].target =
            rng_() % 2 ? "vulkan" : "x86-64-v4";
        break;
      default:
        m.cpu_targets[0].description =
            m.cpu_targets[0].description.substr(0, below(m.cpu_targets[0].description.size() + 1));
    }
    return write_manifest(m);
  }

  const Bytes& good_;
  std::vector<SectionData> sections_;
  std::mt19937_64 rng_;
};

// Random arguments of each parameter's type: values anywhere, since a damaged bundle's
// functions are run for crashes, not results.
void run_all(const Bundle& b, uint64_t seed) {
  for (const BundleFunction& f : b.functions()) {
    ir::Function signature(f.name());
    for (const TensorDesc& p : f.params())
      signature.add_param(p.name, p.type);
    (void)f.run(codegen::testing::random_args(signature, seed));
  }
}

TEST(BundleFuzz, DamagedBundlesOpenOrAreRefused) {
  KILN_REQUIRE_X86_64_V3();
  compiler::BundleSpec spec = spec_of(kProgram, {"x86-64-v3"});
  ir::HostArray w(ir::TensorType{ir::DType::F32, {3, 2}});
  spec.weights.push_back({"w", w, "w.npy"});
  const Bytes good = compiler::write_bundle(spec);
  run_all(Bundle::open_memory(good), 1);

  const uint64_t seed = env_number("KILN_BUNDLE_FUZZ_SEED", 1);
  const uint64_t cases = env_number("KILN_BUNDLE_FUZZ_CASES", 3000);
  const uint64_t only = env_number("KILN_BUNDLE_FUZZ_CASE", ~uint64_t{0});
  g_seed = static_cast<std::sig_atomic_t>(seed);
  for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
    std::signal(signal, report_crash);
  size_t opened = 0, refused = 0;
  for (uint64_t n = 0; n < cases; ++n) {
    if (only != ~uint64_t{0} && n != only) continue;
    g_case = static_cast<std::sig_atomic_t>(n);
    const Mutant m = Mutator(good, seed * 1'000'003 + n).next();
    const std::string name = "KILN_BUNDLE_FUZZ_SEED=" + std::to_string(seed) +
                             " KILN_BUNDLE_FUZZ_CASE=" + std::to_string(n) + " (" + m.what + ")";
    try {
      const Bundle b = Bundle::open_memory(m.bytes, {}, "fuzz");
      ++opened;
      if (!m.code_changed) run_all(b, n);
    } catch (const BundleError&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": threw " << typeid(e).name() << ", not BundleError: " << e.what();
    }
  }
  for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
    std::signal(signal, SIG_DFL);
  if (only != ~uint64_t{0}) return;
  // Both outcomes happen, or the mutations miss the reader.
  EXPECT_GT(opened, 0u);
  EXPECT_GT(refused, cases / 2);
  std::printf("bundle fuzzer: %zu cases opened, %zu refused\n", opened, refused);
}

}  // namespace
}  // namespace kiln::runtime::bundle
