#pragma once
// Shared pieces of the runtime tests: small hand-made kernels, parsed functions, random
// arguments, per-test temp folders, and a kernel cache kept off the user's home folder.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/kernel.h"
#include "ir/array.h"
#include "ir/parser.h"

namespace kiln::runtime::testing {

// The tests compile with the process's kernel cache; it must not write ~/.cache/kiln, also when
// a test binary runs outside ctest (which sets the variable too).
inline const bool kNoDiskCache = [] {
  ::setenv("KILN_NO_DISK_CACHE", "1", 1);
  return true;
}();

// Arguments for `f`, uniform in [-1, 1) from `seed`.
inline std::vector<ir::HostArray> uniform_args(const ir::Function& f, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ir::HostArray> args;
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::uniform_real_distribution<double>(-1, 1)(rng));
  }
  return args;
}

// The first function of a .kir text.
inline ir::Function parse_function(std::string_view text) {
  return std::move(ir::parse_module(text).functions.front());
}

// out[i] = op(in[i]) over f32[n]: outer space [n], one store per outer index.
inline codegen::Kernel unary_kernel(int64_t n, ir::OpKind op = ir::OpKind::Neg) {
  codegen::Kernel k;
  k.name = "unary";
  k.buffers = {{{ir::DType::F32, {n}}, false}, {{ir::DType::F32, {n}}, true}};
  k.outer = {n};
  codegen::ExprBuilder b(k.exprs);
  codegen::ExprId i = b.index(codegen::LoopLevel::Outer, 0);
  codegen::ExprId x = b.load(0, ir::DType::F32, i);
  codegen::ExprId y = b.op(op, ir::DType::F32, {x});
  codegen::Phase store;
  store.kind = codegen::PhaseKind::Store;
  store.stores.push_back({1, i, y});
  k.phases.push_back(store);
  return k;
}

inline std::filesystem::path temp_dir(const std::string& tag) {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("kiln_" + tag + "_" + info->name() + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // Private whatever the umask, since a kernel cache refuses a folder others can write.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  return dir;
}

}  // namespace kiln::runtime::testing
