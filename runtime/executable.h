#pragma once
// Executable = kernels + buffer plan + schedule: a function compiled for the CPU. compile()
// simplifies the function, partitions it into kernels (plan_fusion), lowers them to kernel IR,
// plans their memory and gets each kernel's native code from the kernel cache (distinct
// kernels compile concurrently on the thread pool). run() executes the kernels in order, each
// split over the thread pool along its outer iteration space.
//
// An Executable is immutable once compiled; copies share it, and run() may be called from
// several threads at once.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "ir/array.h"
#include "ir/function.h"

namespace kiln::runtime {

struct CompileOptions {
  bool fuse = true;  // false: every op is its own kernel (the unfused side of a benchmark)
};

class Executable {
 public:
  // Throws kiln::Error for a function the verifier rejects.
  static Executable compile(const ir::Function& function, CompileOptions options = {});

  // Throws kiln::Error "[runtime] @name: ..." when the arguments do not match the parameters
  // in number or type (the interpreter's messages, with its prefix changed).
  std::vector<ir::HostArray> run(std::span<const ir::HostArray> args) const;
  std::vector<ir::HostArray> run(std::span<const ir::HostArray* const> args) const;

  // The fast path for callers that own their memory (benchmarks): params[i] holds parameter
  // i and results[k] receives result k, each 64-byte aligned and of its type's size; no
  // checks, no copies.
  void run_raw(std::span<const void* const> params, std::span<void* const> results) const;

  const ir::Function& function() const;  // as compiled (after simplify)
  size_t num_kernels() const;
  double compile_ms() const;
  size_t peak_bytes() const;  // the arena plus the results
  size_t arena_bytes() const;

 private:
  struct State;
  explicit Executable(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace kiln::runtime
