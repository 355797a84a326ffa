// A libFuzzer target for the bundle reader (runtime/bundle/bundle.h): any bytes given to
// Bundle::open_memory and verify_bundle must be refused with a BundleError or opened, never
// crash, hang or throw anything else. tests/runtime/bundle_fuzz_test.cpp runs a bounded seeded
// fuzzer in CI; this one is for long runs with coverage feedback and AddressSanitizer.
// Opened bundles' functions are not run: a fuzzer's mutations reach the machine code, which no
// check can tell from good code (opening a bundle is running code).
//
// Build, with Debian 12's clang-16 and libFuzzer (apt-get install clang-16 libfuzzer-16-dev),
// in a build folder of its own (every library is instrumented there):
//   export CC=clang-16 CXX=clang++-16
//   cmake -S . -B build-fuzz -G Ninja -DKILN_BUILD_FUZZERS=ON -DKILN_BUILD_TESTS=OFF
//     -DKILN_BUILD_BENCH=OFF                      (one line: a comment cannot end in a backslash)
//   ninja -C build-fuzz bundle_fuzzer
// Run, from a corpus of real bundles (the golden one, and any `kiln compile` makes):
//   mkdir -p fuzz-corpus && cp tests/golden/bundles/v1.kbundle fuzz-corpus/
//   build-fuzz/tests/fuzz/bundle_fuzzer fuzz-corpus -max_total_time=600 -max_len=262144
// A crash leaves crash-<sha1> behind; `bundle_fuzzer crash-<sha1>` runs it again.
// Clang 14 (Debian 12's default clang) cannot compile kiln itself; without clang 16 the harness
// alone can be linked against a GCC build's libraries, uninstrumented (no coverage feedback
// from the reader, but AddressSanitizer on the harness and the same inputs):
//   clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address -I. tests/fuzz/bundle_fuzzer.cpp
//     build/runtime/libkiln_runtime.a build/ir/libkiln_ir.a -lsodium -lvulkan -o bundle_fuzzer

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/bundle/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rb = kiln::runtime::bundle;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    rb::verify_bundle(bytes, "fuzz", {}, false);
  } catch (const rb::BundleError&) {
  }
  try {
    const rb::Bundle bundle = rb::Bundle::open_memory(bytes, {}, "fuzz");
    for (const rb::BundleFunction& f : bundle.functions())
      (void)bundle.ir_text(f.info().ir_section);
  } catch (const rb::BundleError&) {
  }
  return 0;
}
