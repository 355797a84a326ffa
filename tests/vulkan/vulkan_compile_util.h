#pragma once
// Shared by the tests of compiled Vulkan code (codegen/spirv through compiler::compile and the
// Vulkan runtime) against the reference interpreter: compiling and running a function on the
// device, fused or unfused, and comparing results with the interpreter's, allowing for what
// the device may do differently and nothing else.
//
// Subnormals: lavapipe (llvmpipe) runs shaders with the x86 MXCSR's flush-to-zero and
// denormals-are-zero bits set, and Vulkan lets any device flush f32 (and, where the device
// says so, f64) subnormals. So where an operand or result is an f32 or f64 subnormal the
// device may compute as if it were a zero of the same sign. bf16 lives in f32 registers
// (scalar_ops.h), so its subnormals (the same exponent range as f32) flush too. f16 values are
// normal f32 registers and f16 subnormals are made by integer code: they must be exact.
// `matches` therefore accepts, besides the interpreter's result within the ulps allowed, (a)
// a same-signed zero where the interpreter's result is below the result dtype's smallest
// normal, and (b) the interpreter's result on the arguments with their subnormals flushed
// (with (a) again), which covers comparisons, logs and divisions of a flushed operand.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "tests/codegen/ulp_compare.h"
#include "tests/vulkan/vulkan_test_util.h"

namespace kiln::runtime::testing {

// The tests compile with the process's kernel caches; they must not write ~/.cache/kiln, also
// when the test binary runs outside ctest (which sets the variable too).
inline const bool kNoDiskCacheForVulkan = [] {
  ::setenv("KILN_NO_DISK_CACHE", "1", 1);
  return true;
}();

inline std::vector<ir::HostArray> run_on_vulkan(const ir::Function& f,
                                                const std::vector<ir::HostArray>& args, bool fuse) {
  return compiler::compile(f, {.device = compiler::Device::Vulkan, .fuse = fuse}).run(args);
}

// Whether the device may flush `dtype`'s subnormals (see above).
inline bool may_flush(ir::DType dtype) {
  return dtype == ir::DType::F32 || dtype == ir::DType::F64 || dtype == ir::DType::BF16;
}

inline double smallest_normal(ir::DType dtype) {
  return dtype == ir::DType::F64 ? std::numeric_limits<double>::min()
                                 : static_cast<double>(std::numeric_limits<float>::min());
}

inline bool is_subnormal(ir::DType dtype, double v) {
  return may_flush(dtype) && v != 0 && std::fabs(v) < smallest_normal(dtype);
}

// `args` with every subnormal of a flushing dtype replaced by a zero of its sign; `changed`
// says whether there was any.
inline std::vector<ir::HostArray> flush_subnormals(std::vector<ir::HostArray> args,
                                                   bool* changed = nullptr) {
  bool any = false;
  for (ir::HostArray& a : args)
    for (int64_t i = 0; may_flush(a.dtype()) && i < a.num_elements(); ++i)
      if (const double v = a.get_f64(i); is_subnormal(a.dtype(), v)) {
        a.set_f64(i, std::copysign(0.0, v));
        any = true;
      }
  if (changed) *changed = any;
  return args;
}

// Element i of `got` is `want`'s within `ulps`, or a same-signed zero for a subnormal `want`.
inline bool close_or_flushed(const ir::HostArray& got, const ir::HostArray& want, double ulps,
                             int64_t i) {
  if (codegen::testing::close(got, want, ulps, i)) return true;
  if (!ir::is_float(want.dtype())) return false;
  const double w = want.get_f64(i), g = got.get_f64(i);
  return is_subnormal(want.dtype(), w) && g == 0 && std::signbit(g) == std::signbit(w);
}

// The interpreter's results on `args`, and on `args` with subnormals flushed when they hold
// any (else empty), computed once per function.
struct Expected {
  std::vector<ir::HostArray> exact, flushed;

  Expected(const ir::Function& f, const std::vector<ir::HostArray>& args)
      : exact(ir::interpret(f, args)) {
    bool changed = false;
    std::vector<ir::HostArray> flushed_args = flush_subnormals(args, &changed);
    if (changed) flushed = ir::interpret(f, flushed_args);
  }

  bool matches(size_t result, const ir::HostArray& got, double ulps, int64_t i) const {
    return close_or_flushed(got, exact[result], ulps, i) ||
           (!flushed.empty() && close_or_flushed(got, flushed[result], ulps, i));
  }
};

inline std::string show(const ir::HostArray& a, int64_t i) {
  return ir::is_float(a.dtype()) ? std::to_string(a.get_f64(i)) : std::to_string(a.get_i64(i));
}

// Every result of `f` compiled for Vulkan (fused and unfused) within `ulps` of the
// interpreter's on `args` (see Expected); at most a few failures per result, each naming the
// element and printing the function.
inline void expect_vulkan_matches(const ir::Function& f, const std::vector<ir::HostArray>& args,
                                  double ulps = 0, const std::string& what = "") {
  const Expected want(f, args);
  for (bool fuse : {true, false}) {
    const std::vector<ir::HostArray> got = run_on_vulkan(f, args, fuse);
    ASSERT_EQ(got.size(), want.exact.size());
    for (size_t r = 0; r < got.size(); ++r) {
      ASSERT_EQ(got[r].type(), want.exact[r].type()) << what << " result " << r;
      int failures = 0;
      for (int64_t i = 0; i < got[r].num_elements() && failures < 3; ++i)
        if (!want.matches(r, got[r], ulps, i)) {
          ++failures;
          ADD_FAILURE() << what << (fuse ? " fused" : " unfused") << ", result " << r
                        << ", element " << i << ": got " << show(got[r], i) << ", want "
                        << show(want.exact[r], i) << " (" << ulps << " ulp), in\n"
                        << ir::print(f);
        }
    }
  }
}

// One dot_general per case, each on parameters of its own, as one function @dots of dtype
// `dtype` with a result per case.
struct DotCase {
  std::string lhs, rhs, attrs;  // shapes as "[3,5]", attributes inside {}
  std::string result;
};

inline std::string dots_kir(std::string_view dtype, std::span<const DotCase> cases) {
  std::ostringstream text;
  text << "func @dots(";
  for (size_t c = 0; c < cases.size(); ++c)
    text << (c ? ", " : "") << "%l" << c << ": " << dtype << cases[c].lhs << ", %r" << c << ": "
         << dtype << cases[c].rhs;
  text << ") -> (";
  for (size_t c = 0; c < cases.size(); ++c)
    text << (c ? ", " : "") << dtype << cases[c].result;
  text << ") {\n";
  for (size_t c = 0; c < cases.size(); ++c)
    text << "  %d" << c << " = dot_general %l" << c << ", %r" << c << " {" << cases[c].attrs
         << "} : " << dtype << cases[c].result << "\n";
  text << "  return ";
  for (size_t c = 0; c < cases.size(); ++c)
    text << (c ? ", " : "") << "%d" << c;
  text << "\n}\n";
  return text.str();
}

}  // namespace kiln::runtime::testing
