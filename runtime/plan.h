#pragma once
// A Plan: everything needed to run one compiled function, and nothing of the compiler. The
// compiler (compiler/pipeline.h) produces it; the runtime (runtime/executable.h) loads and runs
// it. It is a plain value that serializes to bytes and back, so a plan made in one process runs
// in another that links neither LLVM nor the passes.
//
//   signature   parameter names and types, result types
//   kernels     distinct kernels as relocatable object code for `target`, each with the symbol
//               of its entry point (void entry(void* const* buffers, int64_t begin, int64_t
//               end)), its outer iteration count and its buffers' sizes
//   steps       kernel runs in order: which kernel, where each of its buffers lives (a slot)
//               and the smallest chunk worth a thread (grain)
//   constants   values the kernels read that depend on no parameter, computed at compile time
//   arena       the bytes of intermediate storage one run needs
//
// The bits a plan computes depend only on its inputs: every kernel computes each element of
// its outer space the same way whichever chunk (and thread) it falls in, and every reduction
// split is part of the graph, so the chunking a run picks changes speed, never results.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/array.h"
#include "ir/type.h"

namespace kiln::runtime {

// Where a kernel buffer lives at run time.
struct Slot {
  enum class Kind : uint8_t { Param, Result, Arena, Constant };
  Kind kind = Kind::Arena;
  size_t index = 0;    // parameter, result or constant index, or arena offset
  uint64_t bytes = 0;  // what the kernel reads or writes there (checked when a plan loads)
  bool operator==(const Slot&) const = default;
};

struct PlanParam {
  std::string name;
  ir::TensorType type;
  bool operator==(const PlanParam&) const = default;
};

struct PlanKernel {
  std::string name;    // for messages and profiles
  std::string symbol;  // the entry point the object defines
  std::vector<std::byte> object;
  // What the code was compiled for: its outer iteration count, the bytes of each of its
  // buffers and which of them it writes. A step must agree with all three, so a damaged plan
  // cannot send the code past its buffers or make it write a constant or a caller's argument.
  int64_t outer_count = 0;
  std::vector<uint64_t> buffer_bytes = {};
  std::vector<uint8_t> buffer_written = {};  // 1 for the buffers the code writes
  // Vulkan kernels (`object` is a SPIR-V module, runtime/vulkan/vulkan_abi.h): the workgroups
  // one run dispatches. 0 for CPU kernels.
  uint64_t workgroups = 0;
  bool operator==(const PlanKernel&) const = default;
};

struct PlanStep {
  uint32_t kernel = 0;      // into Plan::kernels
  std::vector<Slot> slots;  // one per kernel buffer, in the kernel's buffer order
  int64_t grain = 1;
  // A matrix kernel: every call packs its right operand again, so the runtime gives each
  // thread one block of rows (results do not depend on the blocks).
  bool one_block_per_thread = false;
  bool operator==(const PlanStep&) const = default;
};

struct Plan {
  std::string name;
  std::vector<PlanParam> params;
  std::vector<ir::TensorType> result_types;
  std::vector<Slot> result_slots;  // where each result is read from
  std::vector<PlanKernel> kernels;
  std::vector<PlanStep> steps;
  std::vector<ir::HostArray> constants;
  // Donated parameters that kernels write (a result takes over their storage); the runtime
  // gives kernels a private copy of such an argument unless the caller handed it over.
  std::vector<uint32_t> written_params;
  uint64_t arena_bytes = 0;
  uint64_t peak_bytes = 0;       // the arena plus the results
  std::string target;            // what the object code was compiled for (checked by the loader)
  uint32_t imports_version = 0;  // the runtime imports the kernels were compiled against
  double compile_ms = 0;         // how long the compiler took to make this plan (for --stats)
  bool operator==(const Plan&) const = default;
};

// The plan file format: "KILNPLAN", a format version (a little-endian u32 at byte 8), the
// fields above, a checksum. Little endian, as every target kiln supports.
inline constexpr uint32_t kPlanFormatVersion = 2;
std::vector<std::byte> save_plan(const Plan& plan);
// Throws kiln::Error "[plan] <where>: ..." naming the first rule a corrupt, truncated or
// foreign file breaks; never returns a half-read plan.
Plan load_plan(std::span<const std::byte> bytes, std::string_view where);

}  // namespace kiln::runtime
